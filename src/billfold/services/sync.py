"""Applying a snapshot: the core's diff that gives every source de-duplication for free."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from billfold.domain.connections import Connection
from billfold.domain.snapshot import Snapshot, diff_transactions
from billfold.store.ids import new_id
from billfold.store.store import Unit


@dataclass(slots=True)
class SyncSummary:
    accounts_added: int = 0
    accounts_closed: int = 0
    balances_changed: list[str] = field(default_factory=list)
    transactions_added: int = 0
    transactions_changed: int = 0
    transactions_removed: int = 0
    account_ids: dict[str, str] = field(default_factory=dict)  # external id -> Billfold id


def apply_accounts(
    unit: Unit, *, connection: Connection, snapshot: Snapshot, now: datetime
) -> SyncSummary:
    summary = SyncSummary()
    existing = unit.accounts.rows_for_connection(connection.id)
    for item in snapshot.accounts:
        data = item.account
        row = existing.get(data.external_id)
        account_id, balance_changed = unit.accounts.upsert(
            existing=row,
            new_id=new_id(),
            client_id=connection.client_id,
            user_id=connection.user_id,
            connection_id=connection.id,
            data=data,
            at=now,
        )
        summary.account_ids[data.external_id] = account_id
        if row is None:
            summary.accounts_added += 1
        elif balance_changed:
            summary.balances_changed.append(account_id)
    if snapshot.complete:
        summary.accounts_closed = unit.accounts.deactivate_missing(
            connection.id, {a.account.external_id for a in snapshot.accounts}, now
        )
    return summary


def apply_snapshot(
    unit: Unit,
    *,
    connection: Connection,
    snapshot: Snapshot,
    now: datetime,
    next_refresh_at: datetime | None,
) -> SyncSummary:
    """Store a sync's result and mark the connection synced (active, next refresh at
    `next_refresh_at`, with the identity and checkpoint the snapshot brought)."""
    summary = apply_accounts(unit, connection=connection, snapshot=snapshot, now=now)
    windows = {
        summary.account_ids[item.account.external_id]: item.window[0] if item.window else None
        for item in snapshot.accounts
    }
    stored = unit.transactions.stored_for_diff(windows)
    inserts = []
    for item in snapshot.accounts:
        account_id = summary.account_ids[item.account.external_id]
        diff = diff_transactions(stored[account_id], item.transactions, item.window)
        for data in diff.added:
            inserts.append(
                (
                    new_id(),
                    connection.client_id,
                    account_id,
                    data,
                    diff.replaces.get(data.external_id),
                )
            )
        for txn_id, data in diff.changed:
            unit.transactions.update(txn_id, data, now)
        if diff.removed:
            unit.transactions.delete_many(diff.removed)
        summary.transactions_added += len(diff.added)
        summary.transactions_changed += len(diff.changed)
        summary.transactions_removed += len(diff.removed)
    # Deletes ran first (Core statements run at once): keeps the unique index calm.
    unit.transactions.insert_many(inserts, now)
    unit.connections.record_sync(
        connection.id,
        now,
        next_refresh_at=next_refresh_at,
        identity=snapshot.identity,
        state=snapshot.state,
    )
    return summary
