"""A scripted fake `Session` and a helper to run one sandbox sync with it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import date
from typing import Any

import pytest

from billfold.connectors.base import Credentials, SyncRequest
from billfold.connectors.sandbox import SandboxConnector
from billfold.domain.challenges import Answer, Challenge
from billfold.domain.institutions import Institution
from billfold.domain.jobs import JobKind, JobOptions
from billfold.domain.snapshot import Snapshot

TODAY = date(2025, 6, 18)


# A scripted answer: one value, several values, or a function of the challenge.
Scripted = str | list[str] | Callable[[Challenge], list[str]]


class FakeSession:
    """Answers challenges from a script, in order, and records everything it sees."""

    def __init__(self, username: str, password: str, answers: Sequence[Scripted] = ()):
        self._credentials = Credentials({"username": username, "password": password})
        self._answers = list(answers)
        self.challenges: list[Challenge] = []
        self.notes: list[str] = []
        self.ready: list[Snapshot] = []
        self.checkpoints: list[dict[str, Any]] = []

    @property
    def credentials(self) -> Credentials:
        return self._credentials

    async def ask(self, challenge: Challenge) -> Answer:
        self.challenges.append(challenge)
        if not self._answers:
            raise AssertionError(f"unexpected challenge: {challenge.kind} {challenge.prompt!r}")
        answer = self._answers.pop(0)
        if callable(answer):
            answer = answer(challenge)
        values = answer if isinstance(answer, list) else [answer]
        # The job runner checks an answer's shape the same way before the connector sees it.
        return challenge.normalize_answer(values)

    async def progress(self, note: str) -> None:
        self.notes.append(note)

    async def checkpoint(self, state: Mapping[str, Any]) -> None:
        self.checkpoints.append(dict(state))

    async def accounts_ready(self, snapshot: Snapshot) -> None:
        self.ready.append(snapshot)

    @property
    def unused_answers(self) -> int:
        return len(self._answers)


async def run_sync(
    institution: Institution,
    username: str,
    password: str,
    answers: Sequence[Scripted] = (),
    *,
    kind: JobKind = JobKind.LINK,
    state: Mapping[str, Any] | None = None,
    account_ids: Sequence[str] = (),
    today: date = TODAY,
    products: tuple[str, ...] = ("aggregate",),
) -> tuple[Snapshot, FakeSession]:
    session = FakeSession(username, password, answers)
    request = SyncRequest(
        connection_id="conn-1",
        institution=institution,
        kind=kind,
        options=JobOptions(products=products),
        state=state,
        account_ids=account_ids,
    )
    snapshot = await SandboxConnector(today=lambda: today).sync(session, request)
    assert session.unused_answers == 0, "the script had answers left over"
    return snapshot, session


@pytest.fixture
def sync() -> Callable[..., Awaitable[tuple[Snapshot, FakeSession]]]:
    """Run one sync: `await sync(institution, username, password, answers, kind=..., ...)`."""
    return run_sync
