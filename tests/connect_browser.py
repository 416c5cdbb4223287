"""Driving Billfold Connect in a real browser: Debian's Chromium through Playwright, on
the demo host page `/connect/demo`. The fixtures live in tests/api/connect/conftest.py.

Screenshots go to build/screenshots/ at 360 px and 1280 px.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from billfold.api.connect.demo import enable_demo
from billfold.demo import DemoSetup, ensure_demo
from conftest import RunningServer, make_settings, start_server, stop_server

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[1] / "build" / "screenshots"
FRAME = "iframe[title^='Billfold Connect']"
BROWSER_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@dataclass
class Demo:
    server: RunningServer
    setup: DemoSetup
    api: httpx.Client


@contextmanager
def running_demo(tmp: Path) -> Iterator[Demo]:
    """A server on SQLite in `tmp` with the demo client, user and host page."""
    settings = make_settings(tmp, f"sqlite:///{tmp / 'billfold.db'}")
    running, uv, thread = start_server(settings)
    try:
        setup = ensure_demo(running.container.ctx, tmp / "demo-api-key")
        enable_demo(uv.config.app, client_id=setup.client_id, user_id=setup.user_id)
        with running.client(setup.api_key) as api:
            yield Demo(running, setup, api)
    finally:
        stop_server(uv, thread, running.logs)


@contextmanager
def chromium() -> Iterator[Any]:
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not shutil.which("chromium") and not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (scripts/test.sh installs it as root)")
    with playwright_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_FLAGS)
        try:
            yield launched
        finally:
            launched.close()


@contextmanager
def watched_page(browser: Any) -> Iterator[Any]:
    """A page that fails the test on any script error or Content-Security-Policy violation."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    opened = context.new_page()
    opened.set_default_timeout(8000)
    problems: list[str] = []
    opened.on("pageerror", lambda exc: problems.append(f"uncaught: {exc}"))
    opened.on(
        "console",
        lambda msg: (
            problems.append(msg.text)
            if msg.type == "error" and "Failed to load resource" not in msg.text
            else None
        ),
    )
    try:
        yield opened
    finally:
        context.close()
    assert problems == []


_shot_names: set[str] = set()


def shot(page: Any, name: str) -> None:
    """The page (host with the widget on top) at 360 px and 1280 px, once per screen name."""
    if name in _shot_names:
        return
    _shot_names.add(name)
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width, height in ((360, 740), (1280, 800)):
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"))
    page.set_viewport_size({"width": 1280, "height": 800})
