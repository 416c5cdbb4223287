"""Challenges (multi-factor prompts) and the answers to them.

One union covers what Sophtron, Synapse, MX and the Universal Connect Widget can
ask: several security questions at once, a choice of where to send a code, the
code itself, a token to approve on another device, a captcha image, or an
account to pick. Connectors build these; the job runner parks them; each face
renders them in its own shape.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from billfold.domain.errors import InvalidInput


class ChallengeKind(StrEnum):
    QUESTIONS = "questions"
    CHOICE = "choice"
    CODE = "code"
    APPROVE = "approve"
    CAPTCHA = "captcha"
    ACCOUNT_SELECT = "account_select"


@dataclass(frozen=True, slots=True)
class Option:
    id: str
    label: str


@dataclass(frozen=True, slots=True)
class Challenge:
    """What the institution asks. Only the fields of its `kind` are set.

    - questions: `questions` (answered together, in order)
    - choice / account_select: `options` (answer: one option id)
    - code: `code_label` names the code ("Token", "One-time passcode")
    - approve: `approve_code` is shown to the person to read out or confirm
    - captcha: `image_png` (answer: the text)
    `retry_note` says why the same thing is asked again ("That answer was not right").
    """

    kind: ChallengeKind
    prompt: str
    questions: tuple[str, ...] = ()
    options: tuple[Option, ...] = ()
    code_label: str | None = None
    approve_code: str | None = None
    image_png: bytes | None = None
    retry_note: str | None = None

    @classmethod
    def ask_questions(cls, *questions: str, prompt: str | None = None) -> Challenge:
        if not questions:
            raise ValueError("a questions challenge needs at least one question")
        text = prompt or (
            "Answer the security question."
            if len(questions) == 1
            else "Answer the security questions."
        )
        return cls(ChallengeKind.QUESTIONS, text, questions=tuple(questions))

    @classmethod
    def choose(cls, prompt: str, options: list[Option]) -> Challenge:
        if not options:
            raise ValueError("a choice challenge needs options")
        return cls(ChallengeKind.CHOICE, prompt, options=tuple(options))

    @classmethod
    def enter_code(cls, prompt: str, label: str = "Code") -> Challenge:
        return cls(ChallengeKind.CODE, prompt, code_label=label)

    @classmethod
    def approve(cls, prompt: str, code: str | None = None) -> Challenge:
        return cls(ChallengeKind.APPROVE, prompt, approve_code=code)

    @classmethod
    def captcha(cls, prompt: str, image_png: bytes) -> Challenge:
        return cls(ChallengeKind.CAPTCHA, prompt, image_png=image_png)

    @classmethod
    def select_account(cls, prompt: str, options: list[Option]) -> Challenge:
        if not options:
            raise ValueError("an account_select challenge needs options")
        return cls(ChallengeKind.ACCOUNT_SELECT, prompt, options=tuple(options))

    def with_retry_note(self, note: str) -> Challenge:
        return Challenge(
            self.kind,
            self.prompt,
            self.questions,
            self.options,
            self.code_label,
            self.approve_code,
            self.image_png,
            note,
        )

    def normalize_answer(self, values: list[str]) -> Answer:
        """Check an answer's shape against this challenge; raise `InvalidInput` if it cannot fit.

        Whether the institution accepts the answer is the connector's business;
        this only refuses answers that could never be right (wrong count, an
        option that was not offered, empty text).
        """
        cleaned = [v.strip() for v in values]
        if self.kind is ChallengeKind.QUESTIONS:
            if len(cleaned) != len(self.questions):
                raise InvalidInput(
                    f"expected {len(self.questions)} answer(s), got {len(cleaned)}",
                    code="answer_count_mismatch",
                )
        elif len(cleaned) != 1:
            raise InvalidInput(
                f"a {self.kind} challenge takes exactly one answer", code="answer_count_mismatch"
            )
        if any(not v for v in cleaned):
            raise InvalidInput("answers must not be empty", code="empty_answer")
        if self.kind in (ChallengeKind.CHOICE, ChallengeKind.ACCOUNT_SELECT):
            match = self.option_for(cleaned[0])
            if match is None:
                raise InvalidInput("that option was not offered", code="unknown_option")
            cleaned = [match.id]
        if self.kind is ChallengeKind.APPROVE and cleaned[0].lower() not in {"done", "true", "yes"}:
            raise InvalidInput(
                'an approve challenge is answered with "done"', code="invalid_answer_format"
            )
        if self.kind is ChallengeKind.APPROVE:
            cleaned = ["done"]
        return Answer(tuple(cleaned))

    def option_for(self, value: str) -> Option | None:
        """Find an option by id, or by its label (trimmed, case-insensitive)."""
        for option in self.options:
            if option.id == value:
                return option
        folded = value.strip().casefold()
        return next((o for o in self.options if o.label.strip().casefold() == folded), None)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind.value, "prompt": self.prompt}
        if self.questions:
            data["questions"] = list(self.questions)
        if self.options:
            data["options"] = [{"id": o.id, "label": o.label} for o in self.options]
        if self.code_label is not None:
            data["code_label"] = self.code_label
        if self.approve_code is not None:
            data["approve_code"] = self.approve_code
        if self.image_png is not None:
            data["image_png"] = base64.b64encode(self.image_png).decode("ascii")
        if self.retry_note is not None:
            data["retry_note"] = self.retry_note
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Challenge:
        image = data.get("image_png")
        return cls(
            kind=ChallengeKind(data["kind"]),
            prompt=data["prompt"],
            questions=tuple(data.get("questions", ())),
            options=tuple(Option(o["id"], o["label"]) for o in data.get("options", ())),
            code_label=data.get("code_label"),
            approve_code=data.get("approve_code"),
            image_png=base64.b64decode(image) if image else None,
            retry_note=data.get("retry_note"),
        )


@dataclass(frozen=True, slots=True)
class Answer:
    """A person's answer: one value per question, or a single value for other kinds."""

    values: tuple[str, ...]

    @property
    def text(self) -> str:
        return self.values[0]

    def __repr__(self) -> str:  # answers are secrets: never show them in logs or tracebacks
        return f"Answer(<{len(self.values)} value(s) hidden>)"


@dataclass(frozen=True, slots=True)
class PendingChallenge:
    """A challenge parked on a job, waiting for an answer until `expires_at`."""

    id: str
    job_id: str
    challenge: Challenge
    created_at: datetime
    expires_at: datetime
    answered: bool = field(default=False)

    def is_expired(self, now: datetime) -> bool:
        return now >= self.expires_at
