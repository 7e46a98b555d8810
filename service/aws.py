"""The AWS side: one aioboto3 session and one long-lived CloudFront client per process.

The client is created and closed inside the running event loop (aiobotocore's advice for
long-lived clients), with a connection pool as large as the number of calls the server admits
at once, so the pool never serialises calls (botocore's default of 10 would).
"""

from __future__ import annotations

import asyncio
import functools
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import aioboto3
from aiobotocore.config import AioConfig
from aiobotocore.session import AioSession
from botocore import handlers as botocore_handlers
from botocore import xform_name
from botocore.loaders import Loader
from botocore.model import ServiceModel

from service.config import Settings

DEFAULT_REGION = "us-east-1"  # CloudFront is global; SigV4 signs it for us-east-1.


def _user_agent() -> str:
    try:
        return f"cloudfront-facade/{metadata.version('cloudfront-facade')}"
    except metadata.PackageNotFoundError:  # run from a source tree that is not installed
        return "cloudfront-facade"


# Replaces botocore's own User-Agent, which it builds twice per call (OS, language, feature
# ids...): measured at ~28% of the SDK's instructions per Get. botocore appends its version.
USER_AGENT = _user_agent()


# botocore's built-in handlers that do nothing for CloudFront's operations yet run on every call
# (event, handler name in botocore.handlers); unregistered from the facade's client only.
# Checked against botocore 1.40.61's handlers.py and CloudFront's 2020-05-31 model; a test
# asserts each is still registered for its event, so an upgrade that renames one fails CI.
NOOP_HANDLERS: tuple[tuple[str, str], ...] = (
    # Fills members marked idempotencyToken: CloudFront's model has none (CallerReference is
    # an ordinary required member the caller supplies).
    ("before-parameter-build", "generate_idempotent_uuid"),
    # Sets the httpChecksum requestValidationModeMember: no CloudFront operation has one.
    ("before-parameter-build", "_handle_request_validation_mode_member"),
    # Adds X-Amzn-Trace-Id only inside AWS Lambda (AWS_LAMBDA_FUNCTION_NAME and
    # _X_AMZN_TRACE_ID set); the facade is a long-lived sidecar, not a Lambda function.
    ("before-call", "add_recursion_detection_header"),
    # Adds x-amz-api-version for endpoint-discovery operations only; CloudFront has none.
    ("before-call", "inject_api_version_header_if_needed"),
    # choose-signer: CloudFront's operations carry no auth/authtype trait of their own, and the
    # service's only auth option is aws.auth#sigv4, so both resolve to the signer the client
    # already uses ("v4"); unsigned payloads, bearer tokens and sigv4a never apply. Dropped
    # together, since the second only runs when the first answers nothing.
    ("choose-signer", "set_operation_specific_signer"),
    ("choose-signer", "_set_auth_scheme_preference_signer"),
    # Kept on purpose: add_retry_headers (amz-sdk-invocation-id, amz-sdk-request attempt=N).
)


def drop_noop_handlers(events: Any) -> None:
    """Unregister NOOP_HANDLERS from one client's event emitter (public botocore API)."""
    for event, name in NOOP_HANDLERS:
        handler = getattr(botocore_handlers, name, None)
        if handler is not None:  # renamed in a newer botocore: keep calling it (test fails)
            events.unregister(event, handler)


# endpoints.json keys (endpoint prefixes) of the services this process creates clients for:
# CloudFront, and STS / SSO / SSO-OIDC, which botocore's credential providers call. The rest of
# endpoints.json (~300 services per partition, ~6.7 MB resident once parsed) is never read.
ENDPOINT_PREFIXES = frozenset({"cloudfront", "sts", "portal.sso", "oidc"})


class _TrimmedEndpoints:
    """botocore's file loader, except that endpoints.json keeps only ENDPOINT_PREFIXES' entries.

    In memory, at load time: the image's root filesystem is read-only, and the data still comes
    from botocore's own path, so botocore keeps treating it as its built-in data. Partitions,
    regions, defaults and variants (FIPS, dual-stack) stay whole, as do the rulesets."""

    def __init__(self, files: Any) -> None:
        self._files = files

    def exists(self, file_path: str) -> bool:
        return bool(self._files.exists(file_path))

    def load_file(self, file_path: str) -> Any:
        data = self._files.load_file(file_path)
        if data is not None and os.path.basename(file_path) == "endpoints":
            for partition in data.get("partitions", ()):
                services = partition.get("services", {})
                partition["services"] = {
                    name: entry for name, entry in services.items() if name in ENDPOINT_PREFIXES
                }
        return data


