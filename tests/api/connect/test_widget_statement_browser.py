""" "Upload a statement instead" in a real browser (Debian's Chromium through Playwright),
from the demo host page `/connect/demo`: from an institution's login screen and from the
error screen after a failed login, a file becomes a linked connection; a refused file
says why on the upload screen, with focus on the message.

Screenshots of the new screens at 360 px and 1280 px go to build/screenshots/.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from connect_browser import FRAME, Demo, shot
from flows import institution_id, ok

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

CSV = """Date,Description,Amount,Balance
03/01/2024,PAYROLL ACME CORP,"2,500.00","3,500.00"
03/04/2024,GROCERY MART,-85.13,"3,414.87"
03/09/2024,CITY WATER UTILITY,-61.20,"3,353.67"
03/28/2024,RENT MARCH,-1200.00,"2,153.67"
"""


def screen(frame: Any, name: str, code: str | None = None) -> Any:
    selector = f"section[data-screen='{name}']"
    if code is not None:
        selector += f"[data-code='{code}']"
    located = frame.locator(selector)
    expect(located).to_be_visible()
    return located


def open_on(page: Any, demo: Demo, bank: str, first: str = "login") -> Any:
    """The demo page's widget, on the first screen of `bank`."""
    page.goto(demo.server.url + "/connect/demo")
    page.click("#open")
    frame = page.frame_locator(FRAME)
    screen(frame, "search")
    frame.get_by_label("Search by name").fill(bank)
    frame.locator(f"button.inst[data-id='{institution_id(demo.api, bank)}']").click()
    screen(frame, first)
    return frame


def events(page: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = page.evaluate("window.billfoldDemoEvents")
    return found


def finish(page: Any, demo: Demo, bank: str, rows: int) -> dict[str, Any]:
    """Done on the success screen: the host gets onSuccess; the API shows the file's data."""
    frame = page.frame_locator(FRAME)
    done = screen(frame, "success")
    expect(done.locator("h1")).to_have_text(f"Connected to {bank}")
    expect(done).to_contain_text(f"{rows} new transactions from your statement")
    expect(done.locator(".accounts li")).to_have_count(1)
    shot(page, "upload-success")
    done.get_by_role("button", name="Done").click()
    expect(page.locator(FRAME)).to_have_count(0)
    seen = events(page)
    successes = [e for e in seen if e["type"] == "onSuccess"]
    assert len(successes) == 1, seen
    connection: dict[str, Any] = successes[0]["data"]
    assert connection["institution_name"] == bank
    success_event = [e for e in seen if e.get("name") == "SUCCESS"]
    assert success_event[0]["data"] == {
        "connection_id": connection["id"],
        "accounts": 1,
        "source": "statement",
    }
    stored = ok(demo.api.get(f"/v1/connections/{connection['id']}"))
    assert stored["status"] == "active"
    assert stored["institution_id"] == institution_id(demo.api, bank)
    accounts = ok(demo.api.get("/v1/accounts", params={"connection_id": connection["id"]}))
    assert [a["id"] for a in accounts["data"]] == [a["id"] for a in connection["accounts"]]
    # The demo host lists the new connection's transactions.
    expect(page.locator("#txn-scope")).to_have_text("(the new connection)")
    expect(page.locator("#transactions tbody tr")).to_have_count(rows)
    return connection


def test_upload_instead_of_login(demo: Demo, page: Any, tmp_path: Path) -> None:
    statement = tmp_path / "march.csv"
    statement.write_text(CSV)
    frame = open_on(page, demo, "Billfold Sandbox Bank")
    shot(page, "login-with-upload")
    frame.get_by_role("button", name="Upload a statement instead").click()
    upload = screen(frame, "upload")
    file_input = frame.get_by_label("Statement file")
    expect(file_input).to_be_focused()
    expect(file_input).to_have_attribute("accept", ".csv,.ofx,.qfx,.qif,.xml,.txt")
    expect(upload).to_contain_text("CSV, OFX, QFX, QIF or CAMT.053")
    shot(page, "upload")
    # Upload without a file: asked for one, focus on the file field.
    upload.get_by_role("button", name="Upload").click()
    expect(upload.get_by_role("alert")).to_have_text("Choose a statement file.")
    expect(file_input).to_be_focused()
    file_input.set_input_files(str(statement))
    frame.get_by_label("Account type").select_option("savings")
    # Hold the upload in flight to see the busy state, then let it through.
    held: list[Any] = []
    page.route("**/connect/api/statement", lambda route: held.append(route))
    upload.get_by_role("button", name="Upload").click()
    expect(upload.locator("form")).to_have_attribute("aria-busy", "true")
    expect(upload.get_by_role("button", name="Upload")).to_be_disabled()
    expect(upload.get_by_role("status")).to_have_text("Reading your statement\u2026")
    held[0].continue_()
    connection = finish(page, demo, "Billfold Sandbox Bank", rows=4)
    assert [a["type"] for a in connection["accounts"]] == ["savings"]
    names = [e["name"] for e in events(page) if e["type"] == "onEvent"]
    assert names == [
        "OPEN",
        "SELECT_INSTITUTION",
        "CHOOSE_STATEMENT",
        "SUBMIT_STATEMENT",
        "SUCCESS",
    ]


def test_refused_file_after_a_failed_login_then_a_good_one(
    demo: Demo, page: Any, tmp_path: Path
) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    good = tmp_path / "march.csv"
    good.write_text(CSV)
    frame = open_on(page, demo, "Synapse Sandbox Bank")
    frame.locator("#f0").fill("synapse_maintenance")
    frame.locator("#f1").fill("any")
    frame.locator("form button[type=submit]").click()
    failed = screen(frame, "error", "institution_unavailable")
    shot(page, "error-with-upload")
    failed.get_by_role("button", name="Upload a statement instead").click()
    upload = screen(frame, "upload")
    # The screen hands the keyboard to the file field. (Opening the system file chooser
    # from the keyboard is the browser's own job and flaky to drive headless.)
    expect(upload.locator("input[type=file]")).to_be_focused()
    frame.get_by_label("Statement file").set_input_files(str(empty))
    upload.get_by_role("button", name="Upload").click()
    alert = upload.get_by_role("alert")
    expect(alert).to_have_attribute("data-code", "empty_file")
    expect(alert).to_be_focused()
    expect(alert).to_contain_text("Choose another file.")
    expect(frame.get_by_label("Statement file")).to_have_attribute("aria-invalid", "true")
    expect(upload.get_by_role("button", name="Upload")).to_be_enabled()
    shot(page, "upload-error")
    frame.get_by_label("Statement file").set_input_files(str(good))
    upload.get_by_role("button", name="Upload").click()
    connection = finish(page, demo, "Synapse Sandbox Bank", rows=4)
    # Nothing was stored for the refused file: the user's statement connection holds 4 lines.
    account = connection["accounts"][0]["id"]
    txns = ok(demo.api.get(f"/v1/accounts/{account}/transactions", params={"limit": 50}))
    assert len(txns["data"]) == 4


def test_an_institution_without_a_login_opens_on_the_upload(demo: Demo, page: Any) -> None:
    frame = open_on(page, demo, "Statement upload", first="upload")
    expect(frame.get_by_role("button", name="Upload a statement instead")).to_have_count(0)
    frame.get_by_role("button", name="Back").click()
    screen(frame, "search")
