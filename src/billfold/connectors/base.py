"""The one small interface every connector implements.

A connector's `sync` reads like straight-line code; multi-factor prompts are
`await session.ask(challenge)`, which parks the job until the person answers
(the same idea as httpx's `Auth.auth_flow`). Example::

    class ExampleConnector:
        kind = "example"

        def catalog(self) -> list[Institution]:
            return [Institution(id="...", name="Example Bank", kind=InstitutionKind.BANK,
                                connector="example")]

        async def sync(self, session: Session, request: SyncRequest) -> Snapshot:
            if session.credentials.password != "right":
                raise ConnectorError(ErrorCode.INVALID_CREDENTIALS)
            answer = await session.ask(Challenge.enter_code("Enter the code we texted you."))
            await session.progress("Reading accounts")
            return Snapshot(accounts=(...))

Raise `ConnectorError` with a code of `ErrorCode` to fail the job; any other
exception fails it with `unknown` (and is logged without the credentials).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from billfold.domain.challenges import Answer, Challenge
from billfold.domain.institutions import Institution
from billfold.domain.jobs import JobKind, JobOptions
from billfold.domain.snapshot import Snapshot


class Credentials:
    """A decrypted login. Exists only inside a connector session; never printable."""

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = dict(values)

    def get(self, key: str, default: str = "") -> str:
        return self._values.get(key, default)

    @property
    def username(self) -> str:
        return self.get("username")

    @property
    def password(self) -> str:
        return self.get("password")

    def keys(self) -> list[str]:
        return list(self._values)

    def __repr__(self) -> str:
        return f"Credentials(<{', '.join(self._values)} hidden>)"

    __str__ = __repr__


@dataclass(frozen=True, slots=True)
class SyncRequest:
    """What the job wants from one connector run."""

    connection_id: str
    institution: Institution
    kind: JobKind
    options: JobOptions
    # Checkpoint the connector returned last time (Snapshot.state), if any.
    state: Mapping[str, Any] | None = None
    # Only these accounts (by external id), for an account-level refresh.
    account_ids: Sequence[str] = field(default_factory=tuple)
    since: date | None = None


class Session(Protocol):
    """Given to a connector by the job runner for one run."""

    @property
    def credentials(self) -> Credentials: ...

    async def ask(self, challenge: Challenge) -> Answer:
        """Park the job on `challenge` and return the person's answer.

        Raises `ConnectorError(NEEDS_RELINK)` when no person is there to answer
        (background refresh); the job ends `expired` if the answer never comes.
        """
        ...

    async def progress(self, note: str) -> None:
        """Record a human-readable progress note on the job."""
        ...

    async def accounts_ready(self, snapshot: Snapshot) -> None:
        """Store accounts before transactions are done (optional early hand-off)."""
        ...

    async def checkpoint(self, state: Mapping[str, Any]) -> None:
        """Save the connector's state now (encrypted), not only when the job succeeds.

        For state that must outlive a failed or interrupted job, such as credentials
        a one-time token was just exchanged for. The next run gets it in
        `SyncRequest.state`; a later `Snapshot.state` replaces it.
        """
        ...


class Connector(Protocol):
    kind: str

    def catalog(self) -> Sequence[Institution]:
        """The institutions this connector serves, for the institution directory."""
        ...

    async def sync(self, session: Session, request: SyncRequest) -> Snapshot: ...
