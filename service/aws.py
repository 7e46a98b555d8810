"""The AWS side: one aioboto3 session and one long-lived CloudFront client per process.

The client is created and closed inside the running event loop (aiobotocore's advice for
long-lived clients), with a connection pool as large as the number of calls the server admits
at once, so the pool never serialises calls (botocore's default of 10 would).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import aioboto3
from aiobotocore.config import AioConfig
from aiobotocore.session import AioSession, get_session
from botocore import handlers as botocore_handlers
from botocore import xform_name
from botocore.exceptions import ClientError
from botocore.loaders import Loader, create_loader
from botocore.model import ServiceModel

from service.config import Settings
from service.credentials import (
    REJECTED_CODES,
    CredentialsMissing,
    FacadeCredentials,
    resolve,
)

__all__ = ["CloudFrontClient", "CredentialsMissing", "StaticCredentials", "client_config"]

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


# The parsed model and endpoint files, by data path: immutable data that every session of this
# process can share. Parsing them costs a quarter of a second of CPU per session, paid once per
# start of a facade (a test process starts hundreds).
_LOADERS: dict[str | None, Loader] = {}


def data_loader(data_path: str | None = None) -> Loader:
    """The process's loader for `data_path`, trimming endpoints.json (_TrimmedEndpoints): its
    cache holds one parsed copy of each file, shared by every session and by validation."""
    loader = _LOADERS.get(data_path)
    if loader is None:
        loader = _LOADERS[data_path] = create_loader(data_path)
        loader.file_loader = _TrimmedEndpoints(loader.file_loader)  # a public attribute
    return loader


def botocore_session() -> AioSession:
    """A new botocore session, like aioboto3's default, whose loader is shared per data path
    (the path botocore's own loader would read: AWS_DATA_PATH or the config's data_path)."""
    core = get_session()
    core.register_component("data_loader", data_loader(core.get_config_variable("data_path")))
    return core


@dataclass(frozen=True, slots=True)
class StaticCredentials:
    """Keys given explicitly (the embedded emulator's)."""

    access_key_id: str
    secret_access_key: str
    session_token: str | None = None
    method: str = "explicit"


class CloudFrontClient:
    """Calls CloudFront operations by their AWS name, bounded by the caller's deadline."""

    def __init__(self, client: Any, credentials: FacadeCredentials) -> None:
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
        core = botocore_session()
        region = settings.aws_region or core.get_config_variable("region") or DEFAULT_REGION
        # Also for the STS clients the chain creates (a profile's role_arn + source_profile),
        # which otherwise fail with "You must specify a region" where none is configured.
        core.set_config_variable("region", region)
        explicit = None
        if credentials is not None:
            explicit = {
                "access_key": credentials.access_key_id,
                "secret_key": credentials.secret_access_key,
                "token": credentials.session_token,
            }
        resolved = await resolve(
            core,
            region=region,
            role_arn=settings.aws_role_arn,
            external_id=settings.aws_role_external_id,
            session_name=settings.aws_role_session_name,
            explicit=explicit,
        )
        # The session's credential provider now hands out `resolved`: the client signs every
        # call with the keys it holds at that moment.
        session = aioboto3.Session(botocore_session=core)
        async with session.client(
            "cloudfront",
            config=client_config(settings),
            endpoint_url=endpoint_url or settings.aws_endpoint_url,
            region_name=region,
        ) as client:
            drop_noop_handlers(client.meta.events)
            yield cls(client, resolved)

    async def call(
        self, operation: str, params: Mapping[str, Any], deadline: float | None
    ) -> dict[str, Any]:
        """Run one AWS operation within `deadline` seconds (the caller's remaining deadline)."""
        if deadline is None:
            return await self._call(operation, params)
        async with asyncio.timeout(deadline):
            return await self._call(operation, params)

    async def _call(self, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        method = self._methods.get(operation)
        if method is None:
            method = self._methods[operation] = getattr(self._client, xform_name(operation))
        used = self.credentials.held
        try:
            return await method(**params)
        except ClientError as error:
            # Keys AWS refuses as expired or unknown: fetch anew (STS, or a rewritten
            # shared-credentials file) and, when that gave other keys, retry once. AWS refused
            # the request before acting on it, so a retry cannot apply a change twice.
            if error.response.get("Error", {}).get("Code") not in REJECTED_CODES:
                raise
            if not await self.credentials.renew(used):
                raise
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
