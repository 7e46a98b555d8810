"""Every row of the error table, driven by the emulator's fault injection over real HTTP.

One facade and emulator serve the whole module; faults and the request log are reset before
each test.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import botocore.session
import grpc
import pytest
import pytest_asyncio
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from service._gen.cloudfront.v1 import origin_access_identity_service_pb2 as pb
from service._gen.cloudfront.v1 import origin_access_identity_service_pb2_grpc as pb_grpc
from service.emulator import Emulator, FaultRule
from service.server import Facade, running
from tests.conftest import TEST_SETTINGS, FacadeFactory, detail, error_info, rich_status, trailer

pytestmark = pytest.mark.asyncio(loop_scope="module")

Stub = pb_grpc.OriginAccessIdentityServiceStub
SOME_ID = "E2QWRUHAPOMQZL"
GET = pb.GetCloudFrontOriginAccessIdentityRequest(id=SOME_ID)
S = grpc.StatusCode

# (AWS error code, HTTP status, gRPC code, extra detail type or None)
AWS_ROWS = [
    ("NoSuchCloudFrontOriginAccessIdentity", 404, S.NOT_FOUND, None),
    ("AccessDenied", 403, S.PERMISSION_DENIED, None),
    ("CloudFrontOriginAccessIdentityAlreadyExists", 409, S.ALREADY_EXISTS, None),
    ("CloudFrontOriginAccessIdentityInUse", 409, S.FAILED_PRECONDITION, None),
    ("PreconditionFailed", 412, S.ABORTED, None),
    ("InvalidIfMatchVersion", 400, S.INVALID_ARGUMENT, None),
    ("IllegalUpdate", 400, S.INVALID_ARGUMENT, None),
    ("InvalidArgument", 400, S.INVALID_ARGUMENT, None),
    (
        "TooManyCloudFrontOriginAccessIdentities",
        400,
        S.RESOURCE_EXHAUSTED,
        error_details_pb2.QuotaFailure,
    ),
    ("Throttling", 400, S.RESOURCE_EXHAUSTED, error_details_pb2.RetryInfo),
    ("ThrottlingException", 400, S.RESOURCE_EXHAUSTED, error_details_pb2.RetryInfo),
    ("RequestLimitExceeded", 400, S.RESOURCE_EXHAUSTED, error_details_pb2.RetryInfo),
    ("TooManyRequestsException", 429, S.RESOURCE_EXHAUSTED, error_details_pb2.RetryInfo),
    ("ServiceUnavailable", 503, S.UNAVAILABLE, None),
    ("InternalFailure", 500, S.UNAVAILABLE, None),
    ("SomeBrandNewServerError", 502, S.UNAVAILABLE, None),
    ("InvalidClientTokenId", 403, S.UNAUTHENTICATED, None),
    ("SignatureDoesNotMatch", 403, S.UNAUTHENTICATED, None),
    ("ExpiredToken", 400, S.UNAUTHENTICATED, None),
    ("ExpiredTokenException", 400, S.UNAUTHENTICATED, None),
    ("MissingAuthenticationToken", 403, S.UNAUTHENTICATED, None),
    ("IncompleteSignature", 400, S.UNAUTHENTICATED, None),
    ("RealtimeLogConfigOwnerMismatch", 401, S.PERMISSION_DENIED, None),
    ("DistributionNotDisabled", 409, S.FAILED_PRECONDITION, None),
    ("EntityLimitExceeded", 400, S.RESOURCE_EXHAUSTED, error_details_pb2.QuotaFailure),
    ("MissingBody", 400, S.INTERNAL, None),
    ("InconsistentQuantities", 400, S.INTERNAL, None),
    # Families: codes no row names, mapped by the shape of their name.
    ("NoSuchOriginAccessControl", 404, S.NOT_FOUND, None),
    ("OriginAccessControlAlreadyExists", 409, S.ALREADY_EXISTS, None),
    ("OriginAccessControlInUse", 409, S.FAILED_PRECONDITION, None),
    ("TooManyOriginAccessControls", 400, S.RESOURCE_EXHAUSTED, error_details_pb2.QuotaFailure),
    # Codes neither a row nor a family names fall back to their HTTP status.
    ("SomeNewTooLarge", 413, S.RESOURCE_EXHAUSTED, None),
    ("SomeNewGone", 410, S.FAILED_PRECONDITION, None),
    ("SomeNewValidationError", 400, S.INVALID_ARGUMENT, None),
    ("SomeNewAuthError", 401, S.UNAUTHENTICATED, None),
    ("SomeNewForbidden", 403, S.PERMISSION_DENIED, None),
    ("SomeNewMissing", 404, S.NOT_FOUND, None),
    ("SomeNewConflict", 409, S.ABORTED, None),
    ("SomeNewPrecondition", 412, S.FAILED_PRECONDITION, None),
    ("SomeNewRateLimit", 429, S.RESOURCE_EXHAUSTED, error_details_pb2.RetryInfo),
]

# Reasons where splitting before each capital is not the whole story (acronyms, CloudFront).
UPPER_SNAKE = {
    "NoSuchCloudFrontOriginAccessIdentity": "NO_SUCH_CLOUD_FRONT_ORIGIN_ACCESS_IDENTITY",
    "TooManyCloudFrontOriginAccessIdentities": "TOO_MANY_CLOUD_FRONT_ORIGIN_ACCESS_IDENTITIES",
    "InvalidIfMatchVersion": "INVALID_IF_MATCH_VERSION",
    "InvalidClientTokenId": "INVALID_CLIENT_TOKEN_ID",
    "Throttling": "THROTTLING",
}
REASON = re.compile(r"[A-Z][A-Z0-9_]+[A-Z0-9]")  # google.rpc.ErrorInfo's rule for a reason


# The facade's own temporary credentials expired: its reason, in its domain, so that no caller
# reads EXPIRED_TOKEN as its own token having expired.
FACADE_REASONS = {
    "ExpiredToken": "AWS_CREDENTIALS_EXPIRED",
    "ExpiredTokenException": "AWS_CREDENTIALS_EXPIRED",
}


def expected_reason(aws_code: str) -> str:
    if aws_code in FACADE_REASONS:
        return FACADE_REASONS[aws_code]
    return UPPER_SNAKE.get(aws_code) or re.sub(r"(?<!^)(?=[A-Z])", "_", aws_code).upper()


def expected_domain(aws_code: str) -> str:
    return "cloudfront-facade" if aws_code in FACADE_REASONS else "cloudfront.amazonaws.com"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def facade() -> AsyncIterator[Facade]:
    async with running(TEST_SETTINGS) as started:
        yield started


@pytest.fixture
def emulator(facade: Facade) -> Emulator:
    assert facade.emulator is not None
    facade.emulator.clear_faults()
    facade.emulator.clear_request_log()
    return facade.emulator


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def channel(facade: Facade) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(facade.address) as opened:
        yield opened


@pytest.fixture
def stub(channel: grpc.aio.Channel, emulator: Emulator) -> Stub:
    return Stub(channel)


@pytest.mark.parametrize(
    ("aws_code", "http_status", "grpc_code", "extra"), AWS_ROWS, ids=[row[0] for row in AWS_ROWS]
)
async def test_aws_error_maps_to_its_grpc_status(
    stub: Stub,
    emulator: Emulator,
    aws_code: str,
    http_status: int,
    grpc_code: grpc.StatusCode,
    extra: type | None,
) -> None:
    emulator.add_fault(
        FaultRule(
            error_code=aws_code, http_status=http_status, message=f"injected {aws_code}", times=1
        )
    )
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await stub.GetCloudFrontOriginAccessIdentity(GET)
    error = failure.value
    assert error.code() is grpc_code
    info = error_info(error)
    assert info.domain == expected_domain(aws_code)
    assert REASON.fullmatch(info.reason)
    assert info.reason == expected_reason(aws_code)
    assert info.metadata["awsErrorCode"] == aws_code
    assert info.metadata["httpStatus"] == str(http_status)
    request_id = info.metadata["awsRequestId"]
    assert request_id == emulator.request_log[-1].request_id
    assert trailer(error.trailing_metadata(), "aws-request-id") == request_id
    # The reference decoder agrees: the Status's code and message are the call's own.
    assert rpc_status.from_call(error) == rich_status(error)
    assert rich_status(error).code == grpc_code.value[0]
    if extra is not None:
        detail(error, extra)
    if grpc_code is S.UNAUTHENTICATED:
        assert info.metadata["credentials"] == "facade"
        assert error.details() == (
            f"CloudFront refused the facade's AWS credentials: injected {aws_code}"
        )
    else:
        assert "credentials" not in info.metadata
        assert error.details() == f"injected {aws_code}"  # AWS's own message, passed on


MODEL = botocore.session.get_session().get_service_model("cloudfront")
ERROR_SHAPES = sorted(
    (shape.name, int(shape.metadata["error"]["httpStatusCode"])) for shape in MODEL.error_shapes
)
# The code each family of CloudFront errors must map to.
FAMILY_CODES = (
    (re.compile(r"NoSuch\w+"), S.NOT_FOUND),
    (re.compile(r"\w+AlreadyExists"), S.ALREADY_EXISTS),
    (re.compile(r"\w+InUse"), S.FAILED_PRECONDITION),
    (re.compile(r"TooMany\w+"), S.RESOURCE_EXHAUSTED),
)
FACADE_BUGS = {"MissingBody", "InconsistentQuantities"}  # the facade built a bad request


async def test_every_error_in_the_cloudfront_model_maps_by_its_family_never_to_internal(
    stub: Stub, emulator: Emulator
) -> None:
    assert len(ERROR_SHAPES) > 100
    wrong = []
    for aws_code, http_status in ERROR_SHAPES:
        emulator.add_fault(
            FaultRule(
                error_code=aws_code,
                http_status=http_status,
                message=f"injected {aws_code}",
                times=1,
            )
        )
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            await stub.GetCloudFrontOriginAccessIdentity(GET, timeout=10)
        code, info = failure.value.code(), error_info(failure.value)
        family = next((c for pattern, c in FAMILY_CODES if pattern.fullmatch(aws_code)), None)
        if aws_code in FACADE_BUGS:
            expected_ok = code is S.INTERNAL
        else:
            expected_ok = code not in (S.INTERNAL, S.UNKNOWN) and family in (None, code)
        reason_ok = (
            REASON.fullmatch(info.reason) and info.reason.replace("_", "") == aws_code.upper()
        )
        if not expected_ok or not reason_ok:
            wrong.append((aws_code, http_status, code.name, info.reason))
        if family is S.RESOURCE_EXHAUSTED and aws_code != "TooManyRequestsException":
            detail(failure.value, error_details_pb2.QuotaFailure)
    assert not wrong, wrong


async def test_dropped_connection_is_unavailable(stub: Stub, emulator: Emulator) -> None:
    # aiohttp silently resends an idempotent request once when a pooled connection drops,
    # so two drops are needed for the failure to reach botocore.
    emulator.add_fault(FaultRule(drop_connection=True, times=2))
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await stub.GetCloudFrontOriginAccessIdentity(GET)
    assert failure.value.code() is S.UNAVAILABLE
    assert error_info(failure.value).reason == "UPSTREAM_CONNECTION_CLOSED"


async def test_malformed_upstream_body_is_unavailable(stub: Stub, emulator: Emulator) -> None:
    emulator.add_fault(FaultRule(malformed_body=True, times=1))
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await stub.GetCloudFrontOriginAccessIdentity(GET)
    assert failure.value.code() is S.UNAVAILABLE
    assert error_info(failure.value).reason == "UPSTREAM_MALFORMED_RESPONSE"


async def test_upstream_read_timeout_is_unavailable(facade_factory: FacadeFactory) -> None:
    async with facade_factory(aws_read_timeout=0.2) as facade:
        assert facade.emulator is not None
        # Held until released: only the facade's read timeout can end the call.
        facade.emulator.add_fault(FaultRule(hold=True, times=1))
        async with grpc.aio.insecure_channel(facade.address) as channel:
            with pytest.raises(grpc.aio.AioRpcError) as failure:
                await pb_grpc.OriginAccessIdentityServiceStub(
                    channel
                ).GetCloudFrontOriginAccessIdentity(GET)
        facade.emulator.release_held()
    assert failure.value.code() is S.UNAVAILABLE
    assert error_info(failure.value).reason == "UPSTREAM_READ_TIMEOUT"


async def test_unreachable_upstream_is_unavailable(
    facade_factory: FacadeFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDUNREACHABLE00000")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "unreachable-secret")
    # Port 9 on loopback: nothing listens there, so the connection is refused at once.
    async with facade_factory(
        emulator=False, aws_endpoint_url="http://127.0.0.1:9", aws_connect_timeout=0.5
    ) as facade:
        async with grpc.aio.insecure_channel(facade.address) as channel:
            with pytest.raises(grpc.aio.AioRpcError) as failure:
                await pb_grpc.OriginAccessIdentityServiceStub(
                    channel
                ).GetCloudFrontOriginAccessIdentity(GET)
    assert failure.value.code() is S.UNAVAILABLE
    assert error_info(failure.value).reason == "UPSTREAM_UNREACHABLE"


async def test_deadline_bounds_the_aws_call(stub: Stub, emulator: Emulator, facade: Facade) -> None:
    # Upstream holds the request and never answers on its own: the deadline alone ends the call.
    emulator.add_fault(FaultRule(hold=True, times=1))
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await stub.GetCloudFrontOriginAccessIdentity(GET, timeout=0.3)
    assert failure.value.code() is S.DEADLINE_EXCEEDED
    # The facade lets go of the call while upstream still holds it (60 s: a safety net only).
    await asyncio.wait_for(facade.guard.wait_idle(), 60)
    emulator.release_held()


async def test_cancelled_call_cancels_the_upstream_request(
    stub: Stub, emulator: Emulator, facade: Facade
) -> None:
    emulator.add_fault(FaultRule(hold=True, times=1))
    call = stub.GetCloudFrontOriginAccessIdentity(GET)
    await asyncio.wait_for(emulator.wait_held(1), 60)  # the call has reached upstream
    assert facade.guard.in_flight == 1
    call.cancel()
    # The handler (and its upstream request) is cancelled although upstream never answered.
    await asyncio.wait_for(facade.guard.wait_idle(), 60)
    assert facade.guard.in_flight == 0
    emulator.release_held()


async def test_request_ids_come_back_in_trailing_metadata(stub: Stub, emulator: Emulator) -> None:
    call = stub.ListCloudFrontOriginAccessIdentities(
        pb.ListCloudFrontOriginAccessIdentitiesRequest(), metadata=(("x-request-id", "trace-42"),)
    )
    await call
    trailers = await call.trailing_metadata()
    assert trailer(trailers, "x-request-id") == "trace-42"
    assert trailer(trailers, "aws-request-id") == emulator.request_log[-1].request_id
