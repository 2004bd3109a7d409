"""Who calls: a bearer JWT or an API key in ``Authorization: Bearer``, and the directory. No endpoint is ever open.

**Tokens** name the account (``sub``, a directory id) and nothing else that counts: its tenant, role, name,
address and organisation come from the directory on every request, so a disabled account is refused at once.
Claims ``tenant``, ``role``, ``name`` and ``email`` in a token are ignored, and no token can make its caller the
system. A token is signed either with the installation's shared secret (HS256, ``HOSTDESK_JWT_SECRET``) or by a
key of the issuer's JWKS (RS256 or ES256, ``<SERVICE>_JWKS_URL``), and the algorithm must match the key's source:
HS256 only with the secret, RS256 and ES256 only with a key of the JWKS, named by the token's ``kid``. A ``kid``
not in the key set fetches it again (at most once per ``<SERVICE>_JWKS_COOLDOWN_SECONDS``), so the issuer rotates
its keys without a restart here; the key set is kept ``<SERVICE>_JWKS_CACHE_SECONDS``, and so is a token checked
against it: a withdrawn key's tokens are refused once that time has passed.

**API keys** ``hd_<id>_<secret>`` (the id has no ``_``) are looked up in the directory (``api_key.<id>``): the
SHA-256 of the whole key must match the record's, and the key must not be revoked. The caller is the key's
account, with the key's scopes only; a token's caller has every scope. A route declares the scope it needs
(``scoped_actor``); a key without it gets a 403.

Whatever is wrong with a credential answers 401 problem+json, never a 500: its size (``MAX_TOKEN_LENGTH``, looked at
before anything else), its algorithm (``none`` among them), signature, expiry or ``nbf``, a ``sub`` that is no
directory id; and, with one message that does not say which, an unknown or disabled account, staff of a disabled
organisation, an unknown, revoked or wrong key. A key server that does not answer, or a directory not reached
yet, is a 503: the caller may be right, and should try again.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import ValidationError

from hostdesk_contracts.auth import Claims
from hostdesk_contracts.base import Actor, Role
from hostdesk_contracts.directory import AccountRecord, Scope, StaffRecord
from hostdesk_contracts.runtime.directory import Directory, DirectoryUnavailable
from hostdesk_contracts.runtime.problems import ProblemError, Unauthorized, Unavailable

ALGORITHM = "HS256"  # with the shared secret
JWKS_ALGORITHMS = frozenset({"RS256", "ES256"})  # with a key of the issuer's key set
MAX_TOKEN_LENGTH = 4096
MAX_CACHED_TOKENS = 65_536
API_KEY_PREFIX = "hd_"
EVERY_SCOPE = frozenset(Scope)
JWKS_TIMEOUT_SECONDS = 5.0


def issue_token(*, secret: str, account_id: str, ttl_seconds: int = 86_400, not_before: int | None = None) -> str:
    """An HS256 token naming ``account_id``, as an issuer sharing the installation's secret makes one."""
    now = int(time.time())
    claims = Claims(sub=account_id, exp=now + ttl_seconds, iat=now, nbf=not_before)
    return jwt.encode(claims.model_dump(mode="json", exclude_none=True), secret, algorithm=ALGORITHM)


_INVALID = "The bearer token is missing, expired or not signed by this installation."
_REFUSED = "The credential does not name an account that may call."


@dataclass(frozen=True)
class Caller:
    """The authenticated caller: who (as the directory says) and what it may do; for an API key, the key's id
    (``None`` for a token), so that a route may count a key apart from its account."""

    actor: Actor
    scopes: frozenset[Scope] = EVERY_SCOPE
    key_id: str | None = None

    def may(self, scope: Scope) -> bool:
        return scope in self.scopes


@dataclass(frozen=True)
class _Checked:
    subject: str
    valid_until: float  # the token's expiry, or sooner: when its key must be looked at again


