"""The sandbox catalog: exact Sophtron ids and names, the Synapse `fake` bank, the guide."""

from __future__ import annotations

import re

from billfold.connectors.sandbox import SANDBOX_GUIDE, SandboxConnector
from billfold.connectors.sandbox.catalog import (
    BILLERS,
    SANDBOX_INSTITUTIONS,
    SOPHTRON_BANKS,
    SYNAPSE_BANK,
    Profile,
    profile_of,
    sandbox_institution,
)
from billfold.domain.institutions import InstitutionKind

SOPHTRON = {
    "Sophtron Bank": "8d0d9991-5e35-4b82-afa4-e93695e5ca7d",
    "Sophtron Bank Captcha": "8ad00f00-72b7-4642-a0de-b3f31e08510a",
    "Sophtron Bank Token": "337fe0c2-476e-46f5-a360-bf33f9fe1937",
    "Sophtron Bank NoMFA": "926623ca-5952-4921-8f77-2023f1cdde8e",
    "Sophtron Bank SecurityQuestion": "8809dee7-9e23-4039-a723-02bc01fce0f2",
    "Sophtron Bank SecurityQuestion Multiple": "8f32ccc1-acaf-4e6b-93b8-1f2cd398647d",
    "Sophtron Bank TokenRead": "0fe7236b-079a-4fe6-aed9-cf194790a553",
    "Sophtron Bank Business": "3bb6eb65-0d2f-41cc-a593-3b3f919c40c8",
}
GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def test_sophtron_banks_are_exact() -> None:
    assert {b.name: b.id for b in SOPHTRON_BANKS} == SOPHTRON
    for bank in SOPHTRON_BANKS:
        assert [(f.key, f.label, f.secret) for f in bank.login_fields] == [
            ("username", "User ID", False),
            ("password", "Password", True),
        ]
        assert bank.url and len(bank.routing_numbers) == 1
        assert re.fullmatch(r"\d{9}", bank.routing_numbers[0])


def test_every_institution_is_well_formed() -> None:
    ids = [i.id for i in SANDBOX_INSTITUTIONS]
    assert len(set(ids)) == len(ids)
    routing = [r for i in SANDBOX_INSTITUTIONS for r in i.routing_numbers]
    assert len(set(routing)) == len(routing)
    for institution in SANDBOX_INSTITUTIONS:
        assert GUID.fullmatch(institution.id), institution.id
        assert institution.connector == "sandbox"
        assert profile_of(institution) is not None
        assert sandbox_institution(institution.id) is institution
        assert {f.key for f in institution.login_fields} == {"username", "password"}
    assert SandboxConnector().catalog() == list(SANDBOX_INSTITUTIONS)
    assert SandboxConnector.kind == "sandbox"


def test_synapse_bank_carries_the_seed_node_details() -> None:
    assert SYNAPSE_BANK.code == "fake"
    assert SYNAPSE_BANK.name == "Synapse Sandbox Bank"
    assert SYNAPSE_BANK.kind is InstitutionKind.BANK
    assert SYNAPSE_BANK.settings == {
        "profile": "synapse",
        "bank_name": "CAPITAL ONE N.A.",
        "bank_long_name": "CAPITAL ONE N.A.",
        "address": "PO BOX 85139, RICHMOND, VA, US",
        "logo": "https://cdn.synapsepay.com/bank_logos/new/co.png",
        "routing_number": "051405515",
    }


def test_billfold_institutions_and_billers() -> None:
    by_name = {i.name: i for i in SANDBOX_INSTITUTIONS}
    assert by_name["Billfold Sandbox Bank"].kind is InstitutionKind.BANK
    assert by_name["Billfold Sandbox Credit Union"].kind is InstitutionKind.CREDIT_UNION
    assert by_name["Billfold Sandbox Card"].kind is InstitutionKind.CARD_ISSUER
    names = {b.name for b in BILLERS}
    assert {"Sandbox Power & Light", "Sandbox Water Works", "Sandbox Wireless"} <= names
    assert "Sandbox Fiber" in names
    for biller in BILLERS:
        profile = profile_of(biller)
        assert biller.kind.is_biller and profile is not None and profile.is_biller
    # Billers use their own labels, not the generic "Username".
    assert all(b.login_fields[0].label != "Username" for b in BILLERS)


def test_guide_covers_every_institution_and_profile() -> None:
    named = {row.institution for row in SANDBOX_GUIDE}
    assert {i.name for i in SANDBOX_INSTITUTIONS} <= named
    users = {row.username for row in SANDBOX_GUIDE}
    expected = {"user_good", "user_mfa", "user_questions", "user_select"}
    expected |= {"synapse_good", "synapse_nomfa", "synapse_code_mfa", "synapse_no_accounts"}
    expected |= {"synapse_bank_request", "synapse_maintenance"}
    assert expected <= users
    assert all(row.outcome for row in SANDBOX_GUIDE)
    assert {Profile(p.settings["profile"]) for p in SANDBOX_INSTITUTIONS} == set(Profile)
