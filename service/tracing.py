"""OpenTelemetry tracing: a SERVER span per guarded call that continues the caller's W3C
``traceparent`` and ``baggage``, with the AWS call as its child span (from the official
``AiobotocoreInstrumentor``), exported over OTLP/gRPC.

Imported only when tracing is on (service.server decides), so a facade without it never
imports opentelemetry; and the per-call hook is chosen when a method's handler is built
(:meth:`Tracing.wrap`), so with tracing off a call runs no tracing code at all.

The SDK reads the standard variables itself: OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES,
OTEL_TRACES_SAMPLER(_ARG), OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT / _INSECURE / _HEADERS,
OTEL_BSP_*.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from importlib import metadata
from importlib.metadata import entry_points
from typing import Any

import grpc
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.botocore import AiobotocoreInstrumentor
from opentelemetry.propagators.composite import CompositePropagator
from opentelemetry.propagators.textmap import Getter, TextMapPropagator
from opentelemetry.sdk.resources import SERVICE_NAME, SERVICE_VERSION, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode

from service.call import current_call
from service.config import StartupError

Behavior = Callable[[Any, grpc.aio.ServicerContext[Any, Any]], Awaitable[Any]]

DEFAULT_SERVICE_NAME = "cloudfront-facade"
# Always kept: Dapr, Envoy and the OpenTelemetry SDKs send these. OTEL_PROPAGATORS adds others
# (xray for X-Amzn-Trace-Id), it never removes the W3C ones.
W3C_PROPAGATORS = ("tracecontext", "baggage")


class MetadataGetter(Getter[Mapping[str, Any]]):
    """gRPC metadata keys are lower case; propagators ask for ``X-Amzn-Trace-Id`` too."""

    def get(self, carrier: Mapping[str, Any], key: str) -> list[str] | None:
        value = carrier.get(key.lower())
        return [value] if isinstance(value, str) else None

    def keys(self, carrier: Mapping[str, Any]) -> list[str]:
        return list(carrier)


METADATA = MetadataGetter()


def propagator(environ: Mapping[str, str]) -> TextMapPropagator:
    """W3C trace context and baggage, plus whatever OTEL_PROPAGATORS names (e.g. xray)."""
    asked = [name.strip() for name in environ.get("OTEL_PROPAGATORS", "").split(",")]
    names = list(W3C_PROPAGATORS)
    names += [name for name in asked if name and name != "none" and name not in names]
    found: list[TextMapPropagator] = []
    for name in names:
        (point, *_) = entry_points(group="opentelemetry_propagator", name=name) or (None,)
        if point is None:
            raise StartupError("OTEL_PROPAGATORS", f"no propagator named {name!r} is installed")
        found.append(point.load()())
    return CompositePropagator(found)


def resource() -> Resource:
    """The SDK's resource (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES), named
    cloudfront-facade unless those name it otherwise."""
    detected = Resource.create()
    ours: dict[str, str] = {}
    if str(detected.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        ours[SERVICE_NAME] = DEFAULT_SERVICE_NAME
    if SERVICE_VERSION not in detected.attributes:
        with contextlib.suppress(metadata.PackageNotFoundError):
            ours[SERVICE_VERSION] = metadata.version("cloudfront-facade")
    return detected.merge(Resource(ours))


class Tracing:
    """The tracer provider, the propagator and the botocore instrumentation of one facade."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._propagator = propagator(environ)
        self._provider = TracerProvider(resource=resource())  # sampler: OTEL_TRACES_SAMPLER
        self._provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        self._tracer = self._provider.get_tracer("cloudfront_facade")
        # Patches aiobotocore's client class once: every AWS call made while a server span is
        # current becomes its CLIENT child. Its own provider, not the global one, so that a
        # second facade in one process (tests) does not fight over a set-once global.
        self._instrumentor = AiobotocoreInstrumentor()  # type: ignore[no-untyped-call]
        self._instrumentor.instrument(tracer_provider=self._provider)

    def wrap(self, method: str, behavior: Behavior) -> Behavior:
        """`behavior` inside a SERVER span named as gRPC's semantic conventions say."""
        name = method.lstrip("/")
        service, _, rpc = name.partition("/")
        attributes = {"rpc.system": "grpc", "rpc.service": service, "rpc.method": rpc}
        tracer, extract = self._tracer, self._propagator.extract

        async def traced(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            parent = extract(dict(context.invocation_metadata() or ()), getter=METADATA)
            state = current_call.get()
            with tracer.start_as_current_span(
                name,
                context=parent,
                kind=SpanKind.SERVER,
                attributes=attributes,
                record_exception=False,
                set_status_on_exception=False,
            ) as span:
                span_context = span.get_span_context()
                if span_context.is_valid:
                    state.trace_id = format(span_context.trace_id, "032x")
                code = grpc.StatusCode.OK
                try:
                    return await behavior(request, context)
                except grpc.aio.AbortError:
                    code = context.code() or grpc.StatusCode.UNKNOWN
                    raise
                except asyncio.CancelledError:
                    remaining = context.time_remaining()
                    expired = remaining is not None and remaining <= 0
                    code = (
                        grpc.StatusCode.DEADLINE_EXCEEDED if expired else grpc.StatusCode.CANCELLED
                    )
                    raise
                except Exception as error:  # the guard answers it with INTERNAL
                    code = grpc.StatusCode.INTERNAL
                    span.record_exception(error)
                    raise
                finally:
                    span.set_attribute("rpc.grpc.status_code", code.value[0])
                    span.set_attribute("cloudfront_facade.request_id", state.request_id)
                    if state.aws_operation is not None:
                        span.set_attribute("aws.operation", state.aws_operation)
                        span.set_attribute("aws.retry_attempts", state.aws_retries)
                    if state.aws_request_id:
                        span.set_attribute("aws.request_id", state.aws_request_id)
                    if state.aws_code:
                        span.set_attribute("aws.error_code", state.aws_code)
                    if code is not grpc.StatusCode.OK:
                        span.set_status(Status(StatusCode.ERROR, code.name))

        return traced

    async def shutdown(self) -> None:
        """Export what is still buffered; in a thread, since the exporter blocks."""
        self._instrumentor.uninstrument()
        await asyncio.to_thread(self._provider.shutdown)
