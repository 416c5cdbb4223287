"""Encrypted `bank_id` / `bank_pw` / `mfa_answer`, as JSEncrypt makes them (checklist item 19)."""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from typing import Any

import pytest
import synapsepy
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from synapsepy import errors

from synapse_support import SynapseApp

Factory = Callable[[], tuple[synapsepy.Client, Any]]


def _public_key(client: synapsepy.Client) -> rsa.RSAPublicKey:
    issued = client.issue_public_key(["OAUTH|POST", "USERS|POST"])
    assert issued["expires_in"] == "900" and issued["scope"] == ["OAUTH|POST", "USERS|POST"]
    assert "BEGIN" not in issued["public_key"]
    key = serialization.load_der_public_key(base64.b64decode(issued["public_key"]))
    assert isinstance(key, rsa.RSAPublicKey) and key.key_size == 2048
    return key


def jsencrypt(key: rsa.RSAPublicKey, text: str) -> str:
    """What JSEncrypt's `encrypt()` returns: PKCS#1 v1.5 (type 2), base64."""
    return base64.b64encode(key.encrypt(text.encode(), padding.PKCS1v15())).decode()


def short_jsencrypt(key: rsa.RSAPublicKey, text: str) -> str:
    """A ciphertext whose leading zero byte was dropped, as older JSEncrypt builds do."""
    while True:
        raw = key.encrypt(text.encode(), padding.PKCS1v15())
        if raw[0] == 0:
            return base64.b64encode(raw[1:]).decode()


def _infos(nodes: Any) -> list[dict[str, Any]]:
    """Node infos without their times."""
    infos = [dict(n.body["info"]) for n in nodes.list_of_nodes]
    for info in infos:
        info["balance"] = {k: v for k, v in info["balance"].items() if k != "updated_on"}
    return infos


def _bank(bank_id: str, bank_pw: str) -> dict[str, Any]:
    return {"type": "ACH-US", "info": {"bank_id": bank_id, "bank_pw": bank_pw, "bank_name": "fake"}}


def test_19_encrypted_fields_link_like_plaintext(synapse: SynapseApp, make_user: Factory) -> None:
    client, user = make_user()
    key = _public_key(client)
    plain = user.create_node(_bank("synapse_nomfa", "test1234"))
    encrypted = user.create_node(
        _bank(jsencrypt(key, "synapse_nomfa"), short_jsencrypt(key, "test1234"))
    )
    assert _infos(encrypted) == _infos(plain)
    pending = user.create_node(_bank(jsencrypt(key, "synapse_good"), jsencrypt(key, "test1234")))
    token = pending["mfa"]["access_token"]
    answer = jsencrypt(key, "test_answer")
    assert user.ach_mfa({"access_token": token, "mfa_answer": answer}).node_count == 2
    # A value shaped like ciphertext that is none: refused, never passed on to the bank.
    noise = base64.b64encode(b"\xff" + os.urandom(255)).decode()
    with pytest.raises(errors.PayloadError) as caught:
        user.create_node(_bank("synapse_nomfa", noise))
    assert caught.value.response["error"]["code"] == "could_not_decrypt_field"
    assert caught.value.response["http_code"] == "400"
