"""What happens around every call: request id, caller auth, concurrency limit, decoding,
access log, metrics, and the guarantee that nothing ends as UNKNOWN.

It is one interceptor, not a chain, because each of these needs the same per-call state and a
chain would re-wrap the handler once per concern on the hot path.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeAlias

import grpc
from google.protobuf.message import DecodeError

from service import errors
from service.call import CallState, abort, current_call
from service.logs import LOGGER, access

if TYPE_CHECKING:  # a start without metrics never imports prometheus_client
    from service.metrics import Metrics

log = logging.getLogger(LOGGER)

GUARDED_PREFIX = "/cloudfront.v1."
_REQUEST_ID = re.compile(r"[\x21-\x7e]{1,128}")


Handler: TypeAlias = "grpc.RpcMethodHandler[Any, Any]"
Behavior = Callable[[Any, grpc.aio.ServicerContext[Any, Any]], Awaitable[Any]]


class CallGuard(grpc.aio.ServerInterceptor):  # type: ignore[type-arg]
    def __init__(
        self,
        *,
        max_concurrency: int,
        max_request_bytes: int,
        token: str | None,
        metrics: Metrics | None,
    ) -> None:
        self._limit = max_concurrency
        self._max_request_bytes = max_request_bytes
        self._token = token.encode() if token else None
        self._metrics = metrics
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._wrapped: dict[str, grpc.RpcMethodHandler[Any, Any]] = {}

    @property
    def in_flight(self) -> int:
        return self._in_flight

    async def wait_idle(self) -> None:
        """Return once no guarded call is in flight."""
        await self._idle.wait()

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Handler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any]:
        method: str = handler_call_details.method
        wrapped = self._wrapped.get(method)
        if wrapped is not None:
            return wrapped
        handler = await continuation(handler_call_details)
        # Health, reflection and streaming calls stay open to probes: no auth, no limit.
        if handler is None or handler.unary_unary is None or not method.startswith(GUARDED_PREFIX):
            return handler
        wrapped = grpc.unary_unary_rpc_method_handler(
            self._guard(
                method,
                handler.unary_unary,  # type: ignore[arg-type]
                handler.request_deserializer,
            ),
            request_deserializer=None,  # decoded in the guard, so bad bytes get a clear status
            response_serializer=handler.response_serializer,
        )
        self._wrapped[method] = wrapped
        return wrapped

    def _guard(
        self, method: str, behavior: Behavior, decode: Callable[[bytes], Any] | None
    ) -> Behavior:
        short = method.rsplit("/", 1)[-1]

        async def guarded(raw: bytes, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            started = time.perf_counter()
            metadata = dict(context.invocation_metadata() or ())
            state = CallState(request_id=_request_id(metadata.get("x-request-id")))
            current_call.set(state)
            admitted = False
            try:
                if self._token is not None and not _token_matches(
                    self._token, metadata.get("authorization")
                ):
                    await abort(
                        context,
                        errors.facade_error(
                            grpc.StatusCode.UNAUTHENTICATED,
                            "CALLER_UNAUTHENTICATED",
                            "missing or wrong bearer token in the authorization metadata",
                        ),
                    )
                if self._in_flight >= self._limit:
                    await abort(context, errors.overloaded(self._limit))
                admitted = True
                self._admit()
                if len(raw) > self._max_request_bytes:
                    await abort(
                        context,
                        errors.facade_error(
                            grpc.StatusCode.RESOURCE_EXHAUSTED,
                            "REQUEST_TOO_LARGE",
                            f"the request is {len(raw)} bytes; the limit is "
                            f"{self._max_request_bytes}",
                        ),
                    )
                try:
                    request = decode(raw) if decode is not None else raw
                except DecodeError:
                    await abort(
                        context,
                        errors.facade_error(
                            grpc.StatusCode.INVALID_ARGUMENT,
                            "MALFORMED_REQUEST",
                            f"the request is not a valid {short}Request message",
                        ),
                    )
                return await behavior(request, context)
            except grpc.aio.AbortError:
                raise
            except asyncio.CancelledError:
                # gRPC cancels the handler when the caller cancels or its deadline passes.
                remaining = context.time_remaining()
                expired = remaining is not None and remaining <= 0
                state.ended_early = "DEADLINE_EXCEEDED" if expired else "CANCELLED"
                raise
            except Exception:
                if context.done():
                    # The call already ended (deadline or cancellation won a race with our
                    # answer): nothing can be sent, and nothing went wrong here.
                    state.ended_early = state.ended_early or "CANCELLED"
                    return None
                # The one place an unexpected failure is caught: logged with its traceback,
                # reported to the caller as INTERNAL without it.
                log.exception(
                    "unexpected failure in %s",
                    short,
                    extra={"fields": {"request_id": state.request_id}},
                )
                await abort(context, errors.internal_error())
            finally:
                if admitted:
                    self._release()
                self._report(short, context, state, time.perf_counter() - started)

        return guarded

    def _admit(self) -> None:
        self._in_flight += 1
        self._idle.clear()
        if self._metrics is not None:
            self._metrics.in_flight.inc()

    def _release(self) -> None:
        self._in_flight -= 1
        if not self._in_flight:
            self._idle.set()
        if self._metrics is not None:
            self._metrics.in_flight.dec()

    def _report(
        self,
        method: str,
        context: grpc.aio.ServicerContext[Any, Any],
        state: CallState,
        seconds: float,
    ) -> None:
        code = state.ended_early or _code_name(context)
        if self._metrics is not None:
            self._metrics.observe_call(method, code, seconds)
            if state.aws_operation is not None:
                self._metrics.observe_upstream(
                    state.aws_operation, state.aws_retries, state.aws_code
                )
        if access.enabled():
            access.write(
                method,
                code,
                round(seconds * 1000, 3),
                state.request_id,
                state.aws_request_id,
                state.aws_code,
                context.peer(),
            )


def _code_name(context: grpc.aio.ServicerContext[Any, Any]) -> str:
    code: grpc.StatusCode | None = context.code()  # None: the handler returned normally
    return "OK" if code is None else code.name


def _request_id(given: str | bytes | None) -> str:
    if isinstance(given, str) and _REQUEST_ID.fullmatch(given):
        return given
    return uuid.uuid4().hex


def _token_matches(expected: bytes, given: str | bytes | None) -> bool:
    """`given` is ``Bearer <token>``; the scheme is case-insensitive (RFC 7235, RFC 6750)."""
    if not isinstance(given, str):
        return False
    scheme, _, token = given.partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(expected, token.lstrip(" ").encode())
