"""Shutdown under load: SIGTERM to a real facade process with 200 calls in flight.

Every call already in flight completes, the process exits 0, and no write is cut in half: with
an emulator outside the process, the identities CloudFront holds are exactly those the callers
were told about.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Callable, Sequence

import aiohttp
import grpc
import pytest

from service.emulator import Emulator, FaultRule
from tests.process import FacadeProcess, facade_process
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
    wait_until,
)

pytestmark = pytest.mark.reliability

IN_FLIGHT = 200
LATENCY = 0.5
# The outside emulator shares the test process with the 200 callers and checks every SigV4
# signature, so the last call arrives later than in the facade's own process: more latency.
EXTERNAL_LATENCY = 1.5
EMBEDDED_CREATES = 90  # the embedded emulator holds at most 100 identities


async def sigterm_when_all_arrived(proc: FacadeProcess, calls: Sequence[asyncio.Future[Outcome]],
                                   arrived: Callable[[], int]) -> tuple[int, float]:
    """SIGTERM once every call has reached upstream; returns (exit code, drain seconds)."""
    await wait_until(lambda: arrived() >= len(calls), within=10, step=0.01)
    assert not any(call.done() for call in calls), "a call finished before the signal"
    proc.signal(signal.SIGTERM)
    began = time.monotonic()
    code = await proc.wait(within=30)
    return code, time.monotonic() - began


async def test_sigterm_lets_200_in_flight_calls_finish_and_exits_0(figures: Figures) -> None:
    async with facade_process("--emulator", "--emulator-latency", str(LATENCY),
                              "--aws-max-attempts", "1") as proc:
        admin = f"{proc.serving['emulator']}/_emulator/requests"
        arrived = 0
        async with aiohttp.ClientSession() as http, \
                grpc.aio.insecure_channel(proc.address) as channel:
            stub = Stub(channel)
            calls = [asyncio.ensure_future(outcome(
                stub.CreateCloudFrontOriginAccessIdentity(create_request(f"drain-{n}"), timeout=30)
                if n < EMBEDDED_CREATES else
                stub.ListCloudFrontOriginAccessIdentities(LIST, timeout=30)))
                for n in range(IN_FLIGHT)]

            async def poll() -> None:
                nonlocal arrived
                while arrived < IN_FLIGHT:
                    async with http.get(admin) as answer:
                        arrived = len((await answer.json())["requests"])
                    await asyncio.sleep(0.01)

            poller = asyncio.ensure_future(poll())
            code, drain = await sigterm_when_all_arrived(proc, calls, lambda: arrived)
            poller.cancel()
            results = await asyncio.gather(*calls)
        await proc.output()  # every line the process wrote, read to the end
    logged = [r for r in proc.records() if r.get("message") == "call"]
    figures.record(embedded_in_flight=IN_FLIGHT, embedded_creates=EMBEDDED_CREATES,
                   embedded_statuses=tally(results), embedded_exit_code=code,
                   embedded_drain_ms=ms(drain), embedded_access_log_ok=sum(
                       r["code"] == "OK" for r in logged))
    assert code == 0
    assert tally(results) == {"OK": IN_FLIGHT}, describe(r for r in results if r.code is not S.OK)
    assert sum(r["code"] == "OK" for r in logged) == IN_FLIGHT


async def test_sigterm_under_load_cuts_no_write(figures: Figures) -> None:
    async with Emulator(credentials={"AKIDDRAIN00000000001": "drain-secret"},
                        account_limit=10 * IN_FLIGHT) as upstream:
        upstream.add_fault(FaultRule(latency=EXTERNAL_LATENCY))
        env = aws_env("AKIDDRAIN00000000001", "drain-secret")
        async with facade_process("--aws-endpoint-url", upstream.base_url,
                                  "--aws-max-attempts", "1", env=env) as proc:
            async with grpc.aio.insecure_channel(proc.address) as channel:
                stub = Stub(channel)
                calls = [asyncio.ensure_future(outcome(stub.CreateCloudFrontOriginAccessIdentity(
                    create_request(f"drain-{n}", f"comment {n}"), timeout=30)))
                    for n in range(IN_FLIGHT)]
                code, drain = await sigterm_when_all_arrived(
                    proc, calls, lambda: len(upstream.request_log))
                results = await asyncio.gather(*calls)
        stored = upstream.identities()
    answered = {r.response.cloud_front_origin_access_identity.id
                for r in results if r.code is S.OK}
    figures.record(external_in_flight=IN_FLIGHT, external_statuses=tally(results),
                   external_exit_code=code, external_drain_ms=ms(drain),
                   external_identities_stored=len(stored), external_ids_answered=len(answered))
    assert code == 0
    assert tally(results) == {"OK": IN_FLIGHT}, describe(r for r in results if r.code is not S.OK)
    assert {identity.id for identity in stored} == answered
    assert sorted(i.caller_reference for i in stored) == sorted(
        f"drain-{n}" for n in range(IN_FLIGHT))
