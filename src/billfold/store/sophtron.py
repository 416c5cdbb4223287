"""Tables and repository of the Sophtron dialect: its credentials, OAuth, and job view marks.

The dialect's developer credentials (UserId + AccessKey) are per client; the
AccessKey is needed in clear to verify HMAC signatures, so it is encrypted with
the key ring, bound to its row. OAuth client secrets, codes and tokens are only
ever compared, so they are stored as SHA-256 hashes. Job marks keep what a
Sophtron job shows beyond the core job (the accepted token choice, the read-out
approval), which the core does not record.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, LargeBinary, String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from billfold.store.encryption import KeyRing
from billfold.store.tables import Base


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class SophtronCredentialRow(Base):
    __tablename__ = "sophtron_credentials"
    user_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    client_id: Mapped[str] = mapped_column(
        ForeignKey("clients.id", ondelete="CASCADE"), index=True, unique=True
    )
    access_key: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]


class SophtronOAuthClientRow(Base):
    __tablename__ = "sophtron_oauth_clients"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner_client_id: Mapped[str] = mapped_column(
        ForeignKey("clients.id", ondelete="CASCADE"), index=True
    )
    secret_hash: Mapped[str] = mapped_column(String(64))
    redirect_uris: Mapped[dict[str, Any]] = mapped_column()
    created_at: Mapped[datetime]


class SophtronOAuthCodeRow(Base):
    __tablename__ = "sophtron_oauth_codes"
    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    oauth_client_id: Mapped[str] = mapped_column(
        ForeignKey("sophtron_oauth_clients.id", ondelete="CASCADE"), index=True
    )
    redirect_uri: Mapped[str] = mapped_column(String(2000))
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class SophtronOAuthTokenRow(Base):
    __tablename__ = "sophtron_oauth_tokens"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # access, refresh
    oauth_client_id: Mapped[str] = mapped_column(
        ForeignKey("sophtron_oauth_clients.id", ondelete="CASCADE"), index=True
    )
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class SophtronIntegrationKeyRow(Base):
    __tablename__ = "sophtron_integration_keys"
    client_id: Mapped[str] = mapped_column(
        ForeignKey("clients.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[bytes] = mapped_column(LargeBinary)
    expires_at: Mapped[datetime]


class SophtronCustomerRow(Base):
    """What a v2 Customer has beyond the core end user (its `Source`)."""

    __tablename__ = "sophtron_customers"
    user_id: Mapped[str] = mapped_column(
        ForeignKey("end_users.id", ondelete="CASCADE"), primary_key=True
    )
    source: Mapped[str | None] = mapped_column(String(500))


class SophtronJobMarkRow(Base):
    __tablename__ = "sophtron_job_marks"
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True)
    token_choice: Mapped[str | None] = mapped_column(String(300))
    verify_phone: Mapped[bool] = mapped_column(Boolean, default=False)


def _access_key_context(user_id: str) -> str:
    return f"sophtron:{user_id}:access_key"


def _integration_key_context(client_id: str) -> str:
    return f"sophtron:{client_id}:integration_key"


class SophtronRepository:
    def __init__(self, session: Session, keys: KeyRing) -> None:
        self._s = session
        self._keys = keys

    # developer credentials ----------------------------------------------------------------

    def add_credential(
        self, *, user_id: str, client_id: str, access_key: str, at: datetime
    ) -> None:
        self._s.add(
            SophtronCredentialRow(
                user_id=user_id,
                client_id=client_id,
                access_key=self._keys.encrypt(
                    access_key.encode(), context=_access_key_context(user_id)
                ),
                created_at=at,
            )
        )

    def credential(self, user_id: str) -> tuple[str, str] | None:
        """(client id, AccessKey) of a developer UserId."""
        row = self._s.get(SophtronCredentialRow, user_id.lower())
        if row is None:
            return None
        key = self._keys.decrypt(row.access_key, context=_access_key_context(row.user_id))
        return row.client_id, key.decode()

    def user_id_of(self, client_id: str) -> str | None:
        return self._s.scalar(
            select(SophtronCredentialRow.user_id).where(
                SophtronCredentialRow.client_id == client_id
            )
        )

    def rewrap_all(self) -> int:
        """Re-wrap the AccessKeys and integration keys under the active key (rotation)."""
        count = 0
        for row in self._s.scalars(select(SophtronCredentialRow)):
            row.access_key = self._keys.rewrap(
                row.access_key, context=_access_key_context(row.user_id)
            )
            count += 1
        for key_row in self._s.scalars(select(SophtronIntegrationKeyRow)):
            key_row.key = self._keys.rewrap(
                key_row.key, context=_integration_key_context(key_row.client_id)
            )
        return count

    # OAuth ---------------------------------------------------------------------------------

    def add_oauth_client(
        self,
        *,
        oauth_client_id: str,
        owner: str,
        secret: str,
        redirect_uris: list[str],
        at: datetime,
    ) -> None:
        self._s.add(
            SophtronOAuthClientRow(
                id=oauth_client_id,
                owner_client_id=owner,
                secret_hash=secret_hash(secret),
                redirect_uris={"uris": list(redirect_uris)},
                created_at=at,
            )
        )

    def oauth_client(self, oauth_client_id: str) -> tuple[str, str, list[str]] | None:
        """(owner client id, secret hash, redirect URIs)."""
        row = self._s.get(SophtronOAuthClientRow, oauth_client_id)
        if row is None:
            return None
        return row.owner_client_id, row.secret_hash, list(row.redirect_uris.get("uris", []))

    def add_code(
        self, *, code: str, oauth_client_id: str, redirect_uri: str, expires_at: datetime
    ) -> None:
        self._s.add(
            SophtronOAuthCodeRow(
                code_hash=secret_hash(code),
                oauth_client_id=oauth_client_id,
                redirect_uri=redirect_uri,
                expires_at=expires_at,
                used_at=None,
            )
        )

    def use_code(self, code: str, at: datetime) -> tuple[str, str, datetime] | None:
        """Mark a code used once; (oauth client id, redirect URI, expiry) or None if gone/used."""
        row = self._s.scalar(
            select(SophtronOAuthCodeRow)
            .where(SophtronOAuthCodeRow.code_hash == secret_hash(code))
            .with_for_update()
        )
        if row is None or row.used_at is not None:
            return None
        row.used_at = at
        return row.oauth_client_id, row.redirect_uri, row.expires_at

    def add_token(
        self, *, token: str, kind: str, oauth_client_id: str, expires_at: datetime, at: datetime
    ) -> None:
        self._s.add(
            SophtronOAuthTokenRow(
                token_hash=secret_hash(token),
                kind=kind,
                oauth_client_id=oauth_client_id,
                expires_at=expires_at,
                revoked_at=None,
                created_at=at,
            )
        )

    def token(self, token: str, kind: str, now: datetime) -> str | None:
        """The OAuth client id of a live token of this kind."""
        row = self._s.get(SophtronOAuthTokenRow, secret_hash(token))
        if row is None or row.kind != kind or row.revoked_at is not None or row.expires_at <= now:
            return None
        return row.oauth_client_id

    def revoke_token(self, token: str, at: datetime) -> None:
        row = self._s.get(SophtronOAuthTokenRow, secret_hash(token))
        if row is not None and row.revoked_at is None:
            row.revoked_at = at

    def drop_expired(self, now: datetime) -> None:
        self._s.execute(delete(SophtronOAuthTokenRow).where(SophtronOAuthTokenRow.expires_at < now))
        self._s.execute(delete(SophtronOAuthCodeRow).where(SophtronOAuthCodeRow.expires_at < now))

    # integration keys ----------------------------------------------------------------------

    def integration_key(self, client_id: str, now: datetime) -> str | None:
        row = self._s.get(SophtronIntegrationKeyRow, client_id)
        if row is None or row.expires_at <= now:
            return None
        return self._keys.decrypt(row.key, context=_integration_key_context(client_id)).decode()

    def set_integration_key(self, client_id: str, key: str, expires_at: datetime) -> None:
        blob = self._keys.encrypt(key.encode(), context=_integration_key_context(client_id))
        row = self._s.get(SophtronIntegrationKeyRow, client_id)
        if row is None:
            self._s.add(
                SophtronIntegrationKeyRow(client_id=client_id, key=blob, expires_at=expires_at)
            )
        else:
            row.key = blob
            row.expires_at = expires_at

    # customers -----------------------------------------------------------------------------

    def set_source(self, user_id: str, source: str | None) -> None:
        row = self._s.get(SophtronCustomerRow, user_id)
        if row is None:
            self._s.add(SophtronCustomerRow(user_id=user_id, source=source))
        else:
            row.source = source

    def sources(self, user_ids: list[str]) -> dict[str, str | None]:
        if not user_ids:
            return {}
        rows = self._s.scalars(
            select(SophtronCustomerRow).where(SophtronCustomerRow.user_id.in_(user_ids))
        )
        return {r.user_id: r.source for r in rows}

    # job marks -----------------------------------------------------------------------------

    def mark(self, job_id: str) -> tuple[str | None, bool]:
        row = self._s.get(SophtronJobMarkRow, job_id)
        return (None, False) if row is None else (row.token_choice, row.verify_phone)

    def set_mark(
        self, job_id: str, *, token_choice: str | None = None, verify_phone: bool | None = None
    ) -> None:
        row = self._s.get(SophtronJobMarkRow, job_id)
        if row is None:
            row = SophtronJobMarkRow(job_id=job_id, token_choice=None, verify_phone=False)
            self._s.add(row)
        if token_choice is not None:
            row.token_choice = token_choice
        if verify_phone is not None:
            row.verify_phone = verify_phone
