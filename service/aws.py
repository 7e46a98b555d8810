"""The AWS side: one aioboto3 session and one long-lived CloudFront client per process.

The client is created and closed inside the running event loop (aiobotocore's advice for
long-lived clients), with a connection pool as large as the number of calls the server admits
at once, so the pool never serialises calls (botocore's default of 10 would).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import aioboto3
from aiobotocore.config import AioConfig
from aiobotocore.session import AioSession, get_session
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


# The parsed model and endpoint files, by data path: immutable data that every session of this
# process can share. Parsing them costs a quarter of a second of CPU per session, paid once per
# start of a facade (a test process starts hundreds).
_LOADERS: dict[str | None, Loader] = {}


def _session() -> AioSession:
    """A new botocore session, like aioboto3's default, whose loader is shared per data path
    (the path botocore's own loader would read: AWS_DATA_PATH or the config's data_path)."""
    core = get_session()
    data_path: str | None = core.get_config_variable("data_path")
    loader = _LOADERS.get(data_path)
    if loader is None:
        loader = _LOADERS[data_path] = create_loader(data_path)
    core.register_component("data_loader", loader)
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
        core = _session()
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
