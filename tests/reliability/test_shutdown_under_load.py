"""Shutdown under load: SIGTERM to a real facade process with 200 calls in flight.

Every call already in flight completes, the process exits 0, and no write is cut in half: with
an emulator outside the process, the identities CloudFront holds are exactly those the callers
were told about. Upstream holds every call (a hold fault) until the facade logs that it is
draining, so all 200 are in flight at the signal however slow the machine is.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Awaitable, Callable, Sequence

import aiohttp
import grpc
import pytest

from service.emulator import Emulator, FaultRule
from tests.process import EmulatorAdmin, FacadeProcess, facade_process
from tests.reliability.conftest import Figures
from tests.reliability.support import (
    LIST,
    Outcome,
    S,
    Stub,
    aws_env,
    create_request,
    describe,
    ms,
    outcome,
    tally,
)

pytestmark = pytest.mark.reliability

IN_FLIGHT = 200
EMBEDDED_CREATES = 90  # the embedded emulator holds at most 100 identities
# Only bounds a wait that ends early unless something is broken; nothing asserts a duration.
HANG_GUARD = 120.0


async def drain_while_held(
    proc: FacadeProcess,
    calls: Sequence[asyncio.Future[Outcome]],
    all_held: Awaitable[object],
    release: Callable[[], Awaitable[object]],
) -> tuple[int, float]:
    """SIGTERM once upstream holds every call, release them once the facade is draining;
    returns (exit code, seconds from the signal to the exit)."""
    await asyncio.wait_for(all_held, HANG_GUARD)
    assert not any(call.done() for call in calls), "a call finished while upstream held it"
    proc.signal(signal.SIGTERM)
    began = time.monotonic()
    await proc.draining()
    assert not any(call.done() for call in calls), "a call finished before the release"
    await release()
    code = await proc.wait(within=HANG_GUARD)
    return code, time.monotonic() - began


async def test_sigterm_lets_200_in_flight_calls_finish_and_exits_0(figures: Figures) -> None:
    async with facade_process("--emulator", "--aws-max-attempts", "1") as proc:
        async with (
            aiohttp.ClientSession() as http,
            grpc.aio.insecure_channel(proc.address) as channel,
        ):
            upstream = EmulatorAdmin(http, proc.serving["emulator"])
            await upstream.hold_every_call()

            async def release() -> None:
                assert await upstream.release() == IN_FLIGHT

            stub = Stub(channel)
            calls = [
                asyncio.ensure_future(
                    outcome(
                        stub.CreateCloudFrontOriginAccessIdentity(create_request(f"drain-{n}"))
                        if n < EMBEDDED_CREATES
                        else stub.ListCloudFrontOriginAccessIdentities(LIST)
                    )
                )
                for n in range(IN_FLIGHT)
            ]
            code, drain = await drain_while_held(
                proc, calls, upstream.wait_held(IN_FLIGHT, HANG_GUARD), release
            )
            results = await asyncio.gather(*calls)
        await proc.output()  # every line the process wrote, read to the end
    logged = [r for r in proc.records() if r.get("message") == "call"]
    figures.record(
        embedded_in_flight=IN_FLIGHT,
        embedded_creates=EMBEDDED_CREATES,
        embedded_statuses=tally(results),
        embedded_exit_code=code,
        embedded_drain_ms=ms(drain),
        embedded_access_log_ok=sum(r["code"] == "OK" for r in logged),
    )
    assert code == 0
    assert tally(results) == {"OK": IN_FLIGHT}, describe(r for r in results if r.code is not S.OK)
    assert sum(r["code"] == "OK" for r in logged) == IN_FLIGHT


async def test_sigterm_under_load_cuts_no_write(figures: Figures) -> None:
    async with Emulator(
        credentials={"AKIDDRAIN00000000001": "drain-secret"}, account_limit=10 * IN_FLIGHT
    ) as upstream:
        upstream.add_fault(FaultRule(hold=True))
        env = aws_env("AKIDDRAIN00000000001", "drain-secret")
        async with facade_process(
            "--aws-endpoint-url", upstream.base_url, "--aws-max-attempts", "1", env=env
        ) as proc:
            async with grpc.aio.insecure_channel(proc.address) as channel:
                stub = Stub(channel)
                calls = [
                    asyncio.ensure_future(
                        outcome(
                            stub.CreateCloudFrontOriginAccessIdentity(
                                create_request(f"drain-{n}", f"comment {n}")
                            )
                        )
                    )
                    for n in range(IN_FLIGHT)
                ]

                async def release() -> None:
                    assert upstream.release_held() == IN_FLIGHT

                code, drain = await drain_while_held(
                    proc, calls, upstream.wait_held(IN_FLIGHT), release
                )
                results = await asyncio.gather(*calls)
        stored = upstream.identities()
    answered = {r.response.cloud_front_origin_access_identity.id for r in results if r.code is S.OK}
    figures.record(
        external_in_flight=IN_FLIGHT,
        external_statuses=tally(results),
        external_exit_code=code,
        external_drain_ms=ms(drain),
        external_identities_stored=len(stored),
        external_ids_answered=len(answered),
    )
    assert code == 0
    assert tally(results) == {"OK": IN_FLIGHT}, describe(r for r in results if r.code is not S.OK)
    assert {identity.id for identity in stored} == answered
    assert sorted(i.caller_reference for i in stored) == sorted(
        f"drain-{n}" for n in range(IN_FLIGHT)
    )
