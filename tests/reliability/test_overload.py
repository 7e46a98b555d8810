"""Overload: 10x the concurrency limit at once, round after round, against a real process.

The excess is refused at once with RESOURCE_EXHAUSTED, the admitted calls complete, the
process's memory stays flat, and it serves normally afterwards. "At once" is shown, not timed:
upstream holds every admitted call (a hold fault) until the whole excess has been refused, so a
refusal that waited for anything upstream would never come.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import grpc
import pytest
import pytest_asyncio
from google.rpc import error_details_pb2

from tests.conftest import detail
from tests.process import EmulatorAdmin, FacadeProcess, facade_process
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
HANG_GUARD = 120.0  # bounds a wait that ends early unless something is broken
ROUNDS = size(12, 40)  # enough rounds that both halves see a cyclic-GC peak
RSS_TREND_BOUND_KIB = 4 * 1024  # later rounds vs earlier ones: a leak grows, noise does not
RSS_CEILING_KIB = 16 * 1024


@dataclass
class Overload:
    rounds: list[list[Outcome]]
    refused_while_held: list[int]  # per round: calls that ended while upstream held the rest
    rss_kib: list[int]  # after each round
    process: FacadeProcess
    channel: grpc.aio.Channel


def rss_trend(samples: list[int]) -> int:
    """Peak RSS of the second half of the rounds minus that of the first half."""
    half = len(samples) // 2
    return max(samples[half:]) - max(samples[:half])


async def overload_round(stub: Stub, upstream: EmulatorAdmin) -> tuple[list[Outcome], int]:
    """BURST calls at once; returns their outcomes and how many ended while upstream held
    the admitted ones."""
    calls = [
        asyncio.ensure_future(outcome(stub.ListCloudFrontOriginAccessIdentities(LIST)))
        for _ in range(BURST)
    ]
    await upstream.wait_held(LIMIT, HANG_GUARD)
    pending: set[asyncio.Future[Outcome]] = set(calls)
    while len(pending) > LIMIT:  # the admitted calls are held: only refusals can end
        done, pending = await asyncio.wait(
            pending, timeout=HANG_GUARD, return_when=asyncio.FIRST_COMPLETED
        )
        assert done, f"{len(pending)} calls neither refused nor ended"
    refused_while_held = BURST - len(pending)
    await upstream.release()
    return list(await asyncio.gather(*calls)), refused_while_held


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def overload(figures: Figures) -> AsyncIterator[Overload]:
    async with (
        facade_process(
            "--emulator", "--max-concurrency", str(LIMIT), "--aws-max-attempts", "1"
        ) as proc,
        aiohttp.ClientSession() as http,
    ):
        upstream = EmulatorAdmin(http, proc.serving["emulator"])
        async with grpc.aio.insecure_channel(proc.address) as channel:
            stub = Stub(channel)
            await stub.ListCloudFrontOriginAccessIdentities(LIST, timeout=HANG_GUARD)
            await upstream.hold_every_call()
            rounds, while_held, rss = [], [], []
            for _ in range(ROUNDS):
                burst, refused_early = await overload_round(stub, upstream)
                rounds.append(burst)
                while_held.append(refused_early)
                rss.append(rss_kib(proc.process.pid))
            await upstream.clear_faults()
            everything = [o for burst in rounds for o in burst]
            refused = [o.seconds for o in everything if o.code is S.RESOURCE_EXHAUSTED]
            admitted = [o.seconds for o in everything if o.code is S.OK]
            figures.record(
                max_concurrency=LIMIT,
                burst=BURST,
                rounds=ROUNDS,
                calls=len(everything),
                statuses=tally(everything),
                refused_while_upstream_held=while_held,
                admitted_per_round=dict(
                    sorted(Counter(sum(o.code is S.OK for o in burst) for burst in rounds).items())
                ),
                refused_ms={
                    "p50": ms(percentile(refused, 50)),
                    "p95": ms(percentile(refused, 95)),
                    "max": ms(max(refused)),
                },
                admitted_ms={"p50": ms(percentile(admitted, 50)), "max": ms(max(admitted))},
                rss_first_round_kib=rss[0],
                rss_last_round_kib=rss[-1],
                rss_peak_kib=max(rss),
                rss_growth_kib=max(rss) - rss[0],
                rss_trend_kib=rss_trend(rss),
                rss_samples_kib=rss,
            )
            yield Overload(rounds, while_held, rss, proc, channel)


async def test_the_excess_is_refused_at_once_with_retry_info(overload: Overload) -> None:
    for burst, refused_while_held in zip(overload.rounds, overload.refused_while_held, strict=True):
        refused = [o for o in burst if o.code is not S.OK]
        assert {o.code for o in refused} == {S.RESOURCE_EXHAUSTED}
        assert len(refused) == BURST - LIMIT
        # Every refusal came while upstream still held every admitted call.
        assert refused_while_held == len(refused)
        for ended in refused:
            assert ended.reason == "CONCURRENCY_LIMIT"
            assert ended.error is not None
            detail(ended.error, error_details_pb2.RetryInfo)


async def test_admitted_calls_complete(overload: Overload) -> None:
    for burst in overload.rounds:
        admitted = [o for o in burst if o.code is S.OK]
        assert len(admitted) == LIMIT
        assert all(
            o.response.cloud_front_origin_access_identity_list.max_items == 100 for o in admitted
        )


async def test_memory_stays_bounded_under_overload(overload: Overload) -> None:
    samples = overload.rss_kib
    assert rss_trend(samples) < RSS_TREND_BOUND_KIB, samples
    assert max(samples) - samples[0] < RSS_CEILING_KIB, samples


async def test_the_facade_serves_at_full_capacity_afterwards(overload: Overload) -> None:
    assert await health(overload.channel) == "SERVING"
    stub = Stub(overload.channel)
    # Exactly the limit at once: any slot leaked by the overload would refuse one of them.
    ended = await asyncio.gather(
        *(
            outcome(stub.ListCloudFrontOriginAccessIdentities(LIST, timeout=HANG_GUARD))
            for _ in range(LIMIT)
        )
    )
    assert tally(ended) == {"OK": LIMIT}
