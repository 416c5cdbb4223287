"""The OFX institutions Billfold knows: ofxtools' server list plus a self-hoster's own.

ofxtools ships `config/fi.cfg`, a community list of OFX Direct Connect servers
(URL, ORG, FID, version, and quirks such as "never send CLIENTUID"). Every entry
with a URL becomes an `Institution`; the file is parsed once per process. A
self-hoster (and the test suite) adds servers with a JSON file named by
`BILLFOLD_OFX_SERVERS`; those are merged in and win over a cfg entry with the
same id.

The cfg has no display names, so a name comes from ORG when ORG reads like a
name ("Fifth Third Bank") and from the entry's key otherwise ("DI" and
"Cavion" name hosting platforms, not banks).
"""

from __future__ import annotations

import configparser
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from billfold.domain.institutions import Institution, InstitutionKind, LoginField

CONNECTOR_KIND = "ofx"
DEFAULT_VERSION = 203
DEFAULT_APPID = "QWIN"
DEFAULT_APPVER = "2700"

OFX_LOGIN_FIELDS: tuple[LoginField, ...] = (
    LoginField("username", "User ID"),
    LoginField("password", "Password", secret=True),
)

# ORG values that name an OFX hosting platform rather than the bank itself.
_PLATFORM_ORGS = {
    "cavion",
    "connect",
    "di",
    "dst",
    "fundsxpress, inc",
    "hfs cavion",
    "hfs-cavion",
    "isc",
    "jackhenry",
    "online financial services",
    "psi",
    "test",
}
_CREDIT_UNION = re.compile(r"credit union|\bf?cu\b|federal credit|\bcu$|fcu$", re.I)
_CARD_ISSUER = re.compile(r"\bamex\b|american express|discover|\bcard\b|credit card", re.I)
_SUFFIXES = {
    "alt": "alternate server",
    "invest": "investments",
    "biz": "business",
    "cc": "credit card",
    "old": "old server",
    "test": "test server",
    "retire": "retirement",
    "pay": "payments",
}
# Settings keys copied from a cfg entry or a JSON server as they are.
_PASSED_KEYS = (
    "url",
    "org",
    "fid",
    "brokerid",
    "bankid",
    "appid",
    "appver",
    "useragent",
    "unclosedelements",
    "pretty",
)
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,57}$")


class OfxServersFileError(ValueError):
    """The `BILLFOLD_OFX_SERVERS` file cannot be used (the message says why)."""


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """How to talk to one OFX server, read back from an institution's settings."""

    url: str
    org: str | None
    fid: str | None
    version: int
    appid: str
    appver: str
    # "required": always send CLIENTUID; "never": never; "auto": from OFX 1.0.3 on.
    clientuid: str
    brokerid: str | None = None
    bankid: str | None = None
    useragent: str | None = None
    close_elements: bool = False
    pretty: bool = False

    @property
    def is_xml(self) -> bool:
        return self.version >= 200

    @property
    def sends_clientuid(self) -> bool:
        if self.clientuid == "required":
            return True
        if self.clientuid == "never":
            return False
        return self.version >= 103

    @classmethod
    def of(cls, settings: Mapping[str, str]) -> ServerConfig:
        url = settings.get("url", "").strip()
        if not url:
            raise ValueError("the institution has no OFX server URL")
        try:
            version = int(settings.get("version") or DEFAULT_VERSION)
        except ValueError as exc:
            raise ValueError("the institution's OFX version is not a number") from exc
        if version // 100 not in (1, 2):
            raise ValueError(f"OFX version {version} is neither 1.x nor 2.x")
        return cls(
            url=url,
            org=settings.get("org") or None,
            fid=settings.get("fid") or None,
            version=version,
            appid=settings.get("appid") or DEFAULT_APPID,
            appver=settings.get("appver") or DEFAULT_APPVER,
            clientuid=settings.get("clientuid") or "auto",
            brokerid=settings.get("brokerid") or None,
            bankid=settings.get("bankid") or None,
            useragent=settings.get("useragent") or None,
            # Leaf end tags are optional in OFX 1.x SGML and some servers choke on them.
            close_elements=version >= 200 or _truthy(settings.get("unclosedelements")) is False,
            pretty=bool(_truthy(settings.get("pretty"))),
        )


def _truthy(value: str | None) -> bool | None:
    if value is None or not value.strip():
        return None
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _name_from_key(key: str) -> str:
    words = key.split("-")
    base = words[0]
    label = base.upper() if len(base) <= 4 else base.capitalize()
    extras = [_SUFFIXES.get(w, w) for w in words[1:]]
    return f"{label} ({', '.join(extras)})" if extras else label


