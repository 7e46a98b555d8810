"""Upstream faults: 20 % of CloudFront calls fail at random, and every gRPC call still ends well.

One storm per module: an in-process facade (3 attempts, standard retries, 1 s read timeout) in
front of a seeded emulator whose rules throttle, answer 503, drop the connection or stall for 2 s
(a read timeout), 5 % each. The tests then look at what callers saw and what the emulator got.
"""

from __future__ import annotations

import dataclasses
import random
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass

import grpc
import pytest
import pytest_asyncio

from service.emulator import Emulator, FaultRule, RequestRecord
from service.server import running
from tests.conftest import TEST_SETTINGS
from tests.reliability.conftest import Figures, size
from tests.reliability.support import (
    DOCUMENTED,
    LIST,
    Outcome,
    S,
    Stub,
    describe,
    error_infos,
    health,
    message_problems,
    reasons,
    tally,
)
from tests.reliability.workload import Workload

pytestmark = [pytest.mark.reliability, pytest.mark.asyncio(loop_scope="module")]

CALLS = size(300, 2000)
CONCURRENCY = 40
MAX_ATTEMPTS = 3
STALL = 2.0
READ_TIMEOUT = 1.0  # below the stall, so a stall is a read timeout
FAULTS = (
    {"error_code": "Throttling", "http_status": 400},
    {"error_code": "ServiceUnavailable", "http_status": 503},
    {"drop_connection": True},
    {"latency": STALL},
)
FAULT_RATE = 0.20


def fault_rules() -> list[FaultRule]:
    """One rule per fault, together failing FAULT_RATE of all upstream calls, evenly split.

    Rules are tried in order, so rule k fires with share / (1 - k * share): the probability
    that leaves it `share` of all calls once the earlier rules have missed.
    """
    share = FAULT_RATE / len(FAULTS)
    return [
        FaultRule(probability=share / (1 - k * share), **fault)  # type: ignore[arg-type]
        for k, fault in enumerate(FAULTS)
    ]


@dataclass
class Storm:
    outcomes: list[tuple[str, Outcome]]
    requests: list[RequestRecord]
    stub: Stub
    channel: grpc.aio.Channel
    emulator: Emulator


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def storm(figures: Figures) -> AsyncIterator[Storm]:
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AWS_ACCESS_KEY_ID", "AKIDRELIABILITY00001")
        env.setenv("AWS_SECRET_ACCESS_KEY", "reliability-secret-key")
        async with Emulator(seed=20240611, account_limit=10_000) as emulator:
            settings = dataclasses.replace(
                TEST_SETTINGS,
                emulator=False,
                aws_endpoint_url=emulator.base_url,
                aws_max_attempts=MAX_ATTEMPTS,
                aws_retry_mode="standard",
                aws_read_timeout=READ_TIMEOUT,
            )
            async with running(settings) as facade:
                async with grpc.aio.insecure_channel(facade.address) as channel:
                    stub = Stub(channel)
                    workload = Workload(stub, random.Random(7), "storm")
                    await workload.prepare(20)
                    emulator.clear_request_log()
                    for rule in fault_rules():
                        emulator.add_fault(rule)
                    outcomes = await workload.run(CALLS, CONCURRENCY)
                    emulator.clear_faults()
                    requests = list(emulator.request_log)
                    injected = Counter(_fault_name(r.fault) for r in requests if r.fault)
                    figures.record(
                        calls=CALLS,
                        concurrency=CONCURRENCY,
                        fault_rate=FAULT_RATE,
                        upstream_requests=len(requests),
                        faults_injected=dict(injected.most_common()),
                        faults_injected_total=sum(injected.values()),
                        attempts=dict(sorted(Counter(r.attempt for r in requests).items())),
                        statuses=tally(o for _, o in outcomes),
                        errors_by_reason=reasons(o for _, o in outcomes),
                    )
                    yield Storm(outcomes, requests, stub, channel, emulator)


def _fault_name(rule: FaultRule | None) -> str:
    if rule is None:
        return "none"
    if rule.error_code:
        return rule.error_code
    return "connection drop" if rule.drop_connection else f"{rule.latency:g} s stall"


async def test_every_call_ends_with_a_documented_status(storm: Storm) -> None:
    assert len(storm.outcomes) == CALLS
    codes = Counter(o.code for _, o in storm.outcomes)
    assert set(codes) <= DOCUMENTED, codes
    assert codes[S.UNKNOWN] == 0
    failed = [o for _, o in storm.outcomes if o.code is S.INTERNAL]
    assert not failed, describe(failed)


async def test_every_error_carries_one_error_info_and_a_clean_message(storm: Storm) -> None:
    errors = [o for _, o in storm.outcomes if o.error is not None]
    assert errors, "a 20 % fault rate must let some errors through the retries"
    for ended in errors:
        assert ended.error is not None
        assert len(error_infos(ended.error)) == 1, describe([ended])
        assert not message_problems(ended.message), describe([ended])


async def test_faults_of_every_kind_were_injected(storm: Storm) -> None:
    injected = Counter(_fault_name(r.fault) for r in storm.requests if r.fault)
    assert set(injected) == {
        "Throttling",
        "ServiceUnavailable",
        "connection drop",
        f"{STALL:g} s stall",
    }
    share = sum(injected.values()) / len(storm.requests)
    assert 0.12 < share < 0.28, f"{share:.0%} of upstream requests faulted, expected ~20 %"


async def test_retries_happen_within_the_configured_attempts(storm: Storm) -> None:
    attempts = Counter(r.attempt for r in storm.requests)
    assert len(storm.requests) > CALLS, "faulted attempts must be retried"
    assert attempts[2] > 0
    assert max(a for a in attempts if a is not None) <= MAX_ATTEMPTS
    assert None not in attempts, "every upstream request carries botocore's attempt header"


async def test_the_facade_is_healthy_after_the_storm(storm: Storm) -> None:
    assert not storm.emulator.faults()
    assert await health(storm.channel) == "SERVING"
    listed = await storm.stub.ListCloudFrontOriginAccessIdentities(LIST, timeout=5)
    assert listed.cloud_front_origin_access_identity_list.quantity > 0
