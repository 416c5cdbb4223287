"""Field encryption for `bank_id`, `bank_pw` and `mfa_answer` (spec §13).

A client asks for an RSA-2048 public key (`GET /client?issue_public_key=YES`) and
may then send those fields encrypted with RSAES-PKCS#1 v1.5, base64-encoded, as
the JSEncrypt browser library does. Plain text is always accepted.

Modern OpenSSL answers a malformed PKCS#1 v1.5 ciphertext with random bytes
instead of an error (implicit rejection), so "is this ciphertext?" is decided
from the shape of the value before decrypting, and the result must be clean
UTF-8 text to be believed.
"""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata
from datetime import timedelta

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from billfold.api.synapse.envelopes import payload_error
from billfold.services.context import ServiceContext
from billfold.store.synapse import SynapsePublicKeyRow, SynapseRepository

KEY_BITS = 2048
KEY_BYTES = KEY_BITS // 8
KEY_LIFETIME = timedelta(seconds=900)
GRACE = timedelta(hours=24)
_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")


def issue_key(
    repo: SynapseRepository, *, ctx: ServiceContext, client_id: str, scope: list[str]
) -> SynapsePublicKeyRow:
    """A new key pair; the public half as base64 DER SubjectPublicKeyInfo (no PEM lines)."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    der = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    now = ctx.clock()
    return repo.add_public_key(
        client_id=client_id,
        public_key=base64.b64encode(der).decode("ascii"),
        private_pem=pem,
        scope=scope,
        at=now,
        expires_at=now + KEY_LIFETIME,
    )


def _ciphertext(value: str) -> bytes | None:
    """The raw ciphertext if `value` looks like one (base64 of k-2..k bytes), else None."""
    text = value.strip()
    if not _BASE64.fullmatch(text) or len(text) % 4:
        return None
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    if not KEY_BYTES - 2 <= len(raw) <= KEY_BYTES:
        return None
    # Older JSEncrypt builds drop leading zero bytes of the ciphertext.
    return raw.rjust(KEY_BYTES, b"\x00")


def _clean_text(data: bytes) -> str | None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if not text or any(unicodedata.category(ch) == "Cc" for ch in text):
        return None
    return text


def decrypt_fields(
    repo: SynapseRepository, *, ctx: ServiceContext, client_id: str, values: dict[str, str]
) -> dict[str, str]:
    """Each value decrypted if it is ciphertext under one of the client's keys, else as sent."""
    wanted = {name: raw for name, value in values.items() if (raw := _ciphertext(value))}
    if not wanted:
        return dict(values)
    pems = repo.private_keys(client_id, expiring_after=ctx.clock() - GRACE)
    if not pems:
        return dict(values)  # no key was ever issued: these are plain values that look like base64
    keys = [serialization.load_pem_private_key(pem, password=None) for pem in pems]
    result = dict(values)
    for name, ciphertext in wanted.items():
        plain: str | None = None
        for key in keys:
            assert isinstance(key, rsa.RSAPrivateKey)
            try:
                plain = _clean_text(key.decrypt(ciphertext, padding.PKCS1v15()))
            except ValueError:
                plain = None
            if plain is not None:
                break
        if plain is None:
            raise payload_error(f"could not decrypt field {name}.", "could_not_decrypt_field")
        result[name] = plain
    return result
