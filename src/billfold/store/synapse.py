"""Tables and repository of the Synapse-style dialect.

Synapse clients see 24-hex ids, OAuth keys, refresh tokens, MFA access tokens,
idempotent replays, RSA field-encryption keys and webhook subscriptions. None of
that belongs in the core: it lives here, beside the core's rows it points at.
Secrets the dialect must read back (client secret, refresh tokens, private keys)
are encrypted with the store's key ring; secrets it only compares (OAuth keys,
MFA access tokens) are kept as SHA-256 digests.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from billfold.store.encryption import KeyRing
from billfold.store.tables import Base


def new_oid() -> str:
    """A 24-character lower-case hex id, the shape Synapse clients expect."""
    return secrets.token_hex(12)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class SynapseCredentialRow(Base):
    __tablename__ = "synapse_credentials"
    gateway_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    secret: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]


class SynapseUserRow(Base):
    __tablename__ = "synapse_users"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(
        ForeignKey("end_users.id", ondelete="CASCADE"), unique=True
    )
    profile: Mapped[dict[str, Any]] = mapped_column(JSON)
    fingerprints: Mapped[dict[str, Any]] = mapped_column(JSON)  # {"registered": [...]}
    refresh_token: Mapped[bytes] = mapped_column(LargeBinary)
    refresh_uses: Mapped[int] = mapped_column(Integer, default=0)
    last_ip: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class SynapseOAuthKeyRow(Base):
    __tablename__ = "synapse_oauth_keys"
    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    synapse_user_id: Mapped[str] = mapped_column(
        ForeignKey("synapse_users.id", ondelete="CASCADE"), index=True
    )
    fingerprint: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime]


class SynapseLoginRow(Base):
    """A bank login (a Billfold connection) and its 24-hex id, `extra.other.access_token`."""

    __tablename__ = "synapse_logins"
    connection_id: Mapped[str] = mapped_column(
        ForeignKey("connections.id", ondelete="CASCADE"), primary_key=True
    )
    login_id: Mapped[str] = mapped_column(String(40), unique=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    synapse_user_id: Mapped[str] = mapped_column(
        ForeignKey("synapse_users.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime]


class SynapseNodeRow(Base):
    __tablename__ = "synapse_nodes"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    synapse_user_id: Mapped[str] = mapped_column(
        ForeignKey("synapse_users.id", ondelete="CASCADE"), index=True
    )
    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), unique=True
    )
    connection_id: Mapped[str] = mapped_column(
        ForeignKey("connections.id", ondelete="CASCADE"), index=True
    )
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    allowed: Mapped[str] = mapped_column(String(32))
    supp_id: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class SynapseMfaTokenRow(Base):
    __tablename__ = "synapse_mfa_tokens"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    synapse_user_id: Mapped[str] = mapped_column(
        ForeignKey("synapse_users.id", ondelete="CASCADE"), index=True
    )
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[datetime]
    used: Mapped[bool] = mapped_column(Boolean, default=False)


class SynapseIdempotencyRow(Base):
    __tablename__ = "synapse_idempotency"
    __table_args__ = (UniqueConstraint("client_id", "key_hash", "method", "path", "body_hash"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    key_hash: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(300))
    body_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    body: Mapped[bytes] = mapped_column(LargeBinary)  # encrypted: it may hold tokens
    created_at: Mapped[datetime]


class SynapsePublicKeyRow(Base):
    __tablename__ = "synapse_public_keys"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    public_key: Mapped[str] = mapped_column(Text)
    private_key: Mapped[bytes] = mapped_column(LargeBinary)
    scope: Mapped[dict[str, Any]] = mapped_column(JSON)  # {"scope": [...]}
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class SynapseSubscriptionRow(Base):
    __tablename__ = "synapse_subscriptions"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(1000))
    scope: Mapped[dict[str, Any]] = mapped_column(JSON)  # {"scope": [...]}
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class SynapseDeliveryRow(Base):
    """One webhook event for one subscription, with its attempts (the delivery log)."""

    __tablename__ = "synapse_deliveries"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    subscription_id: Mapped[str] = mapped_column(
        ForeignKey("synapse_subscriptions.id", ondelete="CASCADE"), index=True
    )
    function: Mapped[str] = mapped_column(String(32))
    obj_id: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))  # pending, delivered, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    http_response_code: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


@dataclass(frozen=True, slots=True)
class SynapseCredential:
    gateway_id: str
    client_id: str
    secret: str


def _secret_context(gateway_id: str) -> str:
    return f"synapse:credential:{gateway_id}"


def _refresh_context(synapse_user_id: str) -> str:
    return f"synapse:user:{synapse_user_id}:refresh"


def _private_key_context(key_id: str) -> str:
    return f"synapse:public_key:{key_id}"


def _replay_context(client_id: str) -> str:
    return f"synapse:idempotency:{client_id}"


class SynapseRepository:
    """Every read and write of the dialect's own tables, inside the caller's transaction."""

    def __init__(self, session: Session, keys: KeyRing) -> None:
        self.s = session
        self._keys = keys

    # -- client credentials -------------------------------------------------------
    def add_credential(self, *, client_id: str, secret: str, at: datetime) -> str:
        gateway_id = new_oid()
        blob = self._keys.encrypt(secret.encode(), context=_secret_context(gateway_id))
        self.s.add(
            SynapseCredentialRow(
                gateway_id=gateway_id, client_id=client_id, secret=blob, created_at=at
            )
        )
        return gateway_id

    def credential(self, gateway_id: str) -> SynapseCredential | None:
        row = self.s.get(SynapseCredentialRow, gateway_id)
        if row is None:
            return None
        secret = self._keys.decrypt(row.secret, context=_secret_context(gateway_id)).decode()
        return SynapseCredential(row.gateway_id, row.client_id, secret)

    def credential_for_client(self, client_id: str) -> SynapseCredential | None:
        row = self.s.scalar(
            select(SynapseCredentialRow)
            .where(SynapseCredentialRow.client_id == client_id)
            .order_by(SynapseCredentialRow.created_at.desc())
            .limit(1)
        )
        return None if row is None else self.credential(row.gateway_id)

    # -- users ----------------------------------------------------------------------
    def add_user(self, row: SynapseUserRow, refresh_token: str) -> None:
        row.refresh_token = self._keys.encrypt(
            refresh_token.encode(), context=_refresh_context(row.id)
        )
        self.s.add(row)

    def user(self, client_id: str, synapse_user_id: str) -> SynapseUserRow | None:
        row = self.s.get(SynapseUserRow, synapse_user_id)
        return None if row is None or row.client_id != client_id else row

    def users(self, client_id: str) -> list[SynapseUserRow]:
        query = (
            select(SynapseUserRow)
            .where(SynapseUserRow.client_id == client_id)
            .order_by(SynapseUserRow.created_at, SynapseUserRow.id)
        )
        return list(self.s.scalars(query))

    def refresh_token(self, row: SynapseUserRow) -> str:
        return self._keys.decrypt(row.refresh_token, context=_refresh_context(row.id)).decode()

    def set_refresh_token(self, row: SynapseUserRow, token: str) -> None:
        row.refresh_token = self._keys.encrypt(token.encode(), context=_refresh_context(row.id))
        row.refresh_uses = 0

    # -- oauth keys -----------------------------------------------------------------
    def add_oauth_key(
        self,
        *,
        key: str,
        client_id: str,
        synapse_user_id: str,
        fingerprint: str,
        expires_at: datetime,
    ) -> None:
        self.s.add(
            SynapseOAuthKeyRow(
                key_hash=digest(key),
                client_id=client_id,
                synapse_user_id=synapse_user_id,
                fingerprint=fingerprint,
                expires_at=expires_at,
            )
        )

    def oauth_key(self, key: str) -> SynapseOAuthKeyRow | None:
        return self.s.get(SynapseOAuthKeyRow, digest(key))

    # -- logins and nodes -----------------------------------------------------------
    def add_login(
        self, *, connection_id: str, client_id: str, synapse_user_id: str, at: datetime
    ) -> str:
        login_id = new_oid()
        self.s.add(
            SynapseLoginRow(
                connection_id=connection_id,
                login_id=login_id,
                client_id=client_id,
                synapse_user_id=synapse_user_id,
                created_at=at,
            )
        )
        return login_id

    def login(self, connection_id: str) -> SynapseLoginRow | None:
        return self.s.get(SynapseLoginRow, connection_id)

    def add_node(self, row: SynapseNodeRow) -> None:
        self.s.add(row)

    def node(self, client_id: str, node_id: str) -> SynapseNodeRow | None:
        row = self.s.get(SynapseNodeRow, node_id)
        return None if row is None or row.client_id != client_id else row

    def nodes(
        self,
        client_id: str,
        *,
        synapse_user_id: str | None = None,
        connection_id: str | None = None,
        active_only: bool = True,
    ) -> list[SynapseNodeRow]:
        query = select(SynapseNodeRow).where(SynapseNodeRow.client_id == client_id)
        if synapse_user_id is not None:
            query = query.where(SynapseNodeRow.synapse_user_id == synapse_user_id)
        if connection_id is not None:
            query = query.where(SynapseNodeRow.connection_id == connection_id)
        if active_only:
            query = query.where(SynapseNodeRow.is_active.is_(True))
        return list(self.s.scalars(query.order_by(SynapseNodeRow.created_at, SynapseNodeRow.id)))

    def node_for_account(self, account_id: str) -> SynapseNodeRow | None:
        return self.s.scalar(select(SynapseNodeRow).where(SynapseNodeRow.account_id == account_id))

    # -- MFA access tokens ----------------------------------------------------------
    def add_mfa_token(
        self, *, token: str, client_id: str, synapse_user_id: str, job_id: str, expires_at: datetime
    ) -> None:
        self.s.add(
            SynapseMfaTokenRow(
                token_hash=digest(token),
                client_id=client_id,
                synapse_user_id=synapse_user_id,
                job_id=job_id,
                expires_at=expires_at,
                used=False,
            )
        )

    def mfa_token(self, token: str) -> SynapseMfaTokenRow | None:
        return self.s.get(SynapseMfaTokenRow, digest(token))

    # -- idempotent replays ---------------------------------------------------------
    def replay(
        self, *, client_id: str, key: str, method: str, path: str, body_hash: str, since: datetime
    ) -> tuple[int, bytes] | None:
        row = self.s.scalar(
            select(SynapseIdempotencyRow).where(
                SynapseIdempotencyRow.client_id == client_id,
                SynapseIdempotencyRow.key_hash == digest(key),
                SynapseIdempotencyRow.method == method,
                SynapseIdempotencyRow.path == path,
                SynapseIdempotencyRow.body_hash == body_hash,
                SynapseIdempotencyRow.created_at >= since,
            )
        )
        if row is None:
            return None
        return row.status, self._keys.decrypt(row.body, context=_replay_context(client_id))

    def remember(
        self,
        *,
        client_id: str,
        key: str,
        method: str,
        path: str,
        body_hash: str,
        status: int,
        body: bytes,
        at: datetime,
    ) -> None:
        existing = self.s.scalar(
            select(SynapseIdempotencyRow).where(
                SynapseIdempotencyRow.client_id == client_id,
                SynapseIdempotencyRow.key_hash == digest(key),
                SynapseIdempotencyRow.method == method,
                SynapseIdempotencyRow.path == path,
                SynapseIdempotencyRow.body_hash == body_hash,
            )
        )
        blob = self._keys.encrypt(body, context=_replay_context(client_id))
        if existing is not None:
            existing.status, existing.body, existing.created_at = status, blob, at
            return
        self.s.add(
            SynapseIdempotencyRow(
                client_id=client_id,
                key_hash=digest(key),
                method=method,
                path=path,
                body_hash=body_hash,
                status=status,
                body=blob,
                created_at=at,
            )
        )

    # -- field-encryption keys ------------------------------------------------------
    def add_public_key(
        self,
        *,
        client_id: str,
        public_key: str,
        private_pem: bytes,
        scope: list[str],
        at: datetime,
        expires_at: datetime,
    ) -> SynapsePublicKeyRow:
        key_id = new_oid()
        row = SynapsePublicKeyRow(
            id=key_id,
            client_id=client_id,
            public_key=public_key,
            private_key=self._keys.encrypt(private_pem, context=_private_key_context(key_id)),
            scope={"scope": scope},
            created_at=at,
            expires_at=expires_at,
        )
        self.s.add(row)
        return row

    def private_keys(self, client_id: str, *, expiring_after: datetime) -> list[bytes]:
        """PEM private keys of the client's keys still usable, newest first."""
        rows = self.s.scalars(
            select(SynapsePublicKeyRow)
            .where(
                SynapsePublicKeyRow.client_id == client_id,
                SynapsePublicKeyRow.expires_at >= expiring_after,
            )
            .order_by(SynapsePublicKeyRow.created_at.desc())
        )
        return [self._keys.decrypt(r.private_key, context=_private_key_context(r.id)) for r in rows]

    # -- subscriptions and deliveries -----------------------------------------------
    def add_subscription(self, row: SynapseSubscriptionRow) -> None:
        self.s.add(row)

    def subscription(self, client_id: str, subscription_id: str) -> SynapseSubscriptionRow | None:
        row = self.s.get(SynapseSubscriptionRow, subscription_id)
        return None if row is None or row.client_id != client_id else row

    def subscriptions(self, client_id: str) -> list[SynapseSubscriptionRow]:
        query = (
            select(SynapseSubscriptionRow)
            .where(SynapseSubscriptionRow.client_id == client_id)
            .order_by(SynapseSubscriptionRow.created_at, SynapseSubscriptionRow.id)
        )
        return list(self.s.scalars(query))

    def add_delivery(self, row: SynapseDeliveryRow) -> None:
        self.s.add(row)

    def delivery(self, delivery_id: str) -> SynapseDeliveryRow | None:
        return self.s.get(SynapseDeliveryRow, delivery_id)

    def deliveries(self, client_id: str, limit: int = 100) -> list[SynapseDeliveryRow]:
        query = (
            select(SynapseDeliveryRow)
            .where(SynapseDeliveryRow.client_id == client_id)
            .order_by(SynapseDeliveryRow.created_at.desc(), SynapseDeliveryRow.id)
            .limit(limit)
        )
        return list(self.s.scalars(query))

    # -- key rotation ---------------------------------------------------------------
    def rewrap_all(self) -> int:
        """Re-wrap every encrypted value of the dialect under the active key (key rotation)."""
        count = 0
        for cred in self.s.scalars(select(SynapseCredentialRow)):
            cred.secret = self._keys.rewrap(cred.secret, context=_secret_context(cred.gateway_id))
            count += 1
        for user in self.s.scalars(select(SynapseUserRow)):
            user.refresh_token = self._keys.rewrap(
                user.refresh_token, context=_refresh_context(user.id)
            )
            count += 1
        for key in self.s.scalars(select(SynapsePublicKeyRow)):
            key.private_key = self._keys.rewrap(
                key.private_key, context=_private_key_context(key.id)
            )
            count += 1
        for replay in self.s.scalars(select(SynapseIdempotencyRow)):
            replay.body = self._keys.rewrap(replay.body, context=_replay_context(replay.client_id))
            count += 1
        return count
