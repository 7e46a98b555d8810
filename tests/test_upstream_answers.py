"""Answers from an upstream that is not CloudFront are checked, never trusted.

One facade per module in front of :class:`tests.upstream.MisbehavingUpstream`, a real aiohttp
server that answers what each test sets: a proxy's HTML page, a captive portal's 200, an empty
502, a request id no header can carry.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator

import grpc
import pytest
import pytest_asyncio

from service._gen.cloudfront.v1 import origin_access_identity_service_pb2 as pb
from service._gen.cloudfront.v1 import origin_access_identity_service_pb2_grpc as pb_grpc
from tests.conftest import error_info, trailer
from tests.upstream import Facing, Reply, facade_in_front_of_upstream

pytestmark = pytest.mark.asyncio(loop_scope="module")

S = grpc.StatusCode
XMLNS = "http://cloudfront.amazonaws.com/doc/2020-05-31/"
LIST = pb.ListCloudFrontOriginAccessIdentitiesRequest()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def facing() -> AsyncIterator[Facing]:
    async with facade_in_front_of_upstream() as started:
        yield started


@pytest.fixture
def stub(facing: Facing) -> pb_grpc.OriginAccessIdentityServiceStub:
    return pb_grpc.OriginAccessIdentityServiceStub(facing.channel)


async def test_an_exception_nothing_maps_is_internal_and_logged_once_with_its_traceback(
    facing: Facing,
    stub: pb_grpc.OriginAccessIdentityServiceStub,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # botocore's parser raises a bare ValueError for an integer it cannot read: not a
    # failure the error table knows, so the facade cannot tell it from a bug of its own.
    facing.upstream.reply = Reply(
        200,
        (
            f'<CloudFrontOriginAccessIdentityList xmlns="{XMLNS}"><Marker></Marker>'
            "<MaxItems>many</MaxItems><IsTruncated>false</IsTruncated><Quantity>0</Quantity>"
            "</CloudFrontOriginAccessIdentityList>"
        ),
    )
    caplog.set_level(logging.WARNING)
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await stub.ListCloudFrontOriginAccessIdentities(LIST, timeout=10)
    assert failure.value.code() is S.INTERNAL
    assert failure.value.details() == "internal error in the facade; see its log"
    info = error_info(failure.value)
    assert (info.reason, info.domain) == ("INTERNAL", "cloudfront-facade")
    logged = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(logged) == 1, [r.getMessage() for r in logged]
    assert logged[0].exc_info is not None
    assert logged[0].exc_info[0] is ValueError
    assert "ListCloudFrontOriginAccessIdentities" in logged[0].getMessage()


# -- a success must be what the model promises -------------------------------------------------

SOME_ID = "E2QWRUHAPOMQZL"
CONFIG = pb.CloudFrontOriginAccessIdentityConfig(caller_reference="ref", comment="c")
IDENTITY_XML = (
    f'<CloudFrontOriginAccessIdentity xmlns="{XMLNS}"><Id>{SOME_ID}</Id>'
    "<S3CanonicalUserId>ab12</S3CanonicalUserId><CloudFrontOriginAccessIdentityConfig>"
    "<CallerReference>ref</CallerReference><Comment>c</Comment>"
    "</CloudFrontOriginAccessIdentityConfig></CloudFrontOriginAccessIdentity>"
)
PORTAL = "<html><body><h1>Welcome to the hotel Wi-Fi</h1></body></html>"
CALLS = {
    "CreateCloudFrontOriginAccessIdentity": pb.CreateCloudFrontOriginAccessIdentityRequest(
        cloud_front_origin_access_identity_config=CONFIG
    ),
    "GetCloudFrontOriginAccessIdentity": pb.GetCloudFrontOriginAccessIdentityRequest(id=SOME_ID),
    "GetCloudFrontOriginAccessIdentityConfig": pb.GetCloudFrontOriginAccessIdentityConfigRequest(
        id=SOME_ID
    ),
    "UpdateCloudFrontOriginAccessIdentity": pb.UpdateCloudFrontOriginAccessIdentityRequest(
        id=SOME_ID, if_match="E1", cloud_front_origin_access_identity_config=CONFIG
    ),
    "DeleteCloudFrontOriginAccessIdentity": pb.DeleteCloudFrontOriginAccessIdentityRequest(
        id=SOME_ID, if_match="E1"
    ),
    "ListCloudFrontOriginAccessIdentities": LIST,
}

# (RPC, what the upstream answers, what the warning says is wrong)
NOT_AS_PROMISED = [
    ("CreateCloudFrontOriginAccessIdentity", Reply(201, "<Other/>"), "no "),
    ("CreateCloudFrontOriginAccessIdentity", Reply(200, PORTAL, "text/html"), "HTTP status 200"),
    ("CreateCloudFrontOriginAccessIdentity", Reply(201, IDENTITY_XML), "ETag"),
    ("GetCloudFrontOriginAccessIdentity", Reply(200, PORTAL, "text/html"), "Id"),
    ("GetCloudFrontOriginAccessIdentity", Reply(200, b""), "CloudFrontOriginAccessIdentity"),
    ("GetCloudFrontOriginAccessIdentity", Reply(200, IDENTITY_XML), "ETag"),
    (
        "GetCloudFrontOriginAccessIdentityConfig",
        Reply(200, "<Other/>", headers={"ETag": "E1"}),
        "CallerReference",
    ),
    ("UpdateCloudFrontOriginAccessIdentity", Reply(200, PORTAL, "text/html"), "Id"),
    ("DeleteCloudFrontOriginAccessIdentity", Reply(200, PORTAL, "text/html"), "HTTP status 200"),
    ("ListCloudFrontOriginAccessIdentities", Reply(200, PORTAL, "text/html"), "Quantity"),
    ("ListCloudFrontOriginAccessIdentities", Reply(200, "", "text/plain"), "List"),
]


@pytest.mark.parametrize(
    ("rpc", "reply", "problem"),
    NOT_AS_PROMISED,
    ids=[f"{rpc}-{reply.status}-{reply.body[:12]!r}" for rpc, reply, _ in NOT_AS_PROMISED],
)
async def test_a_success_lacking_what_the_model_promises_is_unavailable(
    facing: Facing,
    stub: pb_grpc.OriginAccessIdentityServiceStub,
    caplog: pytest.LogCaptureFixture,
    rpc: str,
    reply: Reply,
    problem: str,
) -> None:
    facing.upstream.reply = reply
    caplog.set_level(logging.WARNING)
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await getattr(stub, rpc)(CALLS[rpc], timeout=10)
    assert failure.value.code() is S.UNAVAILABLE
    info = error_info(failure.value)
    assert (info.reason, info.domain) == ("UPSTREAM_MALFORMED_RESPONSE", "cloudfront-facade")
    assert info.metadata["httpStatus"] == str(reply.status)
    (warning,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    fields = warning.fields  # type: ignore[attr-defined]
    assert (fields["operation"], fields["http_status"]) == (rpc, reply.status)
    assert fields["content_type"].startswith(reply.content_type)
    assert problem in fields["problem"]


async def test_a_success_with_all_the_model_promises_is_ok(
    facing: Facing, stub: pb_grpc.OriginAccessIdentityServiceStub
) -> None:
    facing.upstream.reply = Reply(
        200, IDENTITY_XML, headers={"ETag": "E1", "x-amz-request-id": "r-1"}
    )
    call = stub.GetCloudFrontOriginAccessIdentity(CALLS["GetCloudFrontOriginAccessIdentity"])
    got = await call
    assert (got.cloud_front_origin_access_identity.id, got.etag) == (SOME_ID, "E1")
    assert trailer(await call.trailing_metadata(), "aws-request-id") == "r-1"


# -- an error answer with no AWS error code ------------------------------------------------------

REASON = re.compile(r"[A-Z][A-Z0-9_]+[A-Z0-9]")  # google.rpc.ErrorInfo's rule for a reason
BODIES = {
    "html": ("<html><body><h1>Bad Gateway</h1><hr>nginx</body></html>", "text/html"),
    "text": ("upstream connect error or disconnect/reset before headers", "text/plain"),
    "empty": ("", "text/plain"),
}
# HTTP status -> the gRPC code it earns without an AWS error code (the rule, by status).
BY_STATUS = {
    400: S.INVALID_ARGUMENT,
    401: S.UNAUTHENTICATED,
    403: S.PERMISSION_DENIED,
    404: S.NOT_FOUND,
    405: S.FAILED_PRECONDITION,
    407: S.FAILED_PRECONDITION,
    408: S.UNAVAILABLE,
    409: S.ABORTED,
    410: S.FAILED_PRECONDITION,
    411: S.FAILED_PRECONDITION,
    412: S.FAILED_PRECONDITION,
    413: S.RESOURCE_EXHAUSTED,
    414: S.FAILED_PRECONDITION,
    415: S.FAILED_PRECONDITION,
    418: S.FAILED_PRECONDITION,
    422: S.FAILED_PRECONDITION,
    429: S.RESOURCE_EXHAUSTED,
    431: S.FAILED_PRECONDITION,
    451: S.FAILED_PRECONDITION,
    499: S.FAILED_PRECONDITION,
    500: S.UNAVAILABLE,
    501: S.UNAVAILABLE,
    502: S.UNAVAILABLE,
    503: S.UNAVAILABLE,
    504: S.UNAVAILABLE,
    507: S.UNAVAILABLE,
    511: S.UNAVAILABLE,
    599: S.UNAVAILABLE,
    302: S.UNAVAILABLE,  # a captive portal's redirect
    304: S.UNAVAILABLE,
}
STATUS_ROWS = [(status, body) for status in BY_STATUS for body in BODIES]


@pytest.mark.parametrize(("status", "body"), STATUS_ROWS, ids=[f"{s}-{b}" for s, b in STATUS_ROWS])
async def test_an_error_without_an_aws_code_is_an_http_error_of_the_facade(
    facing: Facing, stub: pb_grpc.OriginAccessIdentityServiceStub, status: int, body: str
) -> None:
    text, content_type = BODIES[body]
    facing.upstream.reply = Reply(status, text, content_type)
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await stub.GetCloudFrontOriginAccessIdentity(
            CALLS["GetCloudFrontOriginAccessIdentity"], timeout=10
        )
    assert failure.value.code() is BY_STATUS[status]
    info = error_info(failure.value)
    assert REASON.fullmatch(info.reason)
    assert (info.reason, info.domain) == ("UPSTREAM_HTTP_ERROR", "cloudfront-facade")
    assert info.metadata["httpStatus"] == str(status)
    assert "awsErrorCode" not in info.metadata
    assert f"HTTP {status}" in failure.value.details()


# -- upstream values that no header can carry ----------------------------------------------------


def _no_such_identity(request_id: str) -> str:
    return (
        f'<ErrorResponse xmlns="{XMLNS}"><Error><Type>Sender</Type>'
        "<Code>NoSuchCloudFrontOriginAccessIdentity</Code><Message>gone</Message></Error>"
        f"<RequestId>{request_id}</RequestId></ErrorResponse>"
    )


@pytest.mark.parametrize(
    ("request_id", "sent"),
    [("req\nid", "req\\nid"), ("réq-1", "r\\xe9q-1"), ("x" * 300, "x" * 256)],
    ids=["newline", "non-ascii", "too-long"],
)
async def test_an_error_request_id_no_header_can_carry_is_escaped_and_the_error_kept(
    facing: Facing,
    stub: pb_grpc.OriginAccessIdentityServiceStub,
    caplog: pytest.LogCaptureFixture,
    request_id: str,
    sent: str,
) -> None:
    facing.upstream.reply = Reply(404, _no_such_identity(request_id))
    caplog.set_level(logging.INFO)
    call = stub.GetCloudFrontOriginAccessIdentity(
        CALLS["GetCloudFrontOriginAccessIdentity"], metadata=(("x-request-id", "odd-id"),)
    )
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await call
    assert failure.value.code() is S.NOT_FOUND
    info = error_info(failure.value)
    assert info.reason == "NO_SUCH_CLOUD_FRONT_ORIGIN_ACCESS_IDENTITY"
    assert info.metadata["awsRequestId"] == sent
    trailers = failure.value.trailing_metadata()
    assert (trailer(trailers, "x-request-id"), trailer(trailers, "aws-request-id")) == (
        "odd-id",
        sent,
    )
    (escaped,) = [r for r in caplog.records if r.getMessage() == "upstream value escaped"]
    assert escaped.fields["metadata"] == "aws-request-id"  # type: ignore[attr-defined]
    # The caller can hold the status before the server's interceptor has written the access
    # line: the facade's guard falls idle only after it has.
    await asyncio.wait_for(facing.facade.guard.wait_idle(), 60)
    # This call's line only: the module's facade may still be logging the test before's.
    logged = [r for r in caplog.records if r.name == "cloudfront_facade.access"]
    (access,) = [r for r in logged if r.fields["request_id"] == "odd-id"]  # type: ignore[attr-defined]
    assert access.fields["code"] == "NOT_FOUND"  # type: ignore[attr-defined]


async def test_a_success_request_id_header_that_is_not_ascii_is_escaped(
    facing: Facing, stub: pb_grpc.OriginAccessIdentityServiceStub
) -> None:
    facing.upstream.reply = Reply(
        200, IDENTITY_XML, headers={"ETag": "E1", "x-amz-request-id": "réq-2"}
    )
    call = stub.GetCloudFrontOriginAccessIdentity(CALLS["GetCloudFrontOriginAccessIdentity"])
    assert (await call).etag == "E1"
    assert trailer(await call.trailing_metadata(), "aws-request-id") == "r\\xe9q-2"
