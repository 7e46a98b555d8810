"""Fixtures: a fresh emulator per test on a free loopback port, and real aioboto3 clients."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import pytest

from service.emulator import Emulator
from tests.emulator.emulator_helpers import NO_RETRIES, EmulatorFactory, make_client


@pytest.fixture
async def emulator_factory() -> AsyncIterator[EmulatorFactory]:
    """Start extra emulators with custom constructor arguments; all stop at teardown."""
    async with AsyncExitStack() as stack:

        async def start(**kwargs: Any) -> Emulator:
            return await stack.enter_async_context(Emulator(**kwargs))

        yield start


@pytest.fixture
async def emulator(emulator_factory: EmulatorFactory) -> Emulator:
    return await emulator_factory(seed=1234)


@pytest.fixture
async def cf(emulator: Emulator) -> AsyncIterator[Any]:
    """A real aioboto3 CloudFront client with botocore's default configuration."""
    async with make_client(emulator) as client:
        yield client


@pytest.fixture
async def cf_no_retry(emulator: Emulator) -> AsyncIterator[Any]:
    """A client that makes exactly one attempt per call, so faults reach the test."""
    async with make_client(emulator, NO_RETRIES) as client:
        yield client
