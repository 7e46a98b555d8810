"""Bad input is refused with INVALID_ARGUMENT and field violations, before any AWS call.

One facade and one emulator serve the whole module; the emulator is reset before each test, so
"the emulator saw zero requests" still means this request.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest
import pytest_asyncio
from google.protobuf.message import Message
from google.rpc import error_details_pb2

from service._gen.cloudfront.v1 import origin_access_identity_service_pb2 as pb
from service._gen.cloudfront.v1 import origin_access_identity_service_pb2_grpc as pb_grpc
from service.emulator import Emulator
from service.server import EMULATOR_CREDENTIALS, Facade, running
from service.validation import CARRIAGE_RETURN
from tests.conftest import TEST_SETTINGS, config, create, detail, error_info
from tests.emulator.emulator_helpers import make_client, oai_config

pytestmark = pytest.mark.asyncio(loop_scope="module")

Stub = pb_grpc.OriginAccessIdentityServiceStub
CONFIG = "cloud_front_origin_access_identity_config"
OK_ID, OK_ETAG = "E2QWRUHAPOMQZL", "E1ETAG0000000"

# (RPC, request, the field paths that must be reported)
CASES: list[tuple[str, Message, set[str]]] = [
    ("GetCloudFrontOriginAccessIdentity", pb.GetCloudFrontOriginAccessIdentityRequest(), {"id"}),
    (
        "GetCloudFrontOriginAccessIdentity",
        pb.GetCloudFrontOriginAccessIdentityRequest(id="e2qwruhapomqzl"),
        {"id"},
    ),
    (
        "GetCloudFrontOriginAccessIdentity",
        pb.GetCloudFrontOriginAccessIdentityRequest(id="../distribution"),
        {"id"},
    ),
    (
        "GetCloudFrontOriginAccessIdentity",
        pb.GetCloudFrontOriginAccessIdentityRequest(id="E" * 65),
        {"id"},
    ),
    (
        "GetCloudFrontOriginAccessIdentityConfig",
        pb.GetCloudFrontOriginAccessIdentityConfigRequest(id=""),
        {"id"},
    ),
    (
        "CreateCloudFrontOriginAccessIdentity",
        pb.CreateCloudFrontOriginAccessIdentityRequest(),
        {f"{CONFIG}.caller_reference"},
    ),
    (
        "CreateCloudFrontOriginAccessIdentity",
        pb.CreateCloudFrontOriginAccessIdentityRequest(
            cloud_front_origin_access_identity_config=config("ref", "x" * 129)
        ),
        {f"{CONFIG}.comment"},
    ),
    (
        "CreateCloudFrontOriginAccessIdentity",
        pb.CreateCloudFrontOriginAccessIdentityRequest(
            cloud_front_origin_access_identity_config=config("", "x" * 200)
        ),
        {f"{CONFIG}.caller_reference", f"{CONFIG}.comment"},
    ),
    (
        "CreateCloudFrontOriginAccessIdentity",
        pb.CreateCloudFrontOriginAccessIdentityRequest(
            cloud_front_origin_access_identity_config=config("ref", "bell\x07")
        ),
        {f"{CONFIG}.comment"},
    ),
    (
        "UpdateCloudFrontOriginAccessIdentity",
        pb.UpdateCloudFrontOriginAccessIdentityRequest(
            id=OK_ID, cloud_front_origin_access_identity_config=config("ref")
        ),
        {"if_match"},
    ),
    (
        "UpdateCloudFrontOriginAccessIdentity",
        pb.UpdateCloudFrontOriginAccessIdentityRequest(
            id=OK_ID,
            if_match="etag\r\nX-Injected: 1",
            cloud_front_origin_access_identity_config=config("ref"),
        ),
        {"if_match"},
    ),
    (
        "UpdateCloudFrontOriginAccessIdentity",
        pb.UpdateCloudFrontOriginAccessIdentityRequest(),
        {"id", "if_match", f"{CONFIG}.caller_reference"},
    ),
    (
        "DeleteCloudFrontOriginAccessIdentity",
        pb.DeleteCloudFrontOriginAccessIdentityRequest(id=OK_ID),
        {"if_match"},
    ),
    (
        "DeleteCloudFrontOriginAccessIdentity",
        pb.DeleteCloudFrontOriginAccessIdentityRequest(if_match=OK_ETAG),
        {"id"},
    ),
    (
        "ListCloudFrontOriginAccessIdentities",
        pb.ListCloudFrontOriginAccessIdentitiesRequest(max_items=-1),
        {"max_items"},
    ),
]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def facade() -> AsyncIterator[Facade]:
    async with running(TEST_SETTINGS) as started:
        yield started


@pytest.fixture(scope="module")
def emulator(facade: Facade) -> Emulator:
    assert facade.emulator is not None
    return facade.emulator


@pytest.fixture(autouse=True)
def fresh_emulator(emulator: Emulator) -> None:
    emulator.reset()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def channel(facade: Facade) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(facade.address) as opened:
        yield opened


@pytest.fixture(scope="module")
def stub(channel: grpc.aio.Channel) -> Stub:
    return Stub(channel)


@pytest.mark.parametrize(
    ("rpc", "request_message", "fields"),
    CASES,
    ids=[f"{rpc}-{'+'.join(sorted(f))}-{i}" for i, (rpc, _, f) in enumerate(CASES)],
)
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
        request_serializer=None,
        response_deserializer=None,
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


# -- line ends: XML turns \r and \r\n into \n, so the facade refuses \r rather than change it ----


async def test_upstream_xml_turns_carriage_returns_into_newlines(emulator: Emulator) -> None:
    """Why \\r is refused: sent to CloudFront's wire format as botocore sends it, it is lost."""
    async with make_client(
        emulator,
        access_key=EMULATOR_CREDENTIALS.access_key_id,
        secret_key=EMULATOR_CREDENTIALS.secret_access_key,
    ) as client:
        await client.create_cloud_front_origin_access_identity(
            CloudFrontOriginAccessIdentityConfig=oai_config("raw-cr", "a\r\nb\rc")
        )
    assert [identity.comment for identity in emulator.identities()] == ["a\nb\nc"]


