"""Billfold API benchmark: job-poll throughput against a bare Starlette app, poll latency,
and the time to link a no-MFA sandbox login.

    python bench/bench_api.py            # full run (~40 s)
    python bench/bench_api.py --quick    # smoke run (~16 s)

Everything runs on 127.0.0.1 in a temporary directory that is removed at the end, with
every server and load-generator subprocess stopped, also on Ctrl-C or an error. Results
are printed as a table and written to bench/results/latest.json. See bench/README.md.

Only the standard library is needed besides Billfold's own dependencies; `wrk` is used
when present (installed with apt-get when running as root, unless --no-install), else a
Python asyncio keep-alive load generator (this file, run as `_loadgen`) takes its place.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import datetime as dt
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
BENCH_DIR = Path(__file__).resolve().parent
RESULTS_FILE = BENCH_DIR / "results" / "latest.json"
INSTITUTION = "Sophtron Bank NoMFA"
LOGIN = {"username": "asdf", "password": "asdf"}
TERMINAL = {"succeeded", "failed", "expired", "cancelled"}

TARGET_RATIO = 0.5  # billfold req/s divided by bare Starlette req/s, at least
TARGET_P99_MS = 20.0  # job-poll p99 under load, below
TARGET_LINK_MS = 50.0  # median NoMFA link time, below

# Uvicorn flags shared by both servers: single process, no access log, warnings only.
UVICORN_FLAGS = ("--host", HOST, "--no-access-log", "--log-level", "warning")


class BenchError(RuntimeError):
    """The benchmark could not measure something; the message says what."""


# --------------------------------------------------------------------------------------
# the bare Starlette app (imported by uvicorn in a subprocess as `bench_api:bare_app`)
# --------------------------------------------------------------------------------------


def bare_app() -> Any:
    """One route answering every job poll with the captured Billfold response bytes."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    body = Path(os.environ["BENCH_BARE_BODY_FILE"]).read_bytes()
    content_type = os.environ["BENCH_BARE_CONTENT_TYPE"]

    async def job(_: Request) -> Response:
        return Response(body, headers={"content-type": content_type})

    return Starlette(routes=[Route("/v1/jobs/{job_id}", job)])


# --------------------------------------------------------------------------------------
# subprocesses and clean-up
# --------------------------------------------------------------------------------------


class Processes:
    """Every subprocess the bench starts, each in its own session, stopped on exit."""

    def __init__(self) -> None:
        self._procs: list[subprocess.Popen[bytes]] = []

    def start(
        self,
        argv: Sequence[str],
        *,
        log: Path | None = None,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        capture: bool = False,
    ) -> subprocess.Popen[bytes]:
        out: Any = subprocess.PIPE if capture else subprocess.DEVNULL
        if log is not None:
            out = log.open("wb")
        try:
            proc = subprocess.Popen(
                list(argv),
                stdout=out,
                stderr=subprocess.STDOUT if log is not None else subprocess.PIPE,
                stdin=subprocess.DEVNULL,
                env=env,
                cwd=cwd,
                start_new_session=True,  # a Ctrl-C reaches us; we stop them in order
            )
        finally:
            if log is not None:
                out.close()
        self._procs.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGINT)  # uvicorn shuts down cleanly on SIGINT
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                proc.wait(timeout=5)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
        if proc in self._procs:
            self._procs.remove(proc)

    def stop_all(self) -> None:
        for proc in reversed(list(self._procs)):
            with contextlib.suppress(Exception):
                self.stop(proc, timeout=5)


