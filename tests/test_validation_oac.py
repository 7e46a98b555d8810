"""Bad OAC input is refused with INVALID_ARGUMENT and field violations, before any AWS call.

The OAC table of tests/validation_cases.py, through a real channel to a real facade and
emulator, one of each for the module (the emulator is reset before each test).

"""

from __future__ import annotations

import grpc
import pytest
from google.protobuf.message import Message
from google.rpc import error_details_pb2

from service._gen.cloudfront.v1 import origin_access_control_service_pb2 as oac
from service.emulator import Emulator
from service.validation import CARRIAGE_RETURN
from tests.conftest import detail, error_info
from tests.oac import Stub, module_emulator, module_facade, module_stub, resets_emulator  # noqa: F401
from tests.validation_cases import BAD, DESCRIPTION, create

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.mark.parametrize(("rpc", "request_message", "fields"), BAD)
async def test_bad_oac_request_is_invalid_argument_with_a_violation_per_field(
    stub: Stub, emulator: Emulator, rpc: str, request_message: Message, fields: set[str]
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await getattr(stub, rpc)(request_message, timeout=10)
    error = failure.value
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT
    bad_request = detail(error, error_details_pb2.BadRequest)
    assert sorted(v.field for v in bad_request.field_violations) == sorted(fields)
    assert all(v.description for v in bad_request.field_violations)
    assert error_info(error).reason == "INVALID_REQUEST"
    for field in fields:
        assert field in (error.details() or "")
    assert emulator.request_log == [], "a bad request must not reach AWS"


@pytest.mark.parametrize("description", ["a\rb", "a\r\nb"])
async def test_a_carriage_return_in_a_description_is_refused_before_aws_with_the_reason(
    stub: Stub, emulator: Emulator, description: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await stub.CreateOriginAccessControl(create(description=description), timeout=10)
    bad_request = detail(failure.value, error_details_pb2.BadRequest)
    assert [(v.field, v.description) for v in bad_request.field_violations] == [
        (DESCRIPTION, CARRIAGE_RETURN)
    ]
    assert emulator.request_log == []


async def test_a_description_with_newlines_and_tabs_is_stored_exactly_as_sent(stub: Stub) -> None:
    description = "line one\nline two\n\ttabbed\n"
    made = await stub.CreateOriginAccessControl(
        create(name="oac-newlines", description=description), timeout=10
    )
    got = await stub.GetOriginAccessControlConfig(
        oac.GetOriginAccessControlConfigRequest(id=made.origin_access_control.id), timeout=10
    )
    assert got.origin_access_control_config.description == description
    assert got.origin_access_control_config.name == "oac-newlines"
