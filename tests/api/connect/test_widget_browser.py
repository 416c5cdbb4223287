"""Billfold Connect in a real browser (Debian's Chromium through Playwright), driven from
the demo host page `/connect/demo` as a person would, on one server and one browser.

Screenshots of every screen at 360 px and 1280 px go to build/screenshots/.
"""

from __future__ import annotations

import contextlib
import re
import time
from datetime import timedelta
from typing import Any

import httpx
import pytest

from billfold.services.context import JobPolicy
from connect_browser import FRAME, Demo, shot
from flows import institution_id, ok

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect
# From pressing an answer's button to the next screen: within one poll interval (500 ms).
# The widget long-polls, so this measures about 0.1 s here.
SCREEN_CHANGE_LIMIT = 0.5


class Widget:
    """A person using the widget inside the demo page."""

    def __init__(self, page: Any, demo: Demo) -> None:
        self.page = page
        self.demo = demo
        self.frame = page.frame_locator(FRAME)

    def screen(self, name: str, code: str | None = None) -> Any:
        selector = f"section[data-screen='{name}']"
        if code is not None:
            selector += f"[data-code='{code}']"
        located = self.frame.locator(selector)
        expect(located).to_be_visible()
        return located

    def open(self) -> None:
        self.page.goto(self.demo.server.url + "/connect/demo")
        self.page.click("#open")

    def pick(self, name: str, kind_filter: str | None = None) -> None:
        self.screen("search")
        shot(self.page, "search")
        if kind_filter is not None:
            self.frame.get_by_role("button", name=kind_filter, exact=True).click()
        self.frame.get_by_label("Search by name").fill(name)
        inst = institution_id(self.demo.api, name)
        button = self.frame.locator(f"button.inst[data-id='{inst}']")
        button.click()

    def login(self, username: str, password: str, labels: tuple[str, str] | None = None) -> None:
        self.screen("login")
        shot(self.page, "login")
        if labels is not None:
            self.frame.get_by_label(labels[0], exact=True).fill(username)
            self.frame.get_by_label(labels[1], exact=True).fill(password)
        else:
            self.frame.locator("#f0").fill(username)
            self.frame.locator("#f1").fill(password)
        self.frame.locator("form button[type=submit]").click()

    def submit(self, screen: Any) -> float:
        """Press the screen's button; seconds until the next screen replaces it."""
        challenge = screen.get_attribute("data-challenge")
        start = time.monotonic()
        screen.locator("button[type=submit]").click()
        expect(self.frame.locator(f"section[data-challenge='{challenge}']")).to_have_count(0)
        return time.monotonic() - start

    def answer(self, kind: str, *values: str, shot_name: str | None = None) -> float:
        screen = self.screen(kind)
        shot(self.page, shot_name or kind)
        if kind in ("choice", "account_select"):
            screen.get_by_role("radio").nth(int(values[0]) if values else 0).check()
        elif kind != "approve":
            inputs = screen.locator("input[type=text]")
            assert inputs.count() == len(values)
            for n, value in enumerate(values):
                inputs.nth(n).fill(value)
        return self.submit(screen)

    def success(self) -> dict[str, Any]:
        done = self.screen("success")
        shot(self.page, "success")
        done.get_by_role("button", name="Done").click()
        expect(self.page.locator(FRAME)).to_have_count(0)
        events = self.events()
        successes = [e for e in events if e["type"] == "onSuccess"]
        assert len(successes) == 1, events
        connection: dict[str, Any] = successes[0]["data"]
        expect(self.page.locator("#txn-scope")).to_have_text("(the new connection)")
        shot(self.page, "demo-after-link")
        return connection

    def events(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.page.evaluate("window.billfoldDemoEvents")
        return found

    def event_names(self) -> list[str]:
        return [e["name"] for e in self.events() if e["type"] == "onEvent"]

    def challenge_kinds(self) -> list[str]:
        return [
            e["data"]["kind"]
            for e in self.events()
            if e["type"] == "onEvent" and e["name"] == "CHALLENGE"
        ]


def check_linked(demo: Demo, connection: dict[str, Any], masks: set[str] | None = None) -> None:
    """The API lists the connection's accounts, as the widget reported them."""
    accounts = ok(demo.api.get("/v1/accounts", params={"connection_id": connection["id"]}))
    listed = accounts["data"]
    assert listed and {a["id"] for a in listed} == {a["id"] for a in connection["accounts"]}
    assert {a["user_id"] for a in listed} == {demo.setup.user_id}
    if masks is not None:
        assert masks <= {a["mask"] for a in listed}
    status = ok(demo.api.get(f"/v1/connections/{connection['id']}"))["status"]
    assert status == "active"


def test_sophtron_bank_through_every_step(demo: Demo, page: Any) -> None:
    widget = Widget(page, demo)
    widget.open()
    widget.pick("Sophtron Bank", kind_filter="Banks")
    widget.login("asdfg12X", "asdfg12X", labels=("User ID", "Password"))
    waits = [
        widget.answer("captcha", "anything"),
        widget.answer("questions", "blue", shot_name="questions-one"),
        widget.answer("choice", "0"),
        widget.answer("code", "123456"),
    ]
    connection = widget.success()
    assert widget.challenge_kinds() == ["captcha", "questions", "choice", "code"]
    names = widget.event_names()
    assert names[:3] == ["OPEN", "SELECT_INSTITUTION", "SUBMIT_CREDENTIALS"]
    assert names.count("SUBMIT_ANSWER") == 4 and names[-1] == "SUCCESS"
    assert connection["institution_name"] == "Sophtron Bank"
    check_linked(demo, connection, {"1234"})
    print("seconds from pressing an answer's button to the next screen:", waits)
    assert max(waits) < SCREEN_CHANGE_LIMIT, waits
    # The demo page shows the new accounts and their transactions.
    expect(page.locator("#accounts tbody tr").first).to_be_visible()
    assert page.locator("#transactions tbody tr").count() > 0


SINGLE_MFA = [
    ("Sophtron Bank Captcha", [("captcha", ["abc"])]),
    ("Sophtron Bank Token", [("choice", ["1"]), ("code", ["777777"])]),
    ("Sophtron Bank SecurityQuestion", [("questions", ["blue"])]),
    ("Sophtron Bank SecurityQuestion Multiple", [("questions", ["blue", "rex", "paris"])]),
    ("Sophtron Bank TokenRead", [("approve", [])]),
]


@pytest.mark.parametrize(("bank", "steps"), SINGLE_MFA, ids=[b for b, _ in SINGLE_MFA])
def test_single_mfa_sophtron_banks(
    demo: Demo, page: Any, bank: str, steps: list[tuple[str, list[str]]]
) -> None:
    widget = Widget(page, demo)
    widget.open()
    widget.pick(bank)
    widget.login("asdfg12X", "asdfg12X")
    for kind, values in steps:
        name = "questions-several" if len(values) > 1 and kind == "questions" else kind
        if kind == "approve":
            expect(widget.screen("approve").locator(".token")).to_have_text("123456")
        widget.answer(kind, *values, shot_name=name)
    connection = widget.success()
    assert widget.challenge_kinds() == [kind for kind, _ in steps]
    check_linked(demo, connection, {"1234"})


def test_synapse_good_two_rounds(demo: Demo, page: Any) -> None:
    widget = Widget(page, demo)
    widget.open()
    widget.pick("Synapse Sandbox Bank")
    widget.login("synapse_good", "test1234")
    widget.answer("questions", "again")
    widget.answer("questions", "test_answer")
    connection = widget.success()
    assert widget.challenge_kinds() == ["questions", "questions"]
    check_linked(demo, connection, {"8901", "8902"})


def test_biller_and_account_select(demo: Demo, page: Any) -> None:
    widget = Widget(page, demo)
    widget.open()
    widget.pick("Sandbox Power & Light", kind_filter="Utilities")
    widget.login("me@example.com", "pw", labels=("Email address", "Password"))
    connection = widget.success()
    assert widget.challenge_kinds() == []
    check_linked(demo, connection)
    bill = ok(demo.api.get("/v1/accounts", params={"connection_id": connection["id"]}))["data"]
    assert bill[0]["type"] == "utility" and bill[0]["bill"]["amount_due"] is not None

    page.reload()
    widget = Widget(page, demo)
    widget.open()
    widget.pick("Billfold Sandbox Bank")
    widget.login("user_select", "pw")
    widget.answer("account_select", "0")
    connection = widget.success()
    assert len(connection["accounts"]) == 1


def test_wrong_password_then_corrected(demo: Demo, page: Any) -> None:
    widget = Widget(page, demo)
    widget.open()
    widget.pick("Billfold Sandbox Bank")
    widget.login("user_mfa", "invalid")
    error = widget.screen("error", "invalid_credentials")
    shot(page, "error-wrong-password")
    error.get_by_role("button", name="Try again").click()
    widget.screen("login")
    # The username is kept; only the password is typed again.
    assert widget.frame.locator("#f0").input_value() == "user_mfa"
    widget.frame.locator("#f1").fill("right-password")
    widget.frame.locator("form button[type=submit]").click()
    widget.answer("choice", "0")
    # A wrong code is asked again with a note, as the institution does.
    widget.answer("code", "000000")
    retry = widget.screen("code")
    expect(retry.get_by_role("alert")).to_contain_text("not right")
    shot(page, "code-wrong")
    widget.answer("code", "123456")
    connection = widget.success()
    names = widget.event_names()
    assert "ERROR" in names and "RETRY" in names
    errors = [e for e in widget.events() if e.get("name") == "ERROR"]
    assert errors[0]["data"]["code"] == "invalid_credentials"
    check_linked(demo, connection)
    # The retry logged in again on the same connection: no failed one is left behind.
    bank = institution_id(demo.api, "Billfold Sandbox Bank")
    mine = ok(demo.api.get("/v1/connections", params={"user_id": demo.setup.user_id}))["data"]
    assert [c["status"] for c in mine if c["institution_id"] == bank].count("failed") == 0


def test_wrong_answer_and_expiry_recover(demo: Demo, page: Any) -> None:
    widget = Widget(page, demo)
    widget.open()
    widget.pick("Sophtron Bank Captcha")
    widget.login("asdfg12X", "asdfg12X")
    widget.answer("captcha", "fail")
    wrong = widget.screen("error", "invalid_answer")
    shot(page, "error-wrong-answer")
    # Retry logs in again with the stored login: straight back to the captcha, which
    # this time expires before anyone answers it.
    ctx = demo.server.container.ctx
    ctx.policy = JobPolicy(challenge_ttl=timedelta(seconds=1))
    try:
        wrong.get_by_role("button", name="Try again").click()
        widget.screen("captcha")
        expired = widget.screen("error", "answer_timeout")
        shot(page, "error-expired")
    finally:
        ctx.policy = JobPolicy()
    expired.get_by_role("button", name="Try again").click()
    widget.answer("captcha", "right")
    connection = widget.success()
    codes = [e["data"]["code"] for e in widget.events() if e.get("name") == "ERROR"]
    assert codes == ["invalid_answer", "answer_timeout"]
    check_linked(demo, connection)


def test_institution_error_screen(demo: Demo, page: Any) -> None:
    widget = Widget(page, demo)
    widget.open()
    widget.pick("Synapse Sandbox Bank")
    widget.login("synapse_maintenance", "any")
    error = widget.screen("error", "institution_unavailable")
    shot(page, "error-institution")
    error.get_by_role("button", name="Close").click()
    expect(page.locator(FRAME)).to_have_count(0)
    exits = [e for e in widget.events() if e["type"] == "onExit"]
    assert exits[-1]["name"] == "institution_unavailable"


def test_relink_a_connection_that_needs_it(demo: Demo, page: Any) -> None:
    api = demo.api
    body = {
        "user_id": demo.setup.user_id,
        "institution_id": institution_id(api, "Synapse Sandbox Bank"),
        "credentials": {"username": "synapse_nomfa", "password": "test1234_needs_relink"},
    }
    started = ok(api.post("/v1/connections", json=body), 202)
    connection_id = started["connection"]["id"]
    _wait_status(api, connection_id, "active")
    ok(api.post(f"/v1/connections/{connection_id}/refresh"), 202)
    _wait_status(api, connection_id, "needs_relink")

    page.goto(demo.server.url + "/connect/demo")
    page.locator(f"#connections li[data-id='{connection_id}'] button").click()
    widget = Widget(page, demo)
    login = widget.screen("login")
    shot(page, "relink")
    expect(login.locator("h1")).to_have_text("Reconnect to Synapse Sandbox Bank")
    assert widget.frame.locator("#f0").input_value() == "synapse_nomfa"
    widget.frame.locator("#f1").fill("test1234")
    widget.frame.locator("form button[type=submit]").click()
    connection = widget.success()
    assert connection["id"] == connection_id
    assert widget.events()[0]["data"]["mode"] == "relink"
    check_linked(demo, connection)


def _wait_status(api: httpx.Client, connection_id: str, status: str) -> None:
    deadline = time.monotonic() + 15
    while ok(api.get(f"/v1/connections/{connection_id}"))["status"] != status:
        assert time.monotonic() < deadline, f"connection never became {status}"
        time.sleep(0.05)


def test_popup_mode_with_keyboard_only(demo: Demo, page: Any) -> None:
    page.goto(demo.server.url + "/connect/demo")
    page.get_by_label("a popup window").check()
    with page.expect_popup() as opened:
        page.click("#open")
    popup = opened.value
    expect(popup.locator("section[data-screen='search']")).to_be_visible()
    # Focus starts in the search field; type, then Tab through the filters to a result.
    popup.keyboard.type("Sandbox Fiber")
    expect(popup.locator("button.inst")).to_have_count(1)
    popup.locator("button.inst").focus()
    popup.keyboard.press("Enter")
    expect(popup.locator("section[data-screen='login']")).to_be_visible()
    popup.keyboard.type("me@example.com")
    popup.keyboard.press("Tab")
    popup.keyboard.type("pw")
    popup.keyboard.press("Enter")
    done = popup.locator("section[data-screen='success']")
    expect(done).to_be_visible()
    expect(done.get_by_role("button", name="Done")).to_be_focused()
    with contextlib.suppress(playwright_api.Error):  # the host closes the popup meanwhile
        popup.keyboard.press("Enter")
    expect(page.locator("#events li[data-type='onSuccess']")).to_have_count(1)
    assert popup.is_closed()


def _token(demo: Demo, api: httpx.Client, **extra: Any) -> str:
    body = {"user_id": demo.setup.user_id, **extra}
    token: str = ok(api.post("/v1/connect_tokens", json=body), 201)["token"]
    return token


def _open_with(page: Any, demo: Demo, token: str, client_id: str) -> None:
    page.evaluate(
        """([token, clientId]) => window.BillfoldConnect.open({token, clientId,
          onEvent: (n, d) => window.billfoldDemoEvents.push({type: 'onEvent', name: n, data: d}),
          onExit: (r, d) => window.billfoldDemoEvents.push({type: 'onExit', name: r, data: d})})""",
        [token, client_id],
    )


@pytest.mark.parametrize(
    "case", ["token_expired", "token_used", "token_wrong_client", "token_invalid"]
)
def test_refused_tokens(demo: Demo, page: Any, case: str) -> None:
    page.goto(demo.server.url + "/connect/demo")
    client_id = demo.setup.client_id
    if case == "token_expired":
        token = _token(demo, demo.api, expires_in=1)
        time.sleep(1.1)
    elif case == "token_used":
        token = _token(demo, demo.api)
        with demo.server.client() as anon:
            ok(anon.post("/connect/api/session", json={"token": token}), 201)
    elif case == "token_wrong_client":
        with demo.server.client(demo.server.new_api_key("Another app")) as other:
            user = ok(other.post("/v1/users", json={}), 201)["id"]
            token = ok(other.post("/v1/connect_tokens", json={"user_id": user}), 201)["token"]
    else:
        token = "ct_" + "x" * 43
    _open_with(page, demo, token, client_id)
    widget = Widget(page, demo)
    screen = widget.screen("token-error", case)
    shot(page, f"refused-{case.removeprefix('token_').replace('_', '-')}")
    expect(screen.locator("h1")).to_have_text(re.compile(r"^This link "))
    screen.get_by_role("button", name="Close").click()
    expect(page.locator(FRAME)).to_have_count(0)
    exits = [e for e in widget.events() if e["type"] == "onExit"]
    assert [e["name"] for e in exits] == [case]
    assert token not in demo.server.logs.text()
