from __future__ import annotations

import pytest

from billfold.domain.challenges import Answer, Challenge, ChallengeKind, Option
from billfold.domain.errors import InvalidInput


def test_questions_need_one_answer_each_in_order() -> None:
    challenge = Challenge.ask_questions("Color?", "Pet?")
    assert challenge.normalize_answer([" blue ", "rex"]).values == ("blue", "rex")
    with pytest.raises(InvalidInput) as info:
        challenge.normalize_answer(["blue"])
    assert info.value.code == "answer_count_mismatch"


def test_choice_accepts_id_or_label_case_insensitively() -> None:
    challenge = Challenge.choose("Send to?", [Option("a", "xxx-xxx-1234"), Option("b", "Email")])
    assert challenge.normalize_answer(["b"]).values == ("b",)
    assert challenge.normalize_answer(["  EMAIL "]).values == ("b",)
    with pytest.raises(InvalidInput) as info:
        challenge.normalize_answer(["carrier pigeon"])
    assert info.value.code == "unknown_option"


def test_empty_answers_are_refused() -> None:
    with pytest.raises(InvalidInput):
        Challenge.enter_code("Code?").normalize_answer(["   "])


def test_approve_takes_done() -> None:
    challenge = Challenge.approve("Approve on your phone", code="123456")
    assert challenge.normalize_answer(["true"]).values == ("done",)
    with pytest.raises(InvalidInput):
        challenge.normalize_answer(["no"])


def test_serialization_round_trip_including_image() -> None:
    original = Challenge.captcha("Type the characters", b"\x89PNG\r\n\x1a\nrest").with_retry_note(
        "Try again"
    )
    restored = Challenge.from_dict(original.to_dict())
    assert restored == original
    assert restored.kind is ChallengeKind.CAPTCHA


def test_answers_never_show_their_values() -> None:
    answer = Answer(("hunter2",))
    assert "hunter2" not in repr(answer)
    assert "hunter2" not in str(answer)
