from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest

from billfold.store.encryption import DecryptionError, KeyRing, load_key_ring, parse_keys


def key() -> bytes:
    return os.urandom(32)


def test_round_trip_and_fresh_nonces() -> None:
    ring = KeyRing([key()])
    a = ring.encrypt(b"hunter2", context="connection:1:credentials")
    b = ring.encrypt(b"hunter2", context="connection:1:credentials")
    assert a != b and b"hunter2" not in a
    assert ring.decrypt(a, context="connection:1:credentials") == b"hunter2"


def test_a_blob_moved_to_another_row_does_not_decrypt() -> None:
    ring = KeyRing([key()])
    blob = ring.encrypt(b"secret", context="connection:1:credentials")
    with pytest.raises(DecryptionError):
        ring.decrypt(blob, context="connection:2:credentials")


def test_tampering_is_detected() -> None:
    ring = KeyRing([key()])
    blob = bytearray(ring.encrypt(b"secret", context="c"))
    blob[-1] ^= 1
    with pytest.raises(DecryptionError):
        ring.decrypt(bytes(blob), context="c")


def test_rotation_rewraps_under_the_new_key_and_old_key_can_go() -> None:
    old, new = key(), key()
    blob = KeyRing([old]).encrypt(b"secret", context="c")
    both = KeyRing([new, old])
    assert both.decrypt(blob, context="c") == b"secret"
    rewrapped = both.rewrap(blob, context="c")
    assert KeyRing([new]).decrypt(rewrapped, context="c") == b"secret"
    with pytest.raises(DecryptionError):
        KeyRing([new]).decrypt(blob, context="c")


def test_key_file_is_created_once_with_owner_only_permissions(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "secret.key"
    first = load_key_ring(None, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    blob = first.encrypt(b"x", context="c")
    assert load_key_ring(None, path).decrypt(blob, context="c") == b"x"


def test_environment_keys_win_and_must_be_32_bytes() -> None:
    good = base64.b64encode(key()).decode()
    assert len(parse_keys(f"{good}, {base64.urlsafe_b64encode(key()).decode()}")) == 2
    with pytest.raises(ValueError):
        parse_keys(base64.b64encode(b"short").decode())
    with pytest.raises(ValueError):
        parse_keys(" , ")
