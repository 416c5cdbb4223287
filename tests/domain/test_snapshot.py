from __future__ import annotations

from datetime import date
from decimal import Decimal

from billfold.domain.snapshot import StoredTransaction, diff_transactions
from billfold.domain.transactions import TransactionData, TransactionStatus

WINDOW = (date(2024, 1, 1), date(2024, 1, 31))


def txn(
    external_id: str,
    amount: str = "-1.00",
    day: int = 10,
    *,
    pending: bool = False,
    pending_id: str | None = None,
) -> TransactionData:
    return TransactionData(
        external_id=external_id,
        amount=Decimal(amount),
        date=date(2024, 1, day),
        description="x",
        status=TransactionStatus.PENDING if pending else TransactionStatus.POSTED,
        pending_external_id=pending_id,
    )


def test_new_changed_and_unchanged() -> None:
    stored = [StoredTransaction("a", txn("1")), StoredTransaction("b", txn("2"))]
    diff = diff_transactions(stored, [txn("1"), txn("2", "-2.00"), txn("3")], WINDOW)
    assert [t.external_id for t in diff.added] == ["3"]
    assert [(i, t.amount) for i, t in diff.changed] == [("b", Decimal("-2.00"))]
    assert diff.removed == []


def test_posting_replaces_the_pending_row() -> None:
    stored = [StoredTransaction("p", txn("p-1", pending=True))]
    diff = diff_transactions(stored, [txn("1", pending_id="p-1")], WINDOW)
    assert [t.external_id for t in diff.added] == ["1"]
    assert diff.replaces == {"1": "p"}
    assert diff.removed == ["p"]


def test_vanished_pending_inside_window_is_removed_but_posted_history_is_kept() -> None:
    stored = [StoredTransaction("p", txn("p-1", pending=True)), StoredTransaction("old", txn("9"))]
    diff = diff_transactions(stored, [], WINDOW)
    assert diff.removed == ["p"]


def test_pending_outside_window_is_left_alone() -> None:
    stored = [StoredTransaction("p", txn("p-1", pending=True, day=5))]
    diff = diff_transactions(stored, [], (date(2024, 1, 6), date(2024, 1, 31)))
    assert diff.is_empty


def test_duplicate_ids_in_one_snapshot_count_once() -> None:
    diff = diff_transactions([], [txn("1"), txn("1", "-5.00")], WINDOW)
    assert len(diff.added) == 1 and diff.added[0].amount == Decimal("-1.00")


def test_identical_transactions_with_distinct_ids_are_both_kept() -> None:
    diff = diff_transactions([], [txn("1"), txn("2")], WINDOW)
    assert len(diff.added) == 2
