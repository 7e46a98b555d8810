"""Deadlines and cancellation: a stalled upstream never holds a call past its deadline, and a
cancelled call gives its upstream connection back to the pool.

Upstream stalls by holding requests (a hold fault) that it never answers, so what ends a call
can only be its deadline or its cancellation; the tests wait on what they can observe (requests
held upstream, the facade's in-flight count, a process's exit), never on the clock. How far past
its deadline a call runs is recorded as a figure, not asserted: that is performance.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import random
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import aiohttp
import grpc
import pytest

from service._gen.cloudfront.v1 import origin_access_identity_service_pb2 as pb
from service.emulator import Emulator, FaultRule
from service.server import Facade
from tests.conftest import FacadeFactory
from tests.process import EmulatorAdmin, facade_process
from tests.reliability.conftest import Figures, size
from tests.reliability.support import (
    LIST,
    Outcome,
    S,
    Stub,
    create_request,
    ms,
    outcome,
    percentile,
    reasons,
    tally,
    update_request,
)

pytestmark = pytest.mark.reliability

DEADLINES = (0.05, 0.1, 0.25, 0.5, 1.0, 1.5, 2.5)
DEADLINE_ROUNDS = size(1, 10)
# Only bounds waits that end early unless something is broken; nothing asserts a duration.
HANG_GUARD = 120.0
POOL = 8
CANCELLED_CALLS = size(300, 5000)
Rpc = Callable[..., Any]


def every_rpc(stub: Stub) -> list[tuple[Rpc, Any]]:
    """One valid request for each of the six RPCs (upstream stalls before looking at them)."""
    some_id, etag = "E2QWRUHAPOMQZL", "E2QWRUHAPOMQZM"
    return [
        (stub.CreateCloudFrontOriginAccessIdentity, create_request("deadline-new")),
        (
            stub.GetCloudFrontOriginAccessIdentity,
            pb.GetCloudFrontOriginAccessIdentityRequest(id=some_id),
        ),
        (
            stub.GetCloudFrontOriginAccessIdentityConfig,
            pb.GetCloudFrontOriginAccessIdentityConfigRequest(id=some_id),
        ),
        (
            stub.UpdateCloudFrontOriginAccessIdentity,
            update_request(some_id, etag, "deadline-seed", "changed"),
        ),
        (
            stub.DeleteCloudFrontOriginAccessIdentity,
            pb.DeleteCloudFrontOriginAccessIdentityRequest(id=some_id, if_match=etag),
        ),
        (stub.ListCloudFrontOriginAccessIdentities, LIST),
    ]


def access_lines(caplog: pytest.LogCaptureFixture) -> list[Any]:
    """The facade's access-log records (each has a `fields` dict)."""
    return [r for r in caplog.records if r.name == "cloudfront_facade.access"]


async def timed(
    rpc: Rpc, request: Any, deadline: float, request_id: str
) -> tuple[str, float, float, Outcome]:
    """(request id, deadline, seconds the caller waited, outcome), timed from before the call."""
    started = time.perf_counter()
    ended = await outcome(rpc(request, timeout=deadline, metadata=(("x-request-id", request_id),)))
    return request_id, deadline, time.perf_counter() - started, ended


