"""Many parked jobs on one worker: memory, drain time after the answers, poll throughput.

    python bench/bench_parked.py                  # N = 1,000 and 10,000, both backends
    python bench/bench_parked.py --n 1000 --backend embedded

For each backend and N it starts Billfold as real processes on 127.0.0.1 in a
temporary directory (embedded: one `billfold serve` on SQLite; procrastinate: one
`billfold serve --workers 0` API process and one `billfold worker` on a fresh
PostgreSQL database), links N sandbox logins that each stop on an MFA question
(`synapse_good` at the Synapse sandbox bank), waits until all N wait for an answer,
measures job-poll throughput against the parked jobs, answers all N in bulk, and
waits until every job succeeded. It prints:

- peak worker memory (VmHWM of the process that runs the jobs),
- seconds from the last answer accepted to all jobs succeeded (seen on the event feed,
  `GET /v1/events`, followed from before the first answer: each job's final status and
  its event are written in one transaction; each job's own view is checked afterwards),
- job-poll requests per second across all parked jobs (wrk when installed, as
  `bench_api.py` installs it; else this script's asyncio client),
- lost or duplicated jobs (a job that did not succeed, or that ran twice),
- CPU time per answered job, from the first answer to the drain: the worker's, the API
  process's, PostgreSQL's, this script's, and the whole machine's.

Targets at N = 10,000: worker RSS < 500 MB, all jobs succeeded < 3 s after the last
answer, no lost or duplicated job. Results are also written to
bench/results/parked.json.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

HOST = "127.0.0.1"
RESULTS = Path(__file__).resolve().parent / "results" / "parked.json"
PG_ADMIN = os.environ.get("BILLFOLD_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
CONCURRENCY = 64


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_cpu_seconds() -> float:
    """CPU time of the PostgreSQL server's processes that are alive now."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError):
            text = stat.read_text()
            if "(postgres)" in text:
                fields = text.rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def cpu_snapshot(api_pid: int, worker_pid: int) -> dict[str, float]:
    """CPU seconds so far by who spent them; `machine` counts every process."""
    return {
        "api": cpu_seconds(api_pid) if api_pid != worker_pid else 0.0,
        "worker": cpu_seconds(worker_pid),
        "postgres": postgres_cpu_seconds(),
        "benchmark": cpu_seconds(os.getpid()),
        "machine": machine_busy_seconds(),
    }


