"""Encryption at rest for logins, MFA answers and connector checkpoints.

Envelope encryption with AES-GCM: every value gets its own random data key,
which is wrapped by the active key-encryption key (KEK). Rotating keys means
adding a new KEK in front (it encrypts from then on) and re-wrapping data keys;
old KEKs keep decrypting until they are removed. Each value is bound to where
it lives (the associated data, e.g. ``connection:<id>:credentials``) so a blob
copied to another row does not decrypt.

Blob layout: ``b"BF1" | kek_id (8) | wrap_nonce (12) | wrapped_dek (48) | nonce (12) | ct``
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import secrets
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_MAGIC = b"BF1"
_KEY_ID_LEN = 8
_NONCE_LEN = 12
_WRAPPED_LEN = 32 + 16


class DecryptionError(Exception):
    """A blob could not be decrypted: wrong key, tampered data or wrong place."""


def _key_id(key: bytes) -> bytes:
    return hashlib.sha256(b"billfold-kek-id" + key).digest()[:_KEY_ID_LEN]


class KeyRing:
    """The key-encryption keys. The first one encrypts; all of them decrypt."""

    def __init__(self, keys: Sequence[bytes]) -> None:
        if not keys:
            raise ValueError("a key ring needs at least one key")
        for key in keys:
            if len(key) != 32:
                raise ValueError("keys must be 32 bytes (AES-256)")
        self._keys = {_key_id(k): AESGCM(k) for k in keys}
        self._active_id = _key_id(keys[0])

    @property
    def active_key_id(self) -> str:
        return self._active_id.hex()

    def encrypt(self, plaintext: bytes, *, context: str) -> bytes:
        aad = context.encode()
        dek = AESGCM.generate_key(bit_length=256)
        wrap_nonce = os.urandom(_NONCE_LEN)
        wrapped = self._keys[self._active_id].encrypt(wrap_nonce, dek, aad)
        nonce = os.urandom(_NONCE_LEN)
        ciphertext = AESGCM(dek).encrypt(nonce, plaintext, aad)
        return _MAGIC + self._active_id + wrap_nonce + wrapped + nonce + ciphertext

    def decrypt(self, blob: bytes, *, context: str) -> bytes:
        aad = context.encode()
        dek, offset = self._unwrap(blob, aad)
        nonce = blob[offset : offset + _NONCE_LEN]
        try:
            return AESGCM(dek).decrypt(nonce, blob[offset + _NONCE_LEN :], aad)
        except InvalidTag as exc:
            raise DecryptionError("value does not decrypt here") from exc

    def rewrap(self, blob: bytes, *, context: str) -> bytes:
        """Re-wrap the data key under the active KEK (key rotation); the payload is untouched."""
        aad = context.encode()
        dek, offset = self._unwrap(blob, aad)
        if blob[len(_MAGIC) : len(_MAGIC) + _KEY_ID_LEN] == self._active_id:
            return blob
        wrap_nonce = os.urandom(_NONCE_LEN)
        wrapped = self._keys[self._active_id].encrypt(wrap_nonce, dek, aad)
        return _MAGIC + self._active_id + wrap_nonce + wrapped + blob[offset:]

    def _unwrap(self, blob: bytes, aad: bytes) -> tuple[bytes, int]:
        header = len(_MAGIC) + _KEY_ID_LEN + _NONCE_LEN + _WRAPPED_LEN
        if len(blob) < header + _NONCE_LEN + 16 or not blob.startswith(_MAGIC):
            raise DecryptionError("not a Billfold encrypted value")
        start = len(_MAGIC)
        kek = self._keys.get(blob[start : start + _KEY_ID_LEN])
        if kek is None:
            raise DecryptionError("encrypted with a key that is not in the key ring")
        start += _KEY_ID_LEN
        wrap_nonce = blob[start : start + _NONCE_LEN]
        start += _NONCE_LEN
        try:
            dek = kek.decrypt(wrap_nonce, blob[start : start + _WRAPPED_LEN], aad)
        except InvalidTag as exc:
            raise DecryptionError("value does not decrypt here") from exc
        return dek, start + _WRAPPED_LEN

    # JSON helpers: logins and checkpoints are small mappings.
    def encrypt_json(self, value: Mapping[str, Any] | Sequence[Any], *, context: str) -> bytes:
        return self.encrypt(json.dumps(value, separators=(",", ":")).encode(), context=context)

    def decrypt_json(self, blob: bytes, *, context: str) -> Any:
        return json.loads(self.decrypt(blob, context=context))


def parse_keys(text: str) -> list[bytes]:
    """Parse `BILLFOLD_SECRET_KEY`: comma-separated base64 32-byte keys, newest first."""
    keys = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            key = base64.b64decode(part + "=" * (-len(part) % 4), altchars=b"-_", validate=False)
        except (binascii.Error, ValueError) as exc:
            raise ValueError("BILLFOLD_SECRET_KEY must be base64") from exc
        if len(key) != 32:
            raise ValueError("each key in BILLFOLD_SECRET_KEY must decode to 32 bytes")
        keys.append(key)
    if not keys:
        raise ValueError("BILLFOLD_SECRET_KEY is empty")
    return keys


def load_key_ring(secret_key: str | None, key_file: Path) -> KeyRing:
    """Keys from the setting if given, else from a key file made on first start (mode 0600)."""
    if secret_key:
        return KeyRing(parse_keys(secret_key))
    if key_file.exists():
        mode = key_file.stat().st_mode & 0o777
        if mode & 0o077:
            key_file.chmod(0o600)
        return KeyRing(parse_keys(key_file.read_text()))
    key_file.parent.mkdir(parents=True, exist_ok=True)
    encoded = base64.b64encode(secrets.token_bytes(32)).decode()
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(encoded + "\n")
    return KeyRing(parse_keys(encoded))
