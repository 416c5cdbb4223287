"""The `FIApiAUTH` signature: HMAC-SHA256 over `METHOD\\n/lastsegment` (spec section 2).

`Authorization: FIApiAUTH:{UserId}:{base64 signature}:{authPath}`. Clients sign
the text from the last `/` of the URL string they hold, lower-cased, query
included if that string had one. Nothing else is signed (no time, host or
body), so a signature is replayable: recommend TLS and bearer tokens.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from dataclasses import dataclass
from urllib.parse import unquote

PREFIX = "fiapiauth:"
_NOT_B64 = re.compile(r"[^A-Za-z0-9+/]")
_USER_ID = re.compile(r"^[0-9a-z-]{1,64}$")


def auth_path(url: str) -> str:
    """What a client signs: from the last `/` of its URL string, lower-cased."""
    return url[url.rfind("/") :].lower() if "/" in url else "/" + url.lower()


def decode_key(access_key: str) -> bytes:
    """Decode an AccessKey leniently, as Node's decoder does (`testSecret` works)."""
    text = access_key.replace("-", "+").replace("_", "/")
    text = _NOT_B64.sub("", text)
    if len(text) % 4 == 1:
        text = text[:-1]
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return b""


def sign(key: bytes, method: str, path: str) -> str:
    plain = f"{method.upper()}\n{path}".encode()
    return base64.b64encode(hmac.new(key, plain, hashlib.sha256).digest()).decode()


def header(user_id: str, access_key: str, method: str, url: str) -> str:
    """A full `Authorization` value for a request to `url` (clients' algorithm)."""
    path = auth_path(url)
    return f"FIApiAUTH:{user_id}:{sign(decode_key(access_key), method, path)}:{path}"


@dataclass(frozen=True, slots=True)
class SignedHeader:
    user_id: str
    signature: str
    auth_path: str

    def __repr__(self) -> str:  # never show a signature in logs or tracebacks
        return f"SignedHeader(user_id={self.user_id!r})"


def parse(value: str) -> SignedHeader | None:
    """Split `FIApiAUTH:{user}:{sig}:{path}` (the path may contain `:`); None if malformed."""
    if value[: len(PREFIX)].lower() != PREFIX:
        return None
    parts = value[len(PREFIX) :].split(":", 2)
    if len(parts) != 3 or not all(parts):
        return None
    user_id = parts[0].strip().lower()
    if not _USER_ID.match(user_id):
        return None
    return SignedHeader(user_id, parts[1].strip(), parts[2])


def verify(key: bytes, method: str, signed: SignedHeader) -> bool:
    expected = sign(key, method, signed.auth_path)
    return hmac.compare_digest(expected.encode(), signed.signature.encode())


def bound_to(signed_path: str, request_path: str, query: str) -> bool:
    """The loose binding check of spec 2.4 step 5: the signed path names this request."""
    signed = unquote(signed_path).lower()
    path = unquote(request_path).lower()
    last = "/" + path.rsplit("/", 1)[-1]
    full = path + ("?" + unquote(query).lower() if query else "")
    without_query = signed.split("?", 1)[0]
    return signed == last or without_query == last or full.endswith(signed)
