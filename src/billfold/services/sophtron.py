"""Use cases only the Sophtron dialect needs: its credentials, OAuth grants, customers, marks.

The dialect is a translation onto the core; what the core has no place for
(developer UserId/AccessKey pairs, OAuth registrations and tokens, a v2
customer's `Source`, the token choice a job accepted, a link without a job)
lives here, on the dialect's own tables (`billfold.store.sophtron`).
"""

from __future__ import annotations

import base64
import hmac
import logging
import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from billfold.domain.connections import Connection
from billfold.domain.errors import Conflict, InvalidInput, NotFound
from billfold.domain.jobs import Job
from billfold.domain.parties import EndUser
from billfold.domain.snapshot import Identity
from billfold.services.connections import store_login
from billfold.services.context import ServiceContext
from billfold.store.encryption import DecryptionError
from billfold.store.ids import new_id
from billfold.store.sophtron import SophtronRepository, secret_hash
from billfold.store.store import Unit

log = logging.getLogger("billfold.sophtron")

# The end user that holds v1 UserInstitutions (v1 has no customers); hidden from v2 lists.
V1_BUCKET_EXTERNAL_ID = "sophtron-v1-user-institutions"
ACCESS_TOKEN_TTL = timedelta(hours=1)
REFRESH_TOKEN_TTL = timedelta(days=30)
CODE_TTL = timedelta(minutes=10)
INTEGRATION_KEY_TTL = timedelta(minutes=60)


@contextmanager
def _write(ctx: ServiceContext) -> Iterator[tuple[Unit, SophtronRepository]]:
    with ctx.store.write() as unit:
        yield unit, SophtronRepository(unit.session, ctx.store.keys)


@contextmanager
def _read(ctx: ServiceContext) -> Iterator[tuple[Unit, SophtronRepository]]:
    with ctx.store.read() as unit:
        yield unit, SophtronRepository(unit.session, ctx.store.keys)


# ----- developer credentials (FIApiAUTH) ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeveloperCredential:
    user_id: str
    access_key: str  # secret: shown once at creation, used to verify signatures


def issue_credentials(*, ctx: ServiceContext, client_id: str) -> DeveloperCredential:
    """Give a client its Sophtron-style UserId (a GUID) and AccessKey (base64 of 32 bytes)."""
    credential = DeveloperCredential(
        user_id=new_id(), access_key=base64.b64encode(secrets.token_bytes(32)).decode()
    )
    with _write(ctx) as (unit, repo):
        if unit.clients.get(client_id) is None:
            raise NotFound("No such client.", code="client_not_found")
        if repo.user_id_of(client_id) is not None:
            raise Conflict("the client already has Sophtron credentials", code="credentials_exist")
        repo.add_credential(
            user_id=credential.user_id,
            client_id=client_id,
            access_key=credential.access_key,
            at=ctx.clock(),
        )
    return credential


def access_key_of(*, ctx: ServiceContext, user_id: str) -> tuple[str, str] | None:
    """(client id, AccessKey) of a developer UserId, or None."""
    with _read(ctx) as (_, repo):
        try:
            return repo.credential(user_id)
        except DecryptionError:
            # A key ring without the key this was wrapped under: as good as unknown.
            log.warning("the AccessKey of a Sophtron UserId does not decrypt; rotate keys")
            return None


def developer_user_id(*, ctx: ServiceContext, client_id: str) -> str | None:
    with _read(ctx) as (_, repo):
        return repo.user_id_of(client_id)


def rewrap_secrets(*, ctx: ServiceContext) -> int:
    """Re-wrap the dialect's encrypted secrets under the active key (`billfold keys rotate`)."""
    with _write(ctx) as (_, repo):
        return repo.rewrap_all()


def integration_key(*, ctx: ServiceContext, client_id: str) -> str:
    """The client's current integration key; a new one once the old one expired."""
    now = ctx.clock()
    with _write(ctx) as (_, repo):
        key = repo.integration_key(client_id, now)
        if key is None:
            key = secrets.token_urlsafe(32)
            repo.set_integration_key(client_id, key, now + INTEGRATION_KEY_TTL)
    return key


# ----- OAuth 2.0 ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OAuthRegistration:
    client_id: str
    client_secret: str  # shown once
    redirect_uris: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class OAuthClient:
    client_id: str
    owner_client_id: str
    redirect_uris: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class IssuedTokens:
    access_token: str
    expires_in: int
    refresh_token: str | None = None


