"""Error mapping: every failure becomes one gRPC status with rich ``google.rpc`` details.

The rule for an AWS error is found by its error code in :data:`AWS_ERRORS` (never by HTTP status
first: Throttling is a 400), then by its family in :data:`FAMILIES` (``NoSuch*``,
``*AlreadyExists``, ``*InUse``, ``TooMany*``), then by HTTP status (:func:`rule_for_status`,
which has a rule for every status). An error answer with no AWS error code (a proxy's page) is
``UPSTREAM_HTTP_ERROR``, by status. Transport failures and facade-side failures have their own
rows in :data:`LOCAL_ERRORS`; an exception none of these name is not mapped here at all: the
interceptor answers INTERNAL. The error tables of docs/api-and-errors.md ("Errors") are this
module, written out (tests/test_docs.py checks them against it).
"""

from __future__ import annotations

import dataclasses
import http
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum

import grpc
from botocore import exceptions as boto
from botocore.parsers import ResponseParserError
from google.protobuf import any_pb2, duration_pb2
from google.rpc import error_details_pb2, status_pb2

from service.call import NO_ANSWER, Upstream, upstream
from service.credentials import CredentialsRefreshFailed
from service.logs import LOGGER, redactor

AWS_DOMAIN = "cloudfront.amazonaws.com"
FACADE_DOMAIN = "cloudfront-facade"

Metadata = tuple[tuple[str, str | bytes], ...]

log = logging.getLogger(LOGGER)


class Detail(Enum):
    """Which extra google.rpc detail goes beside ErrorInfo."""

    NONE = "none"
    QUOTA_FAILURE = "quota_failure"
    RETRY_INFO = "retry_info"
    CREDENTIALS = "credentials"  # the facade's own AWS credentials were refused


@dataclass(frozen=True, slots=True)
class Rule:
    code: grpc.StatusCode
    detail: Detail = Detail.NONE


_CREDENTIALS = Rule(grpc.StatusCode.UNAUTHENTICATED, Detail.CREDENTIALS)
_THROTTLED = Rule(grpc.StatusCode.RESOURCE_EXHAUSTED, Detail.RETRY_INFO)
_INVALID = Rule(grpc.StatusCode.INVALID_ARGUMENT)
_UNAVAILABLE = Rule(grpc.StatusCode.UNAVAILABLE)
_FACADE_BUG = Rule(grpc.StatusCode.INTERNAL)
_MALFORMED = "UPSTREAM_MALFORMED_RESPONSE"

_QUOTA = Rule(grpc.StatusCode.RESOURCE_EXHAUSTED, Detail.QUOTA_FAILURE)
_NEEDS_OTHER_STATE = Rule(grpc.StatusCode.FAILED_PRECONDITION)

#: AWS error code -> rule: the exceptions to the families below, and codes outside them.
#: The first place to look.
AWS_ERRORS: Mapping[str, Rule] = {
    "AccessDenied": Rule(grpc.StatusCode.PERMISSION_DENIED),
    # A 401 in the model, but about who owns a log config, not the facade's credentials.
    "RealtimeLogConfigOwnerMismatch": Rule(grpc.StatusCode.PERMISSION_DENIED),
    # A stale ETag: the caller restarts its read-modify-write (test-and-set failure).
    "PreconditionFailed": Rule(grpc.StatusCode.ABORTED),
    "InvalidIfMatchVersion": _INVALID,
    "IllegalUpdate": _INVALID,
    "InvalidArgument": _INVALID,
    # 409s that say "change the resource's state first", not "someone raced you".
    "DistributionNotDisabled": _NEEDS_OTHER_STATE,
    "StreamingDistributionNotDisabled": _NEEDS_OTHER_STATE,
    "ResourceNotDisabled": _NEEDS_OTHER_STATE,
    "InvalidAssociation": _NEEDS_OTHER_STATE,
    # A 500 in the model, but it reports the caller's function failing its test.
    "TestFunctionFailed": _NEEDS_OTHER_STATE,
    "EntityLimitExceeded": _QUOTA,
    # Rate limits, whatever the family their name suggests (TooManyRequestsException).
    "Throttling": _THROTTLED,
    "ThrottlingException": _THROTTLED,
    "RequestLimitExceeded": _THROTTLED,
    "TooManyRequestsException": _THROTTLED,
    "ServiceUnavailable": _UNAVAILABLE,
    "InternalFailure": _UNAVAILABLE,
    "InvalidClientTokenId": _CREDENTIALS,
    "SignatureDoesNotMatch": _CREDENTIALS,
    "ExpiredToken": _CREDENTIALS,
    "ExpiredTokenException": _CREDENTIALS,
    "MissingAuthenticationToken": _CREDENTIALS,
    "IncompleteSignature": _CREDENTIALS,
    # The facade built a request AWS could not read: a bug on our side, not the caller's.
    "MissingBody": _FACADE_BUG,
    "InconsistentQuantities": _FACADE_BUG,
}

