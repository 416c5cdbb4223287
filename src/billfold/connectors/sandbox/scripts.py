"""The login rules and MFA sequences of the Sophtron and Billfold sandbox banks.

Each sequence is straight-line code over `session.ask`, in the order the
specs give, so a reader can check a script against its table row. Scripts
only run when a person links (a refresh finds the device remembered).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from billfold.connectors.base import Credentials, Session
from billfold.connectors.sandbox.captcha import captcha_png, captcha_text
from billfold.connectors.sandbox.catalog import Profile
from billfold.domain.challenges import Answer, Challenge, Option
from billfold.domain.errors import ConnectorError, ErrorCode

# Awaited between automated steps: records progress and waits the configured delay.
Step = Callable[[str], Awaitable[None]]

FAIL_ANSWER = "fail"
INVALID_PASSWORD = "invalid"  # noqa: S105 - the documented sandbox trigger, not a secret
CORRECT_CODE = "123456"
MAX_CODE_ATTEMPTS = 3

FAVORITE_COLOR = "What is your favorite color?"
SOPHTRON_QUESTIONS = (
    FAVORITE_COLOR,
    "What is the name of your first pet?",
    "In what city were you born?",
)
SOPHTRON_PHONE = "Text message 1 (•••) •••-0102"
TOKEN_BANK_PHONES = ("xxx-xxx-1234", "xxx-xxx-5678")
TOKEN_READ_CODE = "123456"  # noqa: S105 - shown to the user, not a secret

BILLFOLD_QUESTIONS = (
    "What was the make of your first car?",
    "What is your mother's maiden name?",
)


def check_login(credentials: Credentials) -> None:
    """Any non-empty login works, except the password that is documented to fail."""
    username, password = credentials.username.strip(), credentials.password.strip()
    if not username or not password or password.casefold() == INVALID_PASSWORD:
        raise ConnectorError(ErrorCode.INVALID_CREDENTIALS)


async def ask(session: Session, challenge: Challenge) -> Answer:
    """Ask, and fail the job when any value of the answer is the word `fail`."""
    answer = await session.ask(challenge)
    if any(v.strip().casefold() == FAIL_ANSWER for v in answer.values):
        raise ConnectorError(ErrorCode.INVALID_ANSWER)
    if any(not v.strip() for v in answer.values):
        raise ConnectorError(ErrorCode.INVALID_ANSWER, "An answer was empty.")
    return answer


# ----- Sophtron (sophtron-api.md section 8) ---------------------------------------------


async def _captcha(session: Session) -> None:
    image = captcha_png(captcha_text())
    await ask(session, Challenge.captcha("Enter the characters shown in the image.", image))


async def _questions(session: Session, *questions: str) -> None:
    await ask(session, Challenge.ask_questions(*questions))


async def _token(session: Session, step: Step, phones: tuple[str, ...]) -> None:
    options = [Option(f"phone-{i}", label) for i, label in enumerate(phones, start=1)]
    choice = await ask(session, Challenge.choose("Where should we send your token?", options))
    picked = next((o.label for o in options if o.id == choice.text), choice.text)
    await step(f"Sending a token to {picked}")
    await ask(session, Challenge.enter_code(f"Enter the token sent to {picked}.", label="Token"))


async def sophtron_mfa(session: Session, profile: Profile, step: Step) -> None:
    if profile is Profile.SOPHTRON:
        await _captcha(session)
        await step("Checking the captcha")
        await _questions(session, FAVORITE_COLOR)
        await step("Checking the answer")
        await _token(session, step, (SOPHTRON_PHONE,))
    elif profile is Profile.SOPHTRON_CAPTCHA:
        await _captcha(session)
    elif profile is Profile.SOPHTRON_TOKEN:
        await _token(session, step, TOKEN_BANK_PHONES)
    elif profile is Profile.SOPHTRON_QUESTION:
        await _questions(session, FAVORITE_COLOR)
    elif profile is Profile.SOPHTRON_QUESTIONS:
        await _questions(session, *SOPHTRON_QUESTIONS)
    elif profile is Profile.SOPHTRON_TOKEN_READ:
        prompt = "Approve the sign-in on your registered device; it shows this token."
        await ask(session, Challenge.approve(prompt, code=TOKEN_READ_CODE))
    else:  # NoMFA and Business have no MFA
        return
    await step("Checking the answer")


# ----- Billfold sandbox bank, credit union and card ----------------------------------


def masked_phone(phone: str) -> str:
    return f"(•••) •••-{phone[-4:]}"


async def enter_code(session: Session, prompt: str, label: str) -> None:
    """A one-time code: `123456` passes; a wrong code is asked again, three tries in all."""
    challenge = Challenge.enter_code(prompt, label=label)
    current = challenge
    for attempt in range(1, MAX_CODE_ATTEMPTS + 1):
        answer = await ask(session, current)
        if answer.text.strip() == CORRECT_CODE:
            return
        left = MAX_CODE_ATTEMPTS - attempt
        current = challenge.with_retry_note(
            f"That code was not right; {left} attempt{'s' if left != 1 else ''} left."
        )
    raise ConnectorError(ErrorCode.INVALID_ANSWER)


async def bank_mfa(session: Session, username: str, phone: str, email: str, step: Step) -> None:
    """The Billfold Sandbox Bank's per-username MFA (account selection runs later)."""
    user = username.strip().casefold()
    if user == "user_mfa":
        options = [
            Option("sms", f"Text message to {masked_phone(phone)}"),
            Option("voice", f"Voice call to {masked_phone(phone)}"),
            Option("email", f"Email to {email[0]}•••@{email.split('@')[-1]}"),
        ]
        prompt = "How should we send your one-time passcode?"
        choice = await ask(session, Challenge.choose(prompt, options))
        picked = next((o.label for o in options if o.id == choice.text), choice.text)
        await step("Sending a one-time passcode")
        await enter_code(session, f"Enter the code we sent ({picked}).", "One-time passcode")
    elif user == "user_questions":
        await ask(session, Challenge.ask_questions(*BILLFOLD_QUESTIONS))
    else:
        return
    await step("Checking the answer")


async def card_mfa(session: Session, phone: str, step: Step) -> None:
    prompt = f"Enter the 6-digit code we texted to {masked_phone(phone)}."
    await enter_code(session, prompt, "Verification code")
    await step("Checking the code")
