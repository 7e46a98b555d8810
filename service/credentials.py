"""The facade's AWS credentials: found by the standard chain, refreshed before they expire, and
every refresh visible (one log line, a counter, a gauge of the seconds left).

How it fits aiobotocore: the chain (env keys, profile with ``role_arn`` + ``source_profile`` or
``web_identity_token_file``, IRSA, the container endpoint of EKS Pod Identity / ECS, SSO,
instance metadata) stays the chain's job. What it found is wrapped in a
:class:`FacadeCredentials`, an ``AioRefreshableCredentials`` built with its public
constructor, whose ``refresh_using`` is an :class:`_ObservedFetch` around the chain's own
fetcher: aiobotocore keeps deciding *when* to refresh (on a call, inside its advisory /
mandatory windows; no timer loop of ours), and the wrapper sees each refresh. The one private
read is the chain's fetcher itself (``RefreshableCredentials._refresh_using``): botocore has no
public accessor for it, and rebuilding every provider's fetcher here would restate the chain.
``--aws-role-arn`` adds a public ``AioAssumeRoleCredentialFetcher`` on top of whatever the
chain found.

The wrapped credentials reach the client through a provider registered as the session's
``credential_provider`` component (public botocore API), so the one long-lived client signs
every call with the current keys.
"""

from __future__ import annotations

import logging
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from aiobotocore.credentials import (
    AioAssumeRoleCredentialFetcher,
    AioCredentialResolver,
    AioRefreshableCredentials,
)
from aiobotocore.session import AioSession, get_session
from botocore import exceptions as boto
from botocore.credentials import CredentialProvider

from service.config import StartupError
from service.logs import LOGGER, redactor

log = logging.getLogger(LOGGER)

Metadata = dict[str, Any]  # botocore's refresh format: access_key, secret_key, token, expiry_time
Fetch = Callable[[], Awaitable[Metadata]]

ROLE_SOURCE = "aws-role-arn"
# botocore's windows (15 min advisory, 10 min mandatory) would refresh on every call for
# credentials that live minutes (or seconds in tests); scale them to the lifetime instead.
ADVISORY_WINDOW, MANDATORY_WINDOW = 900.0, 600.0
# After a failed refresh, the next attempt waits (doubling) from the first to the ceiling.
RETRY_FIRST, RETRY_CEILING = 0.2, 30.0
# Static keys never expire by themselves; they are re-read when AWS refuses them.
_NEVER = timedelta(days=365 * 100)
# Secrets of this many past generations stay in the redactor (older ones are long expired, and
# an ever-growing list would slow every log line).
_KEPT_GENERATIONS = 4
# AWS error codes that say "these keys are no good (any more)": fetch anew and, when that gives
# other keys, retry once. SignatureDoesNotMatch too: a mounted file's secret may be rewritten.
REJECTED_CODES = frozenset(
    {"ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId", "SignatureDoesNotMatch"}
)


class CredentialsRefreshFailed(Exception):
    """Credentials could not be refreshed and the ones held have expired."""

    def __init__(self, source: str, cause: str) -> None:
        super().__init__(f"refreshing AWS credentials from {source} failed: {cause}")
        self.source = source
        self.cause = cause


def windows(lifetime: float) -> tuple[float, float]:
    """(advisory, mandatory) refresh windows for credentials that live `lifetime` seconds."""
    lifetime = max(lifetime, 0.0)
    return min(ADVISORY_WINDOW, lifetime / 2), min(MANDATORY_WINDOW, lifetime / 4)


def cause_of(error: BaseException) -> str:
    """A failure as one short redacted phrase (no newlines): for a log field or a start-up line."""
    if isinstance(error, boto.ClientError):
        info = error.response.get("Error", {})
        text = f"{info.get('Code', 'error')}: {info.get('Message', '')}".rstrip(": ")
    else:
        text = str(error) or type(error).__name__
    return " ".join(redactor(text).split())[:300]


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _now() -> datetime:
    return datetime.now(UTC)


def _expiry(metadata: Metadata) -> datetime:
    value = metadata["expiry_time"]
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _keys(metadata: Metadata) -> tuple[Any, ...]:
    return (metadata.get("access_key"), metadata.get("secret_key"), metadata.get("token"))


