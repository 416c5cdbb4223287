"""Repository of connections; logins and checkpoints are encrypted here and only here."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, Select, bindparam, delete, insert, select
from sqlalchemy.orm import Session

from billfold.domain.connections import Connection, ConnectionStatus
from billfold.domain.errors import ErrorCode
from billfold.domain.snapshot import Identity
from billfold.store.core import execute, table, update_row
from billfold.store.encryption import KeyRing
from billfold.store.tables import ConnectionRow, JobRow


def _connection(row: RowMapping) -> Connection:
    return Connection(
        id=row["id"],
        client_id=row["client_id"],
        user_id=row["user_id"],
        institution_id=row["institution_id"],
        status=ConnectionStatus(row["status"]),
        error_code=ErrorCode(row["error_code"]) if row["error_code"] else None,
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        last_synced_at=row["last_synced_at"],
        username=row["username"],
        refresh_every_hours=row["refresh_every_hours"],
        next_refresh_at=row["next_refresh_at"],
    )


CONNECTIONS = table(ConnectionRow)
# What a `Connection` shows: never the encrypted columns, which only some callers need.
_VISIBLE = (
    CONNECTIONS.c.id,
    CONNECTIONS.c.client_id,
    CONNECTIONS.c.user_id,
    CONNECTIONS.c.institution_id,
    CONNECTIONS.c.status,
    CONNECTIONS.c.error_code,
    CONNECTIONS.c.created_at,
    CONNECTIONS.c.updated_at,
    CONNECTIONS.c.last_synced_at,
    CONNECTIONS.c.username,
    CONNECTIONS.c.refresh_every_hours,
    CONNECTIONS.c.next_refresh_at,
)


_GET = select(*_VISIBLE).where(CONNECTIONS.c.id == bindparam("connection_id"))
_ADD = insert(CONNECTIONS)
# One-column reads by column name, built on first use.
_COLUMNS: dict[str, Select[Any]] = {}


def _identity_json(identity: Identity) -> dict[str, list[str]]:
    return {
        "names": list(identity.names),
        "addresses": list(identity.addresses),
        "phones": list(identity.phones),
        "emails": list(identity.emails),
    }


def _credentials_context(connection_id: str) -> str:
    return f"connection:{connection_id}:credentials"


def _state_context(connection_id: str) -> str:
    return f"connection:{connection_id}:state"


class ConnectionRepository:
    """Connections through SQLAlchemy Core: a job reads and writes its connection
    several times, for thousands of jobs at a time (see `store.core`)."""

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
        execute(
            self._s,
            _ADD,
            {
                "id": connection.id,
                "client_id": connection.client_id,
                "user_id": connection.user_id,
                "institution_id": connection.institution_id,
                "status": connection.status.value,
                "error_code": None,
                "username": connection.username,
                "credentials": self._keys.encrypt_json(
                    dict(credentials), context=_credentials_context(connection.id)
                ),
                "connector_state": None,
                "identity": None,
                "attributes": dict(attributes or {}),
                "created_at": connection.created_at,
                "updated_at": connection.updated_at,
                "last_synced_at": None,
                "refresh_every_hours": connection.refresh_every_hours,
                "next_refresh_at": None,
            },
        )

    def get(self, connection_id: str, client_id: str | None = None) -> Connection | None:
        row = execute(self._s, _GET, {"connection_id": connection_id}).mappings().first()
        if row is None or (client_id is not None and row["client_id"] != client_id):
            return None
        return _connection(row)

    def _column(self, connection_id: str, column: str) -> Any:
        statement = _COLUMNS.get(column)
        if statement is None:
            statement = _COLUMNS[column] = select(CONNECTIONS.c[column]).where(
                CONNECTIONS.c.id == bindparam("connection_id")
            )
        return execute(self._s, statement, {"connection_id": connection_id}).scalar()

    def _update(self, connection_id: str, **values: Any) -> None:
        update_row(self._s, CONNECTIONS, "id", connection_id, **values)

    def for_client(self, client_id: str, *, user_id: str | None = None) -> list[Connection]:
        query = select(*_VISIBLE).where(CONNECTIONS.c.client_id == client_id)
        if user_id is not None:
            query = query.where(CONNECTIONS.c.user_id == user_id)
        query = query.order_by(CONNECTIONS.c.created_at, CONNECTIONS.c.id)
        return [_connection(r) for r in execute(self._s, query).mappings()]

    def set_status(
        self,
        connection_id: str,
        status: ConnectionStatus,
        error_code: ErrorCode | None,
        at: datetime,
        *,
        synced: bool = False,
    ) -> None:
        values: dict[str, Any] = {
            "status": status.value,
            "error_code": error_code.value if error_code else None,
            "updated_at": at,
        }
        if synced:
            values["last_synced_at"] = at
        self._update(connection_id, **values)

    def record_sync(
        self,
        connection_id: str,
        at: datetime,
        *,
        next_refresh_at: datetime | None,
        identity: Identity | None = None,
        state: Mapping[str, Any] | None = None,
    ) -> None:
        """A sync succeeded: the connection is active and synced at `at`, with its next
        refresh, and the identity and checkpoint it brought (when it brought them), in
        one statement."""
        values: dict[str, Any] = {
            "status": ConnectionStatus.ACTIVE.value,
            "error_code": None,
            "updated_at": at,
            "last_synced_at": at,
            "next_refresh_at": next_refresh_at,
        }
        if identity is not None:
            values["identity"] = _identity_json(identity)
        if state is not None:
            values["connector_state"] = self._encrypt_state(connection_id, state)
        self._update(connection_id, **values)

    def replace_credentials(
        self, connection_id: str, credentials: Mapping[str, str], at: datetime
    ) -> None:
        username = self._column(connection_id, "username")
        if username is None and not self.exists(connection_id):
            return
        self._update(
            connection_id,
            credentials=self._keys.encrypt_json(
                dict(credentials), context=_credentials_context(connection_id)
            ),
            username=credentials.get("username") or username,
            updated_at=at,
        )

    def exists(self, connection_id: str) -> bool:
        return self._column(connection_id, "id") is not None

    def credentials(self, connection_id: str) -> dict[str, str]:
        """Decrypt a login. Only the job runner calls this, inside a connector session."""
        blob = self._column(connection_id, "credentials")
        if blob is None:
            return {}
        value = self._keys.decrypt_json(blob, context=_credentials_context(connection_id))
        return {str(k): str(v) for k, v in value.items()}

    def state(self, connection_id: str) -> dict[str, Any] | None:
        blob = self._column(connection_id, "connector_state")
        if blob is None:
            return None
        return dict(self._keys.decrypt_json(blob, context=_state_context(connection_id)))

    def save_state(self, connection_id: str, state: Mapping[str, Any] | None) -> None:
        self._update(
            connection_id,
            connector_state=None if state is None else self._encrypt_state(connection_id, state),
        )

    def _encrypt_state(self, connection_id: str, state: Mapping[str, Any]) -> bytes:
        return self._keys.encrypt_json(dict(state), context=_state_context(connection_id))

    def identity(self, connection_id: str) -> Identity | None:
        data = self._column(connection_id, "identity")
        if data is None:
            return None
        return Identity(
            tuple(data.get("names", ())),
            tuple(data.get("addresses", ())),
            tuple(data.get("phones", ())),
            tuple(data.get("emails", ())),
        )

    def attributes(self, connection_id: str) -> dict[str, Any]:
        return dict(self._column(connection_id, "attributes") or {})

    def set_attributes(self, connection_id: str, attributes: Mapping[str, Any]) -> None:
        if not self.exists(connection_id):
            return
        self._update(connection_id, attributes={**self.attributes(connection_id), **attributes})

    def refresh_every_hours(self, connection_id: str) -> int | None:
        hours: int | None = self._column(connection_id, "refresh_every_hours")
        return hours

    def set_refresh_every(self, connection_id: str, hours: int | None) -> None:
        self._update(connection_id, refresh_every_hours=hours)

    def set_next_refresh(self, connection_id: str, at: datetime | None) -> None:
        self._update(connection_id, next_refresh_at=at)

    def due_for_refresh(self, now: datetime, limit: int) -> list[Connection]:
        """Linked connections whose scheduled refresh time has come, oldest first."""
        query = (
            select(*_VISIBLE)
            .where(
                CONNECTIONS.c.next_refresh_at <= now,
                CONNECTIONS.c.status.in_(
                    [ConnectionStatus.ACTIVE.value, ConnectionStatus.ERROR.value]
                ),
            )
            .order_by(CONNECTIONS.c.next_refresh_at)
            .limit(limit)
        )
        return [_connection(r) for r in execute(self._s, query).mappings()]

    def delete(self, connection_id: str) -> None:
        """Delete at once (not at flush): the database cascades to jobs, accounts, transactions."""
        self._touched_jobs.update(
            execute(
                self._s, select(JobRow.id).where(JobRow.connection_id == connection_id)
            ).scalars()
        )
        execute(self._s, delete(CONNECTIONS).where(CONNECTIONS.c.id == connection_id))

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
