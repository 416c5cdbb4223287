"""Institutions: the banks, card issuers and billers a user can link, and their login forms."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class InstitutionKind(StrEnum):
    BANK = "bank"
    CREDIT_UNION = "credit_union"
    CARD_ISSUER = "card_issuer"
    UTILITY = "utility"
    PHONE = "phone"
    INTERNET = "internet"
    OTHER_BILLER = "other_biller"

    @property
    def is_biller(self) -> bool:
        return self in {self.UTILITY, self.PHONE, self.INTERNET, self.OTHER_BILLER}


@dataclass(frozen=True, slots=True)
class LoginField:
    """One field of the institution's own login form, with the institution's own label."""

    key: str
    label: str
    secret: bool = False
    required: bool = True


USERNAME_PASSWORD: tuple[LoginField, ...] = (
    LoginField("username", "Username"),
    LoginField("password", "Password", secret=True),
)


@dataclass(frozen=True, slots=True)
class Institution:
    """A place a user can log in to. `connector` names the plugin that talks to it."""

    id: str
    name: str
    kind: InstitutionKind
    connector: str
    url: str | None = None
    logo_url: str | None = None
    routing_numbers: tuple[str, ...] = ()
    login_fields: tuple[LoginField, ...] = USERNAME_PASSWORD
    # Short code some dialects use to name a bank ("fake" for the Synapse sandbox).
    code: str | None = None
    country: str = "US"
    # Connector-specific, non-secret settings (server URLs, org ids, sandbox behaviour).
    settings: dict[str, str] = field(default_factory=dict)

    def field(self, key: str) -> LoginField | None:
        return next((f for f in self.login_fields if f.key == key), None)