def _raise_interrupt(signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


@contextlib.contextmanager
def interrupts_as_keyboard_interrupt() -> Iterator[None]:
    """SIGTERM/SIGHUP unwind like Ctrl-C so the `finally` blocks clean up."""
    previous = {s: signal.signal(s, _raise_interrupt) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def pinned(argv: Sequence[str], cpus: Sequence[int] | None) -> list[str]:
    if not cpus:
        return list(argv)
    return ["taskset", "-c", ",".join(str(c) for c in cpus), *argv]


def log_tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# --------------------------------------------------------------------------------------
# a minimal keep-alive HTTP/1.1 client (low overhead, so timings show the server)
# --------------------------------------------------------------------------------------


class RawHttp:
    def __init__(self, port: int, api_key: str | None = None, timeout: float = 15.0) -> None:
        self.port = port
        self.api_key = api_key
        self.timeout = timeout
        self._sock: socket.socket | None = None
        self._buf = b""

    def __enter__(self) -> RawHttp:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        self._buf = b""

    def _connect(self) -> socket.socket:
        if self._sock is None:
            sock = socket.create_connection((HOST, self.port), timeout=self.timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._sock = sock
        return self._sock

    def request(
        self, method: str, path: str, body: Any = None
    ) -> tuple[int, dict[str, str], bytes]:
        sock = self._connect()
        lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{self.port}"]
        if self.api_key:
            lines.append(f"Authorization: Bearer {self.api_key}")
        data = b""
        if body is not None:
            data = json.dumps(body).encode()
            lines += ["Content-Type: application/json", f"Content-Length: {len(data)}"]
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + data)
        while b"\r\n\r\n" not in self._buf:
            self._buf += self._recv(sock)
        head, self._buf = self._buf.split(b"\r\n\r\n", 1)
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        headers: dict[str, str] = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        while len(self._buf) < length:
            self._buf += self._recv(sock)
        payload, self._buf = self._buf[:length], self._buf[length:]
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, headers, payload

    def _recv(self, sock: socket.socket) -> bytes:
        chunk = sock.recv(65536)
        if not chunk:
            self.close()
            raise BenchError(f"the server on port {self.port} closed the connection")
        return chunk

    def json(self, method: str, path: str, body: Any = None, expect: int = 200) -> Any:
        status, _, payload = self.request(method, path, body)
        if status != expect:
            raise BenchError(f"{method} {path} -> {status} (wanted {expect}): {payload[:300]!r}")
        return json.loads(payload)


def wait_ready(proc: subprocess.Popen[bytes], port: int, path: str, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"server exited with {proc.returncode}:\n{log_tail(log)}")
        try:
            with RawHttp(port, timeout=2) as http:
                if http.request("GET", path)[0] < 500:
                    return
        except (OSError, BenchError):
            time.sleep(0.05)
    raise BenchError(f"server did not answer on port {port} within 30 s:\n{log_tail(log)}")


# --------------------------------------------------------------------------------------
# load generation: wrk, or a Python asyncio fallback
# --------------------------------------------------------------------------------------


def find_wrk(allow_install: bool) -> str | None:
    found = shutil.which("wrk")
    if found or not allow_install:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return None
    print("wrk is missing: installing the Debian package (apt-get update && install wrk)...")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        for argv in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "wrk"]):
            subprocess.run(argv, env=env, check=True, timeout=300, stdout=subprocess.DEVNULL)
    except (subprocess.SubprocessError, OSError) as exc:
        print(f"  could not install wrk ({exc}); using the Python load generator")
        return None
    return shutil.which("wrk")


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    if not match:
        raise BenchError(f"cannot read the wrk time {text!r}")
    return float(match.group(1)) * _UNITS_MS[match.group(2)]


def parse_wrk(output: str) -> dict[str, Any]:
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"(\d+) requests in ([\d.]+\w+),", output)
    if not rps or not total:
        raise BenchError(f"unexpected wrk output:\n{output}")
    result: dict[str, Any] = {
        "requests_per_second": float(rps.group(1)),
        "requests": int(total.group(1)),
        "seconds": _ms(total.group(2)) / 1000,
        "non_2xx": 0,
        "socket_errors": 0,
    }
    for pct in ("50", "75", "90", "99"):
        found = re.search(rf"^\s+{pct}%\s+([\d.]+\w+)", output, re.MULTILINE)
        if found:
            result[f"p{pct}_ms"] = _ms(found.group(1))
    avg = re.search(r"Latency\s+([\d.]+\w+)\s+([\d.]+\w+)\s+([\d.]+\w+)", output)
    if avg:
        result["mean_ms"] = _ms(avg.group(1))
        result["max_ms"] = _ms(avg.group(3))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    if non2xx:
        result["non_2xx"] = int(non2xx.group(1))
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    if errors:
        result["socket_errors"] = sum(int(g) for g in errors.groups())
    return result


