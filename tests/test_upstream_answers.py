"""Answers from an upstream that is not CloudFront are checked, never trusted.

One facade per module in front of :class:`tests.upstream.MisbehavingUpstream`, a real aiohttp
server that answers what each test sets: a proxy's HTML page, a captive portal's 200, an empty
502, a request id no header can carry.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import grpc
import pytest
import pytest_asyncio

from service._gen.cloudfront.v1 import origin_access_identity_service_pb2 as pb
from service._gen.cloudfront.v1 import origin_access_identity_service_pb2_grpc as pb_grpc
from tests.conftest import error_info
from tests.upstream import Facing, Reply, facade_in_front_of_upstream

pytestmark = pytest.mark.asyncio(loop_scope="module")

S = grpc.StatusCode
XMLNS = "http://cloudfront.amazonaws.com/doc/2020-05-31/"
LIST = pb.ListCloudFrontOriginAccessIdentitiesRequest()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def facing() -> AsyncIterator[Facing]:
    async with facade_in_front_of_upstream() as started:
        yield started


@pytest.fixture
def stub(facing: Facing) -> pb_grpc.OriginAccessIdentityServiceStub:
    return pb_grpc.OriginAccessIdentityServiceStub(facing.channel)


async def test_an_exception_nothing_maps_is_internal_and_logged_once_with_its_traceback(
    facing: Facing,
    stub: pb_grpc.OriginAccessIdentityServiceStub,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # botocore's parser raises a bare ValueError for an integer it cannot read: not a
    # failure the error table knows, so the facade cannot tell it from a bug of its own.
    facing.upstream.reply = Reply(
        200,
        (
            f'<CloudFrontOriginAccessIdentityList xmlns="{XMLNS}"><Marker></Marker>'
            "<MaxItems>many</MaxItems><IsTruncated>false</IsTruncated><Quantity>0</Quantity>"
            "</CloudFrontOriginAccessIdentityList>"
        ),
    )
    caplog.set_level(logging.WARNING)
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await stub.ListCloudFrontOriginAccessIdentities(LIST, timeout=10)
    assert failure.value.code() is S.INTERNAL
    assert failure.value.details() == "internal error in the facade; see its log"
    info = error_info(failure.value)
    assert (info.reason, info.domain) == ("INTERNAL", "cloudfront-facade")
    logged = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(logged) == 1, [r.getMessage() for r in logged]
    assert logged[0].exc_info is not None
    assert logged[0].exc_info[0] is ValueError
    assert "ListCloudFrontOriginAccessIdentities" in logged[0].getMessage()