#: AWS codes about the facade's own credentials that the caller sees under a facade reason: an
#: AWS reason such as EXPIRED_TOKEN would read as the caller's token having expired.
FACADE_CREDENTIAL_REASONS: Mapping[str, str] = {
    "ExpiredToken": "AWS_CREDENTIALS_EXPIRED",
    "ExpiredTokenException": "AWS_CREDENTIALS_EXPIRED",
}

#: Error families by name, for codes AWS_ERRORS does not name. CloudFront's model has 17
#: NoSuch*, 17 *AlreadyExists, 15 *InUse and 51 TooMany* errors, one per resource or limit.
FAMILIES: Sequence[tuple[re.Pattern[str], Rule]] = (
    (re.compile(r"NoSuch[A-Z]\w*"), Rule(grpc.StatusCode.NOT_FOUND)),
    (re.compile(r"[A-Z]\w*AlreadyExists"), Rule(grpc.StatusCode.ALREADY_EXISTS)),
    (re.compile(r"[A-Z]\w*InUse"), _NEEDS_OTHER_STATE),
    (re.compile(r"TooMany[A-Z]\w*"), _QUOTA),
)


def rule_for(aws_code: str, http_status: int) -> Rule:
    """The rule for an AWS error: its own row, else its family, else its HTTP status."""
    rule = AWS_ERRORS.get(aws_code)
    if rule is not None:
        return rule
    for family, family_rule in FAMILIES:
        if family.fullmatch(aws_code):
            return family_rule
    return rule_for_status(http_status)


#: HTTP status -> rule, for AWS codes the table above does not name and for answers that carry
#: no AWS error code at all (a proxy's or load balancer's page). :func:`rule_for_status` covers
#: every other status.
BY_HTTP_STATUS: Mapping[int, Rule] = {
    400: _INVALID,
    401: _CREDENTIALS,
    403: Rule(grpc.StatusCode.PERMISSION_DENIED),
    404: Rule(grpc.StatusCode.NOT_FOUND),
    # A proxy gave up waiting for the facade's request: the path to CloudFront is at fault.
    408: _UNAVAILABLE,
    409: Rule(grpc.StatusCode.ABORTED),
    412: Rule(grpc.StatusCode.FAILED_PRECONDITION),
    # Too large for something on the way; the facade's own size limit answers the same.
    413: Rule(grpc.StatusCode.RESOURCE_EXHAUSTED),
    429: _THROTTLED,
}
# Any other 4xx (405, 410, 414, 431, ...): the request was refused for a reason that is not in
# the caller's fields and that retrying will not fix.
_OTHER_4XX = Rule(grpc.StatusCode.FAILED_PRECONDITION)
# Any other status (5xx, a redirect, no status): CloudFront could not be reached as itself.
_OTHER_STATUS = _UNAVAILABLE


def rule_for_status(http_status: int) -> Rule:
    """The rule for an HTTP status alone; never INTERNAL, which only a facade bug earns."""
    rule = BY_HTTP_STATUS.get(http_status)
    if rule is not None:
        return rule
    return _OTHER_4XX if 400 <= http_status < 500 else _OTHER_STATUS


class UnexpectedAnswer(Exception):
    """A success that is not what botocore's model promises (a required member, the ETag or
    the documented status is missing): an upstream fault, never an OK."""

    def __init__(self, operation: str, problem: str, answer: Upstream) -> None:
        super().__init__(f"{operation}: {problem}")
        self.operation = operation
        self.problem = problem
        self.answer = answer


#: Failures that never got an AWS error code: exception type -> (rule, reason, caller message).
LOCAL_ERRORS: Sequence[tuple[type[BaseException], Rule, str, str]] = (
    (
        boto.NoCredentialsError,
        _CREDENTIALS,
        "AWS_CREDENTIALS_MISSING",
        "the facade has no AWS credentials configured",
    ),
    (
        boto.PartialCredentialsError,
        _CREDENTIALS,
        "AWS_CREDENTIALS_MISSING",
        "the facade's AWS credentials are incomplete",
    ),
    (
        CredentialsRefreshFailed,
        _CREDENTIALS,
        "AWS_CREDENTIALS_REFRESH_FAILED",
        "the facade's AWS credentials expired and could not be refreshed",
    ),
    (
        boto.ConnectTimeoutError,
        _UNAVAILABLE,
        "UPSTREAM_CONNECT_TIMEOUT",
        "timed out connecting to CloudFront",
    ),
    (
        boto.ReadTimeoutError,
        _UNAVAILABLE,
        "UPSTREAM_READ_TIMEOUT",
        "timed out waiting for CloudFront to answer",
    ),
    (
        boto.EndpointConnectionError,
        _UNAVAILABLE,
        "UPSTREAM_UNREACHABLE",
        "could not connect to CloudFront",
    ),
    (
        boto.ConnectionClosedError,
        _UNAVAILABLE,
        "UPSTREAM_CONNECTION_CLOSED",
        "CloudFront closed the connection before answering",
    ),
    (
        boto.HTTPClientError,
        _UNAVAILABLE,
        "UPSTREAM_CONNECTION_FAILED",
        "the connection to CloudFront failed",
    ),
    (
        ResponseParserError,
        _UNAVAILABLE,
        _MALFORMED,
        "CloudFront sent a response the facade could not read",
    ),
    (
        UnexpectedAnswer,
        _UNAVAILABLE,
        _MALFORMED,
        "CloudFront's answer lacks what its API promises; is something else answering?",
    ),
    (
        TimeoutError,
        Rule(grpc.StatusCode.DEADLINE_EXCEEDED),
        "DEADLINE_EXCEEDED",
        "the call's deadline passed before CloudFront answered",
    ),
)

