"""Shared fixtures: a real facade on a free loopback port, backed by the real emulator.

Also the one place that isolates the environment every test (and every child process a test
starts) runs in, builds the common requests, and names the service's RPCs.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager
from typing import Any

import grpc
import pytest
from google.protobuf.message import Message
from google.rpc import error_details_pb2, status_pb2
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from service._gen.cloudfront.v1 import origin_access_identity_service_pb2 as pb
from service._gen.cloudfront.v1 import origin_access_identity_service_pb2_grpc as pb_grpc
from service.config import Settings
from service.emulator import Emulator
from service.server import Facade, running


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """Workers for `-n auto` (addopts): one per CPU plus one. A third of the default run's wall
    time is spent waiting (credentials that must expire, facades starting in child processes),
    so one worker more than the CPUs keeps both busy; more only adds start-up and contention."""
    return (os.cpu_count() or 1) + 1


# Tests see one attempt per call unless they ask for retries, so request counts are exact.
TEST_SETTINGS = Settings(
    listen="127.0.0.1:0",
    emulator=True,
    aws_max_attempts=1,
    aws_read_timeout=5.0,
    log_level="WARNING",
)

FacadeFactory = Callable[..., AbstractAsyncContextManager[Facade]]

#: The service under test, and its RPC names, from the descriptors the facade serves.
OAI_SERVICE = pb.DESCRIPTOR.services_by_name["OriginAccessIdentityService"]
SERVICE = f"/{OAI_SERVICE.full_name}/"
RPCS = tuple(method.name for method in OAI_SERVICE.methods)

# What would make a test (or a child process it starts) read settings, credentials or routes the
# test did not choose: the developer's AWS profile, the instance metadata service, a
# CLOUDFRONT_FACADE_* setting, gRPC tuning, an OpenTelemetry exporter, or a proxy in front of
# loopback.
_FOREIGN_PREFIXES = ("AWS_", "CLOUDFRONT_FACADE_", "GRPC_", "OTEL_")
_FOREIGN_NAMES = {
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "no_proxy",
    "grpc_proxy",
    "no_grpc_proxy",
}
# botocore then finds no credentials at all unless a test gives some.
NO_AMBIENT_AWS = {
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}


@pytest.fixture(scope="session", autouse=True)
def isolated_environment() -> Iterator[None]:
    """Every test runs without the developer's AWS, facade, gRPC and proxy settings.

    Session-scoped so that module-scoped servers start isolated too; a test that needs a
    variable sets it with `monkeypatch.setenv` (or passes `env=` to a child process).
    """
    with pytest.MonkeyPatch.context() as env:
        for name in list(os.environ):
            if name.upper().startswith(_FOREIGN_PREFIXES) or name.lower() in _FOREIGN_NAMES:
                env.delenv(name)
        for name, value in NO_AMBIENT_AWS.items():
            env.setenv(name, value)
        yield


@pytest.fixture
def facade_factory() -> FacadeFactory:
    """Start a facade with TEST_SETTINGS overridden by keyword arguments."""

    def start(**overrides: Any) -> AbstractAsyncContextManager[Facade]:
        return running(dataclasses.replace(TEST_SETTINGS, **overrides))

    return start


@pytest.fixture
async def facade(facade_factory: FacadeFactory) -> AsyncIterator[Facade]:
    async with facade_factory() as running_facade:
        yield running_facade


@pytest.fixture
def emulator(facade: Facade) -> Emulator:
    assert facade.emulator is not None
    return facade.emulator


@pytest.fixture
async def channel(facade: Facade) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(facade.address) as open_channel:
        yield open_channel


@pytest.fixture
def stub(channel: grpc.aio.Channel) -> pb_grpc.OriginAccessIdentityServiceStub:
    return pb_grpc.OriginAccessIdentityServiceStub(channel)


# -- reflection -----------------------------------------------------------------------------------


async def served_services(address: str) -> list[str]:
    """The services a facade lists through reflection."""
    async with grpc.aio.insecure_channel(address) as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        responses = stub.ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")])
        )
        async for response in responses:
            return [service.name for service in response.list_services_response.service]
    return []


# -- requests: the one builder ------------------------------------------------------------------


def config(caller_reference: str, comment: str = "") -> pb.CloudFrontOriginAccessIdentityConfig:
    return pb.CloudFrontOriginAccessIdentityConfig(
        caller_reference=caller_reference, comment=comment
    )


def create_request(
    caller_reference: str, comment: str = ""
) -> pb.CreateCloudFrontOriginAccessIdentityRequest:
    return pb.CreateCloudFrontOriginAccessIdentityRequest(
        cloud_front_origin_access_identity_config=config(caller_reference, comment)
    )


def update_request(
    identity_id: str, etag: str, caller_reference: str, comment: str
) -> pb.UpdateCloudFrontOriginAccessIdentityRequest:
    return pb.UpdateCloudFrontOriginAccessIdentityRequest(
        id=identity_id,
        if_match=etag,
        cloud_front_origin_access_identity_config=config(caller_reference, comment),
    )


LIST = pb.ListCloudFrontOriginAccessIdentitiesRequest()


async def create(
    stub: pb_grpc.OriginAccessIdentityServiceStub, caller_reference: str, comment: str = ""
) -> pb.CreateCloudFrontOriginAccessIdentityResponse:
    return await stub.CreateCloudFrontOriginAccessIdentity(
        create_request(caller_reference, comment)
    )


# -- errors ---------------------------------------------------------------------------------------


def rich_status(error: grpc.aio.AioRpcError) -> status_pb2.Status:
    for key, value in error.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            status = status_pb2.Status()
            status.ParseFromString(value)
            return status
    raise AssertionError("the error carries no google.rpc.Status details")


def detail(error: grpc.aio.AioRpcError, kind: type[Message]) -> Any:
    """The one detail of `kind` in the error's google.rpc.Status."""
    found = []
    for packed in rich_status(error).details:
        if packed.Is(kind.DESCRIPTOR):
            message = kind()
            packed.Unpack(message)
            found.append(message)
    assert len(found) == 1, f"expected exactly one {kind.__name__}, got {len(found)}"
    return found[0]


def error_info(error: grpc.aio.AioRpcError) -> error_details_pb2.ErrorInfo:
    info: error_details_pb2.ErrorInfo = detail(error, error_details_pb2.ErrorInfo)
    return info


def trailer(call_metadata: Any, key: str) -> str | None:
    for name, value in call_metadata or ():
        if name == key:
            return str(value)
    return None


def _oai_path() -> str:
    import botocore.session

    model = botocore.session.get_session().get_service_model("cloudfront")
    uri: str = model.operation_model("ListCloudFrontOriginAccessIdentities").http["requestUri"]
    return uri


#: The OAI collection's path, from botocore's model: /2020-05-31/origin-access-identity/cloudfront
OAI_PATH = _oai_path()
