"""One call's state, shared by the interceptor (which opens and reports it) and the servicer
(which fills in what AWS said), and the one way to end a call with an error.

It lives apart from both so that the servicer never imports the middleware.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn

import grpc

from service.logs import LOGGER

if TYPE_CHECKING:
    from service.errors import MappedError

log = logging.getLogger(LOGGER)


@dataclass(frozen=True, slots=True)
class Upstream:
    """What botocore's ``ResponseMetadata`` says about one AWS answer (success or error)."""

    request_id: str | None = None
    retry_attempts: int = 0
    http_status: int = 0
    headers: Mapping[str, str] = field(default_factory=dict)


NO_ANSWER = Upstream()


def upstream(response: Mapping[str, Any]) -> Upstream:
    """Read ``ResponseMetadata`` of a botocore result or of a ClientError's ``response``."""
    meta = response.get("ResponseMetadata") or {}
    headers = meta.get("HTTPHeaders") or {}
    return Upstream(
        request_id=header_safe("aws-request-id", str(meta.get("RequestId") or "")) or None,
        retry_attempts=int(meta.get("RetryAttempts") or 0),
        http_status=int(meta.get("HTTPStatusCode") or 0),
        headers=headers,
    )


_HEADER_SAFE = re.compile(r"[\x21-\x7e](?:[\x20-\x7e]{0,254}[\x21-\x7e])?")
_NOT_HEADER_SAFE = re.compile(r"[^\x20-\x7e]")
MAX_HEADER_VALUE = 256


def header_safe(what: str, value: str) -> str:
    """`value` as printable ASCII a gRPC header can carry; anything else (a newline, a
    non-ASCII letter, surrounding spaces, a huge value) is escaped, cut, and logged.

    Every value from upstream passes here before it goes into metadata: one that gRPC refuses
    would turn the whole answer into INTERNAL "Invalid metadata".
    """
    if not value or _HEADER_SAFE.fullmatch(value):
        return value
    escaped = _NOT_HEADER_SAFE.sub(_escape, value.strip())
    safe = escaped[:MAX_HEADER_VALUE].rstrip()
    log.warning(
        "upstream value escaped",
        extra={
            "fields": {"metadata": what, "received": repr(value[:MAX_HEADER_VALUE]), "sent": safe}
        },
    )
    return safe


def _escape(character: re.Match[str]) -> str:
    return character.group().encode("unicode_escape").decode()


@dataclass(slots=True)
class CallState:
    """Per-call facts the servicer fills in and the interceptor reports."""

    request_id: str
    aws_request_id: str | None = None
    aws_code: str | None = None
    aws_operation: str | None = None
    aws_retries: int = 0
    ended_early: str | None = None  # CANCELLED / DEADLINE_EXCEEDED, when gRPC ended the call
    trace_id: str | None = None  # set by service.tracing when tracing is on

    def record(self, answer: Upstream) -> None:
        self.aws_request_id = answer.request_id
        self.aws_retries = answer.retry_attempts

    def trailers(self) -> tuple[tuple[str, str], ...]:
        if self.aws_request_id:
            return (("x-request-id", self.request_id), ("aws-request-id", self.aws_request_id))
        return (("x-request-id", self.request_id),)


current_call: ContextVar[CallState] = ContextVar("current_call")


async def abort(context: grpc.aio.ServicerContext[Any, Any], error: MappedError) -> NoReturn:
    """End the call with `error`, its google.rpc details and the call's trailers."""
    state = current_call.get(None)
    trailers = state.trailers() if state is not None else ()
    await context.abort(error.code, error.message, error.trailing_metadata(trailers))
    raise AssertionError("context.abort returned")  # it always raises AbortError
