"""The caller's bearer token: the scheme is case-insensitive (RFC 7235 section 2.1, RFC 6750),
the token is not."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import grpc
import pytest
import pytest_asyncio

from service._gen.cloudfront.v1 import origin_access_identity_service_pb2 as pb
from service._gen.cloudfront.v1 import origin_access_identity_service_pb2_grpc as pb_grpc
from service.server import running
from tests.conftest import TEST_SETTINGS, error_info

pytestmark = pytest.mark.asyncio(loop_scope="module")

TOKEN = "a-long-caller-token-0123456789"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def channel() -> AsyncIterator[grpc.aio.Channel]:
    async with running(dataclasses.replace(TEST_SETTINGS, auth_token=TOKEN)) as facade:
        async with grpc.aio.insecure_channel(facade.address) as opened:
            yield opened


async def _list(channel: grpc.aio.Channel, authorization: str) -> None:
    await pb_grpc.OriginAccessIdentityServiceStub(channel).ListCloudFrontOriginAccessIdentities(
        pb.ListCloudFrontOriginAccessIdentitiesRequest(),
        metadata=(("authorization", authorization),),
        timeout=10,
    )


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "bEaReR"])
async def test_the_bearer_scheme_is_accepted_in_any_case(
    channel: grpc.aio.Channel, scheme: str
) -> None:
    await _list(channel, f"{scheme} {TOKEN}")


@pytest.mark.parametrize(
    "authorization",
    [f"Basic {TOKEN}", f"Bearer {TOKEN.upper()}", f"Bearer{TOKEN}", f"Bearer {TOKEN}x", TOKEN],
    ids=["other-scheme", "token-case-differs", "no-space", "longer-token", "no-scheme"],
)
async def test_anything_but_bearer_and_the_exact_token_is_refused(
    channel: grpc.aio.Channel, authorization: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await _list(channel, authorization)
    assert refused.value.code() is grpc.StatusCode.UNAUTHENTICATED
    assert error_info(refused.value).reason == "CALLER_UNAUTHENTICATED"
