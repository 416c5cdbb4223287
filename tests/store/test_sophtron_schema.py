"""Migration 0002 creates exactly the Sophtron dialect's tables as its models declare them."""

from __future__ import annotations

import base64
import secrets
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import billfold.store.sophtron  # noqa: F401 - registers the models on Base.metadata
from billfold.store.database import Database
from billfold.store.encryption import KeyRing
from billfold.store.ids import utcnow
from billfold.store.sophtron import SophtronRepository
from billfold.store.store import Store
from billfold.store.tables import Base


def _table_of(diff: Any) -> str:
    item = diff[0] if isinstance(diff, list) else diff
    for part in item[1:]:
        name = getattr(part, "name", None)
        table = getattr(part, "table", None)
        if table is not None and getattr(table, "name", None):
            return str(table.name)
        if isinstance(part, str):
            return part
        if name:
            return str(name)
    return ""


def test_migration_matches_models_and_access_keys_are_encrypted(database_url: str) -> None:
    keys = KeyRing([base64.b64decode(base64.b64encode(secrets.token_bytes(32)))])
    store = Store(Database(database_url), keys)
    store.migrate()
    with store.database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diffs = [d for d in compare_metadata(context, Base.metadata) if "sophtron" in _table_of(d)]
    assert diffs == []
    with store.write() as unit:
        from billfold.domain.parties import Client

        unit.clients.add(Client(id="c1", name="c", created_at=utcnow()))
        unit.flush()
        SophtronRepository(unit.session, keys).add_credential(
            user_id="u1", client_id="c1", access_key="visible-key-123", at=utcnow()
        )
    with store.read() as unit:
        repo = SophtronRepository(unit.session, keys)
        assert repo.credential("U1") == ("c1", "visible-key-123")
        raw = unit.session.execute(Base.metadata.tables["sophtron_credentials"].select()).one()
    assert b"visible-key-123" not in bytes(raw.access_key)
    store.close()
