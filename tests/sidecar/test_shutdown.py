"""Graceful drain of a real OS process: started calls finish, new calls are refused, exit 0.

The embedded emulator holds the started calls (a hold fault) until the test releases them, so
they are in flight at the signal however slow the machine is; the test waits on what it can
observe (calls held upstream, the "draining" log line), never on the clock.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import grpc

from service._gen.cloudfront.v1 import origin_access_identity_service_pb2 as pb
from service._gen.cloudfront.v1 import origin_access_identity_service_pb2_grpc as pb_grpc
from tests.conftest import LIST
from tests.process import EmulatorAdmin, FacadeProcess, facade_process

# Only bounds waits that end early unless something is broken; nothing asserts a duration.
HANG_GUARD = 60.0


@asynccontextmanager
async def holding_facade(*args: str) -> AsyncIterator[tuple[FacadeProcess, EmulatorAdmin]]:
    """A facade process whose embedded emulator holds every call until released."""
    async with facade_process("--emulator", *args) as facade, aiohttp.ClientSession() as http:
        upstream = EmulatorAdmin(http, facade.serving["emulator"])
        await upstream.hold_every_call()
        yield facade, upstream


async def test_sigterm_lets_every_started_call_finish_and_refuses_new_ones() -> None:
    async with holding_facade() as (facade, upstream):
        async with grpc.aio.insecure_channel(facade.address) as channel:
            stub = pb_grpc.OriginAccessIdentityServiceStub(channel)
            started = [
                asyncio.ensure_future(stub.ListCloudFrontOriginAccessIdentities(LIST))
                for _ in range(40)
            ]
            await upstream.wait_held(40)  # all 40 are inside the facade, waiting on upstream
            facade.signal(signal.SIGTERM)
            await facade.draining()
            async with grpc.aio.insecure_channel(facade.address) as late_channel:
                late = pb_grpc.OriginAccessIdentityServiceStub(late_channel)
                try:
                    await late.ListCloudFrontOriginAccessIdentities(LIST, timeout=HANG_GUARD)
                    refused = None
                except grpc.aio.AioRpcError as error:
                    refused = error.code()
            assert not any(call.done() for call in started)
            assert await upstream.release() == 40
            results = await asyncio.gather(*started, return_exceptions=True)
        assert await facade.wait() == 0
    assert all(isinstance(r, pb.ListCloudFrontOriginAccessIdentitiesResponse) for r in results), [
        r for r in results if isinstance(r, Exception)
    ][:3]
    assert refused is grpc.StatusCode.UNAVAILABLE
    records = facade.records()
    assert [r["message"] for r in records if r["message"] != "call"][-2:] == ["draining", "stopped"]
    assert sum(r["message"] == "call" and r["code"] == "OK" for r in records) == 40


async def test_second_signal_stops_at_once() -> None:
    # A grace far beyond the hang guard: only the second signal can end the process in time.
    async with holding_facade("--shutdown-grace", str(10 * HANG_GUARD)) as (facade, upstream):
        async with grpc.aio.insecure_channel(facade.address) as channel:
            stub = pb_grpc.OriginAccessIdentityServiceStub(channel)
            held = asyncio.ensure_future(stub.ListCloudFrontOriginAccessIdentities(LIST))
            await upstream.wait_held(1)
            facade.signal(signal.SIGTERM)
            await facade.draining()
            facade.signal(signal.SIGINT)
            code = await facade.wait(within=HANG_GUARD)
            outcome = await asyncio.gather(held, return_exceptions=True)
    assert code == 0
    assert isinstance(outcome[0], grpc.aio.AioRpcError), "the held call was never released"


async def test_idle_process_exits_0_on_sigint() -> None:
    async with facade_process("--emulator") as facade:
        facade.signal(signal.SIGINT)
        assert await facade.wait() == 0