async def test_a_stalled_upstream_never_holds_a_call_past_its_deadline(figures: Figures) -> None:
    # A real process, so the caller's event loop is not the server's. Retries on: a deadline
    # longer than the read timeout spans several stalled attempts. A grace far beyond the hang
    # guard: the drain can only end in time if the facade has let go of every stalled call.
    async with (
        facade_process(
            "--emulator",
            "--max-concurrency",
            "500",
            "--aws-max-attempts",
            "3",
            "--aws-retry-mode",
            "standard",
            "--aws-read-timeout",
            "1",
            "--shutdown-grace",
            str(10 * HANG_GUARD),
        ) as proc,
        aiohttp.ClientSession() as http,
    ):
        upstream = EmulatorAdmin(http, proc.serving["emulator"])
        await upstream.hold_every_call()
        async with grpc.aio.insecure_channel(proc.address) as channel:
            rpcs = every_rpc(Stub(channel))
            await channel.channel_ready()
            results = []
            for round_ in range(DEADLINE_ROUNDS):
                gc.collect()
                gc.disable()  # a collection in the test process is not the facade's delay
                try:
                    results += await asyncio.gather(
                        *(
                            timed(rpc, request, deadline, f"deadline-{round_}-{n}-{k}-{copy}")
                            for n, (rpc, request) in enumerate(rpcs)
                            for k, deadline in enumerate(DEADLINES)
                            for copy in range(2)
                        )
                    )
                finally:
                    gc.enable()
        proc.signal()
        assert await proc.wait(within=HANG_GUARD) == 0, "a stalled call held the drain"
        await proc.output()
    deadline_of = {request_id: deadline for request_id, deadline, _, _ in results}
    logged = [
        line
        for line in proc.records()
        if line.get("request_id") in deadline_of and line["message"] == "call"
    ]
    held = [line["duration_ms"] / 1000 - deadline_of[line["request_id"]] for line in logged]
    waited = [seconds - deadline for _, deadline, seconds, _ in results]
    figures.record(
        deadline_calls=len(results),
        deadlines_s=list(DEADLINES),
        stall="hold",
        deadline_statuses=tally(ended for *_, ended in results),
        deadline_reasons=reasons(ended for *_, ended in results),
        client_overrun_ms={
            "p50": ms(percentile(waited, 50)),
            "p99": ms(percentile(waited, 99)),
            "max": ms(max(waited)),
        },
        server_logged_calls=len(held),
        server_overrun_ms={"p50": ms(percentile(held, 50)), "max": ms(max(held))},
    )
    # Or a read timeout before the deadline, once botocore's retry quota is spent on stalls.
    early = [ended for *_, ended in results if ended.code is not S.DEADLINE_EXCEEDED]
    assert {(o.code, o.reason) for o in early} <= {(S.UNAVAILABLE, "UPSTREAM_READ_TIMEOUT")}
    # A call whose deadline passes before the server dispatches it never runs, nor logs; every
    # call it ran, it ended on the deadline (or the read timeout) although upstream never answered.
    assert 0 < len(logged) <= len(results)
    # (The server sees a deadline that passes mid-call as the call being cancelled.)
    assert {line["code"] for line in logged} <= {"DEADLINE_EXCEEDED", "UNAVAILABLE", "CANCELLED"}


async def test_a_deadline_exceeded_call_logs_no_unexpected_failure(
    facade_factory: FacadeFactory, caplog: pytest.LogCaptureFixture
) -> None:
    async with facade_factory() as facade:
        assert facade.emulator is not None
        facade.emulator.add_fault(FaultRule(hold=True))
        async with grpc.aio.insecure_channel(facade.address) as channel:
            stub = Stub(channel)
            ended = await asyncio.gather(
                *(
                    outcome(stub.ListCloudFrontOriginAccessIdentities(LIST, timeout=deadline))
                    for deadline in (0.2, 0.3, 0.5)
                    for _ in range(10)
                )
            )
            await asyncio.wait_for(facade.guard.wait_idle(), HANG_GUARD)
    assert {o.code for o in ended} == {S.DEADLINE_EXCEEDED}
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == []


async def cancel_batch(
    facade: Facade, emulator: Emulator, calls: list[Callable[[], Any]], rng: random.Random
) -> list[Outcome]:
    """Start calls and cancel them: on some batches at a random moment (before or while they
    reach upstream), on the others once upstream holds a full pool of them; then wait until
    the facade has let go of every one."""
    started = [make() for make in calls]
    if rng.random() < 0.5:
        await asyncio.sleep(rng.choice([0, 0.002, 0.01, 0.02, 0.03, 0.05]))
    else:
        await asyncio.wait_for(emulator.wait_held(POOL), HANG_GUARD)
    for call in started:
        call.cancel()
    results = await asyncio.gather(*(outcome(call) for call in started))
    await asyncio.wait_for(facade.guard.wait_idle(), HANG_GUARD)
    emulator.release_held()  # answers nobody waits for any more
    return list(results)


