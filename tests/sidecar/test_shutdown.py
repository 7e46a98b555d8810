"""Graceful drain of a real OS process: started calls finish, new calls are refused, exit 0."""

from __future__ import annotations

import asyncio
import signal

import grpc

from service._gen.cloudfront.v1 import origin_access_identity_service_pb2 as pb
from service._gen.cloudfront.v1 import origin_access_identity_service_pb2_grpc as pb_grpc
from tests.process import facade_process

LIST = pb.ListCloudFrontOriginAccessIdentitiesRequest()
SLOW = ("--emulator", "--emulator-latency", "1.0")


async def test_sigterm_lets_every_started_call_finish_and_refuses_new_ones() -> None:
    async with facade_process(*SLOW) as facade:
        async with grpc.aio.insecure_channel(facade.address) as channel:
            stub = pb_grpc.OriginAccessIdentityServiceStub(channel)
            started = [asyncio.ensure_future(stub.ListCloudFrontOriginAccessIdentities(LIST))
                       for _ in range(40)]
            await asyncio.sleep(0.3)  # all 40 are now inside the facade, waiting on upstream
            facade.signal(signal.SIGTERM)
            await asyncio.sleep(0.2)
            async with grpc.aio.insecure_channel(facade.address) as late_channel:
                late = pb_grpc.OriginAccessIdentityServiceStub(late_channel)
                try:
                    await late.ListCloudFrontOriginAccessIdentities(LIST, timeout=2)
                    refused = None
                except grpc.aio.AioRpcError as error:
                    refused = error.code()
            results = await asyncio.gather(*started, return_exceptions=True)
        assert await facade.wait() == 0
    assert all(isinstance(r, pb.ListCloudFrontOriginAccessIdentitiesResponse) for r in results), \
        [r for r in results if isinstance(r, Exception)][:3]
    assert refused is grpc.StatusCode.UNAVAILABLE
    records = facade.records()
    assert [r["message"] for r in records if r["message"] != "call"][-2:] == ["draining", "stopped"]
    assert sum(r["message"] == "call" and r["code"] == "OK" for r in records) == 40


async def test_second_signal_stops_at_once() -> None:
    async with facade_process("--emulator", "--emulator-latency", "5.0",
                              "--shutdown-grace", "30") as facade:
        async with grpc.aio.insecure_channel(facade.address) as channel:
            stub = pb_grpc.OriginAccessIdentityServiceStub(channel)
            slow = asyncio.ensure_future(stub.ListCloudFrontOriginAccessIdentities(LIST))
            await asyncio.sleep(0.3)
            loop = asyncio.get_running_loop()
            began = loop.time()
            facade.signal(signal.SIGTERM)
            await asyncio.sleep(0.2)
            facade.signal(signal.SIGINT)
            code = await facade.wait(within=10)
            elapsed = loop.time() - began
            outcome = await asyncio.gather(slow, return_exceptions=True)
    assert code == 0
    assert elapsed < 4.0, "the second signal must not wait for the 5 s upstream call"
    assert isinstance(outcome[0], grpc.aio.AioRpcError)


async def test_idle_process_exits_0_on_sigint() -> None:
    async with facade_process("--emulator") as facade:
        facade.signal(signal.SIGINT)
        assert await facade.wait() == 0
