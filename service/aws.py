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
from botocore.loaders import Loader, create_loader
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
        session = aioboto3.Session(botocore_session=_session(), **explicit)
        resolved = await _resolve_credentials(session)
        async with session.client(
            "cloudfront",
            config=client_config(settings),
            endpoint_url=endpoint_url or settings.aws_endpoint_url,
            region_name=settings.aws_region or session.region_name or DEFAULT_REGION,
        ) as client:
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