_INTERNAL_REASON = "INTERNAL"
_INTERNAL_MESSAGE = "internal error in the facade; see its log"
_THROTTLE_RETRY_DELAY = duration_pb2.Duration(seconds=1)
_HTTP_ERROR = "UPSTREAM_HTTP_ERROR"
_PHRASES = {status.value: status.phrase for status in http.HTTPStatus}
# An AWS error code is one CamelCase word; anything else came from something that is not AWS.
_AWS_CODE = re.compile(r"[A-Z][A-Za-z0-9]{1,127}")
_NOT_TEXT = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]+")
MAX_MESSAGE = 1024
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def upper_snake(code: str) -> str:
    """``ThrottlingException`` -> ``THROTTLING_EXCEPTION`` (ErrorInfo reasons are UPPER_SNAKE)."""
    return _CAMEL_BOUNDARY.sub("_", code).upper()


def caller_text(text: str) -> str:
    """An upstream message made fit for a caller: secrets redacted, control characters and
    stray surrogates replaced, length bounded."""
    return _NOT_TEXT.sub(" ", redactor(text)).strip()[:MAX_MESSAGE]


@dataclass(frozen=True, slots=True)
class MappedError:
    """A failure as the caller will see it."""

    code: grpc.StatusCode
    message: str
    details: tuple[any_pb2.Any, ...]
    aws_code: str | None = None
    # What AWS's ResponseMetadata said, when AWS answered.
    upstream: Upstream = NO_ANSWER

    def status_proto(self) -> status_pb2.Status:
        return status_pb2.Status(
            code=self.code.value[0], message=self.message, details=list(self.details)
        )

    def trailing_metadata(self, extra: Metadata = ()) -> Metadata:
        # Encoded here rather than with grpcio-status's rpc_status.to_status: the same bytes,
        # about 1.4x cheaper (no namedtuple, no code lookup), and one dependency fewer.
        encoded = self.status_proto().SerializeToString()
        return (*extra, ("grpc-status-details-bin", encoded))


def _pack(message: object) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)  # type: ignore[arg-type]
    return packed


def _extra_detail(detail: Detail, aws_code: str, message: str) -> tuple[any_pb2.Any, ...]:
    if detail is Detail.RETRY_INFO:
        return (_pack(error_details_pb2.RetryInfo(retry_delay=_THROTTLE_RETRY_DELAY)),)
    if detail is Detail.QUOTA_FAILURE:
        violation = error_details_pb2.QuotaFailure.Violation(
            subject="aws-account", description=message or aws_code
        )
        return (_pack(error_details_pb2.QuotaFailure(violations=[violation])),)
    return ()


def from_client_error(error: boto.ClientError) -> MappedError:
    response = error.response
    info = response.get("Error", {})
    answer = upstream(response)
    http_status = answer.http_status
    code = str(info.get("Code") or "")
    # Without an AWS error body botocore puts the HTTP status (or nothing) in Code.
    if not _AWS_CODE.fullmatch(code):
        return _http_error(answer)
    rule = rule_for(code, http_status)
    # AWS messages can quote the signed request; never hand the facade's key id or token on.
    message = caller_text(str(info.get("Message") or code))
    metadata = {
        "awsErrorCode": code,
        "awsRequestId": answer.request_id or "",
        "httpStatus": str(http_status),
    }
    if rule.detail is Detail.CREDENTIALS:
        metadata["credentials"] = "facade"
        message = f"CloudFront refused the facade's AWS credentials: {message}"
    reason, domain = upper_snake(code), AWS_DOMAIN
    if code in FACADE_CREDENTIAL_REASONS:
        reason, domain = FACADE_CREDENTIAL_REASONS[code], FACADE_DOMAIN
    error_info = error_details_pb2.ErrorInfo(reason=reason, domain=domain, metadata=metadata)
    return MappedError(
        code=rule.code,
        message=message,
        details=(_pack(error_info), *_extra_detail(rule.detail, code, message)),
        aws_code=code,
        upstream=answer,
    )