class OAuthError(Exception):
    """An RFC 6749 error: `error` is the registered code, `status` the HTTP status."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


def check_redirect_uris(redirect_uris: list[str]) -> None:
    for uri in redirect_uris:
        if not uri.startswith(("https://", "http://")) or len(uri) > 2000 or "#" in uri:
            raise InvalidInput(
                f"a redirect URI must be an absolute http(s) URL: {uri!r}",
                code="invalid_redirect_uri",
            )


def register_oauth_client(
    *, ctx: ServiceContext, client_id: str, redirect_uris: list[str]
) -> OAuthRegistration:
    check_redirect_uris(redirect_uris)
    registration = OAuthRegistration(
        client_id=secrets.token_hex(16),
        client_secret=secrets.token_urlsafe(32),
        redirect_uris=tuple(redirect_uris),
    )
    with _write(ctx) as (unit, repo):
        if unit.clients.get(client_id) is None:
            raise NotFound("No such client.", code="client_not_found")
        repo.add_oauth_client(
            oauth_client_id=registration.client_id,
            owner=client_id,
            secret=registration.client_secret,
            redirect_uris=list(redirect_uris),
            at=ctx.clock(),
        )
    return registration


def find_oauth_client(*, ctx: ServiceContext, oauth_client_id: str) -> OAuthClient | None:
    with _read(ctx) as (_, repo):
        found = repo.oauth_client(oauth_client_id)
    if found is None:
        return None
    return OAuthClient(oauth_client_id, found[0], tuple(found[2]))


def authenticate_oauth_client(
    *, ctx: ServiceContext, oauth_client_id: str, client_secret: str
) -> OAuthClient:
    with _read(ctx) as (_, repo):
        found = repo.oauth_client(oauth_client_id)
    if found is None or not hmac.compare_digest(found[1], secret_hash(client_secret)):
        raise OAuthError("invalid_client", "Client authentication failed.", 401)
    return OAuthClient(oauth_client_id, found[0], tuple(found[2]))


def issue_code(*, ctx: ServiceContext, oauth_client: OAuthClient, redirect_uri: str) -> str:
    if redirect_uri not in oauth_client.redirect_uris:
        raise OAuthError("invalid_request", "redirect_uri is not registered for this client.")
    code = secrets.token_urlsafe(32)
    with _write(ctx) as (_, repo):
        repo.add_code(
            code=code,
            oauth_client_id=oauth_client.client_id,
            redirect_uri=redirect_uri,
            expires_at=ctx.clock() + CODE_TTL,
        )
    return code


def _tokens(
    repo: SophtronRepository, ctx: ServiceContext, oauth_client_id: str, *, refresh: bool
) -> IssuedTokens:
    now = ctx.clock()
    access = secrets.token_urlsafe(32)
    repo.add_token(
        token=access,
        kind="access",
        oauth_client_id=oauth_client_id,
        expires_at=now + ACCESS_TOKEN_TTL,
        at=now,
    )
    refresh_token = None
    if refresh:
        refresh_token = secrets.token_urlsafe(32)
        repo.add_token(
            token=refresh_token,
            kind="refresh",
            oauth_client_id=oauth_client_id,
            expires_at=now + REFRESH_TOKEN_TTL,
            at=now,
        )
    return IssuedTokens(access, int(ACCESS_TOKEN_TTL.total_seconds()), refresh_token)


def password_grant(
    *, ctx: ServiceContext, oauth_client: OAuthClient, username: str
) -> IssuedTokens:
    """`username` must name the developer account that owns the registration."""
    wanted = username.strip().lower()
    with _write(ctx) as (_, repo):
        owner_user_id = repo.user_id_of(oauth_client.owner_client_id)
        if not wanted or wanted not in {owner_user_id, oauth_client.owner_client_id}:
            raise OAuthError("invalid_grant", "username is not the owner of this client.")
        repo.drop_expired(ctx.clock())
        return _tokens(repo, ctx, oauth_client.client_id, refresh=False)


def code_grant(
    *, ctx: ServiceContext, oauth_client: OAuthClient, code: str, redirect_uri: str | None
) -> IssuedTokens:
    now = ctx.clock()
    with _write(ctx) as (_, repo):
        used = repo.use_code(code, now)
        if used is None or used[0] != oauth_client.client_id or used[2] <= now:
            raise OAuthError("invalid_grant", "The code is invalid, expired or already used.")
        if redirect_uri is not None and redirect_uri != used[1]:
            raise OAuthError("invalid_grant", "redirect_uri does not match the authorization.")
        return _tokens(repo, ctx, oauth_client.client_id, refresh=True)


def refresh_grant(
    *, ctx: ServiceContext, oauth_client: OAuthClient, refresh_token: str
) -> IssuedTokens:
    now = ctx.clock()
    with _write(ctx) as (_, repo):
        owner = repo.token(refresh_token, "refresh", now)
        if owner != oauth_client.client_id:
            raise OAuthError("invalid_grant", "The refresh token is invalid or expired.")
        repo.revoke_token(refresh_token, now)
        return _tokens(repo, ctx, oauth_client.client_id, refresh=True)


def client_of_access_token(*, ctx: ServiceContext, token: str) -> str | None:
    """The Billfold client id an access token acts for, or None."""
    with _read(ctx) as (_, repo):
        oauth_client_id = repo.token(token, "access", ctx.clock())
        found = repo.oauth_client(oauth_client_id) if oauth_client_id else None
    return found[0] if found else None


# ----- customers, v1 logins and job marks ----------------------------------------------------


def v1_user(*, ctx: ServiceContext, client_id: str) -> EndUser:
    """The hidden end user that holds this client's v1 UserInstitutions (made on first use)."""
    with ctx.store.read() as unit:
        found = unit.users.by_external_id(client_id, V1_BUCKET_EXTERNAL_ID)
    if found is not None:
        return found
    with ctx.store.write() as unit:
        found = unit.users.by_external_id(client_id, V1_BUCKET_EXTERNAL_ID)
        if found is not None:
            return found
        user = EndUser(
            id=new_id(),
            client_id=client_id,
            external_id=V1_BUCKET_EXTERNAL_ID,
            name="Sophtron v1 UserInstitutions",
            created_at=ctx.clock(),
        )
        unit.users.add(user)
    return user