def _display_name(key: str, org: str) -> str:
    cleaned = " ".join(org.split())
    reads_like_name = (
        " " in cleaned
        and any(c.islower() for c in cleaned)
        and cleaned.casefold() not in _PLATFORM_ORGS
    )
    if reads_like_name:
        words = key.split("-")
        extras = [_SUFFIXES.get(w, w) for w in words[1:]]
        return f"{cleaned} ({', '.join(extras)})" if extras else cleaned
    return _name_from_key(key)


def _kind(name: str, key: str = "") -> InstitutionKind:
    joined = f"{name} {key}"
    if _CREDIT_UNION.search(joined) or key.split("-")[0].endswith("cu"):
        return InstitutionKind.CREDIT_UNION
    if _CARD_ISSUER.search(joined):
        return InstitutionKind.CARD_ISSUER
    return InstitutionKind.BANK


def _institution(
    *, inst_id: str, name: str, kind: InstitutionKind, settings: dict[str, str]
) -> Institution:
    return Institution(
        id=inst_id,
        name=name[:200],
        kind=kind,
        connector=CONNECTOR_KIND,
        url=settings["url"],
        login_fields=OFX_LOGIN_FIELDS,
        settings=settings,
    )


def _from_cfg_section(key: str, section: Mapping[str, str]) -> Institution | None:
    url = (section.get("url") or "").strip()
    if not url:
        return None
    settings = {k: section[k].strip() for k in _PASSED_KEYS if section.get(k, "").strip()}
    settings["url"] = url
    settings["version"] = (section.get("version") or "").strip() or str(DEFAULT_VERSION)
    if "clientuid" in section:
        # ofxtools' convention: an empty `clientuid` marks a server that errors on CLIENTUID.
        settings["clientuid"] = "never" if not section["clientuid"].strip() else "required"
    org = settings.get("org", "")
    name = _display_name(key, org)
    return _institution(
        inst_id=f"ofx_{_slug(key)}", name=name, kind=_kind(name, key), settings=settings
    )


@cache
def ofxtools_catalog(cfg_path: Path | None = None) -> tuple[Institution, ...]:
    """Every server in ofxtools' `fi.cfg` that has a URL (parsed once per path)."""
    if cfg_path is None:
        from ofxtools.config import CONFIGDIR

        cfg_path = Path(CONFIGDIR) / "fi.cfg"
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.read(cfg_path, encoding="utf-8")
    found: dict[str, Institution] = {}
    for key in parser.sections():
        inst = _from_cfg_section(key, parser[key])
        if inst is not None and inst.id not in found:
            found[inst.id] = inst
    return tuple(found.values())


def _server_entry(raw: Any, position: int) -> Institution:
    where = f"server #{position + 1}"
    if not isinstance(raw, dict):
        raise OfxServersFileError(f"{where} is not an object")
    raw_id = str(raw.get("id") or "").strip().lower()
    if not _ID.match(raw_id):
        raise OfxServersFileError(f"{where}: id must be 1-58 lowercase letters, digits, '-' or '_'")
    where = f"server {raw_id!r}"
    name = str(raw.get("name") or "").strip()
    url = str(raw.get("url") or "").strip()
    if not name or not url:
        raise OfxServersFileError(f"{where} needs a name and a url")
    settings = {k: str(raw[k]).strip() for k in _PASSED_KEYS if str(raw.get(k) or "").strip()}
    settings["version"] = str(raw.get("version") or DEFAULT_VERSION).strip()
    required = raw.get("clientuid_required")
    if required is not None:
        settings["clientuid"] = "required" if required else "never"
    try:
        kind = InstitutionKind(str(raw.get("kind") or "bank"))
        ServerConfig.of(settings)
    except ValueError as exc:
        raise OfxServersFileError(f"{where}: {exc}") from None
    inst_id = raw_id if raw_id.startswith("ofx_") else f"ofx_{raw_id}"
    return _institution(inst_id=inst_id, name=name, kind=kind, settings=settings)


def load_servers_file(path: Path) -> tuple[Institution, ...]:
    """The servers listed in a `BILLFOLD_OFX_SERVERS` JSON file (a list, or {"servers": [...]})."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise OfxServersFileError(f"cannot read {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise OfxServersFileError(f"{path} is not JSON: {exc}") from None
    if isinstance(data, dict):
        data = data.get("servers")
    if not isinstance(data, list):
        raise OfxServersFileError(f"{path} must hold a list of servers")
    return tuple(_server_entry(raw, i) for i, raw in enumerate(data))


def merge_catalog(
    base: Sequence[Institution], extra: Sequence[Institution]
) -> tuple[Institution, ...]:
    """`base` with `extra` added; an extra entry replaces a base entry with its id."""
    replaced = {inst.id for inst in extra}
    return (*(i for i in base if i.id not in replaced), *extra)