class TokenKeys:
    """The keys bearer tokens are checked with, and the tokens checked already (at most ``max_cached``).

    A signature is checked once per token: callers send the same token many times. A token checked with the
    secret is remembered until it expires; one checked with a key of the JWKS until it expires or the key set's
    cache lifetime passes, whichever comes first, so that a withdrawn key stops counting. Nothing that failed is
    remembered.
    """

    def __init__(
        self,
        *,
        secret: str | None,
        jwks_url: str | None = None,
        jwks_cache_seconds: float = 300.0,
        jwks_cooldown_seconds: float = 10.0,
        max_cached: int = MAX_CACHED_TOKENS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not secret and not jwks_url:
            raise ValueError("bearer tokens need a shared secret, a JWKS URL or both")
        self._secret = secret or None
        self._jwks_cache_seconds = jwks_cache_seconds
        self._jwks = (
            jwt.PyJWKClient(
                jwks_url,
                lifespan=jwks_cache_seconds,
                timeout=JWKS_TIMEOUT_SECONDS,
                cooldown_duration=jwks_cooldown_seconds,
            )
            if jwks_url
            else None
        )
        self._max_cached = max_cached
        self._clock = clock
        self._checked: OrderedDict[bytes, _Checked] = OrderedDict()  # by the token's SHA-256

    async def subject(self, token: str) -> str:
        """The account the token names, once its signature, expiry and ``nbf`` hold. Raises ``Unauthorized``, or
        ``Unavailable`` when the key server does not answer."""
        if len(token) > MAX_TOKEN_LENGTH:
            raise Unauthorized(f"The bearer token is longer than {MAX_TOKEN_LENGTH} characters.")
        now = self._clock()
        remembered = hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()  # 32 bytes, not up to 4 kB
        checked = self._checked.get(remembered)
        if checked is not None:
            if checked.valid_until > now:
                self._checked.move_to_end(remembered)
                return checked.subject
            del self._checked[remembered]  # expired, or its key is to be looked at again
        checked = await self._check(token, now)
        self._checked[remembered] = checked
        while len(self._checked) > self._max_cached:
            self._checked.popitem(last=False)
        return checked.subject

    async def _check(self, token: str, now: float) -> _Checked:
        try:
            algorithm = jwt.get_unverified_header(token).get("alg")
            if algorithm == ALGORITHM and self._secret is not None:
                key: Any = self._secret
                lifetime = float("inf")
            elif algorithm in JWKS_ALGORITHMS and self._jwks is not None:
                key = await self._jwks_key(token, algorithm)
                lifetime = self._jwks_cache_seconds
            else:
                raise Unauthorized(_INVALID)  # "none", another algorithm, or one whose key source is not set
            payload = jwt.decode(token, key, algorithms=[algorithm], options={"require": ["exp", "sub"]})
            claims = Claims.model_validate(payload)
        except ValidationError as error:
            names = ", ".join(sorted({str(each["loc"][0]) for each in error.errors() if each["loc"]}))
            raise Unauthorized(f"The bearer token's claims are not acceptable: {names or 'its claims'}.") from error
        except (jwt.PyJWTError, ValueError, TypeError) as error:
            # ValueError and TypeError: what a library may raise on input it did not foresee is still a bad token.
            raise Unauthorized(_INVALID) from error
        if claims.exp <= now or (claims.nbf is not None and claims.nbf > now):  # by this service's clock too
            raise Unauthorized(_INVALID)
        return _Checked(subject=claims.sub, valid_until=min(float(claims.exp), now + lifetime))

    async def _jwks_key(self, token: str, algorithm: str) -> Any:
        """The public key of the JWKS the token's ``kid`` names, made for the token's algorithm. The key set is
        fetched in a worker thread (PyJWKClient blocks), never on the event loop."""
        assert self._jwks is not None
        kid = jwt.get_unverified_header(token).get("kid")
        if not isinstance(kid, str) or not kid:
            raise Unauthorized(_INVALID)
        try:
            signing_key = await asyncio.to_thread(self._jwks.get_signing_key, kid)
        except jwt.PyJWKClientConnectionError as error:
            raise Unavailable("The token issuer's key set cannot be fetched; try again shortly.") from error
        except jwt.PyJWTError as error:  # no such key (withdrawn, or never there), or no usable key set
            raise Unauthorized(_INVALID) from error
        if signing_key.algorithm_name != algorithm:
            raise Unauthorized(_INVALID)
        return signing_key.key


async def authenticate(credential: str, *, keys: TokenKeys, directory: Directory) -> Caller:
    """The caller a bearer credential (a JWT or an API key) names, as the directory says it is."""
    try:
        if credential.startswith(API_KEY_PREFIX):
            return await _key_caller(credential, directory)
        subject = await keys.subject(credential)
        principal = await directory.principal(subject)
        actor = await actor_of(principal, directory) if principal is not None else None
    except DirectoryUnavailable as error:
        raise Unavailable("The directory cannot be read yet, so nothing was done; try again shortly.") from error
    if actor is None:
        raise Unauthorized(_REFUSED)
    return Caller(actor=actor)


async def _key_caller(key: str, directory: Directory) -> Caller:
    if len(key) > MAX_TOKEN_LENGTH:
        raise Unauthorized(f"The API key is longer than {MAX_TOKEN_LENGTH} characters.")
    key_id, _, secret = key.removeprefix(API_KEY_PREFIX).partition("_")
    record = await directory.api_key(key_id) if secret else None
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
    if record is None or record.revoked or not hmac.compare_digest(digest, record.secret_sha256):
        raise Unauthorized(_REFUSED)
    principal = await directory.principal(record.account_id)
    actor = await actor_of(principal, directory) if principal is not None else None
    if actor is None:
        raise Unauthorized(_REFUSED)
    return Caller(actor=actor, scopes=frozenset(record.scopes), key_id=record.id)


async def actor_of(principal: AccountRecord | StaffRecord, directory: Directory) -> Actor | None:
    """The actor a principal speaks as: an account as its kind, in its provider's tenant; staff as their role,
    for their organisation, in its tenant. ``None`` when it may not call: disabled, staff of a disabled (or
    unknown) organisation, or a tree that does not lead to a provider."""
    if principal.disabled:
        return None
    organisation_id = None
    if isinstance(principal, StaffRecord):
        organisation = await directory.principal(principal.organisation_id)
        if not isinstance(organisation, AccountRecord) or organisation.disabled:
            return None
        role, organisation_id = Role(principal.role.value), organisation.id
    else:
        role = Role(principal.kind.value)
    tenant = await directory.tenant_of(principal)
    if tenant is None:
        return None
    return Actor(
        account_id=principal.id,
        tenant=tenant,
        role=role,
        display_name=principal.display_name or None,
        email=principal.email,
        organisation_id=organisation_id,
    )


class MissingScope(ProblemError):
    """An API key without the scope a route needs: saying so reveals nothing about any ticket."""

    status, title = 403, "Forbidden"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, type="urn:hostdesk:problem:scope-missing")


