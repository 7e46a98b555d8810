"""The concurrency bound answers RESOURCE_EXHAUSTED at once instead of queueing without end."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
from google.rpc import error_details_pb2

from service._gen.cloudfront.v1 import origin_access_identity_service_pb2 as pb
from service._gen.cloudfront.v1 import origin_access_identity_service_pb2_grpc as pb_grpc
from service.aws import client_config
from service.emulator import FaultRule
from tests.conftest import LIST, FacadeFactory, detail, error_info

# Only bounds waits that end early unless something is broken; nothing asserts a duration.
HANG_GUARD = 60.0


async def ended(calls: list[asyncio.Future[Any]], count: int) -> set[asyncio.Future[Any]]:
    """Wait until `count` of the calls have ended; returns those that have."""
    pending = set(calls)
    while len(calls) - len(pending) < count:
        _, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
    return set(calls) - pending


async def test_calls_beyond_the_limit_fail_fast_and_admitted_ones_complete(
    facade_factory: FacadeFactory,
) -> None:
    async with facade_factory(max_concurrency=4) as facade:
        emulator = facade.emulator
        assert emulator is not None
        emulator.add_fault(FaultRule(hold=True))
        async with grpc.aio.insecure_channel(facade.address) as channel:
            stub = pb_grpc.OriginAccessIdentityServiceStub(channel)
            calls = [
                asyncio.ensure_future(stub.ListCloudFrontOriginAccessIdentities(LIST))
                for _ in range(12)
            ]
            await asyncio.wait_for(emulator.wait_held(4), HANG_GUARD)
            # Upstream holds the 4 admitted calls: the other 8 can only end by being refused,
            # not by queueing behind them.
            refused = await asyncio.wait_for(ended(calls, 8), HANG_GUARD)
            assert len(refused) == 8
            assert emulator.held == 4
            emulator.clear_faults()
            assert emulator.release_held() == 4
            results = await asyncio.gather(*calls, return_exceptions=True)
            response_type = pb.ListCloudFrontOriginAccessIdentitiesResponse
            ok = [r for r in results if isinstance(r, response_type)]
            assert len(ok) == 4
            for call in refused:
                error = call.exception()
                assert isinstance(error, grpc.aio.AioRpcError)
                assert error.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
                assert error_info(error).reason == "CONCURRENCY_LIMIT"
                detail(error, error_details_pb2.RetryInfo)
            assert len(emulator.request_log) == 4
            # and the server recovers: the next call is admitted
            await stub.ListCloudFrontOriginAccessIdentities(LIST)
            assert facade.guard.in_flight == 0


async def test_connection_pool_is_sized_to_the_concurrency_limit(
    facade_factory: FacadeFactory,
) -> None:
    async with facade_factory(max_concurrency=300) as facade:
        assert client_config(facade.settings).max_pool_connections == 300