class LoadGenerator:
    def __init__(
        self,
        procs: Processes,
        *,
        wrk: str | None,
        cpus: Sequence[int] | None,
        threads: int,
        connections: int,
    ) -> None:
        self.procs = procs
        self.wrk = wrk
        self.cpus = cpus
        self.threads = threads
        self.connections = connections

    @property
    def description(self) -> str:
        tool = f"wrk ({self.wrk})" if self.wrk else "Python asyncio generator (no wrk)"
        where = f", pinned to CPU {','.join(map(str, self.cpus))}" if self.cpus else ""
        threads = f"{self.threads} threads, " if self.wrk else "1 process, "
        return f"{tool}: {threads}{self.connections} keep-alive connections{where}"

    def run(self, port: int, path: str, api_key: str, seconds: float) -> dict[str, Any]:
        if self.wrk:
            argv = [
                self.wrk,
                f"-t{self.threads}",
                f"-c{self.connections}",
                f"-d{max(1, round(seconds))}s",
                "--latency",
                "-H",
                f"Authorization: Bearer {api_key}",
                f"http://{HOST}:{port}{path}",
            ]
        else:
            argv = [
                sys.executable,
                str(Path(__file__).resolve()),
                "_loadgen",
                str(port),
                path,
                api_key,
                str(self.connections),
                str(seconds),
            ]
        proc = self.procs.start(pinned(argv, self.cpus), capture=True)
        try:
            out, err = proc.communicate(timeout=seconds + 30)
        finally:
            self.procs.stop(proc)
        if proc.returncode != 0:
            raise BenchError(f"load generator failed ({proc.returncode}): {err.decode()[-2000:]}")
        text = out.decode()
        result = parse_wrk(text) if self.wrk else json.loads(text)
        if result["non_2xx"] or result["socket_errors"]:
            raise BenchError(
                f"load run on {path} had {result['non_2xx']} non-2xx responses and "
                f"{result['socket_errors']} socket errors:\n{text}"
            )
        return result


def _percentile(ordered: Sequence[float], pct: float) -> float:
    if not ordered:
        return float("nan")
    rank = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


async def _python_load(
    port: int, path: str, api_key: str, connections: int, seconds: float
) -> dict[str, Any]:
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nAuthorization: Bearer {api_key}\r\n\r\n"
    ).encode()
    latencies: list[float] = []
    counts = {"non_2xx": 0, "socket_errors": 0}
    stop_at = time.perf_counter() + seconds

    async def one() -> None:
        try:
            reader, writer = await asyncio.open_connection(HOST, port)
        except OSError:
            counts["socket_errors"] += 1
            return
        try:
            while True:
                started = time.perf_counter()
                if started >= stop_at:
                    break
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                if length:
                    await reader.readexactly(length)
                latencies.append(time.perf_counter() - started)
                if head[9:10] != b"2":
                    counts["non_2xx"] += 1
        except (OSError, asyncio.IncompleteReadError):
            counts["socket_errors"] += 1
        finally:
            writer.close()

    began = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(connections)))
    elapsed = time.perf_counter() - began
    ordered = sorted(latencies)
    result: dict[str, Any] = {
        "requests_per_second": len(ordered) / elapsed,
        "requests": len(ordered),
        "seconds": elapsed,
        **counts,
    }
    if ordered:
        result["mean_ms"] = statistics.fmean(ordered) * 1000
        result["max_ms"] = ordered[-1] * 1000
        for pct in (50, 75, 90, 99):
            result[f"p{pct}_ms"] = _percentile(ordered, pct) * 1000
    return result


def loadgen_main(argv: Sequence[str]) -> int:
    port, path, api_key, connections, seconds = argv
    with contextlib.suppress(ImportError):
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    result = asyncio.run(_python_load(int(port), path, api_key, int(connections), float(seconds)))
    print(json.dumps(result))
    return 0


# --------------------------------------------------------------------------------------
# Billfold: data, servers, flows
# --------------------------------------------------------------------------------------