class _ObservedFetch:
    """The refresh callable handed to aiobotocore: runs the real fetcher, and logs, counts and
    registers secrets with the redactor. After a failure it keeps handing back the credentials
    held while they are still valid (calls keep working when STS hiccups) and tries again after
    a short pause; once they have expired, it raises :class:`CredentialsRefreshFailed`."""

    def __init__(self, source: str, fetch: Fetch, stats: CredentialStats) -> None:
        self.source = source
        self._fetch = fetch
        self._stats = stats
        self.current: Metadata | None = None
        self.credentials: FacadeCredentials | None = None
        self._retry_at: datetime | None = None
        self._failures = 0
        self._last_cause = ""
        self._lifetime = 0.0
        self._generations: deque[tuple[str | None, ...]] = deque()

    async def __call__(self) -> Metadata:
        held, now = self.current, _now()
        if self._retry_at is not None and now < self._retry_at:
            # Shortly after a failure: do not ask again yet (one call per pause, not every call).
            if held is not None and _expiry(held) > now:
                return held
            raise CredentialsRefreshFailed(self.source, self._last_cause)
        try:
            metadata = dict(await self._fetch())
            expires = _expiry(metadata)
        except Exception as error:
            return self._failed(error)
        self._retry_at, self._failures = None, 0
        if held is not None and _keys(held) == _keys(metadata):
            # Nothing new (static keys re-read after a refusal, a fetcher's cache): no refresh
            # to report.
            return metadata
        self._remember(metadata)
        lifetime = (expires - _now()).total_seconds()
        self._lifetime = lifetime
        self._stats.observe(self.source, "success", expires)
        if self.credentials is not None:
            self.credentials.tune(lifetime)
        temporary = expires - _now() < _NEVER / 2
        log.info(
            "aws credentials refreshed",
            extra={
                "fields": {
                    "source": self.source,
                    # Static keys (re-read after AWS refused them) have no expiry.
                    "expires": _iso(expires) if temporary else None,
                    "lifetime_s": round(lifetime, 1) if temporary else None,
                }
            },
        )
        return metadata

    def _failed(self, error: Exception) -> Metadata:
        held, now = self.current, _now()
        valid = held is not None and _expiry(held) > now
        self._failures += 1
        self._last_cause = cause_of(error)
        self._stats.observe(self.source, "failure", None)
        log.error(
            "aws credentials refresh failed",
            extra={
                "fields": {
                    "source": self.source,
                    "cause": self._last_cause,
                    "held_expires": _iso(_expiry(held)) if held is not None else None,
                    "using_held": valid,
                    "failures": self._failures,
                }
            },
        )
        if held is None:  # at start: nothing to fall back on, and nobody to retry for
            raise CredentialsRefreshFailed(self.source, self._last_cause) from error
        self._retry_at = now + timedelta(seconds=self.pause())
        if valid:
            return held
        raise CredentialsRefreshFailed(self.source, self._last_cause) from error

    def pause(self) -> float:
        """Seconds before the next attempt after a failure: doubling from 0.2 s, up to a
        quarter of the credentials' lifetime (within 0.2-30 s)."""
        ceiling = min(RETRY_CEILING, max(RETRY_FIRST, self._lifetime / 4))
        return min(ceiling, RETRY_FIRST * 2.0 ** (self._failures - 1))

    def _remember(self, metadata: Metadata) -> None:
        self.current = metadata
        secrets = (metadata.get("access_key"), metadata.get("secret_key"), metadata.get("token"))
        redactor.add(secrets)
        self._generations.append(secrets)
        while len(self._generations) > _KEPT_GENERATIONS:
            redactor.discard(self._generations.popleft())


class CredentialStats:
    """What the metrics show: refreshes by source and result, and when the credentials expire."""

    def __init__(self) -> None:
        self.refreshes: Counter[tuple[str, str]] = Counter()
        self.expiry: dict[str, datetime] = {}

    def observe(self, source: str, result: str, expires: datetime | None) -> None:
        self.refreshes[(source, result)] += 1
        if expires is not None and expires - _now() < _NEVER / 2:
            self.expiry[source] = expires

    def seconds_to_expiry(self) -> dict[str, float]:
        now = _now()
        return {source: (at - now).total_seconds() for source, at in self.expiry.items()}


class FacadeCredentials(AioRefreshableCredentials):  # type: ignore[misc]
    """Refreshable credentials whose refreshes are observed; also re-fetchable on demand when
    AWS refuses the keys (a rewritten shared-credentials file, a token revoked early)."""

    source: str
    stats: CredentialStats
    _observed: _ObservedFetch

    @classmethod
    async def start(cls, source: str, fetch: Fetch, stats: CredentialStats) -> FacadeCredentials:
        """Fetch once now (a failure raises), then refresh through aiobotocore."""
        observed = _ObservedFetch(source, fetch, stats)
        metadata = await observed()
        advisory, mandatory = windows((_expiry(metadata) - _now()).total_seconds())
        # The public constructor (create_from_metadata cannot pass a clock): a UTC clock is
        # ~8 us cheaper per signed call than botocore's default tzlocal() one.
        credentials = cls(
            access_key=metadata["access_key"],
            secret_key=metadata["secret_key"],
            token=metadata["token"],
            expiry_time=_expiry(metadata),
            refresh_using=observed,
            method=source,
            time_fetcher=_now,
            advisory_timeout=advisory,
            mandatory_timeout=mandatory,
        )
        credentials.source = source
        credentials.stats = stats
        credentials._observed = observed
        observed.credentials = credentials
        return credentials

    def tune(self, lifetime: float) -> None:
        """Scale the refresh windows to the lifetime of the credentials just fetched."""
        self._advisory_refresh_timeout, self._mandatory_refresh_timeout = windows(lifetime)

    @property
    def held(self) -> tuple[str | None, ...]:
        """The keys held now, without refreshing (for comparing, never for logging)."""
        return (self._access_key, self._secret_key, self._token)

    async def renew(self, rejected: tuple[str | None, ...]) -> bool:
        """AWS refused the keys `rejected` (a :attr:`held` value): fetch anew unless someone
        already did. True when the keys now held differ (worth one retry)."""
        async with self._refresh_lock:
            if self.held != rejected:
                return True
            await self._protected_refresh(is_mandatory=True)
            return self.held != rejected