def create_customer(
    *,
    ctx: ServiceContext,
    client_id: str,
    unique_id: str | None,
    name: str | None,
    source: str | None,
) -> tuple[EndUser, bool]:
    """A v2 Customer (an end user); an existing UniqueID returns that customer. (user, created)"""
    unique_id = unique_id.strip() if unique_id else None
    if unique_id is not None and len(unique_id) > 200:
        raise InvalidInput("UniqueID is longer than 200 characters", code="invalid_unique_id")
    if unique_id == V1_BUCKET_EXTERNAL_ID:
        raise InvalidInput("that UniqueID is reserved", code="invalid_unique_id")
    with _write(ctx) as (unit, repo):
        if unique_id:
            existing = unit.users.by_external_id(client_id, unique_id)
            if existing is not None:
                return existing, False
        user = EndUser(
            id=new_id(),
            client_id=client_id,
            external_id=unique_id,
            name=name.strip()[:200] if name else None,
            created_at=ctx.clock(),
        )
        unit.users.add(user)
        unit.flush()
        repo.set_source(user.id, source[:500] if source else None)
    return user, True


def customer_sources(*, ctx: ServiceContext, user_ids: list[str]) -> dict[str, str | None]:
    with _read(ctx) as (_, repo):
        return repo.sources(user_ids)


def create_login(
    *,
    ctx: ServiceContext,
    client_id: str,
    user_id: str,
    institution_id: str,
    credentials: Mapping[str, Any],
    attributes: Mapping[str, Any] | None = None,
) -> Connection:
    """Store a login without starting a job (Sophtron's CreateUserInstitutionWOJob)."""
    return store_login(
        ctx=ctx,
        client_id=client_id,
        user_id=user_id,
        institution_id=institution_id,
        credentials=credentials,
        attributes=attributes,
    )


def connection_details(
    *, ctx: ServiceContext, client_id: str, connection_id: str
) -> tuple[Identity | None, dict[str, Any]]:
    """A connection's owner identity (after an `identity` job) and its non-secret attributes."""
    with ctx.store.read() as unit:
        if unit.connections.get(connection_id, client_id) is None:
            raise NotFound("No such connection.", code="connection_not_found")
        return unit.connections.identity(connection_id), unit.connections.attributes(connection_id)


def job_mark(*, ctx: ServiceContext, job_id: str) -> tuple[str | None, bool]:
    """(accepted token choice, read-out approved) of a job."""
    with _read(ctx) as (_, repo):
        return repo.mark(job_id)


def mark_job(
    *,
    ctx: ServiceContext,
    job_id: str,
    token_choice: str | None = None,
    verify_phone: bool | None = None,
) -> None:
    with _write(ctx) as (_, repo):
        repo.set_mark(job_id, token_choice=token_choice, verify_phone=verify_phone)


def select_account(*, ctx: ServiceContext, client_id: str, job_id: str, account_id: str) -> Job:
    """Record the account a person picked for a job whose accounts are stored."""
    now = ctx.clock()
    with ctx.store.write() as unit:
        job = unit.jobs.lock(job_id)
        if job is None or job.client_id != client_id:
            raise NotFound("No such job.", code="job_not_found")
        if job.accounts_ready_at is None:
            raise Conflict("the job has no accounts yet", code="accounts_not_ready")
        account = unit.accounts.get(account_id.lower(), client_id)
        if account is None or account.connection_id != job.connection_id:
            raise NotFound("No such account for this job.", code="account_not_found")
        unit.jobs.select_account(job.id, account.id, now)
        selected = unit.jobs.get(job.id, with_steps=False)
    assert selected is not None
    return selected