def sandbox_available() -> bool:
    try:
        from billfold.connectors.sandbox import SandboxConnector  # noqa: F401
    except ImportError:
        return False
    return True


def child_env(data_dir: Path, secret_key: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BILLFOLD_")}
    env.update(
        {
            "BILLFOLD_DATA_DIR": str(data_dir),
            "BILLFOLD_DATABASE_URL": f"sqlite:///{data_dir / 'billfold.db'}",
            "BILLFOLD_SECRET_KEY": secret_key,
            "BILLFOLD_LOG_LEVEL": "warning",
        }
    )
    return env


def create_api_key(data_dir: Path, secret_key: str) -> str:
    """Migrate the SQLite file and create a client in-process, before the server starts."""
    from billfold.container import Container
    from billfold.services.clients import create_client
    from billfold.settings import Settings

    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=data_dir,
        database_url=f"sqlite:///{data_dir / 'billfold.db'}",
        secret_key=secret_key,
    )
    container = Container(settings)
    try:
        container.prepare()
        return create_client(ctx=container.ctx, name="bench").api_key
    finally:
        container.store.close()


def start_server(
    procs: Processes,
    *,
    target: str,
    port: int,
    env: dict[str, str],
    cwd: Path,
    log: Path,
    cpus: Sequence[int] | None,
    app_dir: Path | None = None,
) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-m", "uvicorn", "--factory", target, "--port", str(port)]
    argv += UVICORN_FLAGS
    if app_dir is not None:
        argv += ["--app-dir", str(app_dir)]
    return procs.start(pinned(argv, cpus), log=log, env=env, cwd=cwd)


def institution_id(http: RawHttp) -> str:
    from urllib.parse import quote

    found = http.json("GET", f"/v1/institutions?query={quote(INSTITUTION)}&limit=100")["data"]
    exact = [i["id"] for i in found if i["name"] == INSTITUTION]
    if not exact:
        raise BenchError(f"the server has no institution named {INSTITUTION!r}")
    return str(exact[0])


def link_once(http: RawHttp, user_id: str, inst_id: str, poll_every: float) -> dict[str, Any]:
    """POST the login, poll the job until it ends, list the accounts; timings in ms."""
    started = time.perf_counter()
    body = {"user_id": user_id, "institution_id": inst_id, "credentials": LOGIN}
    created = http.json("POST", "/v1/connections", body, expect=202)
    posted = time.perf_counter()
    job, connection_id = created["job"], created["connection"]["id"]
    polls = 0
    while job["status"] not in TERMINAL:
        time.sleep(poll_every)
        job = http.json("GET", f"/v1/jobs/{job['id']}")
        polls += 1
        if time.perf_counter() - started > 30:
            raise BenchError(f"the link job is stuck in {job['status']}")
    if job["status"] != "succeeded":
        raise BenchError(f"the link job ended {job['status']}: {job.get('error')}")
    succeeded = time.perf_counter()
    accounts = http.json("GET", f"/v1/accounts?connection_id={connection_id}")["data"]
    ended = time.perf_counter()
    if not accounts:
        raise BenchError("the linked connection lists no accounts")
    return {
        "job_id": str(job["id"]),
        "polls": polls,
        "total_ms": (ended - started) * 1000,
        "post_ms": (posted - started) * 1000,
        "wait_ms": (succeeded - posted) * 1000,
        "accounts_ms": (ended - succeeded) * 1000,
    }


def new_user(http: RawHttp) -> str:
    return str(http.json("POST", "/v1/users", {}, expect=201)["id"])


# --------------------------------------------------------------------------------------
# reporting
# --------------------------------------------------------------------------------------


def machine_info() -> dict[str, Any]:
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    versions: dict[str, str] = {}
    from importlib.metadata import PackageNotFoundError, version

    for package in ("uvicorn", "starlette", "fastapi", "pydantic", "sqlalchemy", "uvloop"):
        with contextlib.suppress(PackageNotFoundError):
            versions[package] = version(package)
    return {
        "cpu_model": model,
        "cpus_online": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": versions,
    }


