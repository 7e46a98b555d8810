"""`cloudfront-facade health` exit codes: 0 SERVING, 1 the server answered and is not serving
(NOT_SERVING, or a service it does not know), 2 no answer or bad arguments."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable

import aiohttp
import grpc
import pytest

from service._gen.cloudfront.v1 import origin_access_identity_service_pb2 as pb
from service._gen.cloudfront.v1 import origin_access_identity_service_pb2_grpc as pb_grpc
from service.server import Facade
from service.servicer import SERVICE_NAME
from tests.process import EmulatorAdmin, facade_process, run_cli

LIST = pb.ListCloudFrontOriginAccessIdentitiesRequest()


async def health(*args: str) -> tuple[int, str, str]:
    code, out, err = await asyncio.to_thread(run_cli, ["health", *args])
    assert "Traceback" not in out + err
    return code, out.strip(), err.strip()


async def test_serving_exits_0(facade: Facade) -> None:
    assert (await health("--target", facade.address, "--service", SERVICE_NAME))[:2] == (
        0,
        "SERVING",
    )


async def test_not_serving_exits_1(facade: Facade) -> None:
    await facade.health.enter_graceful_shutdown()  # health says NOT_SERVING; the listener stays
    assert (await health("--target", facade.address))[:2] == (1, "NOT_SERVING")


async def test_a_service_the_server_does_not_know_exits_1(facade: Facade) -> None:
    code, out, err = await health("--target", facade.address, "--service", "no.such.Service")
    assert (code, out) == (1, "SERVICE_UNKNOWN")
    assert err == f"not serving: {facade.address} does not know the service 'no.such.Service'"


async def test_nothing_listening_exits_2_unreachable() -> None:
    code, out, err = await health("--target", "127.0.0.1:9", "--timeout", "0.5")
    assert (code, out) == (2, "")
    assert err.startswith("unhealthy: unreachable: 127.0.0.1:9: UNAVAILABLE: ")


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            ["--tls-ca", "/nonexistent/ca.pem"],
            "cloudfront-facade health: --tls-ca /nonexistent/ca.pem: No such file or directory",
        ),
        (
            ["--tls-cert", "/x.pem"],
            "cloudfront-facade health: --tls-cert and --tls-key need --tls-ca",
        ),
    ],
)
async def test_bad_arguments_exit_2_in_one_line(args: list[str], line: str) -> None:
    assert await health("--target", "127.0.0.1:9", *args) == (2, "", line)


async def test_a_bad_timeout_is_refused() -> None:
    code, _, err = await health("--timeout", "nan")
    assert code == 2
    assert "--timeout: expected a finite number of seconds above 0" in err


async def _until(condition: Callable[[], Awaitable[bool]]) -> None:
    """Wait for an observable event in another process (never a fixed sleep)."""
    for _ in range(1000):
        if await condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{condition.__name__} never came true")


async def test_a_draining_facade_has_stopped_listening_so_the_probe_exits_2() -> None:
    """What a draining facade answers a new probe: nothing, since it closed its listener."""
    # The call is held upstream until the facade stops, and the grace is an hour: only the
    # second signal ends the drain, so no clock is raced.
    async with facade_process("--emulator", "--shutdown-grace", "3600") as facade:
        host, port = facade.address.rsplit(":", 1)

        async def listener_closed() -> bool:
            try:
                _, writer = await asyncio.open_connection(host, int(port))
            except ConnectionRefusedError:
                return True
            writer.close()
            return False

        async with (
            aiohttp.ClientSession() as http,
            grpc.aio.insecure_channel(facade.address) as channel,
        ):
            upstream = EmulatorAdmin(http, facade.serving["emulator"])
            await upstream.hold_every_call()
            stub = pb_grpc.OriginAccessIdentityServiceStub(channel)  # type: ignore[no-untyped-call]
            held = asyncio.ensure_future(stub.ListCloudFrontOriginAccessIdentities(LIST))
            await upstream.wait_held(1)
            facade.signal(signal.SIGTERM)
            await _until(listener_closed)
            code, _, err = await health("--target", facade.address)
            assert facade.process.returncode is None, "the held call keeps the drain going"
            assert code == 2
            assert err.startswith(f"unhealthy: unreachable: {facade.address}: UNAVAILABLE: ")
            facade.signal(signal.SIGTERM)  # the second signal: stop now
            assert await facade.wait() == 0
            with pytest.raises(grpc.aio.AioRpcError):
                await held
