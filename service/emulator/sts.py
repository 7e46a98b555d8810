"""An emulated STS (Query protocol, 2011-06-15) and container credentials endpoint.

Both hand out temporary credentials from one :class:`CredentialRegistry`; the CloudFront
side's :class:`~service.emulator.sigv4.Authenticator` accepts those credentials (with their
session token) until they expire. Lifetimes are whatever the test chooses, seconds included,
so refreshes happen within a test. The registry's clock is injectable: emulator unit tests
advance it instead of sleeping.
"""

from __future__ import annotations

import dataclasses
import math
import secrets
import string
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import parse_qsl

from aiohttp import web

from service.emulator import sigv4
from service.emulator.model import ApiError
from service.emulator.parking import Parking, Stopped
from service.emulator.wire import REQUEST_ID_HEADER, escape

NAMESPACE: Final = "https://sts.amazonaws.com/doc/2011-06-15/"
VERSION: Final = "2011-06-15"
CONTAINER_PATH: Final = "/_emulator/container-credentials"
DEFAULT_CONTAINER_ROLE_ARN: Final = "arn:aws:iam::123456789012:role/emulated-pod-identity"

# Actions as they appear in the request log.
ASSUME_ROLE: Final = "AssumeRole"
ASSUME_ROLE_WITH_WEB_IDENTITY: Final = "AssumeRoleWithWebIdentity"
CONTAINER_CREDENTIALS: Final = "ContainerCredentials"
OK: Final = "ok"

_KEY_ALPHABET: Final = string.ascii_uppercase + string.digits
_XML_DECL: Final = '<?xml version="1.0" encoding="UTF-8"?>\n'
_UNAVAILABLE: Final = "The service is unavailable. Please try again later."


@dataclass(frozen=True, slots=True)
class TemporaryCredentials:
    """One set of issued credentials; ``source`` names what issued them (an action)."""

    access_key_id: str
    secret_access_key: str
    session_token: str
    expiration: datetime
    source: str
    role_arn: str | None = None

    def __repr__(self) -> str:
        # Keeps the secret and the token out of test failure output and logs.
        return (
            f"TemporaryCredentials(access_key_id={self.access_key_id!r}, "
            f"expiration={self.expiration.isoformat()!r}, source={self.source!r}, "
            f"role_arn={self.role_arn!r})"
        )


def iso8601(moment: datetime) -> str:
    """The timestamp form STS and the container endpoint use: 2026-01-01T00:00:00Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class CredentialRegistry:
    """Issues temporary credentials and answers whether a key is known and unexpired."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._issued: dict[str, TemporaryCredentials] = {}

    @property
    def clock(self) -> Callable[[], float]:
        return self._clock

    def issue(
        self, *, lifetime: float, source: str, role_arn: str | None = None
    ) -> TemporaryCredentials:
        if not math.isfinite(lifetime) or lifetime <= 0:
            raise ValueError("lifetime must be a positive number of seconds")
        # Whole seconds, as STS writes them; rounded up so no lifetime is cut short.
        expires_at = math.ceil(self._clock() + lifetime)
        credentials = TemporaryCredentials(
            access_key_id="ASIA" + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(16)),
            secret_access_key=secrets.token_urlsafe(30),
            session_token=secrets.token_urlsafe(96),
            expiration=datetime.fromtimestamp(expires_at, UTC),
            source=source,
            role_arn=role_arn,
        )
        self._issued[credentials.access_key_id] = credentials
        return credentials

    def lookup(self, access_key_id: str) -> TemporaryCredentials | None:
        return self._issued.get(access_key_id)

    def is_expired(self, credentials: TemporaryCredentials) -> bool:
        return self._clock() >= credentials.expiration.timestamp()

    def issued(self) -> list[TemporaryCredentials]:
        """Every set issued so far, oldest first."""
        return list(self._issued.values())


@dataclass(frozen=True, slots=True)
class RoleRule:
    """What a role's trust policy demands.

    ``external_id``: AssumeRole must carry this ExternalId (None: any or none).
    ``web_identity_token``: AssumeRoleWithWebIdentity must carry exactly this token (the
    token file's content); None means the role cannot be assumed with a web identity.
    ``lifetime``: seconds the credentials last when the request has no DurationSeconds.
    """

    external_id: str | None = None
    web_identity_token: str | None = None
    lifetime: float = 900.0

    def __post_init__(self) -> None:
        if not math.isfinite(self.lifetime) or self.lifetime <= 0:
            raise ValueError("lifetime must be a positive number of seconds")