def fmt(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}"


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def print_table(results: dict[str, Any]) -> None:
    bf, bare, link = results["billfold_poll"], results["bare_poll"], results["link"]
    ratio = results["throughput_ratio"]
    health = results["billfold_health"]["requests_per_second"]
    rows = [
        ("metric", "billfold", "bare starlette", "ratio/target"),
        (
            "job poll throughput (req/s)",
            fmt(bf["requests_per_second"], 0),
            fmt(bare["requests_per_second"], 0),
            f"{ratio:.2f} (target >= {TARGET_RATIO}) {verdict(ratio >= TARGET_RATIO)}",
        ),
        (
            "  (context) GET /health req/s",
            fmt(health, 0),
            "-",
            f"{health / bare['requests_per_second']:.2f} of bare: FastAPI floor, no auth/DB",
        ),
        ("job poll p50 under load (ms)", fmt(bf.get("p50_ms"), 2), fmt(bare.get("p50_ms"), 2), ""),
        (
            "job poll p99 under load (ms)",
            fmt(bf.get("p99_ms"), 2),
            fmt(bare.get("p99_ms"), 2),
            f"target < {TARGET_P99_MS:g} ms {verdict(bf.get('p99_ms', 1e9) < TARGET_P99_MS)}",
        ),
        (
            "NoMFA link median (ms)",
            fmt(link["median_ms"]),
            "-",
            f"target < {TARGET_LINK_MS:g} ms {verdict(link['median_ms'] < TARGET_LINK_MS)}",
        ),
        ("NoMFA link p90 (ms)", fmt(link["p90_ms"]), "-", ""),
        ("NoMFA link max (ms)", fmt(link["max_ms"]), "-", f"{link['runs']} runs"),
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for n, row in enumerate(rows):
        print(" | ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
        if n == 0:
            print("-+-".join("-" * w for w in widths))


def describe_load(name: str, result: dict[str, Any]) -> None:
    print(
        f"  {name}: {result['requests_per_second']:,.0f} req/s "
        f"({result['requests']:,} requests in {result['seconds']:.1f} s), "
        f"p50 {fmt(result.get('p50_ms'), 2)} ms, p90 {fmt(result.get('p90_ms'), 2)} ms, "
        f"p99 {fmt(result.get('p99_ms'), 2)} ms, max {fmt(result.get('max_ms'), 1)} ms"
    )


# --------------------------------------------------------------------------------------
# the run
# --------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="3 s load runs, 10 links")
    parser.add_argument("--duration", type=float, help="seconds per load run (10; quick 3)")
    parser.add_argument("--links", type=int, help="NoMFA links to time (50; quick 10)")
    parser.add_argument("--connections", type=int, default=32, help="load connections (32)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (2)")
    parser.add_argument("--no-pin", action="store_true", help="do not pin CPUs with taskset")
    parser.add_argument("--no-install", action="store_true", help="never apt-get install wrk")
    parser.add_argument(
        "--python-loadgen", action="store_true", help="use the Python generator even with wrk"
    )
    parser.add_argument(
        "--profile",
        metavar="FILE",
        help="also record the Billfold server with py-spy during its load run (lowers its "
        "numbers): a flame graph for .svg, speedscope for .json, collapsed stacks otherwise",
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--output", type=Path, default=RESULTS_FILE, help="results JSON path")
    args = parser.parse_args(argv)
    args.duration = args.duration or (3.0 if args.quick else 10.0)
    args.links = args.links or (10 if args.quick else 50)
    return args


def choose_cpus(no_pin: bool) -> tuple[list[int] | None, list[int] | None, str]:
    usable = sorted(os.sched_getaffinity(0))
    if no_pin:
        return None, None, "not pinned (--no-pin)"
    if len(usable) < 2 or not shutil.which("taskset"):
        return None, None, "not pinned (needs taskset and 2 usable CPUs)"
    server, load = [usable[0]], usable[1:]
    note = (
        f"pinned with taskset: servers on CPU {usable[0]}, load generator and this "
        f"script on CPU {','.join(map(str, load))}"
    )
    return server, load, note


def run(args: argparse.Namespace, procs: Processes, tmp: Path) -> dict[str, Any]:
    began = time.monotonic()
    if not sandbox_available():
        raise BenchError(
            "billfold.connectors.sandbox.SandboxConnector is not importable yet: "
            f"the bench needs the sandbox institution {INSTITUTION!r}"
        )
    machine = machine_info()
    server_cpus, load_cpus, pin_note = choose_cpus(args.no_pin)
    if load_cpus:
        os.sched_setaffinity(0, load_cpus)  # keep this script's own client off the server CPU
    wrk = None if args.python_loadgen else find_wrk(not args.no_install)
    load = LoadGenerator(
        procs,
        wrk=wrk,
        cpus=load_cpus,
        threads=args.threads,
        connections=args.connections,
    )
    print(
        f"Machine: {machine['cpu_model']}, {machine['cpus_usable']} usable CPU(s), "
        f"load average {machine['load_average_at_start']}"
    )
    print(f"CPUs: {pin_note}")
    print(f"Load: {load.description}, {args.duration:g} s per run (+1 s warm-up)")

    # 1. data and API key, in-process against the SQLite file the server will use
    data_dir = tmp / "data"
    data_dir.mkdir()
    secret_key = base64.b64encode(secrets.token_bytes(32)).decode()
    api_key = create_api_key(data_dir, secret_key)
    env = child_env(data_dir, secret_key)

    # 2. the Billfold server; link once so a finished job exists; capture its poll response
    port = free_port()
    log = tmp / "billfold.log"
    server = start_server(
        procs,
        target="billfold.api.app:create_app",
        port=port,
        env=env,
        cwd=tmp,
        log=log,
        cpus=server_cpus,
    )
    wait_ready(server, port, "/health", log)
    with RawHttp(port, api_key) as http:
        inst_id = institution_id(http)
        job_id = link_once(http, new_user(http), inst_id, 0.002)["job_id"]
        job_path = f"/v1/jobs/{job_id}"
        status, headers, body = http.request("GET", job_path)
    if status != 200 or json.loads(body)["status"] != "succeeded":
        raise BenchError(f"GET {job_path} -> {status}: {body[:300]!r}")
    content_type = headers.get("content-type", "")
    print(f"Job poll: GET {job_path} -> {len(body)} bytes of {content_type}")

    # 3. job-poll throughput and latency under load
    load.run(port, job_path, api_key, 1.0)  # warm-up
    profiler = None
    if args.profile:
        py_spy = shutil.which("py-spy")
        if not py_spy:
            raise BenchError("--profile needs py-spy on PATH (pip install py-spy)")
        profiler = procs.start(
            [
                py_spy,
                "record",
                "--pid",
                str(server.pid),
                "--rate",
                "200",
                "--nonblocking",
                "--format",
                {".svg": "flamegraph", ".json": "speedscope"}.get(Path(args.profile).suffix, "raw"),
                "--output",
                str(Path(args.profile).resolve()),
                "--duration",
                str(round(args.duration)),
            ],
            log=tmp / "py-spy.log",
        )
    billfold_poll = load.run(port, job_path, api_key, args.duration)
    if profiler is not None:
        profiler.wait(timeout=60)
        procs.stop(profiler)
        print(f"  py-spy profile: {args.profile} (the sampling lowered the Billfold numbers)")
    describe_load("billfold", billfold_poll)

    # 3b. for context: FastAPI's own floor in this app (no auth, no database, tiny body)
    load.run(port, "/health", api_key, 1.0)  # warm-up
    billfold_health = load.run(port, "/health", api_key, args.duration)
    describe_load("billfold /health", billfold_health)

    # 4. NoMFA link time on the now quiet server
    time.sleep(0.5)
    runs: list[dict[str, Any]] = []
    with RawHttp(port, api_key) as http:
        for _ in range(args.links):
            user_id = new_user(http)  # not timed
            runs.append(link_once(http, user_id, inst_id, 0.002))
    ordered = sorted(r["total_ms"] for r in runs)
    link = {
        "runs": len(ordered),
        "median_ms": statistics.median(ordered),
        "p90_ms": _percentile(ordered, 90),
        "max_ms": ordered[-1],
        "min_ms": ordered[0],
        "mean_ms": statistics.fmean(ordered),
        "median_polls": statistics.median(r["polls"] for r in runs),
        "poll_interval_ms": 2.0,
        # where the time goes, median of each phase
        "median_post_ms": statistics.median(r["post_ms"] for r in runs),
        "median_wait_ms": statistics.median(r["wait_ms"] for r in runs),
        "median_accounts_ms": statistics.median(r["accounts_ms"] for r in runs),
    }
    print(
        f"  NoMFA link ({link['runs']} runs): median {link['median_ms']:.1f} ms, "
        f"p90 {link['p90_ms']:.1f} ms, max {link['max_ms']:.1f} ms; median phases: "
        f"POST {link['median_post_ms']:.1f} ms, polling {link['median_wait_ms']:.1f} ms "
        f"({link['median_polls']:g} polls), accounts {link['median_accounts_ms']:.1f} ms"
    )
    procs.stop(server)

    # 5. the bare Starlette app serving the same bytes, measured the same way
    body_file = tmp / "job.json"
    body_file.write_bytes(body)
    bare_env = {
        **env,
        "BENCH_BARE_BODY_FILE": str(body_file),
        "BENCH_BARE_CONTENT_TYPE": content_type,
    }
    port = free_port()
    log = tmp / "bare.log"
    bare = start_server(
        procs,
        target="bench_api:bare_app",
        port=port,
        env=bare_env,
        cwd=tmp,
        log=log,
        cpus=server_cpus,
        app_dir=BENCH_DIR,
    )
    wait_ready(bare, port, job_path, log)
    with RawHttp(port, api_key) as http:
        bare_status, bare_headers, bare_body = http.request("GET", job_path)
    if (bare_status, bare_headers.get("content-type"), bare_body) != (200, content_type, body):
        raise BenchError("the bare app does not answer with the same bytes as Billfold")
    load.run(port, job_path, api_key, 1.0)  # warm-up
    bare_poll = load.run(port, job_path, api_key, args.duration)
    describe_load("bare starlette", bare_poll)
    procs.stop(bare)

    ratio = billfold_poll["requests_per_second"] / bare_poll["requests_per_second"]
    return {
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "mode": "quick" if args.quick else "full",
        "wall_seconds": round(time.monotonic() - began, 1),
        "machine": {**machine, "load_average_at_end": [round(x, 2) for x in os.getloadavg()]},
        "cpu_pinning": pin_note,
        "load_generator": load.description,
        "load_seconds": args.duration,
        "profiled": bool(args.profile),
        "server": "uvicorn single process, " + " ".join(UVICORN_FLAGS),
        "job_poll_response": {"bytes": len(body), "content_type": content_type},
        "billfold_poll": billfold_poll,
        "billfold_health": billfold_health,
        "bare_poll": bare_poll,
        "throughput_ratio": ratio,
        "link": link,
        "targets": {
            "throughput_ratio_min": TARGET_RATIO,
            "poll_p99_ms_max": TARGET_P99_MS,
            "link_median_ms_max": TARGET_LINK_MS,
        },
        "met": {
            "throughput_ratio": ratio >= TARGET_RATIO,
            "poll_p99": billfold_poll.get("p99_ms", 1e9) < TARGET_P99_MS,
            "link_median": link["median_ms"] < TARGET_LINK_MS,
        },
    }


def main(argv: Sequence[str]) -> int:
    if argv[:1] == ["_loadgen"]:
        return loadgen_main(argv[1:])
    args = parse_args(argv)
    procs = Processes()
    tmp = Path(tempfile.mkdtemp(prefix="billfold-bench-"))
    try:
        with interrupts_as_keyboard_interrupt():
            results = run(args, procs, tmp)
    except BenchError as exc:
        print(f"bench failed: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted; cleaning up", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not skip this
        procs.stop_all()
        shutil.rmtree(tmp, ignore_errors=True)
        signal.signal(signal.SIGINT, signal.default_int_handler)
    print()
    print_table(results)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nResults written to {args.output}")
    if args.strict and not all(results["met"].values()):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
