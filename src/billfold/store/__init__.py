"""Persistence: SQLAlchemy tables, repositories and migrations for SQLite and PostgreSQL."""

from __future__ import annotations
