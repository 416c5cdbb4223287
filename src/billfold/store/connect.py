"""Tables and repository of Billfold Connect: single-use connect tokens and widget sessions.

Both secrets are stored only as SHA-256 hashes; the plain values exist in the
response that creates them and, for a session, in the widget's JS memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from billfold.store.tables import Base


class ConnectTokenRow(Base):
    __tablename__ = "connect_tokens"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("end_users.id", ondelete="CASCADE"), index=True)
    institution_id: Mapped[str | None] = mapped_column(String(64))
    connection_id: Mapped[str | None] = mapped_column(
        ForeignKey("connections.id", ondelete="CASCADE"), index=True
    )
    allowed_origins: Mapped[dict[str, Any]] = mapped_column()
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class ConnectSessionRow(Base):
    __tablename__ = "connect_sessions"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_id: Mapped[str] = mapped_column(
        ForeignKey("connect_tokens.id", ondelete="CASCADE"), index=True
    )
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("end_users.id", ondelete="CASCADE"), index=True)
    mode: Mapped[str] = mapped_column(String(16))  # link | relink
    origin: Mapped[str] = mapped_column(String(300))
    pinned_institution_id: Mapped[str | None] = mapped_column(String(64))
    institution_id: Mapped[str | None] = mapped_column(String(64))
    connection_id: Mapped[str | None] = mapped_column(String(40))
    job_id: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


@dataclass(frozen=True, slots=True)
class ConnectToken:
    id: str
    client_id: str
    user_id: str
    institution_id: str | None
    connection_id: str | None
    allowed_origins: tuple[str, ...]
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None


@dataclass(frozen=True, slots=True)
class ConnectSession:
    id: str
    token_id: str
    client_id: str
    user_id: str
    mode: str
    origin: str
    pinned_institution_id: str | None
    institution_id: str | None
    connection_id: str | None
    job_id: str | None
    created_at: datetime
    expires_at: datetime


def _token(row: ConnectTokenRow) -> ConnectToken:
    origins = row.allowed_origins.get("origins", []) if row.allowed_origins else []
    return ConnectToken(
        id=row.id,
        client_id=row.client_id,
        user_id=row.user_id,
        institution_id=row.institution_id,
        connection_id=row.connection_id,
        allowed_origins=tuple(str(o) for o in origins),
        created_at=row.created_at,
        expires_at=row.expires_at,
        used_at=row.used_at,
    )


def _session(row: ConnectSessionRow) -> ConnectSession:
    return ConnectSession(
        id=row.id,
        token_id=row.token_id,
        client_id=row.client_id,
        user_id=row.user_id,
        mode=row.mode,
        origin=row.origin,
        pinned_institution_id=row.pinned_institution_id,
        institution_id=row.institution_id,
        connection_id=row.connection_id,
        job_id=row.job_id,
        created_at=row.created_at,
        expires_at=row.expires_at,
    )


class ConnectRepository:
    """Runs inside a store unit: `ConnectRepository(unit.session)`."""

    def __init__(self, session: Session) -> None:
        self._s = session

    def add_token(self, token: ConnectToken, token_hash: str) -> None:
        self._s.add(
            ConnectTokenRow(
                id=token.id,
                token_hash=token_hash,
                client_id=token.client_id,
                user_id=token.user_id,
                institution_id=token.institution_id,
                connection_id=token.connection_id,
                allowed_origins={"origins": list(token.allowed_origins)},
                created_at=token.created_at,
                expires_at=token.expires_at,
                used_at=None,
            )
        )

    def token_by_hash(self, token_hash: str) -> ConnectToken | None:
        row = self._s.scalar(
            select(ConnectTokenRow).where(ConnectTokenRow.token_hash == token_hash)
        )
        return None if row is None else _token(row)

    def mark_token_used(self, token_id: str, at: datetime) -> bool:
        """Claim the token; False when another request claimed it first."""
        result = self._s.execute(
            update(ConnectTokenRow)
            .where(ConnectTokenRow.id == token_id, ConnectTokenRow.used_at.is_(None))
            .values(used_at=at)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def add_session(self, session: ConnectSession, secret_hash: str) -> None:
        self._s.add(
            ConnectSessionRow(
                id=session.id,
                secret_hash=secret_hash,
                token_id=session.token_id,
                client_id=session.client_id,
                user_id=session.user_id,
                mode=session.mode,
                origin=session.origin,
                pinned_institution_id=session.pinned_institution_id,
                institution_id=session.institution_id,
                connection_id=session.connection_id,
                job_id=session.job_id,
                created_at=session.created_at,
                expires_at=session.expires_at,
            )
        )

    def session_by_hash(self, secret_hash: str) -> ConnectSession | None:
        row = self._s.scalar(
            select(ConnectSessionRow).where(ConnectSessionRow.secret_hash == secret_hash)
        )
        return None if row is None else _session(row)

    def set_session_job(
        self, session_id: str, *, institution_id: str, connection_id: str, job_id: str
    ) -> None:
        self._s.execute(
            update(ConnectSessionRow)
            .where(ConnectSessionRow.id == session_id)
            .values(institution_id=institution_id, connection_id=connection_id, job_id=job_id)
        )

    def set_session_connection(
        self, session_id: str, *, institution_id: str, connection_id: str
    ) -> None:
        """Point the session at a connection that no job feeds (an uploaded statement's)."""
        self._s.execute(
            update(ConnectSessionRow)
            .where(ConnectSessionRow.id == session_id)
            .values(institution_id=institution_id, connection_id=connection_id, job_id=None)
        )
