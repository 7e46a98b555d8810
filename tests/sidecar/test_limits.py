"""The concurrency bound answers RESOURCE_EXHAUSTED at once instead of queueing without end."""

from __future__ import annotations

import asyncio

import grpc
from google.rpc import error_details_pb2

from service._gen.cloudfront.v1 import origin_access_identity_service_pb2 as pb
from service._gen.cloudfront.v1 import origin_access_identity_service_pb2_grpc as pb_grpc
from service.aws import client_config
from service.emulator import FaultRule
from tests.conftest import FacadeFactory, detail, error_info

LIST = pb.ListCloudFrontOriginAccessIdentitiesRequest()


async def test_calls_beyond_the_limit_fail_fast_and_admitted_ones_complete(
    facade_factory: FacadeFactory,
) -> None:
    async with facade_factory(max_concurrency=4) as facade:
        assert facade.emulator is not None
        facade.emulator.add_fault(FaultRule(latency=0.5))
        async with grpc.aio.insecure_channel(facade.address) as channel:
            stub = pb_grpc.OriginAccessIdentityServiceStub(channel)
            loop = asyncio.get_running_loop()
            began = loop.time()
            calls = [asyncio.ensure_future(stub.ListCloudFrontOriginAccessIdentities(LIST))
                     for _ in range(12)]
            done, _ = await asyncio.wait(calls, timeout=0.3)
            rejected = [c.exception() for c in done]
            results = await asyncio.gather(*calls, return_exceptions=True)
            assert loop.time() - began < 2.0
            response_type = pb.ListCloudFrontOriginAccessIdentitiesResponse
            ok = [r for r in results if isinstance(r, response_type)]
            assert len(ok) == 4
            assert len(rejected) == 8, "the excess is refused within 0.3 s, not queued"
            for error in rejected:
                assert isinstance(error, grpc.aio.AioRpcError)
                assert error.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
                assert error_info(error).reason == "CONCURRENCY_LIMIT"
                detail(error, error_details_pb2.RetryInfo)
            assert len(facade.emulator.request_log) == 4
            # and the server recovers: the next call is admitted
            facade.emulator.clear_faults()
            await stub.ListCloudFrontOriginAccessIdentities(LIST)
            assert facade.guard.in_flight == 0


async def test_connection_pool_is_sized_to_the_concurrency_limit(
    facade_factory: FacadeFactory,
) -> None:
    async with facade_factory(max_concurrency=300) as facade:
        assert client_config(facade.settings).max_pool_connections == 300
