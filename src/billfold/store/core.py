"""Core statements inside an ORM unit of work, in program order.

The job hot paths (answer, resume, finish) write with SQLAlchemy Core: the ORM's
identity map, change tracking and flush planning cost several times more than the
statements themselves, and those paths run once per job for thousands of jobs at
a time. Other code in the same transaction may still hold ORM objects that are
not flushed yet (autoflush is off), so a Core statement first flushes them: a
statement never runs ahead of a write the program made before it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Executable, Result, Table, Update, bindparam, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from billfold.store.tables import Base


def table(model: type[Base]) -> Table:
    """A mapped class's table, typed for Core statements."""
    found = model.__table__
    if not isinstance(found, Table):
        raise TypeError(f"{model.__name__} is not mapped to a table")
    return found


def connection(session: Session) -> Connection:
    """The session's connection, after writing any pending ORM changes."""
    if session.new or session.dirty or session.deleted:
        session.flush()
    return session.connection()


def execute(session: Session, statement: Executable, params: Any = None) -> Result[Any]:
    """Run a Core statement (one parameter set, or a list of them for executemany)."""
    return connection(session).execute(statement, params)


# Built statements by (table, key column, columns set): building a statement costs
# several times more than running it, and a handful of shapes cover every call.
_UPDATES: dict[tuple[str, str, tuple[str, ...]], Update] = {}


def update_row(session: Session, target: Table, key: str, value: Any, **values: Any) -> int:
    """UPDATE target SET values WHERE key = value; returns how many rows changed."""
    shape = (target.name, key, tuple(sorted(values)))
    statement = _UPDATES.get(shape)
    if statement is None:
        statement = (
            update(target)
            .where(target.c[key] == bindparam("k_"))
            .values({name: bindparam(f"v_{name}", type_=target.c[name].type) for name in values})
        )
        _UPDATES[shape] = statement
    params = {f"v_{name}": v for name, v in values.items()}
    params["k_"] = value
    result = execute(session, statement, params)
    return int(result.rowcount)  # type: ignore[attr-defined]
