"""Request builders and names for the OAC service, as tests/conftest.py has them for OAI.

Kept beside conftest.py rather than in it so that OAI's builders keep their short names.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import botocore.session
import grpc
import pytest
import pytest_asyncio

from service._gen.cloudfront.v1 import origin_access_control_service_pb2 as oac
from service._gen.cloudfront.v1 import origin_access_control_service_pb2_grpc as oac_grpc
from service.emulator import Emulator
from service.server import Facade, running
from tests.conftest import TEST_SETTINGS

Stub = oac_grpc.OriginAccessControlServiceStub

#: The service under test, and its RPC names, from the descriptor the facade serves.
OAC_SERVICE = oac.DESCRIPTOR.services_by_name["OriginAccessControlService"]
RPCS = tuple(method.name for method in OAC_SERVICE.methods)

SIGV4 = oac.ORIGIN_ACCESS_CONTROL_SIGNING_PROTOCOLS_SIGV4
ALWAYS = oac.ORIGIN_ACCESS_CONTROL_SIGNING_BEHAVIORS_ALWAYS
S3 = oac.ORIGIN_ACCESS_CONTROL_ORIGIN_TYPES_S3


def config(
    name: str,
    description: str = "",
    *,
    signing_protocol: oac.OriginAccessControlSigningProtocols.ValueType = SIGV4,
    signing_behavior: oac.OriginAccessControlSigningBehaviors.ValueType = ALWAYS,
    origin_type: oac.OriginAccessControlOriginTypes.ValueType = S3,
) -> oac.OriginAccessControlConfig:
    return oac.OriginAccessControlConfig(
        name=name,
        description=description,
        signing_protocol=signing_protocol,
        signing_behavior=signing_behavior,
        origin_access_control_origin_type=origin_type,
    )


def create_request(name: str, description: str = "") -> oac.CreateOriginAccessControlRequest:
    return oac.CreateOriginAccessControlRequest(
        origin_access_control_config=config(name, description)
    )


def update_request(
    control_id: str, etag: str, name: str, description: str = ""
) -> oac.UpdateOriginAccessControlRequest:
    return oac.UpdateOriginAccessControlRequest(
        id=control_id, if_match=etag, origin_access_control_config=config(name, description)
    )


def delete_request(control_id: str, etag: str) -> oac.DeleteOriginAccessControlRequest:
    return oac.DeleteOriginAccessControlRequest(id=control_id, if_match=etag)


def get_request(control_id: str) -> oac.GetOriginAccessControlRequest:
    return oac.GetOriginAccessControlRequest(id=control_id)


LIST = oac.ListOriginAccessControlsRequest()


async def create(
    stub: Stub, name: str, description: str = ""
) -> oac.CreateOriginAccessControlResponse:
    return await stub.CreateOriginAccessControl(create_request(name, description), timeout=60)


def _oac_path() -> str:
    model = botocore.session.get_session().get_service_model("cloudfront")
    uri: str = model.operation_model("ListOriginAccessControls").http["requestUri"]
    return uri


#: The OAC collection's path, from botocore's model: /2020-05-31/origin-access-control
OAC_PATH = _oac_path()


# -- one facade and emulator per module, the emulator fresh for each test ----------------------
# A module takes them by importing the four (pytest finds fixtures among a module's names; the
# fixtures' own names are facade, emulator, stub and fresh_emulator), with a module loop scope:
#     from tests.oac import module_emulator, module_facade, module_stub, resets_emulator
# The table tests would otherwise start a facade and an emulator per row.

ACCOUNT_LIMIT = 100  # the emulator's default, restored for tests that lower it


@pytest_asyncio.fixture(scope="module", loop_scope="module", name="facade")
async def module_facade() -> AsyncIterator[Facade]:
    async with running(TEST_SETTINGS) as started:
        yield started


@pytest.fixture(scope="module", name="emulator")
def module_emulator(facade: Facade) -> Emulator:
    assert facade.emulator is not None
    return facade.emulator


@pytest_asyncio.fixture(scope="module", loop_scope="module", name="stub")
async def module_stub(facade: Facade) -> AsyncIterator[Stub]:
    async with grpc.aio.insecure_channel(facade.address) as channel:
        yield Stub(channel)


@pytest.fixture(autouse=True, name="fresh_emulator")
def resets_emulator(emulator: Emulator) -> None:
    emulator.reset()
    emulator.account_limit = ACCOUNT_LIMIT
