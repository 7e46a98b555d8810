"""Run the facade as a real OS process, the way a sidecar runs: for signal and log tests."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

# Bounds on waits that only end early when something is broken: generous, so that a loaded
# machine is slow rather than wrong. No test asserts how long anything took.
STARTUP_TIMEOUT = 60.0


class EmulatorAdmin:
    """The admin API (/_emulator/…) of an emulator in another process, e.g. a facade process's
    embedded one: a test holds calls upstream and releases them on command through it."""

    def __init__(self, http: aiohttp.ClientSession, base_url: str) -> None:
        self.http = http
        self.admin = f"{base_url}/_emulator"

    async def hold_every_call(self) -> None:
        async with self.http.post(f"{self.admin}/faults", json={"hold": True}) as answer:
            assert answer.status == 201, await answer.text()

    async def clear_faults(self) -> None:
        async with self.http.delete(f"{self.admin}/faults") as answer:
            assert answer.status == 200, await answer.text()

    async def wait_held(self, count: int, within: float = 60.0) -> None:
        """Return once the emulator holds at least `count` requests."""
        async with self.http.get(
            f"{self.admin}/held",
            params={"at_least": count},
            timeout=aiohttp.ClientTimeout(total=within),
        ) as answer:
            assert (await answer.json())["held"] >= count

    async def release(self) -> int:
        """Let every held request go on; returns how many were held."""
        async with self.http.post(f"{self.admin}/release") as answer:
            released: int = (await answer.json())["released"]
            return released


@dataclass
class FacadeProcess:
    process: asyncio.subprocess.Process
    address: str
    serving: dict[str, Any]
    lines: list[str] = field(default_factory=list)
    _reader: asyncio.Task[None] | None = None
    _new_line: asyncio.Event = field(default_factory=asyncio.Event)

    def signal(self, signum: int = signal.SIGTERM) -> None:
        self.process.send_signal(signum)

    async def wait(self, within: float = 60.0) -> int:
        return await asyncio.wait_for(self.process.wait(), within)

    async def logged(self, message: str, within: float = 60.0) -> dict[str, Any]:
        """The first log record with this message, waiting for the process to write it."""

        async def first() -> dict[str, Any]:
            while True:
                self._new_line.clear()
                for record in self.records():
                    if record.get("message") == message:
                        return record
                if self._reader is None or self._reader.done():
                    raise AssertionError(f"the facade exited without logging {message!r}")
                await self._new_line.wait()

        return await asyncio.wait_for(first(), within)

    async def draining(self, within: float = 60.0) -> None:
        """Wait until the process has begun its drain: its health says NOT_SERVING, or it no
        longer answers at all. (It logs "draining" on the signal, a moment before that.)"""
        await self.logged("draining", within)

        async def not_serving() -> None:
            while True:
                async with grpc.aio.insecure_channel(self.address) as channel:
                    try:
                        answer = await health_pb2_grpc.HealthStub(channel).Check(
                            health_pb2.HealthCheckRequest(), timeout=within
                        )
                    except grpc.aio.AioRpcError:
                        return
                if answer.status != health_pb2.HealthCheckResponse.SERVING:
                    return
                await asyncio.sleep(0.01)

        await asyncio.wait_for(not_serving(), within)

    async def output(self) -> str:
        """Everything the process wrote, once it has exited."""
        if self._reader is not None:
            await self._reader
        return "\n".join(self.lines)

    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.lines if line.startswith("{")]


async def _pump(stream: asyncio.StreamReader, handle: FacadeProcess) -> None:
    try:
        while line := await stream.readline():
            handle.lines.append(line.decode(errors="replace").rstrip("\n"))
            handle._new_line.set()
    finally:
        handle._new_line.set()  # wakes `logged` to see the end of the output


@asynccontextmanager
async def facade_process(
    *args: str, env: Mapping[str, str] | None = None, listen: str = "127.0.0.1:0"
) -> AsyncIterator[FacadeProcess]:
    """Start `python -m service --listen … *args` and wait for its "serving" log line."""
    child_env = {**os.environ, **(env or {})}  # isolated by tests/conftest.py
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "service",
        "--listen",
        listen,
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=child_env,
    )
    assert process.stdout is not None
    lines: list[str] = []
    try:
        serving = await asyncio.wait_for(_wait_serving(process.stdout, lines), STARTUP_TIMEOUT)
        handle = FacadeProcess(process, serving["address"], serving, lines)
        handle._reader = asyncio.create_task(_pump(process.stdout, handle))
        yield handle
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def _wait_serving(stream: asyncio.StreamReader, lines: list[str]) -> dict[str, Any]:
    while line := await stream.readline():
        text = line.decode(errors="replace").rstrip("\n")
        lines.append(text)
        with contextlib.suppress(ValueError):
            record = json.loads(text)
            if record.get("message") == "serving":
                return dict(record)
    raise AssertionError("the facade exited before serving:\n" + "\n".join(lines))


def run_cli(
    args: Sequence[str], env: Mapping[str, str] | None = None, timeout: float = 30.0
) -> tuple[int, str, str]:
    """Run the console entry point to completion (for exit-code tests)."""
    import subprocess

    child_env = {**os.environ, **(env or {})}  # isolated by tests/conftest.py
    done = subprocess.run(
        [sys.executable, "-m", "service", *args],
        capture_output=True,
        text=True,
        env=child_env,
        timeout=timeout,
        check=False,
    )
    return done.returncode, done.stdout, done.stderr