@dataclass(frozen=True, slots=True)
class StsRecord:
    """One STS or container endpoint request; ``outcome`` is "ok" or the error code.

    ``signed_by`` is the access key id an AssumeRole's signature names (verified when the
    outcome is ok); ``issued`` the access key id handed out. Never secrets or tokens.
    """

    action: str | None
    role_arn: str | None
    signed_by: str | None
    issued: str | None
    outcome: str
    status: int
    time: float = field(default_factory=time.monotonic)


def _error_document(error: ApiError, request_id: str) -> bytes:
    kind = "Receiver" if error.status >= 500 else "Sender"
    return (
        f'{_XML_DECL}<ErrorResponse xmlns="{NAMESPACE}"><Error><Type>{kind}</Type>'
        f"<Code>{escape(error.code)}</Code><Message>{escape(error.message)}</Message></Error>"
        f"<RequestId>{request_id}</RequestId></ErrorResponse>"
    ).encode()


def _xml(body: bytes, status: int, request_id: str) -> web.Response:
    return web.Response(
        body=body,
        status=status,
        headers={"Content-Type": "text/xml", REQUEST_ID_HEADER: request_id},
    )


def _validation(message: str) -> ApiError:
    return ApiError("ValidationError", message, 400)


def _access_denied(principal: str, action: str, role_arn: str) -> ApiError:
    return ApiError(
        "AccessDenied",
        f"User: {principal} is not authorized to perform: sts:{action} on resource: {role_arn}",
        403,
    )


def _assumed_role_user(role_arn: str, session_name: str) -> str:
    # arn:aws:iam::<account>:role/<path/name> -> arn:aws:sts::<account>:assumed-role/<name>/<s>
    parts = role_arn.split(":", 5)
    account = parts[4] if len(parts) == 6 else "123456789012"
    name = parts[5].rpartition("/")[2] if len(parts) == 6 else role_arn
    role_id = "AROA" + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(17))
    arn = f"arn:aws:sts::{account}:assumed-role/{escape(name)}/{escape(session_name)}"
    return (
        f"<AssumedRoleUser><AssumedRoleId>{role_id}:{escape(session_name)}</AssumedRoleId>"
        f"<Arn>{arn}</Arn></AssumedRoleUser>"
    )


_CONFIG_FIELDS: Final = frozenset(
    {"available", "hold", "roles", "container_token", "container_lifetime", "container_role_arn"}
)


def _role_rule(arn: object, data: object) -> RoleRule:
    if not isinstance(arn, str) or not arn or not isinstance(data, dict):
        raise ValueError("roles must map role ARNs to objects")
    unknown = set(data) - {"external_id", "web_identity_token", "lifetime"}
    if unknown:
        raise ValueError(f"unknown role field {sorted(unknown)[0]!r}")
    for name in ("external_id", "web_identity_token"):
        if data.get(name) is not None and not isinstance(data[name], str):
            raise ValueError(f"{name} must be a string or null")
    lifetime = data.get("lifetime", 900.0)
    if isinstance(lifetime, bool) or not isinstance(lifetime, int | float):
        raise ValueError("lifetime must be a number of seconds")
    return RoleRule(data.get("external_id"), data.get("web_identity_token"), float(lifetime))


