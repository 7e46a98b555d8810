"""Shutdown signals are caught only inside `shutdown_signals()`: the first asks for a drain, a
second for a stop now, and the handlers are gone once the block is left, however it is left."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest

from service.server import shutdown_signals


async def test_first_signal_asks_for_a_drain_and_the_second_for_a_stop_now() -> None:
    with shutdown_signals() as shutdown:
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.wait_for(shutdown.drain.wait(), 10)
        assert (shutdown.signal, shutdown.now.is_set()) == ("SIGTERM", False)
        os.kill(os.getpid(), signal.SIGINT)
        await asyncio.wait_for(shutdown.now.wait(), 10)
        assert shutdown.signal == "SIGTERM", "the first signal is the one reported"


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
async def test_handlers_are_removed_when_the_block_raises(signum: signal.Signals) -> None:
    before = signal.getsignal(signum)
    inside = []
    with pytest.raises(RuntimeError), shutdown_signals():  # noqa: PT012
        inside.append(signal.getsignal(signum))
        raise RuntimeError("start-up failed inside the block")
    assert inside != [before]
    assert signal.getsignal(signum) == before
