"""Migration 0003 creates exactly the Synapse dialect's tables as its models declare them."""

from __future__ import annotations

import secrets

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import billfold.store.synapse  # noqa: F401 - registers the models on Base.metadata
from billfold.store.database import Database
from billfold.store.encryption import KeyRing
from billfold.store.store import Store
from billfold.store.tables import Base


def test_migration_matches_the_synapse_models(database_url: str) -> None:
    store = Store(Database(database_url), KeyRing([secrets.token_bytes(32)]))
    store.migrate()
    try:
        with store.database.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            diffs = compare_metadata(context, Base.metadata)
        ours = [d for d in diffs if "synapse_" in repr(d)]
        assert ours == []
        tables = [t for t in Base.metadata.tables if t.startswith("synapse_")]
        assert len(tables) == 10
    finally:
        store.close()