class StsEmulator:
    """STS's AssumeRole and AssumeRoleWithWebIdentity, and the container endpoint.

    Configure at any time from a test: ``roles``, ``available``, ``container_token`` (the
    ``Authorization`` header the container endpoint requires; None accepts any),
    ``container_lifetime`` and ``container_role_arn``. ``hold`` parks every STS and
    container request in the emulator's hold (``wait_held``/``release_held``) before it is
    answered, by the configuration as it is at release: a refresh caught in flight.
    """

    def __init__(
        self,
        registry: CredentialRegistry,
        credentials: Mapping[str, str] | None = None,
        session_token: str | None = None,
        *,
        container_path: str = CONTAINER_PATH,
        request_log_limit: int | None = 100_000,
        request_id: Callable[[], str] = lambda: str(uuid.uuid4()),
        parking: Parking | None = None,
    ) -> None:
        self._request_id = request_id
        self._parking = parking if parking is not None else Parking()
        self.hold = False
        self.registry = registry
        self.roles: dict[str, RoleRule] = {}
        self.available = True
        self.container_path = container_path
        self.container_token: str | None = None
        self.container_lifetime = 900.0
        self.container_role_arn: str | None = DEFAULT_CONTAINER_ROLE_ARN
        self.request_log: list[StsRecord] = []
        self._request_log_limit = request_log_limit
        self._auth = sigv4.Authenticator(
            credentials, session_token, registry=registry, service="sts"
        )

    def add_routes(self, app: web.Application) -> None:
        """Mount on ``app``; call before any catch-all route that would shadow these."""
        app.router.add_post("/", self.handle_query)
        app.router.add_get(self.container_path, self.handle_container)

    def clear_request_log(self) -> None:
        self.request_log.clear()

    def state(self) -> dict[str, Any]:
        """The configuration as JSON (the container token only as whether one is set)."""
        return {
            "available": self.available,
            "hold": self.hold,
            "roles": {arn: dataclasses.asdict(rule) for arn, rule in self.roles.items()},
            "container_path": self.container_path,
            "container_token_set": self.container_token is not None,
            "container_lifetime": self.container_lifetime,
            "container_role_arn": self.container_role_arn,
        }

    def configure(self, data: Mapping[str, Any]) -> None:
        """Apply decoded JSON: any of ``available``, ``roles`` (added or replaced, by ARN),
        ``container_token``, ``container_lifetime``, ``container_role_arn``.

        Checks everything first, so a bad field changes nothing.
        """
        unknown = set(data) - _CONFIG_FIELDS
        if unknown:
            raise ValueError(f"unknown field {sorted(unknown)[0]!r}")
        available = data.get("available", self.available)
        if not isinstance(available, bool):
            raise ValueError("available must be true or false")
        hold = data.get("hold", self.hold)
        if not isinstance(hold, bool):
            raise ValueError("hold must be true or false")
        roles = data.get("roles", {})
        if not isinstance(roles, dict):
            raise ValueError("roles must be an object of role ARN to rule")
        rules = {arn: _role_rule(arn, rule) for arn, rule in roles.items()}
        token = data.get("container_token", self.container_token)
        if token is not None and not isinstance(token, str):
            raise ValueError("container_token must be a string or null")
        lifetime = data.get("container_lifetime", self.container_lifetime)
        if isinstance(lifetime, bool) or not isinstance(lifetime, int | float) or lifetime <= 0:
            raise ValueError("container_lifetime must be a positive number of seconds")
        role_arn = data.get("container_role_arn", self.container_role_arn)
        if role_arn is not None and not isinstance(role_arn, str):
            raise ValueError("container_role_arn must be a string or null")
        self.available = available
        self.hold = hold
        self.roles.update(rules)
        self.container_token = token
        self.container_lifetime = float(lifetime)
        self.container_role_arn = role_arn

    def _log(self, record: StsRecord) -> None:
        log = self.request_log
        log.append(record)
        limit = self._request_log_limit
        if limit is not None and len(log) > limit + max(1, limit // 4):
            del log[: len(log) - limit]

    # -- the Query protocol --------------------------------------------------------

    async def handle_query(self, request: web.Request) -> web.Response:
        request_id = self._request_id()
        body = await request.read()
        held = await self._held()
        params = dict(request.query)
        params.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        action = params.get("Action")
        role_arn = params.get("RoleArn")
        signed_by: str | None = None
        try:
            if not self.available or not held:
                raise ApiError("ServiceUnavailable", _UNAVAILABLE, 503)
            if action not in (ASSUME_ROLE, ASSUME_ROLE_WITH_WEB_IDENTITY) or (
                params.get("Version") != VERSION
            ):
                raise ApiError(
                    "InvalidAction",
                    f"Could not find operation {action} for version {params.get('Version')}",
                    400,
                )
            if action == ASSUME_ROLE:
                # Logged even when refused (an expired key, say); verified when the outcome is ok.
                signed_by = sigv4.access_key_of(request.headers)
                signed_by = self._auth.check(
                    request.method, request.raw_path, request.headers, body
                )
            credentials, result = self._assume(action, params, signed_by)
        except ApiError as error:
            self._log(StsRecord(action, role_arn, signed_by, None, error.code, error.status))
            return _xml(_error_document(error, request_id), error.status, request_id)
        self._log(StsRecord(action, role_arn, signed_by, credentials.access_key_id, OK, 200))
        document = (
            f'{_XML_DECL}<{action}Response xmlns="{NAMESPACE}"><{action}Result>{result}'
            f"</{action}Result><ResponseMetadata><RequestId>{request_id}</RequestId>"
            f"</ResponseMetadata></{action}Response>"
        )
        return _xml(document.encode(), 200, request_id)

    def _assume(
        self, action: str, params: Mapping[str, str], signed_by: str | None
    ) -> tuple[TemporaryCredentials, str]:
        role_arn = params.get("RoleArn")
        session_name = params.get("RoleSessionName")
        if not role_arn:
            raise _validation(
                "1 validation error detected: Value null at 'roleArn' failed to "
                "satisfy constraint: Member must not be null"
            )
        if not session_name:
            raise _validation(
                "1 validation error detected: Value null at 'roleSessionName' "
                "failed to satisfy constraint: Member must not be null"
            )
        rule = self.roles.get(role_arn)
        if action == ASSUME_ROLE_WITH_WEB_IDENTITY:
            principal = "web identity"
            if rule is None or rule.web_identity_token is None:
                raise _access_denied(principal, action, role_arn)
            if params.get("WebIdentityToken") != rule.web_identity_token:
                raise ApiError(
                    "InvalidIdentityToken",
                    "The web identity token that was passed is invalid.",
                    400,
                )
        else:
            principal = f"arn:aws:iam::123456789012:user/{signed_by}"
            if rule is None:
                raise _access_denied(principal, action, role_arn)
            if rule.external_id is not None and params.get("ExternalId") != rule.external_id:
                raise _access_denied(principal, action, role_arn)
        lifetime = rule.lifetime
        raw_duration = params.get("DurationSeconds")
        if raw_duration is not None:
            if not raw_duration.isdigit() or int(raw_duration) < 1:
                raise _validation(
                    f"1 validation error detected: Value '{raw_duration}' at 'durationSeconds' "
                    "failed to satisfy constraint: Member must be a positive integer"
                )
            lifetime = float(raw_duration)
        credentials = self.registry.issue(lifetime=lifetime, source=action, role_arn=role_arn)
        result = (
            f"<Credentials><AccessKeyId>{credentials.access_key_id}</AccessKeyId>"
            f"<SecretAccessKey>{escape(credentials.secret_access_key)}</SecretAccessKey>"
            f"<SessionToken>{escape(credentials.session_token)}</SessionToken>"
            f"<Expiration>{iso8601(credentials.expiration)}</Expiration></Credentials>"
            f"{_assumed_role_user(role_arn, session_name)}"
        )
        return credentials, result

    # -- the container credentials endpoint -----------------------------------------

    async def handle_container(self, request: web.Request) -> web.Response:
        held = await self._held()
        role_arn = self.container_role_arn
        if not held or not self.available:
            return self._container_error("ServiceUnavailable", _UNAVAILABLE, 503)
        token = self.container_token
        if token is not None and request.headers.get("Authorization") != token:
            return self._container_error(
                "AccessDenied", "The Authorization header is missing or wrong.", 401
            )
        credentials = self.registry.issue(
            lifetime=self.container_lifetime, source=CONTAINER_CREDENTIALS, role_arn=role_arn
        )
        self._log(
            StsRecord(CONTAINER_CREDENTIALS, role_arn, None, credentials.access_key_id, OK, 200)
        )
        return web.json_response(
            {
                "AccessKeyId": credentials.access_key_id,
                "SecretAccessKey": credentials.secret_access_key,
                "Token": credentials.session_token,
                "Expiration": iso8601(credentials.expiration),
            }
        )

    async def _held(self) -> bool:
        """Wait out a hold; False when the emulator stopped meanwhile."""
        if not self.hold:
            return True
        try:
            await self._parking.hold()
        except Stopped:
            return False
        return True

    def _container_error(self, code: str, message: str, status: int) -> web.Response:
        self._log(
            StsRecord(CONTAINER_CREDENTIALS, self.container_role_arn, None, None, code, status)
        )
        return web.json_response({"code": code, "message": message}, status=status)
