"""Running the emulator: the Python lifecycle and ``python -m service.emulator``."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from service.emulator import Emulator
from tests.emulator.emulator_helpers import ACCESS_KEY, SECRET_KEY, make_client, oai_config

REPO_ROOT = Path(__file__).resolve().parents[2]


async def test_start_returns_loopback_base_url_and_stop_releases_it() -> None:
    emulator = Emulator()
    with pytest.raises(RuntimeError):
        _ = emulator.base_url
    url = await emulator.start()
    assert url == emulator.base_url
    assert url.startswith("http://127.0.0.1:")
    assert emulator.running
    await emulator.stop()
    assert not emulator.running
    await emulator.stop()


async def test_emulator_context_manager_serves_requests() -> None:
    async with Emulator(account_limit=5) as emulator, make_client(emulator) as cf:
        await cf.create_cloud_front_origin_access_identity(
            CloudFrontOriginAccessIdentityConfig=oai_config("ref")
        )
        assert emulator.account_limit == 5
        assert len(emulator.identities()) == 1


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "sigint"])
async def test_standalone_process_prints_url_serves_and_exits_on_signal(signum: int) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "service.emulator",
        "--port",
        "0",
        "--access-key-id",
        ACCESS_KEY,
        "--secret-access-key",
        SECRET_KEY,
        cwd=REPO_ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), timeout=15)
        url = line.decode().strip()
        assert url.startswith("http://127.0.0.1:")
        async with make_client(url) as cf:
            created = await cf.create_cloud_front_origin_access_identity(
                CloudFrontOriginAccessIdentityConfig=oai_config("cli")
            )
        assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
        process.send_signal(signum)
        assert await asyncio.wait_for(process.wait(), timeout=10) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
