"""Overload: 10x the concurrency limit at once, round after round, against a real process.

The excess is refused at once with RESOURCE_EXHAUSTED, the admitted calls complete, the
process's memory stays flat, and it serves normally afterwards.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass

import grpc
import pytest
import pytest_asyncio
from google.rpc import error_details_pb2

from tests.conftest import detail
from tests.process import FacadeProcess, facade_process
from tests.reliability.conftest import Figures, size
from tests.reliability.support import (
    LIST,
    Outcome,
    S,
    Stub,
    health,
    ms,
    outcome,
    percentile,
    rss_kib,
    tally,
)

pytestmark = [pytest.mark.reliability, pytest.mark.asyncio(loop_scope="module")]

LIMIT = 20
BURST = 10 * LIMIT
UPSTREAM_LATENCY = 0.3
ROUNDS = size(12, 40)  # enough rounds that both halves see a cyclic-GC peak
RSS_TREND_BOUND_KIB = 4 * 1024  # later rounds vs earlier ones: a leak grows, noise does not
RSS_CEILING_KIB = 16 * 1024


@dataclass
class Overload:
    rounds: list[list[Outcome]]
    rss_kib: list[int]  # after each round
    process: FacadeProcess
    channel: grpc.aio.Channel


def rss_trend(samples: list[int]) -> int:
    """Peak RSS of the second half of the rounds minus that of the first half."""
    half = len(samples) // 2
    return max(samples[half:]) - max(samples[:half])


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def overload(figures: Figures) -> AsyncIterator[Overload]:
    async with facade_process("--emulator", "--emulator-latency", str(UPSTREAM_LATENCY),
                              "--max-concurrency", str(LIMIT), "--aws-max-attempts", "1") as proc:
        async with grpc.aio.insecure_channel(proc.address) as channel:
            stub = Stub(channel)
            await stub.ListCloudFrontOriginAccessIdentities(LIST, timeout=5)
            rounds, rss = [], []
            for _ in range(ROUNDS):
                rounds.append(list(await asyncio.gather(*(
                    outcome(stub.ListCloudFrontOriginAccessIdentities(LIST, timeout=10))
                    for _ in range(BURST)))))
                rss.append(rss_kib(proc.process.pid))
            everything = [o for burst in rounds for o in burst]
            refused = [o.seconds for o in everything if o.code is S.RESOURCE_EXHAUSTED]
            admitted = [o.seconds for o in everything if o.code is S.OK]
            figures.record(
                max_concurrency=LIMIT, burst=BURST, rounds=ROUNDS, calls=len(everything),
                upstream_latency_s=UPSTREAM_LATENCY, statuses=tally(everything),
                admitted_per_round=dict(sorted(Counter(
                    sum(o.code is S.OK for o in burst) for burst in rounds).items())),
                refused_ms={"p50": ms(percentile(refused, 50)),
                            "p95": ms(percentile(refused, 95)), "max": ms(max(refused))},
                admitted_ms={"p50": ms(percentile(admitted, 50)), "max": ms(max(admitted))},
                rss_first_round_kib=rss[0], rss_last_round_kib=rss[-1],
                rss_peak_kib=max(rss), rss_growth_kib=max(rss) - rss[0],
                rss_trend_kib=rss_trend(rss), rss_samples_kib=rss,
            )
            yield Overload(rounds, rss, proc, channel)


async def test_the_excess_is_refused_at_once_with_retry_info(overload: Overload) -> None:
    for burst in overload.rounds:
        refused = [o for o in burst if o.code is not S.OK]
        assert {o.code for o in refused} == {S.RESOURCE_EXHAUSTED}
        assert len(refused) >= BURST - 2 * LIMIT  # a slot freed mid-burst may admit a few more
        for ended in refused:
            assert ended.reason == "CONCURRENCY_LIMIT"
            assert ended.error is not None
            detail(ended.error, error_details_pb2.RetryInfo)
    refused_seconds = [o.seconds for burst in overload.rounds for o in burst
                       if o.code is not S.OK]
    # Refusing must not wait for anything upstream: faster than one upstream call.
    assert percentile(refused_seconds, 95) < UPSTREAM_LATENCY


async def test_admitted_calls_complete(overload: Overload) -> None:
    for burst in overload.rounds:
        admitted = [o for o in burst if o.code is S.OK]
        assert len(admitted) >= LIMIT
        assert all(o.response.cloud_front_origin_access_identity_list.max_items == 100
                   for o in admitted)


async def test_memory_stays_bounded_under_overload(overload: Overload) -> None:
    samples = overload.rss_kib
    assert rss_trend(samples) < RSS_TREND_BOUND_KIB, samples
    assert max(samples) - samples[0] < RSS_CEILING_KIB, samples


async def test_the_facade_serves_at_full_capacity_afterwards(overload: Overload) -> None:
    assert await health(overload.channel) == "SERVING"
    stub = Stub(overload.channel)
    # Exactly the limit at once: any slot leaked by the overload would refuse one of them.
    ended = await asyncio.gather(*(
        outcome(stub.ListCloudFrontOriginAccessIdentities(LIST, timeout=5))
        for _ in range(LIMIT)))
    assert tally(ended) == {"OK": LIMIT}
