"""Where requests wait on a fault: held until released on command, or sleeping on latency.

One place so that stopping the emulator can wake every waiting request at once: a stop
must not wait for a hold nobody will release, nor for injected latency to run out.
"""

from __future__ import annotations

import asyncio


class Stopped(Exception):
    """The emulator stopped while the request waited; the caller drops the connection."""


class Parking:
    """Held requests, latency sleeps, and the waiters of :meth:`wait_held`.

    Synchronous between awaits like the rest of the emulator, so no lock is needed.
    """

    def __init__(self) -> None:
        self._held: set[asyncio.Future[None]] = set()
        self._sleeping: set[asyncio.Future[None]] = set()
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._stopped = False

    @property
    def held(self) -> int:
        return len(self._held)

    def open(self) -> None:
        """Accept waiting requests again (after a stop, on the next start)."""
        self._stopped = False

    async def hold(self) -> None:
        """Wait until :meth:`release` (returns) or :meth:`stop` (raises :class:`Stopped`)."""
        await self._park(self._held, None)

    async def sleep(self, seconds: float) -> None:
        """Sleep for ``seconds``, or raise :class:`Stopped` as soon as the emulator stops."""
        await self._park(self._sleeping, seconds)

    async def _park(self, pen: set[asyncio.Future[None]], seconds: float | None) -> None:
        if self._stopped:
            raise Stopped
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        pen.add(future)
        if pen is self._held:
            self._notify()
        try:
            # shield: a timeout must not cancel the future stop() or release() may resolve.
            await asyncio.wait_for(asyncio.shield(future), seconds)
        except TimeoutError:
            pass
        finally:
            pen.discard(future)
        if future.done() and future.exception() is not None:
            raise Stopped

    def release(self) -> int:
        """Let every held request go on; returns how many were released."""
        released, self._held = self._held, set()
        for future in released:
            if not future.done():
                future.set_result(None)
        return len(released)

    async def wait_held(self, count: int) -> None:
        """Return once at least ``count`` requests are held; raises Stopped on stop."""
        if count < 0:
            raise ValueError("count must be non-negative")
        if self.held >= count:
            return
        if self._stopped:
            raise Stopped
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (count, future)
        self._waiters.append(entry)
        try:
            await future
        finally:
            if entry in self._waiters:
                self._waiters.remove(entry)

    def _notify(self) -> None:
        held = self.held
        for count, future in list(self._waiters):
            if held >= count and not future.done():
                future.set_result(None)

    def stop(self) -> None:
        """Wake every waiting request and waiter with :class:`Stopped`."""
        self._stopped = True
        pending = [*self._held, *self._sleeping, *(future for _, future in self._waiters)]
        self._held = set()
        self._sleeping = set()
        for future in pending:
            if not future.done():
                future.set_exception(Stopped())
