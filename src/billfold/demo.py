"""Demo data for the quick start: a demo client with a stable key and a few linked logins."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from billfold.domain.errors import Unauthorized
from billfold.services.clients import ApiKeyVerifier, create_client
from billfold.services.connections import create_connection
from billfold.services.context import ServiceContext
from billfold.services.users import create_user

DEMO_CLIENT = "Demo App"
DEMO_USER = "demo-user"
# (institution name, username, password): sandbox logins that link without MFA.
DEMO_LOGINS = (
    ("Billfold Sandbox Bank", "user_good", "demo-password"),
    ("Sandbox Power & Light", "demo@example.com", "demo-password"),
    ("Sandbox Wireless", "demo@example.com", "demo-password"),
    ("Sandbox Fiber", "demo@example.com", "demo-password"),
    ("Sophtron Bank NoMFA", "asdf", "asdf"),
)


@dataclass(frozen=True, slots=True)
class DemoSetup:
    api_key: str
    client_id: str
    user_id: str
    links_started: int


def _write_secret(path: Path, value: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")


def ensure_demo(ctx: ServiceContext, key_file: Path) -> DemoSetup:
    """Create the demo client, user and links once; later starts reuse them."""
    verifier = ApiKeyVerifier(ctx, cache_seconds=0)
    api_key = key_file.read_text().strip() if key_file.exists() else ""
    client = None
    if api_key:
        try:
            client = verifier.verify(api_key)
        except Unauthorized:
            client = None
    if client is None:
        issued = create_client(ctx=ctx, name=DEMO_CLIENT)
        client, api_key = issued.client, issued.api_key
        _write_secret(key_file, api_key)
    with ctx.store.read() as unit:
        user = unit.users.by_external_id(client.id, DEMO_USER)
        has_links = bool(user and unit.connections.for_client(client.id, user_id=user.id))
    if user is None:
        user = create_user(ctx=ctx, client_id=client.id, external_id=DEMO_USER, name="Demo User")
    started = 0
    if not has_links:
        for name, username, password in DEMO_LOGINS:
            with ctx.store.read() as unit:
                found = unit.institutions.search(query=name, kinds=None, limit=5)
            match = next((i for i in found if i.name == name), None)
            if match is None:
                continue
            create_connection(
                ctx=ctx,
                client_id=client.id,
                user_id=user.id,
                institution_id=match.id,
                credentials={"username": username, "password": password},
            )
            started += 1
    return DemoSetup(api_key=api_key, client_id=client.id, user_id=user.id, links_started=started)
