"""Apply Alembic migrations on start, for SQLite and PostgreSQL alike."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from billfold.store.database import Database

_HERE = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(_HERE))
    return config


def upgrade(database: Database) -> None:
    """Bring the schema to the newest revision (idempotent)."""
    config = alembic_config()
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def make_revision(database: Database, message: str) -> None:
    """Developer helper: autogenerate a revision against an up-to-date database."""
    config = alembic_config()
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.revision(config, message=message, autogenerate=True)
