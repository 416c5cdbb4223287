"""The sandbox institutions, and the test logins that drive them.

Client libraries and end-to-end tests hard-code the Sophtron sandbox ids and
the Synapse `fake` bank code, so those values are copied exactly from the
specs. Every institution names its behaviour in `settings["profile"]`; the
connector dispatches on that and never on names, so renaming a bank for the
directory cannot change what a login does.
"""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple

from billfold.domain.institutions import Institution, InstitutionKind, LoginField


class Profile(StrEnum):
    """Which scripted behaviour an institution follows."""

    SOPHTRON = "sophtron"
    SOPHTRON_CAPTCHA = "sophtron-captcha"
    SOPHTRON_TOKEN = "sophtron-token"  # noqa: S105 - a profile name, not a secret
    SOPHTRON_NOMFA = "sophtron-nomfa"
    SOPHTRON_QUESTION = "sophtron-question"
    SOPHTRON_QUESTIONS = "sophtron-questions"
    SOPHTRON_TOKEN_READ = "sophtron-token-read"  # noqa: S105 - a profile name
    SOPHTRON_BUSINESS = "sophtron-business"
    SYNAPSE = "synapse"
    BANK = "bank"
    CREDIT_UNION = "credit-union"
    CARD = "card"
    POWER = "biller-power"
    WATER = "biller-water"
    WIRELESS = "biller-wireless"
    FIBER = "biller-fiber"

    @property
    def is_sophtron(self) -> bool:
        return self.value.startswith("sophtron")

    @property
    def is_biller(self) -> bool:
        return self.value.startswith("biller-")


PROFILE_KEY = "profile"

SOPHTRON_LOGIN = (
    LoginField("username", "User ID"),
    LoginField("password", "Password", secret=True),
)


def _sophtron(name: str, guid: str, profile: Profile, routing: str) -> Institution:
    return Institution(
        id=guid,
        name=name,
        kind=InstitutionKind.BANK,
        connector="sandbox",
        url="https://www.sophtron.com",
        routing_numbers=(routing,),
        login_fields=SOPHTRON_LOGIN,
        settings={PROFILE_KEY: profile.value},
    )


# Exact names and ids from sophtron-api.md section 8 (the ucw-app adapter hard-codes them).
SOPHTRON_BANK = _sophtron(
    "Sophtron Bank", "8d0d9991-5e35-4b82-afa4-e93695e5ca7d", Profile.SOPHTRON, "044001007"
)
SOPHTRON_BANK_CAPTCHA = _sophtron(
    "Sophtron Bank Captcha",
    "8ad00f00-72b7-4642-a0de-b3f31e08510a",
    Profile.SOPHTRON_CAPTCHA,
    "044001379",
)
SOPHTRON_BANK_TOKEN = _sophtron(
    "Sophtron Bank Token",
    "337fe0c2-476e-46f5-a360-bf33f9fe1937",
    Profile.SOPHTRON_TOKEN,
    "044001748",
)
SOPHTRON_BANK_NOMFA = _sophtron(
    "Sophtron Bank NoMFA",
    "926623ca-5952-4921-8f77-2023f1cdde8e",
    Profile.SOPHTRON_NOMFA,
    "044002116",
)
SOPHTRON_BANK_QUESTION = _sophtron(
    "Sophtron Bank SecurityQuestion",
    "8809dee7-9e23-4039-a723-02bc01fce0f2",
    Profile.SOPHTRON_QUESTION,
    "044002488",
)
SOPHTRON_BANK_QUESTIONS = _sophtron(
    "Sophtron Bank SecurityQuestion Multiple",
    "8f32ccc1-acaf-4e6b-93b8-1f2cd398647d",
    Profile.SOPHTRON_QUESTIONS,
    "044002857",
)
SOPHTRON_BANK_TOKEN_READ = _sophtron(
    "Sophtron Bank TokenRead",
    "0fe7236b-079a-4fe6-aed9-cf194790a553",
    Profile.SOPHTRON_TOKEN_READ,
    "044003225",
)
SOPHTRON_BANK_BUSINESS = _sophtron(
    "Sophtron Bank Business",
    "3bb6eb65-0d2f-41cc-a593-3b3f919c40c8",
    Profile.SOPHTRON_BUSINESS,
    "044003597",
)

# The node bank details are the seed document's example values, which win over the spec.
SYNAPSE_ROUTING = "051405515"
SYNAPSE_BANK = Institution(
    id="3b0e91b4-ad61-5f0c-91c1-2525533c3a42",
    name="Synapse Sandbox Bank",
    kind=InstitutionKind.BANK,
    connector="sandbox",
    url="https://uat-api.synapsefi.com",
    logo_url="https://cdn.synapsepay.com/bank_logos/new/co.png",
    routing_numbers=(SYNAPSE_ROUTING,),
    code="fake",
    settings={
        PROFILE_KEY: Profile.SYNAPSE.value,
        "bank_name": "CAPITAL ONE N.A.",
        "bank_long_name": "CAPITAL ONE N.A.",
        "address": "PO BOX 85139, RICHMOND, VA, US",
        "logo": "https://cdn.synapsepay.com/bank_logos/new/co.png",
        "routing_number": SYNAPSE_ROUTING,
    },
)

