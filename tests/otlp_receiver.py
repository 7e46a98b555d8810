"""A minimal OTLP/gRPC trace receiver: what a collector would see from the facade's exporter.

It implements ``opentelemetry.proto.collector.trace.v1.TraceService/Export`` on a free
loopback port, keeps every span it is sent, and lets a test wait for a condition on them
(woken by each export, never polling the clock).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2 as collector_pb
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc as collector_grpc
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span


@dataclass
class ReceivedSpan:
    """One exported span, with the resource it came from and its attributes as plain values."""

    span: Span
    resource: dict[str, Any]

    @property
    def attributes(self) -> dict[str, Any]:
        return {a.key: plain(a.value) for a in self.span.attributes}

    @property
    def trace_id(self) -> str:
        return self.span.trace_id.hex()

    @property
    def span_id(self) -> str:
        return self.span.span_id.hex()

    @property
    def parent_span_id(self) -> str:
        return self.span.parent_span_id.hex()


def plain(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    return None if kind is None else getattr(value, kind)


@dataclass
class TraceReceiver(collector_grpc.TraceServiceServicer):
    spans: list[ReceivedSpan] = field(default_factory=list)
    endpoint: str = ""
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def Export(
        self, request: collector_pb.ExportTraceServiceRequest, context: Any
    ) -> collector_pb.ExportTraceServiceResponse:
        async with self._changed:
            for resource_spans in request.resource_spans:
                resource = {a.key: plain(a.value) for a in resource_spans.resource.attributes}
                for scope_spans in resource_spans.scope_spans:
                    self.spans.extend(ReceivedSpan(s, resource) for s in scope_spans.spans)
            self._changed.notify_all()
        return collector_pb.ExportTraceServiceResponse()

    async def wait_for(
        self, found: Callable[[list[ReceivedSpan]], bool], within: float = 60.0
    ) -> list[ReceivedSpan]:
        """The spans received so far, once `found` holds for them."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: found(self.spans)), within)
            return list(self.spans)


@asynccontextmanager
async def trace_receiver() -> AsyncIterator[TraceReceiver]:
    receiver = TraceReceiver()
    server = grpc.aio.server()
    collector_grpc.add_TraceServiceServicer_to_server(receiver, server)  # type: ignore[no-untyped-call]
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    receiver.endpoint = f"http://127.0.0.1:{port}"
    try:
        yield receiver
    finally:
        await server.stop(None)