async def test_a_comment_with_newlines_and_tabs_is_stored_exactly_as_sent(
    stub: Stub, emulator: Emulator
) -> None:
    comment = "line one\nline two\n\ttabbed\n"
    made = await create(stub, "ref-newlines", comment)
    got = await stub.GetCloudFrontOriginAccessIdentityConfig(
        pb.GetCloudFrontOriginAccessIdentityConfigRequest(
            id=made.cloud_front_origin_access_identity.id
        )
    )
    assert got.cloud_front_origin_access_identity_config == config("ref-newlines", comment)
    assert [identity.comment for identity in emulator.identities()] == [comment]


CARRIAGE_RETURNS = [
    pytest.param(config("ref", "a\rb"), "comment", id="comment-cr"),
    pytest.param(config("ref", "a\r\nb"), "comment", id="comment-crlf"),
    pytest.param(config("ref\r\n"), "caller_reference", id="caller-reference-crlf"),
]


@pytest.mark.parametrize(("sent", "field"), CARRIAGE_RETURNS)
async def test_a_carriage_return_is_refused_before_aws_with_the_reason(
    stub: Stub, emulator: Emulator, sent: pb.CloudFrontOriginAccessIdentityConfig, field: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await stub.CreateCloudFrontOriginAccessIdentity(
            pb.CreateCloudFrontOriginAccessIdentityRequest(
                cloud_front_origin_access_identity_config=sent
            )
        )
    assert failure.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    bad_request = detail(failure.value, error_details_pb2.BadRequest)
    assert [(v.field, v.description) for v in bad_request.field_violations] == [
        (f"{CONFIG}.{field}", CARRIAGE_RETURN)
    ]
    assert emulator.request_log == [], "a bad request must not reach AWS"