BILLFOLD_BANK = Institution(
    id="5449c64a-9223-558d-bc0c-1e75ef25f50e",
    name="Billfold Sandbox Bank",
    kind=InstitutionKind.BANK,
    connector="sandbox",
    url="https://bank.sandbox.billfold.dev",
    routing_numbers=("071003968",),
    settings={PROFILE_KEY: Profile.BANK.value},
)

BILLFOLD_CREDIT_UNION = Institution(
    id="513239f8-83cb-5548-9d89-1b43e8807d33",
    name="Billfold Sandbox Credit Union",
    kind=InstitutionKind.CREDIT_UNION,
    connector="sandbox",
    url="https://cu.sandbox.billfold.dev",
    routing_numbers=("251074335",),
    login_fields=(
        LoginField("username", "Member username"),
        LoginField("password", "Password", secret=True),
    ),
    settings={PROFILE_KEY: Profile.CREDIT_UNION.value},
)

BILLFOLD_CARD = Institution(
    id="e8b906ce-8307-54af-8ffc-43d3c68789bb",
    name="Billfold Sandbox Card",
    kind=InstitutionKind.CARD_ISSUER,
    connector="sandbox",
    url="https://card.sandbox.billfold.dev",
    routing_numbers=("124004704",),
    login_fields=(
        LoginField("username", "User ID"),
        LoginField("password", "Password", secret=True),
    ),
    settings={PROFILE_KEY: Profile.CARD.value},
)

SANDBOX_POWER = Institution(
    id="844e22f9-769c-54b2-a464-3d6b87417f54",
    name="Sandbox Power & Light",
    kind=InstitutionKind.UTILITY,
    connector="sandbox",
    url="https://power.sandbox.billfold.dev",
    login_fields=(
        LoginField("username", "Email address"),
        LoginField("password", "Password", secret=True),
    ),
    settings={PROFILE_KEY: Profile.POWER.value},
)

SANDBOX_WATER = Institution(
    id="73a8afe1-883c-525f-9429-9ea928b87674",
    name="Sandbox Water Works",
    kind=InstitutionKind.UTILITY,
    connector="sandbox",
    url="https://water.sandbox.billfold.dev",
    login_fields=(
        LoginField("username", "Account number"),
        LoginField("password", "PIN", secret=True),
    ),
    settings={PROFILE_KEY: Profile.WATER.value},
)

SANDBOX_WIRELESS = Institution(
    id="a90c5263-c831-515a-b666-9bfc7a44fb40",
    name="Sandbox Wireless",
    kind=InstitutionKind.PHONE,
    connector="sandbox",
    url="https://wireless.sandbox.billfold.dev",
    login_fields=(
        LoginField("username", "Wireless number"),
        LoginField("password", "Account PIN", secret=True),
    ),
    settings={PROFILE_KEY: Profile.WIRELESS.value},
)

SANDBOX_FIBER = Institution(
    id="7de4a4be-4b29-5b1f-8189-3cc055dfcad1",
    name="Sandbox Fiber",
    kind=InstitutionKind.INTERNET,
    connector="sandbox",
    url="https://fiber.sandbox.billfold.dev",
    login_fields=(
        LoginField("username", "Email or username"),
        LoginField("password", "Password", secret=True),
    ),
    settings={PROFILE_KEY: Profile.FIBER.value},
)

SOPHTRON_BANKS: tuple[Institution, ...] = (
    SOPHTRON_BANK,
    SOPHTRON_BANK_CAPTCHA,
    SOPHTRON_BANK_TOKEN,
    SOPHTRON_BANK_NOMFA,
    SOPHTRON_BANK_QUESTION,
    SOPHTRON_BANK_QUESTIONS,
    SOPHTRON_BANK_TOKEN_READ,
    SOPHTRON_BANK_BUSINESS,
)

BILLERS: tuple[Institution, ...] = (SANDBOX_POWER, SANDBOX_WATER, SANDBOX_WIRELESS, SANDBOX_FIBER)

SANDBOX_INSTITUTIONS: tuple[Institution, ...] = (
    *SOPHTRON_BANKS,
    SYNAPSE_BANK,
    BILLFOLD_BANK,
    BILLFOLD_CREDIT_UNION,
    BILLFOLD_CARD,
    *BILLERS,
)


def profile_of(institution: Institution) -> Profile | None:
    """The behaviour an institution follows, or None if it is not a sandbox one."""
    try:
        return Profile(institution.settings.get(PROFILE_KEY, ""))
    except ValueError:
        return None


def sandbox_institution(institution_id: str) -> Institution | None:
    return next((i for i in SANDBOX_INSTITUTIONS if i.id == institution_id), None)


class GuideRow(NamedTuple):
    """One test login: where, with what, and what happens."""

    institution: str
    username: str
    password: str
    outcome: str