def _http_error(answer: Upstream) -> MappedError:
    """An error answer with no AWS error code: say so, and keep the code its status earns."""
    status = answer.http_status
    rule = rule_for_status(status)
    phrase = _PHRASES.get(status, "")
    message = (
        f"the upstream answered HTTP {status} {phrase} with no AWS error code; "
        "is something other than CloudFront (a proxy, a load balancer) answering?"
    )
    metadata = {"httpStatus": str(status)}
    if answer.request_id:
        metadata["awsRequestId"] = answer.request_id
    if rule.detail is Detail.CREDENTIALS:
        metadata["credentials"] = "facade"
    info = error_details_pb2.ErrorInfo(reason=_HTTP_ERROR, domain=FACADE_DOMAIN, metadata=metadata)
    return MappedError(
        code=rule.code,
        message=message,
        details=(_pack(info), *_extra_detail(rule.detail, _HTTP_ERROR, message)),
        upstream=answer,
    )


def with_metadata(error: MappedError, extra: Mapping[str, str]) -> MappedError:
    """`error` with `extra` added to its ErrorInfo's metadata (the first detail)."""
    if not extra:
        return error
    info = error_details_pb2.ErrorInfo()
    error.details[0].Unpack(info)
    info.metadata.update(extra)
    return dataclasses.replace(error, details=(_pack(info), *error.details[1:]))


def from_local_failure(error: BaseException) -> MappedError | None:
    """A failure with no AWS error code, or None when it is not one we expect."""
    for kind, rule, reason, message in LOCAL_ERRORS:
        if isinstance(error, kind):
            metadata = {"credentials": "facade"} if rule.detail is Detail.CREDENTIALS else {}
            answer = NO_ANSWER
            if isinstance(error, UnexpectedAnswer):
                answer = error.answer
                metadata["httpStatus"] = str(answer.http_status)
                _log_unexpected(error)
            info = error_details_pb2.ErrorInfo(
                reason=reason, domain=FACADE_DOMAIN, metadata=metadata
            )
            return MappedError(rule.code, message, (_pack(info),), upstream=answer)
    return None


def _log_unexpected(error: UnexpectedAnswer) -> None:
    answer = error.answer
    log.warning(
        "upstream answer is not what the model promises",
        extra={
            "fields": {
                "operation": error.operation,
                "problem": error.problem,
                "http_status": answer.http_status,
                "content_type": answer.headers.get("content-type"),
                "aws_request_id": answer.request_id,
            }
        },
    )


def internal_error() -> MappedError:
    """What the caller sees of an unexpected failure; only the interceptor's catch-all, which
    also logs the traceback, answers with it."""
    info = error_details_pb2.ErrorInfo(reason=_INTERNAL_REASON, domain=FACADE_DOMAIN)
    return MappedError(grpc.StatusCode.INTERNAL, _INTERNAL_MESSAGE, (_pack(info),))


def map_exception(error: BaseException) -> MappedError | None:
    """The one entry point: an exception from an AWS call -> the status the caller gets, or
    None when the exception is not one the table knows (the caller re-raises it)."""
    if isinstance(error, boto.ClientError):
        return from_client_error(error)
    return from_local_failure(error)


def invalid_argument(violations: Sequence[tuple[str, str]]) -> MappedError:
    """Local validation failure: one BadRequest field violation per bad field."""
    bad_request = error_details_pb2.BadRequest(
        field_violations=[
            error_details_pb2.BadRequest.FieldViolation(field=field, description=description)
            for field, description in violations
        ]
    )
    info = error_details_pb2.ErrorInfo(reason="INVALID_REQUEST", domain=FACADE_DOMAIN)
    message = "; ".join(f"{field}: {description}" for field, description in violations)
    return MappedError(grpc.StatusCode.INVALID_ARGUMENT, message, (_pack(info), _pack(bad_request)))


def facade_error(
    code: grpc.StatusCode, reason: str, message: str, extra: Sequence[any_pb2.Any] = ()
) -> MappedError:
    """An error the facade itself raises (auth, overload), with its own ErrorInfo."""
    info = error_details_pb2.ErrorInfo(reason=reason, domain=FACADE_DOMAIN)
    return MappedError(code, message, (_pack(info), *extra))


def overloaded(limit: int) -> MappedError:
    backoff = duration_pb2.Duration(nanos=50_000_000)
    retry = _pack(error_details_pb2.RetryInfo(retry_delay=backoff))
    return facade_error(
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "CONCURRENCY_LIMIT",
        f"the facade is at its limit of {limit} calls in flight; retry shortly",
        (retry,),
    )
