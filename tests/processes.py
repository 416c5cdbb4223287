"""Billfold as real OS processes, for restart, crash and scale-out tests."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def create_client(env: dict[str, str]) -> str:
    created = subprocess.run(
        [sys.executable, "-m", "billfold", "clients", "create", "--name", "t", "--json"],
        env=env,
        capture_output=True,
        check=True,
    )
    api_key: str = json.loads(created.stdout)["api_key"]
    return api_key


class BillfoldProcess:
    """`billfold serve ...` (with an HTTP port) or `billfold worker` (without)."""

    def __init__(self, env: dict[str, str], *args: str, port: int | None = None) -> None:
        self.env = env
        self.args = args
        self.port = port
        self.url = f"http://127.0.0.1:{port}" if port else ""
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> BillfoldProcess:
        argv = [sys.executable, "-m", "billfold", *self.args]
        if self.port:
            argv += ["--port", str(self.port)]
        self.proc = subprocess.Popen(
            argv, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        if self.port:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert self.proc.poll() is None, "process exited during start"
                assert time.monotonic() < deadline, "process did not start"
                time.sleep(0.1)
        return self

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)
        self.proc.wait(timeout=30)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