_bearer = HTTPBearer(auto_error=False)

# The credentials of ``Authorization: Bearer``, if any (a dependency of its own, so that the API's schema names
# the scheme).
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


async def current_caller(request: Request, credentials: BearerDep) -> Caller:
    """The caller, from ``Authorization: Bearer``: the keys from ``app.state.token_keys`` (``create_app``, from the
    settings), the directory from ``app.state.directory`` (the runtime's).

    ``async`` although it may await nothing: FastAPI runs a plain ``def`` dependency in a worker thread, a hop
    that costs more than the check itself. The same holds for every dependency of the services.
    """
    if credentials is None:
        raise Unauthorized("This endpoint needs an 'Authorization: Bearer <token or API key>' header.")
    keys: TokenKeys = request.app.state.token_keys
    directory: Directory = request.app.state.directory
    return await authenticate(credentials.credentials, keys=keys, directory=directory)


CallerDep = Annotated[Caller, Depends(current_caller)]


async def current_actor(caller: CallerDep) -> Actor:
    """The authenticated caller's actor, whatever its scopes (a route that needs one says so: ``scoped_actor``)."""
    return caller.actor


ActorDep = Annotated[Actor, Depends(current_actor)]


@functools.cache
def scoped_actor(scope: Scope) -> Callable[..., Awaitable[Actor]]:
    """The dependency of a route that needs ``scope``: the caller's actor, or a 403 for an API key without it.
    One dependency per scope (cached), so FastAPI resolves each once per request."""

    async def actor_with_scope(caller: CallerDep) -> Actor:
        return actor_with(caller, scope)

    actor_with_scope.__name__ = f"actor_with_{scope.name.lower()}"
    return actor_with_scope


def actor_with(caller: Caller, scope: Scope) -> Actor:
    """The caller's actor, or a 403 for an API key without ``scope``."""
    if not caller.may(scope):
        raise MissingScope(f"This API key does not have the scope '{scope.value}' this endpoint needs.")
    return caller.actor


TicketsReaderDep = Annotated[Actor, Depends(scoped_actor(Scope.TICKETS_READ))]
TicketsWriterDep = Annotated[Actor, Depends(scoped_actor(Scope.TICKETS_WRITE))]
DirectoryWriterDep = Annotated[Actor, Depends(scoped_actor(Scope.DIRECTORY_WRITE))]
