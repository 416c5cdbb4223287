"""A Sophtron API client written from the spec (sophtron-api.md), not from the server code.

It signs requests the way Sophtron's sample clients do (spec 2.1): HMAC-SHA256
over `METHOD\\n/lastsegment` of the URL string it holds, key decoded leniently
like Node's base64 decoder; or it sends an OAuth bearer token. It also holds
the polling loop real clients run (spec 7.1).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from typing import Any

import httpx

ZERO_GUID = "00000000-0000-0000-0000-000000000000"
PENDING_FIELDS = ("SecurityQuestion", "TokenMethod", "TokenSentFlag", "TokenRead", "CaptchaImage")


def node_base64_decode(text: str) -> bytes:
    """Node's forgiving decoder: url-safe letters mapped, junk and padding dropped."""
    cleaned = re.sub(r"[^A-Za-z0-9+/]", "", text.replace("-", "+").replace("_", "/"))
    if len(cleaned) % 4 == 1:
        cleaned = cleaned[:-1]
    return base64.b64decode(cleaned + "=" * (-len(cleaned) % 4))


def fiapi_header(user_id: str, access_key: str, method: str, url: str) -> str:
    auth_path = url[url.rfind("/") :].lower()
    plain = f"{method.upper()}\n{auth_path}".encode()
    digest = hmac.new(node_base64_decode(access_key), plain, hashlib.sha256).digest()
    return f"FIApiAUTH:{user_id}:{base64.b64encode(digest).decode()}:{auth_path}"