class _Given(CredentialProvider):  # type: ignore[misc]
    """A credential provider that hands the client the facade's own credentials object."""

    METHOD = "cloudfront-facade"
    CANONICAL_NAME = "cloudfront-facade"

    def __init__(self, credentials: FacadeCredentials) -> None:
        super().__init__()
        self._credentials = credentials

    async def load(self) -> FacadeCredentials:
        return self._credentials


def _frozen_metadata(frozen: Any, expires: datetime) -> Metadata:
    return {
        "access_key": frozen.access_key,
        "secret_key": frozen.secret_key,
        "token": frozen.token,
        "expiry_time": _iso(expires),
    }


async def _chain(session: AioSession) -> Any:
    return await session.get_component("credential_provider").load_credentials()


async def _reload_static() -> Metadata:
    """Static keys anew: a fresh session re-reads the environment and the files."""
    found = await _chain(get_session())
    if found is None:
        raise boto.NoCredentialsError()
    return _frozen_metadata(await found.get_frozen_credentials(), _now() + _NEVER)


class CredentialsMissing(RuntimeError):
    """The chain found no credentials at all."""


async def resolve(
    session: AioSession,
    *,
    region: str,
    role_arn: str | None = None,
    external_id: str | None = None,
    session_name: str = "cloudfront-facade",
    explicit: Metadata | None = None,
    stats: CredentialStats | None = None,
) -> FacadeCredentials:
    """The facade's credentials, fetched once, installed as `session`'s credential provider."""
    stats = stats or CredentialStats()
    if explicit is not None:
        static = {**explicit, "expiry_time": _iso(_now() + _NEVER)}

        async def same() -> Metadata:
            return static

        credentials = await FacadeCredentials.start("explicit", same, stats)
    else:
        credentials = await _from_chain(session, stats)
        if role_arn is not None:
            credentials = await _assume(
                session, credentials, stats, region, role_arn, external_id, session_name
            )
    session.register_component("credential_provider", AioCredentialResolver([_Given(credentials)]))
    return credentials


async def _from_chain(session: AioSession, stats: CredentialStats) -> FacadeCredentials:
    found = await _chain(session)
    if found is None:
        raise CredentialsMissing(
            "no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
            "AWS_PROFILE, or run with a pod/instance role; or start with --emulator"
        )
    method = str(getattr(found, "method", "unknown"))
    fetcher = getattr(found, "_refresh_using", None)  # see the module docstring
    if isinstance(found, AioRefreshableCredentials) and fetcher is not None:
        try:
            return await FacadeCredentials.start(method, fetcher, stats)
        except CredentialsRefreshFailed as error:
            raise CredentialsMissing(
                f"AWS credentials from {method} could not be fetched: {error.cause}"
            ) from None
    return await FacadeCredentials.start(method, _reload_static, stats)


class _NoCache(dict[str, Any]):
    """The fetcher's cache, disabled: the refresh windows above decide when to fetch."""

    def __setitem__(self, key: str, value: Any) -> None:
        return None


async def _assume(
    session: AioSession,
    base: FacadeCredentials,
    stats: CredentialStats,
    region: str,
    role_arn: str,
    external_id: str | None,
    session_name: str,
) -> FacadeCredentials:
    def client_creator(service_name: str, **kwargs: Any) -> Any:
        # Honours AWS_ENDPOINT_URL_STS and the profile's sts settings like any client.
        return session.create_client(service_name, region_name=region, **kwargs)

    extra: dict[str, str] = {"RoleSessionName": session_name}
    if external_id is not None:
        extra["ExternalId"] = external_id
    fetcher = AioAssumeRoleCredentialFetcher(
        client_creator, base, role_arn, extra_args=extra, cache=_NoCache()
    )
    try:
        return await FacadeCredentials.start(ROLE_SOURCE, fetcher.fetch_credentials, stats)
    except CredentialsRefreshFailed as error:
        hint = " (is --aws-role-external-id right?)" if "AccessDenied" in error.cause else ""
        raise StartupError(
            f"--aws-role-arn {role_arn}", f"AssumeRole failed: {error.cause}{hint}"
        ) from None
