"""Soak: a long mixed run against a real facade process, errors and cancellations included.

The emulator runs in the test process (so its request log and store do not count against the
facade); the facade process's RSS and open file descriptors are read from /proc.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import grpc
import pytest
import pytest_asyncio

from service.emulator import Emulator, FaultRule
from tests.process import facade_process
from tests.reliability.conftest import Figures, size
from tests.reliability.support import (
    DOCUMENTED,
    Outcome,
    S,
    Stub,
    aws_env,
    describe,
    error_infos,
    open_fds,
    reasons,
    rss_kib,
    tally,
)
from tests.reliability.workload import Workload

pytestmark = [pytest.mark.reliability, pytest.mark.asyncio(loop_scope="module")]

# The short run (the default pytest run) reads four RSS and fd samples from warm-up on, the
# full one (RELIABILITY_FULL=1) ten; it was halved (issue 12) to keep the default run fast.
CALLS = size(1_000, 20_000)
WARM_UP = size(250, 2_000)
CHUNK = size(250, 2_000)
CONCURRENCY = 16
RSS_GROWTH_BOUND_KIB = 5 * 1024
FD_SLACK = 8
QUIET_WITHIN = 60.0  # a safety net only: the wait ends as soon as the facade is idle


async def quiet(http: aiohttp.ClientSession, metrics: str) -> None:
    """Wait until the facade has no call in flight: the handlers of calls a caller cancelled
    may still be running when the caller has moved on. Read the figures only then."""

    async def idle() -> None:
        while True:
            async with http.get(metrics) as answer:
                if "cloudfront_facade_in_flight_calls 0.0" in await answer.text():
                    return
            await asyncio.sleep(0.01)

    await asyncio.wait_for(idle(), QUIET_WITHIN)


@dataclass
class Soak:
    outcomes: list[tuple[str, Outcome]]
    rss_kib: list[int]  # after warm-up, then after each chunk
    fds: list[int]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def soak(figures: Figures) -> AsyncIterator[Soak]:
    async with Emulator(seed=99, account_limit=1_000_000, request_log_limit=1_000) as upstream:
        env = aws_env("AKIDSOAK000000000001", "soak-secret-access-key")
        async with (
            facade_process(
                "--aws-endpoint-url",
                upstream.base_url,
                "--aws-max-attempts",
                "2",
                "--metrics-listen",
                "127.0.0.1:0",
                env=env,
            ) as proc,
            aiohttp.ClientSession() as http,
        ):
            pid = proc.process.pid
            metrics = f"http://127.0.0.1:{proc.serving['metrics_port']}/metrics"
            async with grpc.aio.insecure_channel(proc.address) as channel:
                workload = Workload(Stub(channel), random.Random(3), "soak", timeout=10, abuse=True)
                await workload.prepare(20)
                upstream.add_fault(
                    FaultRule(error_code="ServiceUnavailable", http_status=503, probability=0.03)
                )
                upstream.add_fault(FaultRule(latency=0.2, probability=0.03))
                outcomes = await workload.run(WARM_UP, CONCURRENCY)
                await quiet(http, metrics)
                rss, fds = [rss_kib(pid)], [open_fds(pid)]
                while len(outcomes) < CALLS:
                    outcomes += await workload.run(min(CHUNK, CALLS - len(outcomes)), CONCURRENCY)
                    await quiet(http, metrics)
                    rss.append(rss_kib(pid))
                    fds.append(open_fds(pid))
            await quiet(http, metrics)
            fds.append(open_fds(pid))  # with the caller's channel closed too
            proc.signal()
            exit_code = await proc.wait()
    assert exit_code == 0
    figures.record(
        calls=len(outcomes),
        warm_up_calls=WARM_UP,
        concurrency=CONCURRENCY,
        kinds=dict(Counter(kind for kind, _ in outcomes).most_common()),
        statuses=tally(o for _, o in outcomes),
        errors_by_reason=reasons(o for _, o in outcomes),
        rss_after_warm_up_kib=rss[0],
        rss_end_kib=rss[-1],
        rss_growth_kib=rss[-1] - rss[0],
        rss_max_growth_kib=max(rss) - rss[0],
        rss_samples_kib=rss,
        fds_after_warm_up=fds[0],
        fds_end=fds[-2],
        fds_after_channel_closed=fds[-1],
        fd_samples=fds,
    )
    yield Soak(outcomes, rss, fds)


async def test_every_soak_call_ends_with_a_documented_status(soak: Soak) -> None:
    codes = Counter(o.code for _, o in soak.outcomes)
    assert set(codes) <= DOCUMENTED | {S.CANCELLED}, codes
    internal = [o for _, o in soak.outcomes if o.code is S.INTERNAL]
    assert not internal, describe(internal)
    assert codes[S.CANCELLED] > 0
    assert codes[S.OK] > 0.5 * len(soak.outcomes)
    from_facade = [
        o
        for _, o in soak.outcomes
        if o.error is not None and o.code not in {S.CANCELLED, S.DEADLINE_EXCEEDED}
    ]
    assert all(
        len(error_infos(o.error)) == 1
        for o in from_facade  # type: ignore[arg-type]
    ), describe(from_facade)


async def test_memory_does_not_grow_after_warm_up(soak: Soak) -> None:
    growth = soak.rss_kib[-1] - soak.rss_kib[0]
    assert growth < RSS_GROWTH_BOUND_KIB, f"RSS grew {growth} KiB: {soak.rss_kib}"


async def test_open_file_descriptors_return_to_baseline(soak: Soak) -> None:
    baseline = soak.fds[0]
    assert abs(soak.fds[-2] - baseline) <= FD_SLACK, soak.fds
    assert soak.fds[-1] <= baseline + FD_SLACK, soak.fds
