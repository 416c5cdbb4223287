"""Line identities: repeats of an overlapping file get the same ids, genuine twins differ."""

from __future__ import annotations

from datetime import date

import pytest

from billfold.statements.identity import LineIdentities, UnsortedLines

D1, D2, D3 = date(2024, 3, 1), date(2024, 3, 2), date(2024, 3, 3)


def ids(lines: list[tuple[date, int, str]], **kwargs: bool) -> list[str]:
    identities = LineIdentities(**kwargs)
    return [identities.external_id("", day, minor, text, None) for day, minor, text in lines]


def test_identical_lines_on_one_day_are_distinct_occurrences() -> None:
    first, second = ids([(D1, -450, "Coffee"), (D1, -450, "Coffee")])
    assert first != second
    assert first.endswith(":0") and second.endswith(":1")


def test_an_overlapping_file_repeats_the_ids_of_the_days_it_shares() -> None:
    january = ids([(D1, -450, "Coffee"), (D2, -450, "Coffee"), (D2, -450, "Coffee")])
    overlap = ids([(D2, -450, "Coffee"), (D2, -450, "Coffee"), (D3, 1000, "Refund")])
    assert overlap[:2] == january[1:]
    assert overlap[2] not in january


def test_descriptions_compare_without_case_or_spacing() -> None:
    a = ids([(D1, -450, "COFFEE  shop")])
    b = ids([(D1, -450, "coffee shop ")])
    c = ids([(D1, -451, "coffee shop")])
    assert a == b
    assert a != c


def test_file_references_are_the_ids() -> None:
    identities = LineIdentities()
    assert identities.external_id("acct", D1, -1, "x", "FIT-1") == "ref:FIT-1"
    long_ref = "R" * 400
    long_id = identities.external_id("acct", D1, -1, "x", long_ref)
    assert len(long_id) < 200
    assert long_id == identities.external_id("acct", D2, 5, "y", long_ref)


def test_descending_files_are_sorted_too() -> None:
    assert len(set(ids([(D3, -1, "a"), (D2, -1, "a"), (D2, -1, "a"), (D1, -1, "a")]))) == 4


def test_an_unsorted_file_asks_to_be_read_again_remembering_every_day() -> None:
    lines = [(D1, -450, "Coffee"), (D2, -1, "Bus"), (D1, -450, "Coffee")]
    with pytest.raises(UnsortedLines):
        ids(lines)
    first, _, again = ids(lines, remember_all_days=True)
    assert first != again


def test_accounts_count_separately() -> None:
    identities = LineIdentities()
    a = identities.external_id("A", D2, -1, "x", None)
    identities.external_id("A", D3, -1, "x", None)
    # Another account starting over at an earlier date is not "unsorted".
    b = identities.external_id("B", D1, -1, "x", None)
    assert a.endswith(":0") and b.endswith(":0")
