"""An upstream that is not CloudFront: a tiny aiohttp server on a free loopback port that answers
every request with whatever the test sets (a proxy's HTML page, a captive portal's 200, an
empty 502, an odd request id), for pointing the facade at with ``aws_endpoint_url``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field

import grpc
import pytest
from aiohttp import web

from service.server import Facade, running
from tests.conftest import TEST_SETTINGS


@dataclass(frozen=True)
class Reply:
    """One canned HTTP answer."""

    status: int = 200
    body: str | bytes = b""
    content_type: str = "text/xml"
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Seen:
    method: str
    path: str


class MisbehavingUpstream:
    """Answers every request with :attr:`reply`; records what it was asked."""

    def __init__(self) -> None:
        self.reply = Reply()
        self.requests: list[Seen] = []
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        await request.read()
        self.requests.append(Seen(request.method, request.path_qs))
        reply = self.reply
        body = reply.body.encode() if isinstance(reply.body, str) else reply.body
        response = web.Response(status=reply.status, body=body, headers=dict(reply.headers))
        response.content_type = reply.content_type
        return response

    async def __aenter__(self) -> MisbehavingUpstream:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._answer)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@contextmanager
def static_aws_credentials() -> Iterator[None]:
    """Dummy keys in the environment: an upstream that is not the emulator checks none."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AWS_ACCESS_KEY_ID", "AKIDNOTCLOUDFRONT000")
        env.setenv("AWS_SECRET_ACCESS_KEY", "not-cloudfront-secret-key")
        for name in (
            "AWS_SESSION_TOKEN",
            "AWS_PROFILE",
            "AWS_CONFIG_FILE",
            "AWS_SHARED_CREDENTIALS_FILE",
        ):
            env.delenv(name, raising=False)
        yield


@dataclass
class Facing:
    """A facade in front of a misbehaving upstream, with a channel to the facade."""

    upstream: MisbehavingUpstream
    facade: Facade
    channel: grpc.aio.Channel


@asynccontextmanager
async def facade_in_front_of_upstream() -> AsyncIterator[Facing]:
    with static_aws_credentials():
        async with MisbehavingUpstream() as upstream:
            settings = dataclasses.replace(
                TEST_SETTINGS, emulator=False, aws_endpoint_url=upstream.base_url
            )
            async with running(settings) as facade:
                async with grpc.aio.insecure_channel(facade.address) as channel:
                    yield Facing(upstream, facade, channel)
