"""Snapshots: what one sync saw, and the diff against what is stored.

Every source (sandbox, OFX, SimpleFIN, statements) hands the core a snapshot;
the diff below gives all of them the same de-duplication, pending-to-posted
linking and change tracking.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from billfold.domain.accounts import AccountData
from billfold.domain.transactions import TransactionData, TransactionStatus


@dataclass(frozen=True, slots=True)
class Identity:
    """Who owns the login, as the institution shows it (asked for by `identity` jobs)."""

    names: tuple[str, ...] = ()
    addresses: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AccountSnapshot:
    account: AccountData
    transactions: tuple[TransactionData, ...] = ()
    # The dates whose transactions this snapshot lists completely; pending
    # transactions stored inside it and missing from the snapshot were dropped.
    window: tuple[date, date] | None = None


@dataclass(frozen=True, slots=True)
class Snapshot:
    accounts: tuple[AccountSnapshot, ...]
    identity: Identity | None = None
    # Connector checkpoint for the next sync (stored encrypted, handed back in SyncRequest).
    state: dict[str, Any] | None = None
    # False when the connector looked at only some accounts (an account-level refresh).
    complete: bool = True


@dataclass(frozen=True, slots=True)
class StoredTransaction:
    id: str
    data: TransactionData


@dataclass(slots=True)
class TransactionDiff:
    added: list[TransactionData] = field(default_factory=list)
    changed: list[tuple[str, TransactionData]] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    # external id of a newly posted transaction -> Billfold id of the pending one it replaces
    replaces: dict[str, str] = field(default_factory=dict)

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.changed or self.removed)


def diff_transactions(
    stored: Iterable[StoredTransaction],
    incoming: Sequence[TransactionData],
    window: tuple[date, date] | None,
) -> TransactionDiff:
    """Compare what is stored for one account with what a sync saw.

    - Matching is by the institution's `external_id`; the first of duplicated ids wins.
    - A posted transaction naming a stored pending one replaces it (the pending row
      goes, the posted row remembers it), as the institution posts an authorization.
    - A stored pending transaction inside `window` that the sync no longer lists was
      dropped by the institution and is removed. Posted history is never removed:
      institutions stop listing old transactions without their having been undone.
    """
    by_external = {s.data.external_id: s for s in stored}
    diff = TransactionDiff()
    seen: set[str] = set()
    for txn in incoming:
        if txn.external_id in seen:
            continue
        seen.add(txn.external_id)
        existing = by_external.get(txn.external_id)
        if existing is None:
            diff.added.append(txn)
            pending = by_external.get(txn.pending_external_id or "")
            if pending is not None and pending.data.status is TransactionStatus.PENDING:
                diff.replaces[txn.external_id] = pending.id
        elif existing.data != txn:
            diff.changed.append((existing.id, txn))
    replaced = set(diff.replaces.values())
    for external_id, existing in by_external.items():
        if existing.id in replaced or (
            external_id not in seen
            and existing.data.status is TransactionStatus.PENDING
            and (window is None or window[0] <= existing.data.date <= window[1])
        ):
            diff.removed.append(existing.id)
    return diff
