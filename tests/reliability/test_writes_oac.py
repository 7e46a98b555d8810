"""OAC writes that race: one ETag, one name, twenty callers; the emulator's store is the truth.

Every racer's request is held at the emulator (a hold fault) until all twenty are there, so
they really are in flight together when they are let go; nothing waits on the clock.
"""

from __future__ import annotations

import asyncio

import pytest

from service.emulator import Emulator, FaultRule
from tests.oac import (  # noqa: F401
    Stub,
    create,
    create_request,
    module_emulator,
    module_facade,
    module_stub,
    resets_emulator,
    update_request,
)
from tests.reliability.support import Outcome, S, describe, outcome, reasons, tally

pytestmark = [pytest.mark.reliability, pytest.mark.asyncio(loop_scope="module")]

RACERS = 20


async def held_together(emulator: Emulator, calls: list[asyncio.Task[Outcome]]) -> None:
    """Once every call is held at the emulator, stop holding and let them all go at once."""
    await asyncio.wait_for(emulator.wait_held(len(calls)), timeout=60)
    emulator.clear_faults()
    assert emulator.release_held() == len(calls)


async def test_20_racing_updates_on_one_etag_have_exactly_one_winner(
    stub: Stub, emulator: Emulator
) -> None:
    made = await create(stub, "oac-race")
    control_id, etag = made.origin_access_control.id, made.etag
    descriptions = [f"writer {n}" for n in range(RACERS)]
    emulator.add_fault(FaultRule(operation="UpdateOriginAccessControl", hold=True))
    racers = [
        asyncio.create_task(
            outcome(
                stub.UpdateOriginAccessControl(
                    update_request(control_id, etag, "oac-race", description), timeout=60
                )
            )
        )
        for description in descriptions
    ]
    await held_together(emulator, racers)
    results = await asyncio.gather(*racers)
    winners = [n for n, ended in enumerate(results) if ended.code is S.OK]
    assert len(winners) == 1, tally(results)
    losers = [ended for n, ended in enumerate(results) if n != winners[0]]
    assert reasons(losers) == {"ABORTED/PRECONDITION_FAILED": RACERS - 1}, describe(losers)
    (stored,) = emulator.controls()
    assert stored.description == descriptions[winners[0]]
    assert stored.etag == results[winners[0]].response.etag


async def test_20_concurrent_creates_of_one_name_have_exactly_one_winner(
    stub: Stub, emulator: Emulator
) -> None:
    emulator.add_fault(FaultRule(operation="CreateOriginAccessControl", hold=True))
    racers = [
        asyncio.create_task(
            outcome(
                stub.CreateOriginAccessControl(
                    create_request("oac-one-name", f"creator {n}"), timeout=60
                )
            )
        )
        for n in range(RACERS)
    ]
    await held_together(emulator, racers)
    results = await asyncio.gather(*racers)
    winners = [ended for ended in results if ended.code is S.OK]
    assert len(winners) == 1, tally(results)
    losers = [ended for ended in results if ended.code is not S.OK]
    assert reasons(losers) == {"ALREADY_EXISTS/ORIGIN_ACCESS_CONTROL_ALREADY_EXISTS": RACERS - 1}, (
        describe(losers)
    )
    (stored,) = emulator.controls()
    assert stored.id == winners[0].response.origin_access_control.id
    assert stored.name == "oac-one-name"