async def test_cancelled_calls_do_not_leak_upstream_connections(
    facade_factory: FacadeFactory, figures: Figures
) -> None:
    rng = random.Random(5)
    # Twice as many calls admitted as pooled connections: some wait for a connection.
    async with facade_factory(max_concurrency=2 * POOL, aws_max_pool_connections=POOL) as facade:
        emulator = facade.emulator
        assert emulator is not None
        async with grpc.aio.insecure_channel(facade.address) as channel:
            stub = Stub(channel)
            made = await stub.CreateCloudFrontOriginAccessIdentity(create_request("cancel-seed"))
            identity = made.cloud_front_origin_access_identity.id
            makers: list[Callable[[], Any]] = [
                lambda: stub.ListCloudFrontOriginAccessIdentities(LIST, timeout=HANG_GUARD),
                lambda: stub.GetCloudFrontOriginAccessIdentity(
                    pb.GetCloudFrontOriginAccessIdentityRequest(id=identity), timeout=HANG_GUARD
                ),
                lambda: stub.UpdateCloudFrontOriginAccessIdentity(
                    update_request(identity, "ESTALE", "cancel-seed", "x"), timeout=HANG_GUARD
                ),
                lambda: stub.CreateCloudFrontOriginAccessIdentity(
                    create_request("cancel-seed"), timeout=HANG_GUARD
                ),
            ]
            emulator.clear_request_log()
            emulator.add_fault(FaultRule(hold=True))
            results: list[Outcome] = []
            while len(results) < CANCELLED_CALLS:
                results += await cancel_batch(
                    facade, emulator, [rng.choice(makers) for _ in range(2 * POOL)], rng
                )
            reached_upstream = len(emulator.request_log)
            # The whole pool is still there: POOL calls reach upstream side by side. A leaked
            # connection would leave one of them waiting for a connection, never held.
            side_by_side = [
                asyncio.ensure_future(
                    outcome(stub.ListCloudFrontOriginAccessIdentities(LIST, timeout=HANG_GUARD))
                )
                for _ in range(POOL)
            ]
            await asyncio.wait_for(emulator.wait_held(POOL), HANG_GUARD)
            emulator.clear_faults()
            emulator.release_held()
            full_pool = await asyncio.gather(*side_by_side)
    figures.record(
        cancelled_calls=len(results),
        cancel_statuses=tally(results),
        cancelled_after_reaching_upstream=reached_upstream,
        pool_connections=POOL,
        max_concurrency=2 * POOL,
    )
    assert Counter(o.code for o in results)[S.CANCELLED] >= 0.9 * len(results), tally(results)
    # At most POOL of each batch can be upstream at once; the rest wait for a connection.
    assert reached_upstream > 0.2 * len(results), "cancellations must hit live requests too"
    assert {o.code for o in full_pool} == {S.OK}


async def test_a_cancelled_call_is_logged_as_cancelled(
    facade_factory: FacadeFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="cloudfront_facade.access")
    async with facade_factory() as facade:
        emulator = facade.emulator
        assert emulator is not None
        emulator.add_fault(FaultRule(hold=True))
        async with grpc.aio.insecure_channel(facade.address) as channel:
            call = Stub(channel).ListCloudFrontOriginAccessIdentities(
                LIST, metadata=(("x-request-id", "cancel-me"),)
            )
            await asyncio.wait_for(emulator.wait_held(1), HANG_GUARD)
            call.cancel()
            await asyncio.wait_for(facade.guard.wait_idle(), HANG_GUARD)
    (line,) = [r for r in access_lines(caplog) if r.fields["request_id"] == "cancel-me"]
    assert line.fields["code"] == "CANCELLED"
