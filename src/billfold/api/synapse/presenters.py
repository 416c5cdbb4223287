"""Synapse shapes of users and nodes, built from Billfold's objects and the dialect's rows."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from billfold.domain.accounts import Account, AccountType
from billfold.domain.parties import Client
from billfold.domain.snapshot import Identity
from billfold.domain.transactions import Transaction, TransactionStatus
from billfold.store.synapse import SynapseNodeRow, SynapseUserRow

# The sandbox bank's fields as the seed document shows them (spec §7).
BANK_FIELDS: dict[str, dict[str, str]] = {
    "fake": {
        "bank_name": "CAPITAL ONE N.A.",
        "bank_long_name": "CAPITAL ONE N.A.",
        "bank_logo": "https://cdn.synapsepay.com/bank_logos/new/co.png",
        "address": "PO BOX 85139, RICHMOND, VA, US",
        "routing_num": "6110",  # the seed's masked routing number, whatever the full one
    }
}


def millis(at: datetime | None) -> int | None:
    return None if at is None else int(at.timestamp() * 1000)


def client_ref(client: Client, gateway_id: str) -> dict[str, str]:
    return {"id": gateway_id, "name": client.name}


def user_object(
    row: SynapseUserRow,
    *,
    client: Client,
    gateway_id: str,
    base_url: str,
    refresh_token: str,
    full_dehydrate: bool = False,
) -> dict[str, Any]:
    profile = row.profile
    extra = {
        "cip_tag": 1,
        "date_joined": millis(row.created_at),
        "extra_security": False,
        "is_business": False,
        "last_updated": millis(row.updated_at),
        "public_note": None,
        "supp_id": "",
        **profile.get("extra", {}),
    }
    body: dict[str, Any] = {
        "_id": row.id,
        "_links": {"self": {"href": f"{base_url}/v3.1/users/{row.id}"}},
        "client": client_ref(client, gateway_id),
        "documents": profile.get("documents", []),
        "emails": [],
        "extra": extra,
        "is_hidden": bool(profile.get("is_hidden", False)),
        "legal_names": profile.get("legal_names", []),
        "logins": profile.get("logins", []),
        "permission": "UNVERIFIED",
        "phone_numbers": profile.get("phone_numbers", []),
        "photos": [],
        "refresh_token": refresh_token,
    }
    if full_dehydrate:
        body["watchlists"] = "NO_HIT"
        body["flag"] = "NOT-FLAGGED"
    return body


def _money(amount: Decimal | None) -> str:
    return f"{(amount or Decimal(0)):.2f}"


def transaction_id(transaction: Transaction) -> str:
    return hashlib.sha256(f"synapse-trans:{transaction.id}".encode()).hexdigest()[:24]


def bank_transaction(transaction: Transaction) -> dict[str, Any]:
    """One `extra.other.transactions` item: a positive `amount`, direction in `debit`."""
    data = transaction.data
    category = data.category or "Other"
    return {
        "_id": transaction_id(transaction),
        "amount": float(abs(data.amount)),
        "category": {"primary": category, "subcategory": category},
        "current_balance": None,
        "date": millis(datetime(data.date.year, data.date.month, data.date.day, tzinfo=UTC)),
        "debit": data.amount < 0,
        "description": data.description,
        "merchant": data.merchant,
        "pending": data.status is TransactionStatus.PENDING,
        "recurring": False,
    }


def node_object(
    node: SynapseNodeRow,
    account: Account,
    *,
    client: Client,
    gateway_id: str,
    base_url: str,
    login_id: str,
    bank_code: str | None,
    full_dehydrate: bool = False,
    identity: Identity | None = None,
    transactions: list[Transaction] | None = None,
) -> dict[str, Any]:
    data = account.data
    updated = millis(account.balance_updated_at or account.updated_at)
    bank = BANK_FIELDS.get(bank_code or "", {})
    info: dict[str, Any] = {
        "nickname": data.name,
        "name_on_account": " ",
        "account_num": data.mask,
        "routing_num": bank.get("routing_num", (data.routing_number or "")[-4:]),
        "class": "SAVINGS" if data.type is AccountType.SAVINGS else "CHECKING",
        "type": data.holder.value.upper(),
        "bank_name": bank.get("bank_name", ""),
        "bank_long_name": bank.get("bank_long_name", ""),
        "bank_logo": bank.get("bank_logo", ""),
        "address": bank.get("address", ""),
        "balance": {
            "amount": _money(data.current_balance),
            "currency": data.currency,
            "updated_on": updated,
        },
        "match_info": {
            "email_match": "match",
            "name_match": "match",
            "phonenumber_match": "no_match",
        },
    }
    if bank_code:
        info["bank_code"] = bank_code
    other: dict[str, Any] = {"access_token": login_id, "updated_on": updated}
    if full_dehydrate:
        info["account_num"] = data.full_number or data.mask
        info["routing_num"] = data.routing_number or ""
        other["balance"] = {
            "available": _money(data.available_balance),
            "current": _money(data.current_balance),
        }
        found = identity or Identity()
        other["info"] = {
            "addresses": list(found.addresses),
            "emails": list(found.emails),
            "names": list(found.names) or ([data.owner_name] if data.owner_name else []),
            "phone_numbers": list(found.phones),
        }
        other["recent_statement"] = None
        other["transactions"] = [bank_transaction(t) for t in transactions or []]
    active = node.is_active and account.is_active
    return {
        "_id": node.id,
        "_links": {
            "self": {"href": f"{base_url}/v3.1/users/{node.synapse_user_id}/nodes/{node.id}"}
        },
        "allowed": node.allowed if active else "INACTIVE",
        "client": client_ref(client, gateway_id),
        "extra": {"note": None, "other": other, "supp_id": node.supp_id},
        "info": info,
        "is_active": active,
        "timeline": [{"date": millis(node.created_at), "note": "Node created."}],
        "type": "ACH-US",
        "user_id": node.synapse_user_id,
    }
