"""No lost or doubled writes: lost Create responses and racing Updates, proved by the emulator.

The emulator's `identities()` is the ground truth: what CloudFront really stored.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter

import grpc
import pytest

from service.emulator import FaultRule
from tests.conftest import FacadeFactory
from tests.reliability.conftest import Figures, size
from tests.reliability.support import (
    Outcome,
    S,
    Stub,
    create_request,
    describe,
    outcome,
    tally,
    update_request,
)

pytestmark = pytest.mark.reliability

CREATE = "CreateCloudFrontOriginAccessIdentity"
CALLERS = size(20, 200)  # each creates one identity through lost responses
DROP_RATE = 0.4  # of Create responses lost after the identity was committed
CALLER_TRIES = 12
MAX_ATTEMPTS = 3  # botocore's, per facade call
UPDATE_ROUNDS = size(5, 50)
RACERS = 20


async def create_until_ok(stub: Stub, reference: str, comment: str) -> tuple[Outcome, int]:
    """A careful caller: on UNAVAILABLE, retry with the same CallerReference."""
    for tries in range(1, CALLER_TRIES + 1):
        ended = await outcome(
            stub.CreateCloudFrontOriginAccessIdentity(
                create_request(reference, comment), timeout=10
            )
        )
        if ended.code is not S.UNAVAILABLE:
            return ended, tries
    return ended, CALLER_TRIES


async def test_create_retried_after_lost_responses_makes_exactly_one_identity(
    facade_factory: FacadeFactory, figures: Figures
) -> None:
    async with facade_factory(aws_max_attempts=MAX_ATTEMPTS, aws_retry_mode="standard") as facade:
        emulator = facade.emulator
        assert emulator is not None
        emulator.account_limit = CALLERS + 10
        async with grpc.aio.insecure_channel(facade.address) as channel:
            stub = Stub(channel)
            # First one caller loses more responses than botocore makes attempts, so the
            # loss reaches the caller; then all callers at once, losing responses at random.
            emulator.add_fault(
                FaultRule(
                    operation=CREATE,
                    drop_connection=True,
                    after_commit=True,
                    times=MAX_ATTEMPTS + 1,
                )
            )
            results = [await create_until_ok(stub, "once-0", "comment 0")]
            emulator.add_fault(
                FaultRule(
                    operation=CREATE, drop_connection=True, after_commit=True, probability=DROP_RATE
                )
            )
            results += await asyncio.gather(
                *(create_until_ok(stub, f"once-{n}", f"comment {n}") for n in range(1, CALLERS))
            )
        stored = emulator.identities()
        dropped = sum(r.fault is not None for r in emulator.request_log)
    outcomes = [ended for ended, _ in results]
    figures.record(
        create_callers=CALLERS,
        create_responses_dropped=dropped,
        create_upstream_requests=len(emulator.request_log),
        create_caller_tries=dict(sorted(Counter(t for _, t in results).items())),
        create_final_statuses=tally(outcomes),
        identities_stored=len(stored),
    )
    assert tally(outcomes) == {"OK": CALLERS}, describe(o for o in outcomes if o.code is not S.OK)
    assert results[0][1] == 2, "the first caller must have seen its response lost, and retried"
    by_reference = Counter(identity.caller_reference for identity in stored)
    assert by_reference == Counter(f"once-{n}" for n in range(CALLERS)), "lost or doubled"
    answered = {o.response.cloud_front_origin_access_identity.id for o in outcomes}
    assert answered == {identity.id for identity in stored}


async def test_concurrent_updates_with_one_etag_have_exactly_one_winner(
    facade_factory: FacadeFactory, figures: Figures
) -> None:
    rng = random.Random(11)
    statuses: Counter[str] = Counter()
    async with facade_factory() as facade:
        emulator = facade.emulator
        assert emulator is not None
        async with grpc.aio.insecure_channel(facade.address) as channel:
            stub = Stub(channel)
            for round_ in range(UPDATE_ROUNDS):
                reference = f"race-{round_}"
                made = await stub.CreateCloudFrontOriginAccessIdentity(create_request(reference))
                identity_id, etag = made.cloud_front_origin_access_identity.id, made.etag
                comments = [f"writer {n} {rng.randrange(10**9)}" for n in range(RACERS)]
                results = await asyncio.gather(
                    *(
                        outcome(
                            stub.UpdateCloudFrontOriginAccessIdentity(
                                update_request(identity_id, etag, reference, comment), timeout=10
                            )
                        )
                        for comment in comments
                    )
                )
                statuses.update(tally(results))
                winners = [n for n, ended in enumerate(results) if ended.code is S.OK]
                assert len(winners) == 1, tally(results)
                assert all(
                    ended.code is S.ABORTED for n, ended in enumerate(results) if n != winners[0]
                ), tally(results)
                (stored,) = [i for i in emulator.identities() if i.id == identity_id]
                assert stored.comment == comments[winners[0]]
                assert stored.etag == results[winners[0]].response.etag
    figures.record(
        update_rounds=UPDATE_ROUNDS, racers_per_round=RACERS, update_statuses=dict(statuses)
    )
