"""Repository of connections; logins and checkpoints are encrypted here and only here."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from billfold.domain.connections import Connection, ConnectionStatus
from billfold.domain.errors import ErrorCode
from billfold.domain.snapshot import Identity
from billfold.store.encryption import KeyRing
from billfold.store.tables import ConnectionRow, JobRow


def _connection(row: ConnectionRow) -> Connection:
    return Connection(
        id=row.id,
        client_id=row.client_id,
        user_id=row.user_id,
        institution_id=row.institution_id,
        status=ConnectionStatus(row.status),
        error_code=ErrorCode(row.error_code) if row.error_code else None,
        created_at=row.created_at,
        updated_at=row.updated_at,
        last_synced_at=row.last_synced_at,
        username=row.username,
        refresh_every_hours=row.refresh_every_hours,
        next_refresh_at=row.next_refresh_at,
    )


def _credentials_context(connection_id: str) -> str:
    return f"connection:{connection_id}:credentials"


def _state_context(connection_id: str) -> str:
    return f"connection:{connection_id}:state"


class ConnectionRepository:
    def __init__(
        self, session: Session, keys: KeyRing, touched_jobs: set[str] | None = None
    ) -> None:
        self._s = session
        self._keys = keys
        self._touched_jobs = touched_jobs if touched_jobs is not None else set()

    def add(
        self,
        connection: Connection,
        credentials: Mapping[str, str],
        attributes: Mapping[str, Any] | None = None,
    ) -> None:
        self._s.add(
            ConnectionRow(
                id=connection.id,
                client_id=connection.client_id,
                user_id=connection.user_id,
                institution_id=connection.institution_id,
                status=connection.status.value,
                error_code=None,
                username=connection.username,
                credentials=self._keys.encrypt_json(
                    dict(credentials), context=_credentials_context(connection.id)
                ),
                connector_state=None,
                identity=None,
                attributes=dict(attributes or {}),
                created_at=connection.created_at,
                updated_at=connection.updated_at,
                last_synced_at=None,
                refresh_every_hours=connection.refresh_every_hours,
            )
        )

    def get(self, connection_id: str, client_id: str | None = None) -> Connection | None:
        row = self._row(connection_id, client_id)
        return None if row is None else _connection(row)

    def _row(self, connection_id: str, client_id: str | None) -> ConnectionRow | None:
        row = self._s.get(ConnectionRow, connection_id)
        if row is None or (client_id is not None and row.client_id != client_id):
            return None
        return row

    def for_client(self, client_id: str, *, user_id: str | None = None) -> list[Connection]:
        query = select(ConnectionRow).where(ConnectionRow.client_id == client_id)
        if user_id is not None:
            query = query.where(ConnectionRow.user_id == user_id)
        query = query.order_by(ConnectionRow.created_at, ConnectionRow.id)
        return [_connection(r) for r in self._s.scalars(query)]

    def set_status(
        self,
        connection_id: str,
        status: ConnectionStatus,
        error_code: ErrorCode | None,
        at: datetime,
        *,
        synced: bool = False,
    ) -> None:
        row = self._s.get(ConnectionRow, connection_id)
        if row is None:
            return
        row.status = status.value
        row.error_code = error_code.value if error_code else None
        row.updated_at = at
        if synced:
            row.last_synced_at = at

    def replace_credentials(
        self, connection_id: str, credentials: Mapping[str, str], at: datetime
    ) -> None:
        row = self._s.get(ConnectionRow, connection_id)
        if row is None:
            return
        row.credentials = self._keys.encrypt_json(
            dict(credentials), context=_credentials_context(connection_id)
        )
        row.username = credentials.get("username") or row.username
        row.updated_at = at

    def credentials(self, connection_id: str) -> dict[str, str]:
        """Decrypt a login. Only the job runner calls this, inside a connector session."""
        row = self._s.get(ConnectionRow, connection_id)
        if row is None:
            return {}
        value = self._keys.decrypt_json(row.credentials, context=_credentials_context(row.id))
        return {str(k): str(v) for k, v in value.items()}

    def state(self, connection_id: str) -> dict[str, Any] | None:
        row = self._s.get(ConnectionRow, connection_id)
        if row is None or row.connector_state is None:
            return None
        value = self._keys.decrypt_json(row.connector_state, context=_state_context(row.id))
        return dict(value)

    def save_state(self, connection_id: str, state: Mapping[str, Any] | None) -> None:
        row = self._s.get(ConnectionRow, connection_id)
        if row is None:
            return
        row.connector_state = (
            None
            if state is None
            else self._keys.encrypt_json(dict(state), context=_state_context(connection_id))
        )

    def save_identity(self, connection_id: str, identity: Identity) -> None:
        row = self._s.get(ConnectionRow, connection_id)
        if row is not None:
            row.identity = {
                "names": list(identity.names),
                "addresses": list(identity.addresses),
                "phones": list(identity.phones),
                "emails": list(identity.emails),
            }

    def identity(self, connection_id: str) -> Identity | None:
        row = self._s.get(ConnectionRow, connection_id)
        if row is None or row.identity is None:
            return None
        data = row.identity
        return Identity(
            tuple(data.get("names", ())),
            tuple(data.get("addresses", ())),
            tuple(data.get("phones", ())),
            tuple(data.get("emails", ())),
        )

    def attributes(self, connection_id: str) -> dict[str, Any]:
        row = self._s.get(ConnectionRow, connection_id)
        return {} if row is None else dict(row.attributes or {})

    def set_attributes(self, connection_id: str, attributes: Mapping[str, Any]) -> None:
        row = self._s.get(ConnectionRow, connection_id)
        if row is not None:
            row.attributes = {**(row.attributes or {}), **attributes}

    def refresh_every_hours(self, connection_id: str) -> int | None:
        return self._s.scalar(
            select(ConnectionRow.refresh_every_hours).where(ConnectionRow.id == connection_id)
        )

    def set_refresh_every(self, connection_id: str, hours: int | None) -> None:
        row = self._s.get(ConnectionRow, connection_id)
        if row is not None:
            row.refresh_every_hours = hours

    def set_next_refresh(self, connection_id: str, at: datetime | None) -> None:
        row = self._s.get(ConnectionRow, connection_id)
        if row is not None:
            row.next_refresh_at = at

    def due_for_refresh(self, now: datetime, limit: int) -> list[Connection]:
        """Linked connections whose scheduled refresh time has come, oldest first."""
        rows = self._s.scalars(
            select(ConnectionRow)
            .where(
                ConnectionRow.next_refresh_at <= now,
                ConnectionRow.status.in_(
                    [ConnectionStatus.ACTIVE.value, ConnectionStatus.ERROR.value]
                ),
            )
            .order_by(ConnectionRow.next_refresh_at)
            .limit(limit)
        )
        return [_connection(r) for r in rows]

    def delete(self, connection_id: str) -> None:
        """Delete at once (not at flush): the database cascades to jobs, accounts, transactions."""
        self._touched_jobs.update(
            self._s.scalars(select(JobRow.id).where(JobRow.connection_id == connection_id))
        )
        self._s.execute(delete(ConnectionRow).where(ConnectionRow.id == connection_id))

    def rewrap_all(self, keys: KeyRing) -> int:
        """Re-wrap every encrypted value under the active key (rotation)."""
        count = 0
        for row in self._s.scalars(select(ConnectionRow)):
            row.credentials = keys.rewrap(row.credentials, context=_credentials_context(row.id))
            if row.connector_state is not None:
                row.connector_state = keys.rewrap(
                    row.connector_state, context=_state_context(row.id)
                )
            count += 1
        return count