class SophtronClient:
    """Talks to `{base}/api/...` with FIApiAUTH (user_id + access_key) or a bearer token."""

    def __init__(
        self,
        base_url: str,
        *,
        user_id: str | None = None,
        access_key: str | None = None,
        token: str | None = None,
        scheme: str = "Bearer",
    ) -> None:
        self.base = base_url.rstrip("/") + "/api"
        self.user_id = user_id
        self.access_key = access_key
        self.token = token
        self.scheme = scheme
        self.http = httpx.Client(timeout=15)

    def close(self) -> None:
        self.http.close()

    def _auth(self, method: str, url: str) -> dict[str, str]:
        if self.token is not None:
            return {"Authorization": f"{self.scheme} {self.token}"}
        assert self.user_id and self.access_key
        return {"Authorization": fiapi_header(self.user_id, self.access_key, method, url)}

    def request(self, method: str, path: str, body: Any = None) -> httpx.Response:
        url = self.base + path
        headers = self._auth(method, url)
        content = None if body is None else json.dumps(body)
        if content is not None:
            headers["Content-Type"] = "application/json"
        return self.http.request(method, url, headers=headers, content=content)

    def call(self, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        response = self.request(method, path, body)
        assert response.status_code == status, (method, path, response.status_code, response.text)
        return response.json()

    # v1 --------------------------------------------------------------------------------
    def v1(self, action: str, body: Any = None, status: int = 200) -> Any:
        return self.call("POST", "/" + action, body if body is not None else {}, status)

    def institution_by_name(self, name: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.v1(
            "Institution/GetInstitutionByName", {"InstitutionName": name}
        )
        return found

    def job(self, job_id: str) -> dict[str, Any]:
        job: dict[str, Any] = self.v1("Job/GetJobInformationByID", {"JobID": job_id})
        return job

    # v2 --------------------------------------------------------------------------------
    def v2_job(self, job_id: str) -> dict[str, Any]:
        job: dict[str, Any] = self.call("GET", f"/v2/job/{job_id}")
        return job

    def challenge(self, job_id: str, kind: str, answer: Any, status: int = 200) -> Any:
        return self.call(
            "PUT", f"/v2/job/{job_id}/challenge/{kind}", {"AnswerText": answer}, status
        )


def pending_step(job: dict[str, Any]) -> str | None:
    """The one pending MFA field, in the order real clients check (spec 7.1 step 3)."""
    pending = [
        name
        for name in PENDING_FIELDS
        if (job[name] is True if name == "TokenSentFlag" else job[name] not in (None, ""))
    ]
    assert len(pending) <= 1, f"more than one pending step: {pending}"
    return pending[0] if pending else None


def poll(
    read: Any, job_id: str, *, timeout: float = 20.0, accounts_ready_is_done: bool = False
) -> dict[str, Any]:
    """Poll like ucw-app: stop at a pending step, success or failure."""
    deadline = time.monotonic() + timeout
    while True:
        started = time.monotonic()
        job: dict[str, Any] = read(job_id)
        assert time.monotonic() - started < 3.0, "a job poll took longer than 3 s"
        assert job["SuccessFlag"] in (None, True, False)
        if job["SuccessFlag"] is not None or pending_step(job) is not None:
            return job
        if accounts_ready_is_done and job["LastStatus"] == "AccountsReady":
            return job
        assert time.monotonic() < deadline, f"job stuck: {job}"
        time.sleep(0.02)


# ----- full links, as a client following the spec would run them -----------------------------

BANK_STEPS: dict[str, list[str]] = {
    "Sophtron Bank": ["CaptchaImage", "SecurityQuestion", "TokenMethod", "TokenSentFlag"],
    "Sophtron Bank Captcha": ["CaptchaImage"],
    "Sophtron Bank Token": ["TokenMethod", "TokenSentFlag"],
    "Sophtron Bank NoMFA": [],
    "Sophtron Bank SecurityQuestion": ["SecurityQuestion"],
    "Sophtron Bank SecurityQuestion Multiple": ["SecurityQuestion"],
    "Sophtron Bank TokenRead": ["TokenRead"],
    "Sophtron Bank Business": [],
}

V2_CHALLENGES = {
    "SecurityQuestion": "SecurityQuestion",
    "TokenMethod": "TokenMethod",
    "TokenSentFlag": "TokenInput",
    "TokenRead": "TokenRead",
    "CaptchaImage": "CaptchaImage",
}


def login_for(bank: str) -> tuple[str, str]:
    return ("asdf", "asdf") if bank == "Sophtron Bank NoMFA" else ("asdfg12X", "asdfg12X")


def v1_answer(client: SophtronClient, job: dict[str, Any], step: str) -> Any:
    job_id = job["JobID"]
    if step == "SecurityQuestion":
        questions = json.loads(job["SecurityQuestion"])
        answers = json.dumps(["asdf"] * len(questions))
        return client.v1(
            "Job/UpdateJobSecurityAnswer", {"JobID": job_id, "SecurityAnswer": answers}
        )
    if step == "TokenMethod":
        choice = json.loads(job["TokenMethod"])[0]
        return client.v1("Job/UpdateJobTokenInput", {"JobID": job_id, "TokenChoice": choice})
    if step == "TokenSentFlag":
        return client.v1("Job/UpdateJobTokenInput", {"JobID": job_id, "TokenInput": "123456"})
    if step == "TokenRead":
        return client.v1("Job/UpdateJobTokenInput", {"JobID": job_id, "VerifyPhoneFlag": True})
    assert step == "CaptchaImage"
    return client.v1("Job/UpdateJobCaptcha", {"JobID": job_id, "CaptchaInput": "asdf"})


def v2_answer(client: SophtronClient, job: dict[str, Any], step: str) -> Any:
    value: Any = "asdf"
    if step == "SecurityQuestion":
        value = json.dumps(["asdf"] * len(json.loads(job["SecurityQuestion"])))
    elif step == "TokenMethod":
        value = json.loads(job["TokenMethod"])[0]
    elif step == "TokenSentFlag":
        value = "123456"
    elif step == "TokenRead":
        value = True
    return client.challenge(job["JobID"], V2_CHALLENGES[step], value)


def drive(
    client: SophtronClient, job_id: str, *, v2: bool, check_repeat: bool = True
) -> tuple[dict[str, Any], list[str]]:
    """Poll and answer every pending step until the job ends; returns (job, steps seen)."""
    read = client.v2_job if v2 else client.job
    answer = v2_answer if v2 else v1_answer
    seen: list[str] = []
    job = poll(read, job_id)
    assert job["SuccessFlag"] is None or not seen
    while job["SuccessFlag"] is None:
        step = pending_step(job)
        assert step is not None
        assert job["LastStatus"] == "WaitingForInput", job
        seen.append(step)
        assert answer(client, job, step) == 0
        after = read(job_id)
        assert pending_step(after) != step or after is None, f"{step} not cleared: {after}"
        if check_repeat:
            assert answer(client, job, step) == -1, "a second answer was accepted"
        job = poll(read, job_id)
    return job, seen


def password_token(
    base_url: str, client_id: str, client_secret: str, username: str, *, path: str = "/oauth/token"
) -> dict[str, Any]:
    """The JS sample's token request: Basic client auth and its misspelt Content-Type."""
    basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
    response = httpx.post(
        base_url.rstrip("/") + path,
        content=f"grant_type=password&username={username}",
        headers={
            "Authorization": f"Basic {basic}",
            "Content-Type": "application/x-www-form-urlecoded",
        },
        timeout=15,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