def machine_busy_seconds() -> float:
    """CPU time all cores of the machine have spent not idle (the benchmark's client too)."""
    ticks = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = ticks[3] + ticks[4]  # idle, iowait
    return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    import psycopg

    name = f"billfold_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Processes:
    def __init__(self, logs: Path) -> None:
        self.procs: list[subprocess.Popen[bytes]] = []
        self.logs = logs

    def start(self, env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
        log = open(self.logs / f"{args[0]}-{len(self.procs)}.log", "wb")  # noqa: SIM115
        proc = subprocess.Popen(
            [sys.executable, "-m", "billfold", *args], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        self.procs.append(proc)
        return proc

    def tails(self) -> str:
        parts = []
        for log in sorted(self.logs.glob("*.log")):
            lines = log.read_text(errors="replace").splitlines()[-15:]
            parts.append(f"--- {log.name}\n" + "\n".join(lines))
        return "\n".join(parts)

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def wait_healthy(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("Billfold did not start")
        time.sleep(0.1)


DROPPED = (httpx.ReadError, httpx.RemoteProtocolError, httpx.WriteError)


async def call(api: httpx.AsyncClient, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """One request, sent again if the server dropped an idle keep-alive connection under it."""
    for attempt in range(5):
        try:
            return await api.request(method, path, **kwargs)
        except DROPPED:
            if attempt == 4:
                raise
            await asyncio.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


async def gather_limited(items: list[Any], worker: Any) -> list[Any]:
    semaphore = asyncio.Semaphore(CONCURRENCY)

    async def one(item: Any) -> Any:
        async with semaphore:
            return await worker(item)

    return list(await asyncio.gather(*(one(i) for i in items)))


WRK_SCRIPT = """
paths = {%s}
i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1])
end
"""


async def poll_throughput(
    url: str, api_key: str, job_ids: list[str], api: httpx.AsyncClient
) -> tuple[float, str]:
    """GET /v1/jobs/{id} across all parked jobs for five seconds (wrk when installed)."""
    wrk = shutil.which("wrk")
    if wrk:
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
            script.write(WRK_SCRIPT % ",".join(f'"/v1/jobs/{j}"' for j in job_ids))
        try:
            out = await asyncio.to_thread(
                subprocess.run,
                [
                    wrk,
                    "-t2",
                    "-c32",
                    "-d5s",
                    "-s",
                    script.name,
                    "-H",
                    f"Authorization: Bearer {api_key}",
                    url,
                ],
                capture_output=True,
                text=True,
                check=True,
            )
        finally:
            os.unlink(script.name)
        rate = next(
            float(line.split()[1])
            for line in out.stdout.splitlines()
            if line.startswith("Requests/sec:")
        )
        return rate, "wrk -t2 -c32 (all parked jobs in turn)"
    polls = 0
    until = time.monotonic() + 5

    async def poller(offset: int) -> None:
        nonlocal polls
        i = offset
        while time.monotonic() < until:
            await api.get(f"/v1/jobs/{job_ids[i % len(job_ids)]}")
            polls += 1
            i += CONCURRENCY

    started = time.monotonic()
    await asyncio.gather(*(poller(k) for k in range(CONCURRENCY)))
    return polls / (time.monotonic() - started), "httpx asyncio client, 64 connections"


async def scenario(url: str, api_key: str, n: int, api_pid: int, worker_pid: int) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    headers = {"Authorization": f"Bearer {api_key}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=120) as api:
        found = (await api.get("/v1/institutions", params={"query": "Synapse Sandbox"})).json()
        bank = found["data"][0]["id"]
        user = (await api.post("/v1/users", json={})).json()["id"]

        async def link(_: int) -> str:
            response = await call(
                api,
                "POST",
                "/v1/connections",
                json={
                    "user_id": user,
                    "institution_id": bank,
                    "credentials": {"username": "synapse_good", "password": "test1234"},
                },
            )
            response.raise_for_status()
            job_id: str = response.json()["job"]["id"]
            return job_id

        started = time.monotonic()
        job_ids = await gather_limited(list(range(n)), link)
        linked_s = time.monotonic() - started

        async def status(job_id: str) -> dict[str, Any]:
            body: dict[str, Any] = (await call(api, "GET", f"/v1/jobs/{job_id}")).json()
            return body

        pending = set(job_ids)
        challenges: dict[str, str] = {}
        while pending:
            jobs = await gather_limited(sorted(pending), status)
            for job in jobs:
                if job["status"] == "waiting_for_answer":
                    challenges[job["id"]] = job["challenge"]["id"]
                    pending.discard(job["id"])
                elif job["status"] in ("failed", "expired", "cancelled", "succeeded"):
                    raise RuntimeError(f"job ended early: {job['status']} {job.get('error')}")
            if pending:
                await asyncio.sleep(0.5)
        parked_s = time.monotonic() - started
        parked_rss = rss_mb(worker_pid)

        poll_rate, poll_tool = await poll_throughput(url, api_key, job_ids, api)

        async def answer(job_id: str) -> None:
            response = await call(
                api,
                "POST",
                f"/v1/jobs/{job_id}/answer",
                json={"challenge_id": challenges[job_id], "answers": ["test_answer"]},
            )
            # A retry after a dropped response finds the answer already taken: fine.
            if response.status_code == 409 and response.json()["error"]["code"] in (
                "job_not_waiting",
                "challenge_answered",
            ):
                return
            response.raise_for_status()

        # Ends are read from the event feed (a job's `job.succeeded`/`job.failed` event is
        # written in the same transaction as its final status), from before the first
        # answer: re-reading N job bodies per pass would take longer than the drain.
        ended_at: dict[str, float] = {}
        answering = True

        async def watch_ends() -> None:
            after = 0
            wanted = set(job_ids)
            while len(ended_at) < len(wanted):
                page = (
                    await call(
                        api,
                        "GET",
                        "/v1/events",
                        params={
                            "after": after,
                            "limit": 500,
                            "type": ["job.succeeded", "job.failed"],
                        },
                    )
                ).json()
                seen = time.monotonic()
                for event in page["data"]:
                    job_id = event["data"].get("job_id")
                    if job_id in wanted and job_id not in ended_at:
                        ended_at[job_id] = seen
                after = page["next_after"]
                if len(page["data"]) < 500:
                    await asyncio.sleep(0.2 if answering else 0.02)

        watcher = asyncio.create_task(watch_ends())
        cpu_before = cpu_snapshot(api_pid, worker_pid)
        answer_started = time.monotonic()
        await gather_limited(job_ids, answer)
        last_answer = time.monotonic()
        answering = False
        with contextlib.suppress(TimeoutError):  # then `lost` says which never ended
            await asyncio.wait_for(watcher, timeout=600)
        drained = max(ended_at.values(), default=last_answer)
        cpu_after = cpu_snapshot(api_pid, worker_pid)
        cpu_ms = {k: round((cpu_after[k] - v) / n * 1000, 2) for k, v in cpu_before.items()}

        # Then every job's own view (not timed): its status, and how many times it started.
        finals = {job["id"]: job for job in await gather_limited(job_ids, status)}
        succeeded = sum(1 for j in finals.values() if j["status"] == "succeeded")
        duplicated = sum(
            1
            for j in finals.values()
            if sum(1 for s in j["steps"] if s["note"] in ("Started", "Resumed after a restart"))
            != 1
        )
        return {
            "n": n,
            "link_seconds": round(linked_s, 1),
            "all_parked_seconds": round(parked_s, 1),
            "worker_rss_parked_mb": round(parked_rss, 1),
            "worker_peak_rss_mb": round(peak_rss_mb(worker_pid), 1),
            "poll_requests_per_second": round(poll_rate),
            "poll_load_generator": poll_tool,
            "answer_seconds": round(last_answer - answer_started, 1),
            "drain_after_last_answer_seconds": round(max(drained - last_answer, 0.0), 2),
            # From the first answer to the drain, divided by N (the embedded API is the worker).
            "cpu_ms_per_answered_job": cpu_ms,
            "ended_before_last_answer": sum(1 for t in ended_at.values() if t <= last_answer),
            "succeeded": succeeded,
            "lost": n - succeeded,
            "duplicated": duplicated,
        }


def run_one(backend: str, n: int, extra_env: dict[str, str]) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="billfold-bench-"))
    processes = Processes(workdir)
    try:
        with contextlib.ExitStack() as stack:
            env = {k: v for k, v in os.environ.items() if not k.startswith("BILLFOLD_")}
            env.update(
                {
                    "BILLFOLD_DATA_DIR": str(workdir),
                    "BILLFOLD_SECRET_KEY": base64.b64encode(os.urandom(32)).decode(),
                    "BILLFOLD_LOG_LEVEL": "warning",
                    "BILLFOLD_CHALLENGE_TTL_SECONDS": "3600",
                    "BILLFOLD_JOB_DEADLINE_SECONDS": "7200",
                }
            )
            env.update(extra_env)
            if backend == "procrastinate":
                env["BILLFOLD_DATABASE_URL"] = stack.enter_context(postgres_database())
                env["BILLFOLD_JOB_BACKEND"] = "procrastinate"
            created = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "billfold",
                    "clients",
                    "create",
                    "--name",
                    "bench",
                    "--json",
                ],
                env=env,
                capture_output=True,
                check=True,
            )
            api_key = json.loads(created.stdout)["api_key"]
            port = free_port()
            url = f"http://{HOST}:{port}"
            if backend == "procrastinate":
                api = processes.start(env, "serve", "--workers", "0", "--port", str(port))
                wait_healthy(url, api)
                worker = processes.start(env, "worker")
            else:
                api = worker = processes.start(env, "serve", "--port", str(port))
                wait_healthy(url, api)
            try:
                result = asyncio.run(scenario(url, api_key, n, api.pid, worker.pid))
            except Exception:
                print(processes.tails(), file=sys.stderr)
                raise
            result["backend"] = backend
            return result
    finally:
        processes.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, action="append", help="parked jobs (repeatable)")
    parser.add_argument("--backend", choices=["embedded", "procrastinate"], action="append")
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="BILLFOLD_NAME=VALUE",
        help="a setting for Billfold's processes (the benchmark otherwise drops BILLFOLD_*)",
    )
    args = parser.parse_args()
    extra_env = dict(item.split("=", 1) for item in args.env)
    sizes = args.n or [1000, 10_000]
    backends = args.backend or ["embedded", "procrastinate"]
    results = []
    for backend in backends:
        for n in sizes:
            print(f"running {backend} with N={n} ...", flush=True)
            result = run_one(backend, n, extra_env)
            results.append(result)
            print(json.dumps(result), flush=True)
    print()
    header = (
        f"{'backend':<14}{'N':>7}{'peak RSS MB':>13}{'drain s':>9}{'polls/s':>9}"
        f"{'parked after s':>16}{'CPU ms/job':>12}{'lost':>6}{'dup':>5}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r['backend']:<14}{r['n']:>7}{r['worker_peak_rss_mb']:>13}"
            f"{r['drain_after_last_answer_seconds']:>9}{r['poll_requests_per_second']:>9}"
            f"{r['all_parked_seconds']:>16}{r['cpu_ms_per_answered_job']['worker']:>12}"
            f"{r['lost']:>6}{r['duplicated']:>5}"
        )
    for r in results:
        print(f"{r['backend']} N={r['n']} CPU ms per answered job: {r['cpu_ms_per_answered_job']}")
    print("targets at N=10,000: peak RSS < 500 MB, drain < 3 s, lost = dup = 0")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
