"""The hold fault: matching requests wait before the operation until released on command."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError

from service.emulator import Emulator, FaultRule
from tests.emulator.emulator_helpers import (
    NO_RETRIES,
    EmulatorFactory,
    assert_client_error,
    make_client,
    oai_config,
)

CREATE_OP = "CreateCloudFrontOriginAccessIdentity"
LIST_OP = "ListCloudFrontOriginAccessIdentities"


async def _arrived(emulator: Emulator, count: int) -> None:
    """Wait (on the request log, not on a clock) until ``count`` requests have arrived."""
    for _ in range(10_000):
        if len(emulator.request_log) >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{count} requests never arrived")


def _create(cf: Any, reference: str) -> asyncio.Task[Any]:
    return asyncio.ensure_future(
        cf.create_cloud_front_origin_access_identity(
            CloudFrontOriginAccessIdentityConfig=oai_config(reference)
        )
    )


async def test_a_held_request_waits_before_the_operation_runs(
    emulator: Emulator, cf_no_retry: Any
) -> None:
    emulator.add_fault(FaultRule(operation=CREATE_OP, hold=True))
    call = _create(cf_no_retry, "held")
    await emulator.wait_held(1)
    assert emulator.identities() == []
    assert not call.done()
    assert emulator.release_held() == 1
    created = await call
    [stored] = emulator.identities()
    assert stored.id == created["CloudFrontOriginAccessIdentity"]["Id"]
    assert emulator.held == 0


async def test_release_lets_every_held_request_go_and_later_ones_are_held_again(
    emulator: Emulator, cf_no_retry: Any
) -> None:
    emulator.add_fault(FaultRule(operation=LIST_OP, hold=True))
    first = [
        asyncio.ensure_future(cf_no_retry.list_cloud_front_origin_access_identities())
        for _ in range(3)
    ]
    await emulator.wait_held(3)
    assert emulator.held == 3
    assert emulator.release_held() == 3
    await asyncio.gather(*first)
    later = asyncio.ensure_future(cf_no_retry.list_cloud_front_origin_access_identities())
    await emulator.wait_held(1)
    assert not later.done()
    emulator.release_held()
    await later


async def test_a_hold_matches_only_its_operation_and_expires_with_times(
    emulator: Emulator, cf_no_retry: Any
) -> None:
    emulator.add_fault(FaultRule(operation=CREATE_OP, hold=True, times=1))
    held = _create(cf_no_retry, "first")
    await emulator.wait_held(1)
    # Neither another operation nor the rule's second match is held.
    await cf_no_retry.list_cloud_front_origin_access_identities()
    await _create(cf_no_retry, "second")
    assert emulator.held == 1
    emulator.release_held()
    await held
    assert sorted(i.caller_reference for i in emulator.identities()) == ["first", "second"]


async def test_a_hold_combines_with_an_error_outcome(emulator: Emulator, cf_no_retry: Any) -> None:
    emulator.add_fault(FaultRule(operation=CREATE_OP, hold=True, error_code="Throttling"))
    call = _create(cf_no_retry, "ref")
    await emulator.wait_held(1)
    emulator.release_held()
    with pytest.raises(ClientError) as caught:
        await call
    assert_client_error(caught.value, "Throttling", 400)
    assert emulator.identities() == []


async def test_release_with_nothing_held_releases_nothing(emulator: Emulator) -> None:
    assert emulator.release_held() == 0
    await emulator.wait_held(0)


async def test_stop_drops_held_and_sleeping_requests_and_wakes_waiters(
    emulator_factory: EmulatorFactory,
) -> None:
    emulator = await emulator_factory()
    emulator.add_fault(FaultRule(operation=CREATE_OP, hold=True))
    # An hour of latency: only a stop that wakes the sleeper lets this test end.
    emulator.add_fault(FaultRule(operation=LIST_OP, latency=3600))
    async with make_client(emulator, NO_RETRIES) as cf:
        held = _create(cf, "held")
        sleeping = asyncio.ensure_future(cf.list_cloud_front_origin_access_identities())
        await emulator.wait_held(1)
        waiter = asyncio.ensure_future(emulator.wait_held(2))
        await _arrived(emulator, 2)  # the sleeper has reached the emulator
        await emulator.stop()
        for call in (held, sleeping):
            with pytest.raises((ConnectionClosedError, EndpointConnectionError)):
                await call
        with pytest.raises(RuntimeError, match="stopped"):
            await waiter
    assert emulator.identities() == []
    assert [record.status for record in emulator.request_log] == [None, None]
    assert emulator.held == 0


async def test_a_stopped_emulator_holds_again_after_a_restart(
    emulator_factory: EmulatorFactory,
) -> None:
    emulator = await emulator_factory()
    await emulator.stop()
    await emulator.start()
    emulator.add_fault(FaultRule(operation=CREATE_OP, hold=True))
    async with make_client(emulator, NO_RETRIES) as cf:
        call = _create(cf, "ref")
        await emulator.wait_held(1)
        emulator.release_held()
        await call


async def test_admin_hold_fault_held_count_long_poll_and_release(
    emulator: Emulator, cf_no_retry: Any
) -> None:
    async with aiohttp.ClientSession(base_url=f"{emulator.base_url}/_emulator/") as admin:
        async with admin.post("faults", json={"operation": LIST_OP, "hold": True}) as response:
            assert response.status == 201
            assert (await response.json())["rule"]["hold"] is True
        calls = [
            asyncio.ensure_future(cf_no_retry.list_cloud_front_origin_access_identities())
            for _ in range(2)
        ]
        async with admin.get("held", params={"at_least": "2"}) as response:
            assert (response.status, await response.json()) == (200, {"held": 2})
        async with admin.post("release") as response:
            assert (response.status, await response.json()) == (200, {"released": 2})
        await asyncio.gather(*calls)
        async with admin.get("held") as response:
            assert await response.json() == {"held": 0}
        async with admin.get("held", params={"at_least": "two"}) as response:
            assert response.status == 400


def test_hold_is_a_boolean_in_fault_json() -> None:
    assert FaultRule.from_json({"hold": True}).hold is True
    with pytest.raises(ValueError, match="hold"):
        FaultRule.from_json({"hold": 1})
