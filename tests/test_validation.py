"""Bad input is refused with INVALID_ARGUMENT and field violations, before any AWS call."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf.message import Message
from google.rpc import error_details_pb2

from service._gen.cloudfront.v1 import origin_access_identity_service_pb2 as pb
from service._gen.cloudfront.v1 import origin_access_identity_service_pb2_grpc as pb_grpc
from service.emulator import Emulator
from tests.conftest import config, detail, error_info

Stub = pb_grpc.OriginAccessIdentityServiceStub
CONFIG = "cloud_front_origin_access_identity_config"
OK_ID, OK_ETAG = "E2QWRUHAPOMQZL", "E1ETAG0000000"

# (RPC, request, the field paths that must be reported)
CASES: list[tuple[str, Message, set[str]]] = [
    ("GetCloudFrontOriginAccessIdentity", pb.GetCloudFrontOriginAccessIdentityRequest(), {"id"}),
    ("GetCloudFrontOriginAccessIdentity",
     pb.GetCloudFrontOriginAccessIdentityRequest(id="e2qwruhapomqzl"), {"id"}),
    ("GetCloudFrontOriginAccessIdentity",
     pb.GetCloudFrontOriginAccessIdentityRequest(id="../distribution"), {"id"}),
    ("GetCloudFrontOriginAccessIdentity",
     pb.GetCloudFrontOriginAccessIdentityRequest(id="E" * 65), {"id"}),
    ("GetCloudFrontOriginAccessIdentityConfig",
     pb.GetCloudFrontOriginAccessIdentityConfigRequest(id=""), {"id"}),
    ("CreateCloudFrontOriginAccessIdentity", pb.CreateCloudFrontOriginAccessIdentityRequest(),
     {f"{CONFIG}.caller_reference"}),
    ("CreateCloudFrontOriginAccessIdentity",
     pb.CreateCloudFrontOriginAccessIdentityRequest(
         cloud_front_origin_access_identity_config=config("ref", "x" * 129)),
     {f"{CONFIG}.comment"}),
    ("CreateCloudFrontOriginAccessIdentity",
     pb.CreateCloudFrontOriginAccessIdentityRequest(
         cloud_front_origin_access_identity_config=config("", "x" * 200)),
     {f"{CONFIG}.caller_reference", f"{CONFIG}.comment"}),
    ("CreateCloudFrontOriginAccessIdentity",
     pb.CreateCloudFrontOriginAccessIdentityRequest(
         cloud_front_origin_access_identity_config=config("ref", "bell\x07")),
     {f"{CONFIG}.comment"}),
    ("UpdateCloudFrontOriginAccessIdentity",
     pb.UpdateCloudFrontOriginAccessIdentityRequest(
         id=OK_ID, cloud_front_origin_access_identity_config=config("ref")),
     {"if_match"}),
    ("UpdateCloudFrontOriginAccessIdentity",
     pb.UpdateCloudFrontOriginAccessIdentityRequest(
         id=OK_ID, if_match="etag\r\nX-Injected: 1",
         cloud_front_origin_access_identity_config=config("ref")),
     {"if_match"}),
    ("UpdateCloudFrontOriginAccessIdentity", pb.UpdateCloudFrontOriginAccessIdentityRequest(),
     {"id", "if_match", f"{CONFIG}.caller_reference"}),
    ("DeleteCloudFrontOriginAccessIdentity",
     pb.DeleteCloudFrontOriginAccessIdentityRequest(id=OK_ID), {"if_match"}),
    ("DeleteCloudFrontOriginAccessIdentity",
     pb.DeleteCloudFrontOriginAccessIdentityRequest(if_match=OK_ETAG), {"id"}),
    ("ListCloudFrontOriginAccessIdentities",
     pb.ListCloudFrontOriginAccessIdentitiesRequest(max_items=-1), {"max_items"}),
]


@pytest.mark.parametrize(("rpc", "request_message", "fields"), CASES,
                         ids=[f"{rpc}-{'+'.join(sorted(f))}-{i}"
                              for i, (rpc, _, f) in enumerate(CASES)])
async def test_bad_request_is_invalid_argument_with_a_violation_per_field(
    stub: Stub, emulator: Emulator, rpc: str, request_message: Message, fields: set[str]
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await getattr(stub, rpc)(request_message)
    error = failure.value
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT
    bad_request = detail(error, error_details_pb2.BadRequest)
    assert {v.field for v in bad_request.field_violations} == fields
    assert all(v.description for v in bad_request.field_violations)
    assert error_info(error).reason == "INVALID_REQUEST"
    for field in fields:
        assert field in error.details()
    assert emulator.request_log == [], "a bad request must not reach AWS"


async def test_malformed_protobuf_bytes_are_invalid_argument(
    channel: grpc.aio.Channel, emulator: Emulator
) -> None:
    raw = channel.unary_unary(
        "/cloudfront.v1.OriginAccessIdentityService/GetCloudFrontOriginAccessIdentity",
        request_serializer=None, response_deserializer=None,
    )
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await raw(b"\xff\xff\xff\xff")
    assert failure.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert error_info(failure.value).reason == "MALFORMED_REQUEST"
    assert emulator.request_log == []


async def test_oversized_request_is_refused(stub: Stub, emulator: Emulator) -> None:
    huge = pb.GetCloudFrontOriginAccessIdentityRequest(id="E" * 70_000)
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await stub.GetCloudFrontOriginAccessIdentity(huge)
    assert failure.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert error_info(failure.value).reason == "REQUEST_TOO_LARGE"
    assert emulator.request_log == []