def _sophtron_rows() -> list[GuideRow]:
    steps = (
        (
            SOPHTRON_BANK,
            "captcha (any text) -> security question -> token method "
            "'Text message 1 (•••) •••-0102' -> token (any code)",
        ),
        (SOPHTRON_BANK_CAPTCHA, "captcha image (any text)"),
        (SOPHTRON_BANK_TOKEN, "token method (xxx-xxx-1234 / xxx-xxx-5678) -> token (any code)"),
        (SOPHTRON_BANK_NOMFA, "no MFA"),
        (SOPHTRON_BANK_QUESTION, "one security question (any answer)"),
        (SOPHTRON_BANK_QUESTIONS, "three security questions at once (any answers)"),
        (SOPHTRON_BANK_TOKEN_READ, "approve token 123456 on another device"),
        (SOPHTRON_BANK_BUSINESS, "no MFA; Business Checking 1234 at 1000.00"),
    )
    rows: list[GuideRow] = []
    for bank, text in steps:
        user = "asdf" if bank is SOPHTRON_BANK_NOMFA else "asdfg12X"
        data = "" if bank is SOPHTRON_BANK_BUSINESS else "; Primary Checking 1234 at 1000.00"
        rows.append(GuideRow(bank.name, user, user, f"{text}{data}; 2021 data"))
    rows.append(
        GuideRow("Sophtron Bank (any)", "any", "any", "answer 'fail' to any step -> invalid_answer")
    )
    rows.append(GuideRow("Sophtron Bank (any)", "any", "invalid", "invalid_credentials"))
    return rows


def _synapse_rows() -> list[GuideRow]:
    bank = SYNAPSE_BANK.name
    question = "question: 'test_answer' passes, 'again' asks once more, 5 wrong -> invalid_answer"
    return [
        GuideRow(bank, "synapse_good", "test1234", f"{question}; checking 8901 + savings 8902"),
        GuideRow(bank, "synapse_good", "test1234_one", f"{question}; 1 checking + 1 savings"),
        GuideRow(bank, "synapse_good", "test1234_checking", f"{question}; 1-10 checking"),
        GuideRow(bank, "synapse_good", "test1234_savings", f"{question}; 1-10 savings"),
        GuideRow(bank, "synapse_good", "test1234_random", f"{question}; 1-10 mixed accounts"),
        GuideRow(bank, "synapse_nomfa", "test1234", "no MFA; checking 8901 + savings 8902"),
        GuideRow(bank, "synapse_code_mfa", "test1234", "code 123456; checking + savings"),
        GuideRow(bank, "synapse_no_accounts", "any", "no_accounts"),
        GuideRow(bank, "synapse_bank_request", "any", "action_required"),
        GuideRow(bank, "synapse_maintenance", "any", "institution_unavailable"),
        GuideRow(
            bank,
            "synapse_good / synapse_nomfa / synapse_code_mfa",
            "test1234[_one|_checking|_savings|_random] + _sync_not_allowed",
            "links; every refresh -> refresh_not_allowed",
        ),
        GuideRow(bank, "(same)", "... + _needs_relink", "links; every refresh -> needs_relink"),
        GuideRow(bank, "(same)", "... + _sync_unknown_error", "links; every refresh -> unknown"),
        GuideRow(
            bank,
            "(same)",
            "... + _sync_unavailable",
            "links; every refresh -> institution_unavailable",
        ),
        GuideRow(bank, "(same)", "... + _sync_balance_higher", "refresh sets balances to 800-1500"),
        GuideRow(bank, "(same)", "... + _sync_balance_lower", "refresh sets balances to 10-50"),
        GuideRow(bank, "any other", "any other", "invalid_credentials"),
    ]


def _billfold_rows() -> list[GuideRow]:
    bank = BILLFOLD_BANK.name
    return [
        GuideRow(bank, "user_good", "any", "no MFA; checking, savings, card, mortgage"),
        GuideRow(bank, "user_mfa", "any", "choose where to send a code, then code 123456"),
        GuideRow(
            bank,
            "user_questions",
            "any",
            "two security questions (any answers except 'fail')",
        ),
        GuideRow(bank, "user_select", "any", "pick one account; only that one is linked"),
        GuideRow(bank, "any other", "any", "same as user_good, other person and data"),
        GuideRow(bank, "any", "invalid", "invalid_credentials"),
        GuideRow(BILLFOLD_CREDIT_UNION.name, "any", "any", "no MFA; checking, savings, auto loan"),
        GuideRow(BILLFOLD_CARD.name, "any", "any", "code 123456; one credit card"),
        *(
            GuideRow(b.name, "any", "any", "no MFA; one bill account with amount due")
            for b in BILLERS
        ),
        GuideRow("(every Billfold institution)", "any", "invalid or empty", "invalid_credentials"),
    ]


SANDBOX_GUIDE: tuple[GuideRow, ...] = (*_sophtron_rows(), *_synapse_rows(), *_billfold_rows())
