"""Shared fixtures: a database per test (SQLite file or a fresh PostgreSQL database),
a real Billfold server on a loopback port, and an API client authenticated as a new client.

PostgreSQL tests run against 127.0.0.1:5432 (override with BILLFOLD_TEST_POSTGRES_URL).
Without a server they skip with a message; with BILLFOLD_REQUIRE_POSTGRES=1 (CI) they fail.
"""

from __future__ import annotations

import base64
import logging
import os
import secrets
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import text

from billfold.api.app import create_app
from billfold.container import Container
from billfold.services.clients import create_client
from billfold.settings import Settings
from billfold.store.database import scratch_engine

POSTGRES_ADMIN_URL = os.environ.get(
    "BILLFOLD_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REQUIRE_POSTGRES = os.environ.get("BILLFOLD_REQUIRE_POSTGRES") == "1"


def _postgres_available() -> str | None:
    """None when PostgreSQL answers, else why not."""
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=2):
            pass
        engine = scratch_engine(POSTGRES_ADMIN_URL)
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


_PG_PROBLEM: str | bool | None = False


def postgres_problem() -> str | None:
    global _PG_PROBLEM
    if _PG_PROBLEM is False:
        _PG_PROBLEM = _postgres_available()
    return _PG_PROBLEM if isinstance(_PG_PROBLEM, str) else None


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A brand-new PostgreSQL database for one test, dropped afterwards."""
    problem = postgres_problem()
    if problem is not None:
        message = f"PostgreSQL at {POSTGRES_ADMIN_URL} is not reachable ({problem})"
        if REQUIRE_POSTGRES:
            pytest.fail(message + " and BILLFOLD_REQUIRE_POSTGRES=1")
        pytest.skip(message)
    name = f"billfold_t_{uuid.uuid4().hex[:16]}"
    admin = scratch_engine(POSTGRES_ADMIN_URL)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'billfold.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


def make_settings(tmp_path: Path, database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": tmp_path,
        "database_url": database_url,
        "secret_key": base64.b64encode(secrets.token_bytes(32)).decode(),
    }
    values.update(overrides)
    return Settings(**values)


class LogCapture(logging.Handler):
    """Every log line of the server, formatted with its arguments, for secret scanning."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))

    def text(self) -> str:
        return "\n".join(self.lines)


@dataclass
class RunningServer:
    url: str
    container: Container
    logs: LogCapture

    def client(self, api_key: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=15)

    def new_api_key(self, name: str = "Test client") -> str:
        return create_client(ctx=self.container.ctx, name=name).api_key


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_server(settings: Settings) -> tuple[RunningServer, uvicorn.Server, threading.Thread]:
    container = Container(settings)
    app = create_app(container=container)
    port = _free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_config=None,
        log_level="debug",
        access_log=True,
        lifespan="on",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    capture = LogCapture()
    capture.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(capture)
    root.setLevel(logging.DEBUG)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    return RunningServer(f"http://127.0.0.1:{port}", container, capture), server, thread


def stop_server(server: uvicorn.Server, thread: threading.Thread, capture: LogCapture) -> None:
    server.should_exit = True
    thread.join(timeout=20)
    logging.getLogger().removeHandler(capture)


def all_backends_database_url() -> Any:
    """A `database_url` fixture that adds a third mode, PostgreSQL with procrastinate workers.

    A test module opts in with `database_url = all_backends_database_url()`.
    """

    @pytest.fixture(
        params=[
            "sqlite",
            pytest.param("postgres", marks=pytest.mark.postgres),
            pytest.param("procrastinate", marks=pytest.mark.postgres),
        ]
    )
    def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
        if request.param == "sqlite":
            return f"sqlite:///{tmp_path / 'billfold.db'}"
        url: str = request.getfixturevalue("postgres_url")
        return url

    return database_url


@pytest.fixture
def job_backend(request: pytest.FixtureRequest) -> str:
    callspec = getattr(request.node, "callspec", None)
    chosen = callspec.params.get("database_url") if callspec else None
    return "procrastinate" if chosen == "procrastinate" else "embedded"


@pytest.fixture
def server_settings(tmp_path: Path, database_url: str, job_backend: str) -> Settings:
    return make_settings(tmp_path, database_url, job_backend=job_backend)


@pytest.fixture
def server(server_settings: Settings) -> Iterator[RunningServer]:
    running, uv, thread = start_server(server_settings)
    try:
        yield running
    finally:
        stop_server(uv, thread, running.logs)


@pytest.fixture
def api(server: RunningServer) -> Iterator[httpx.Client]:
    with server.client(server.new_api_key()) as client:
        yield client