@functools.cache
def data_loader() -> Loader:
    # One loader for the process: its cache then holds one parsed copy of each model, shared by
    # the client and by validation's reads of the same CloudFront model (~4 MB each copy).
    loader: Loader = AioSession().get_component("data_loader")  # honours AWS_DATA_PATH
    loader.file_loader = _TrimmedEndpoints(loader.file_loader)
    return loader


def botocore_session() -> AioSession:
    """A botocore session on the shared, endpoints-trimming data loader (public component API)."""
    session = AioSession()
    session.register_component("data_loader", data_loader())
    return session


class CredentialsMissing(RuntimeError):
    """No AWS credentials could be found at start."""


@dataclass(frozen=True, slots=True)
class StaticCredentials:
    """Keys given explicitly, or a snapshot of those resolved at start (kept so the log
    redactor knows what to hide; `method` says where botocore found them)."""

    access_key_id: str
    secret_access_key: str
    session_token: str | None = None
    method: str = "explicit"


class CloudFrontClient:
    """Calls CloudFront operations by their AWS name, bounded by the caller's deadline."""

    def __init__(self, client: Any, credentials: StaticCredentials) -> None:
        self._methods: dict[str, Callable[..., Awaitable[dict[str, Any]]]] = {}
        self._client = client
        self.credentials = credentials
        self.service_model: ServiceModel = client.meta.service_model

    @classmethod
    @asynccontextmanager
    async def open(
        cls,
        settings: Settings,
        *,
        endpoint_url: str | None = None,
        credentials: StaticCredentials | None = None,
    ) -> AsyncIterator[CloudFrontClient]:
        explicit: Mapping[str, str | None] = {}
        if credentials is not None:
            explicit = {
                "aws_access_key_id": credentials.access_key_id,
                "aws_secret_access_key": credentials.secret_access_key,
                "aws_session_token": credentials.session_token,
            }
        session = aioboto3.Session(botocore_session=botocore_session(), **explicit)
        resolved = await _resolve_credentials(session)
        async with session.client(
            "cloudfront",
            config=client_config(settings),
            endpoint_url=endpoint_url or settings.aws_endpoint_url,
            region_name=settings.aws_region or session.region_name or DEFAULT_REGION,
        ) as client:
            drop_noop_handlers(client.meta.events)
            yield cls(client, resolved)

    async def call(
        self, operation: str, params: Mapping[str, Any], deadline: float | None
    ) -> dict[str, Any]:
        """Run one AWS operation within `deadline` seconds (the caller's remaining deadline)."""
        method = self._methods.get(operation)
        if method is None:
            method = self._methods[operation] = getattr(self._client, xform_name(operation))
        if deadline is None:
            return await method(**params)
        async with asyncio.timeout(deadline):
            return await method(**params)


def client_config(settings: Settings) -> AioConfig:
    """botocore settings; retries are passed only when set, so AWS_MAX_ATTEMPTS and
    AWS_RETRY_MODE keep working."""
    retries: dict[str, Any] = {}
    if settings.aws_max_attempts is not None:
        retries["total_max_attempts"] = settings.aws_max_attempts
    if settings.aws_retry_mode is not None:
        retries["mode"] = settings.aws_retry_mode
    return AioConfig(
        max_pool_connections=settings.pool_size,
        connect_timeout=settings.aws_connect_timeout,
        read_timeout=settings.aws_read_timeout,
        retries=retries or None,
        # The facade validated every request already; botocore's second pass is pure cost.
        parameter_validation=False,
        user_agent=USER_AGENT,
    )


async def _resolve_credentials(session: Any) -> StaticCredentials:
    credentials = await session.get_credentials()
    if credentials is None:
        raise CredentialsMissing(
            "no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
            "AWS_PROFILE, or run with a pod/instance role; or start with --emulator"
        )
    frozen = await credentials.get_frozen_credentials()
    return StaticCredentials(
        access_key_id=frozen.access_key,
        secret_access_key=frozen.secret_key,
        session_token=frozen.token,
        method=str(getattr(credentials, "method", "unknown")),
    )
