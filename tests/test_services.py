"""Services are registered from one list: each has its handlers, its health entry and its
reflection name, and a service is served by naming it in ``service.resources.SERVICES``."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest
import pytest_asyncio
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from service._gen.cloudfront.v1 import origin_access_control_service_pb2 as oac
from service._gen.cloudfront.v1 import origin_access_control_service_pb2_grpc as oac_grpc
from service.resources import SERVICE_NAMES, SERVICES
from tests.conftest import error_info
from tests.upstream import Facing, Reply, facade_in_front_of_upstream

pytestmark = pytest.mark.asyncio(loop_scope="module")

XMLNS = "http://cloudfront.amazonaws.com/doc/2020-05-31/"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def facing() -> AsyncIterator[Facing]:
    async with facade_in_front_of_upstream() as started:
        yield started


async def test_both_cloudfront_resources_are_listed() -> None:
    assert SERVICE_NAMES == (
        "cloudfront.v1.OriginAccessIdentityService",
        "cloudfront.v1.OriginAccessControlService",
    )
    assert [r.full_name for r in SERVICES] == list(SERVICE_NAMES)


@pytest.mark.parametrize("service", SERVICE_NAMES)
async def test_every_service_has_its_own_health_entry(facing: Facing, service: str) -> None:
    response = await health_pb2_grpc.HealthStub(facing.channel).Check(
        health_pb2.HealthCheckRequest(service=service), timeout=5
    )
    assert response.status == health_pb2.HealthCheckResponse.SERVING


async def test_reflection_lists_every_service(facing: Facing) -> None:
    stub = reflection_pb2_grpc.ServerReflectionStub(facing.channel)
    responses = stub.ServerReflectionInfo(
        iter([reflection_pb2.ServerReflectionRequest(list_services="")])
    )
    async for response in responses:
        names = {s.name for s in response.list_services_response.service}
        break
    assert set(SERVICE_NAMES) <= names


async def test_an_oac_create_that_already_exists_carries_the_requested_name(
    facing: Facing,
) -> None:
    # OAC create has no CallerReference: a retried create whose answer was lost comes back
    # ALREADY_EXISTS, and the name in it lets the caller find the one it made.
    facing.upstream.reply = Reply(
        409,
        f'<ErrorResponse xmlns="{XMLNS}"><Error><Type>Sender</Type>'
        "<Code>OriginAccessControlAlreadyExists</Code><Message>taken</Message></Error>"
        "<RequestId>r-409</RequestId></ErrorResponse>",
    )
    config = oac.OriginAccessControlConfig(
        name="assets-oac",
        signing_protocol=oac.ORIGIN_ACCESS_CONTROL_SIGNING_PROTOCOLS_SIGV4,
        signing_behavior=oac.ORIGIN_ACCESS_CONTROL_SIGNING_BEHAVIORS_ALWAYS,
        origin_access_control_origin_type=oac.ORIGIN_ACCESS_CONTROL_ORIGIN_TYPES_S3,
    )
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await oac_grpc.OriginAccessControlServiceStub(facing.channel).CreateOriginAccessControl(
            oac.CreateOriginAccessControlRequest(origin_access_control_config=config), timeout=10
        )
    assert failure.value.code() is grpc.StatusCode.ALREADY_EXISTS
    info = error_info(failure.value)
    assert info.reason == "ORIGIN_ACCESS_CONTROL_ALREADY_EXISTS"
    assert info.metadata["name"] == "assets-oac"
    assert info.metadata["awsRequestId"] == "r-409"
    assert [r.method for r in facing.upstream.requests][-1] == "POST"
