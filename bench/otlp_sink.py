"""An OTLP/gRPC trace sink for ``python -m bench --otel``: ``python -m bench.otlp_sink``.

It accepts ``TraceService/Export`` and drops the spans, so the facade's exporter does its real
work (encode, send over gRPC) while the sink's own cost stays out of the facade's figures. It
prints its port on stdout once listening and exits on SIGTERM or when stdin closes (its parent,
the harness, has gone).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from typing import Any

import grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2 as collector_pb
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc as collector_grpc


class Sink(collector_grpc.TraceServiceServicer):
    async def Export(
        self, request: collector_pb.ExportTraceServiceRequest, context: Any
    ) -> collector_pb.ExportTraceServiceResponse:
        return collector_pb.ExportTraceServiceResponse()


async def serve() -> None:
    server = grpc.aio.server()
    collector_grpc.add_TraceServiceServicer_to_server(Sink(), server)  # type: ignore[no-untyped-call]
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    print(port, flush=True)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    with contextlib.suppress(Exception):
        fd = sys.stdin.fileno()
        loop.add_reader(fd, lambda: None if os.read(fd, 4096) else stop.set())
    await stop.wait()
    await server.stop(None)


def main() -> int:
    asyncio.run(serve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
