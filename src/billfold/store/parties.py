"""Repositories for clients, their API keys and their end users."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from billfold.domain.parties import Client, EndUser
from billfold.store.tables import ApiKeyRow, ClientRow, EndUserRow


def _client(row: ClientRow) -> Client:
    return Client(id=row.id, name=row.name, created_at=row.created_at)


def _user(row: EndUserRow) -> EndUser:
    return EndUser(row.id, row.client_id, row.external_id, row.name, row.created_at)


class ClientRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def add(self, client: Client) -> None:
        self._s.add(ClientRow(id=client.id, name=client.name, created_at=client.created_at))

    def get(self, client_id: str) -> Client | None:
        row = self._s.get(ClientRow, client_id)
        return None if row is None else _client(row)

    def all(self) -> list[Client]:
        return [_client(r) for r in self._s.scalars(select(ClientRow).order_by(ClientRow.name))]

    def add_api_key(self, *, key_id: str, client_id: str, secret_hash: str, at: datetime) -> None:
        self._s.add(
            ApiKeyRow(
                id=key_id,
                client_id=client_id,
                secret_hash=secret_hash,
                created_at=at,
                revoked_at=None,
            )
        )

    def api_key(self, key_id: str) -> tuple[str, str] | None:
        """(client id, secret hash) of a live key."""
        row = self._s.get(ApiKeyRow, key_id)
        if row is None or row.revoked_at is not None:
            return None
        return row.client_id, row.secret_hash

    def revoke_api_key(self, key_id: str, at: datetime) -> bool:
        row = self._s.get(ApiKeyRow, key_id)
        if row is None or row.revoked_at is not None:
            return False
        row.revoked_at = at
        return True


class UserRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def add(self, user: EndUser) -> None:
        self._s.add(
            EndUserRow(
                id=user.id,
                client_id=user.client_id,
                external_id=user.external_id,
                name=user.name,
                created_at=user.created_at,
            )
        )

    def get(self, client_id: str, user_id: str) -> EndUser | None:
        row = self._s.get(EndUserRow, user_id)
        return None if row is None or row.client_id != client_id else _user(row)

    def by_external_id(self, client_id: str, external_id: str) -> EndUser | None:
        row = self._s.scalar(
            select(EndUserRow).where(
                EndUserRow.client_id == client_id, EndUserRow.external_id == external_id
            )
        )
        return None if row is None else _user(row)

    def page(
        self,
        client_id: str,
        *,
        after: tuple[datetime, str] | None,
        limit: int,
        external_id: str | None = None,
    ) -> list[EndUser]:
        query = select(EndUserRow).where(EndUserRow.client_id == client_id)
        if external_id is not None:
            query = query.where(EndUserRow.external_id == external_id)
        if after is not None:
            at, last_id = after
            query = query.where(
                (EndUserRow.created_at > at)
                | ((EndUserRow.created_at == at) & (EndUserRow.id > last_id))
            )
        query = query.order_by(EndUserRow.created_at, EndUserRow.id).limit(limit)
        return [_user(r) for r in self._s.scalars(query)]

    def update(self, user: EndUser) -> None:
        row = self._s.get(EndUserRow, user.id)
        if row is not None:
            row.name = user.name
            row.external_id = user.external_id

    def delete(self, client_id: str, user_id: str) -> bool:
        result = self._s.execute(
            delete(EndUserRow).where(EndUserRow.client_id == client_id, EndUserRow.id == user_id)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]
