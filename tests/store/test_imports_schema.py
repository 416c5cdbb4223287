"""Migration 0006 creates the statement-import table exactly as its model declares it."""

from __future__ import annotations

import secrets

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import billfold.store.imports  # noqa: F401 - registers the model on Base.metadata
from billfold.store.database import Database
from billfold.store.encryption import KeyRing
from billfold.store.store import Store
from billfold.store.tables import Base


def test_migration_matches_the_statement_import_model(database_url: str) -> None:
    store = Store(Database(database_url), KeyRing([secrets.token_bytes(32)]))
    store.migrate()
    try:
        with store.database.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            diffs = compare_metadata(context, Base.metadata)
        assert [d for d in diffs if "statement_imports" in repr(d)] == []
    finally:
        store.close()
