"""Health tells the truth and stays open to probes; reflection describes the service."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from service.server import Facade
from service.servicer import SERVICE_NAME
from tests.conftest import FacadeFactory, served_services
from tests.process import run_cli

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


async def _check(address: str, service: str) -> int:
    async with grpc.aio.insecure_channel(address) as channel:
        response = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=service), timeout=2
        )
        return int(response.status)


@pytest.mark.parametrize("service", ["", SERVICE_NAME])
async def test_health_is_serving_once_started(facade: Facade, service: str) -> None:
    assert await _check(facade.address, service) == SERVING


async def test_health_turns_not_serving_when_draining(facade_factory: FacadeFactory) -> None:
    async with facade_factory() as facade:
        async with grpc.aio.insecure_channel(facade.address) as channel:
            watch = health_pb2_grpc.HealthStub(channel).Watch(
                health_pb2.HealthCheckRequest(service=SERVICE_NAME)
            )
            assert (await watch.read()).status == SERVING
            drain = asyncio.create_task(facade.drain(grace=1.0))
            assert (await watch.read()).status == NOT_SERVING
            await drain


async def test_health_stays_open_without_the_caller_token(facade_factory: FacadeFactory) -> None:
    async with facade_factory(auth_token="a-long-caller-token") as facade:
        assert await _check(facade.address, "") == SERVING


async def test_reflection_lists_the_service(facade: Facade) -> None:
    services = await served_services(facade.address)
    assert SERVICE_NAME in services
    assert "grpc.health.v1.Health" in services


async def test_reflection_can_be_switched_off(facade_factory: FacadeFactory) -> None:
    async with facade_factory(reflection=False) as facade:
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            await served_services(facade.address)
    assert failure.value.code() is grpc.StatusCode.UNIMPLEMENTED


async def test_health_cli_exits_0_when_serving(facade: Facade) -> None:
    code, out, _ = await asyncio.to_thread(run_cli, ["health", "--target", facade.address])
    assert (code, out.strip()) == (0, "SERVING")


async def test_health_cli_exits_2_when_nothing_listens() -> None:
    code, _, err = await asyncio.to_thread(
        run_cli, ["health", "--target", "127.0.0.1:9", "--timeout", "0.5"]
    )
    assert code == 2
    assert "unhealthy" in err


async def test_an_open_health_watch_does_not_hold_the_drain(
    facade_factory: FacadeFactory,
) -> None:
    async with facade_factory() as facade:
        async with grpc.aio.insecure_channel(facade.address) as channel:
            watch = health_pb2_grpc.HealthStub(channel).Watch(
                health_pb2.HealthCheckRequest(service="")
            )
            assert (await watch.read()).status == SERVING
            # An hour of grace: were the watch holding the drain, the 60 s safety net would
            # fail the test; no clock is raced.
            await asyncio.wait_for(facade.drain(grace=3600.0), 60)
