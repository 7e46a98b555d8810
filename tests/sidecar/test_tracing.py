"""OpenTelemetry tracing end to end: a facade process exports through the real OTLP/gRPC
exporter to a real receiver (tests/otlp_receiver.py), and the spans continue the caller's trace.

Each test waits on what it can observe (the spans the receiver was sent, the process's exit),
never on the clock.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import textwrap
from collections.abc import AsyncIterator
from dataclasses import replace

import grpc
import pytest
import pytest_asyncio

from service._gen.cloudfront.v1 import origin_access_identity_service_pb2 as pb
from service._gen.cloudfront.v1 import origin_access_identity_service_pb2_grpc as pb_grpc
from service.config import tracing_wanted
from tests.conftest import TEST_SETTINGS, create_request
from tests.otlp_receiver import ReceivedSpan, TraceReceiver, trace_receiver
from tests.process import FacadeProcess, facade_process, run_cli

# The caller's span, as Dapr or Envoy would send it (W3C trace context, sampled).
CALLER_TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN_ID = "00f067aa0ba902b7"
TRACEPARENT = f"00-{CALLER_TRACE_ID}-{CALLER_SPAN_ID}-01"
SERVICE = "cloudfront.v1.OriginAccessIdentityService"
GET = "GetCloudFrontOriginAccessIdentity"
CREATE = "CreateCloudFrontOriginAccessIdentity"
SERVER, CLIENT = 2, 3  # opentelemetry.proto.trace.v1.Span.SpanKind
STATUS_ERROR = 2  # opentelemetry.proto.trace.v1.Status.StatusCode

pytestmark = pytest.mark.asyncio(loop_scope="module")


def exporting_to(receiver: TraceReceiver, delay_ms: int = 50) -> dict[str, str]:
    return {
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
        "OTEL_EXPORTER_OTLP_INSECURE": "true",
        "OTEL_BSP_SCHEDULE_DELAY": str(delay_ms),
    }


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def receiver() -> AsyncIterator[TraceReceiver]:
    async with trace_receiver() as receiver:
        yield receiver


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def traced_facade(receiver: TraceReceiver) -> AsyncIterator[FacadeProcess]:
    async with facade_process("--emulator", "--otel", env=exporting_to(receiver)) as facade:
        yield facade


def server_span(spans: list[ReceivedSpan], rpc: str) -> ReceivedSpan | None:
    named = [s for s in spans if s.span.name == f"{SERVICE}/{rpc}" and s.span.kind == SERVER]
    return named[0] if named else None


def children(spans: list[ReceivedSpan], parent: ReceivedSpan) -> list[ReceivedSpan]:
    return [s for s in spans if s.parent_span_id == parent.span_id]


async def call_get(address: str, identity_id: str) -> grpc.aio.AioRpcError:
    async with grpc.aio.insecure_channel(address) as channel:
        stub = pb_grpc.OriginAccessIdentityServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await stub.GetCloudFrontOriginAccessIdentity(
                pb.GetCloudFrontOriginAccessIdentityRequest(id=identity_id),
                metadata=(("traceparent", TRACEPARENT),),
            )
        return raised.value


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def not_found_spans(
    traced_facade: FacadeProcess, receiver: TraceReceiver
) -> tuple[ReceivedSpan, list[ReceivedSpan]]:
    """A Get of an identity that does not exist, made with the caller's traceparent."""
    error = await call_get(traced_facade.address, "E0NOSUCHTRACED")
    assert error.code() is grpc.StatusCode.NOT_FOUND
    spans = await receiver.wait_for(
        lambda spans: (span := server_span(spans, GET)) is not None and bool(children(spans, span))
    )
    span = server_span(spans, GET)
    assert span is not None
    return span, spans


async def test_the_server_span_continues_the_callers_trace(
    not_found_spans: tuple[ReceivedSpan, list[ReceivedSpan]],
) -> None:
    span, _ = not_found_spans
    assert (span.trace_id, span.parent_span_id) == (CALLER_TRACE_ID, CALLER_SPAN_ID)


async def test_the_aws_call_is_a_client_span_under_the_server_span(
    not_found_spans: tuple[ReceivedSpan, list[ReceivedSpan]],
) -> None:
    span, spans = not_found_spans
    (aws,) = children(spans, span)
    assert aws.span.kind == CLIENT
    assert aws.trace_id == CALLER_TRACE_ID
    assert {k: aws.attributes.get(k) for k in ("rpc.system", "rpc.method")} == {
        "rpc.system": "aws-api",
        "rpc.method": GET,
    }


async def test_the_server_span_carries_the_grpc_and_aws_attributes(
    not_found_spans: tuple[ReceivedSpan, list[ReceivedSpan]],
) -> None:
    span, _ = not_found_spans
    attributes = span.attributes
    assert {k: attributes.get(k) for k in EXPECTED_NOT_FOUND} == EXPECTED_NOT_FOUND
    assert attributes["aws.request_id"]
    assert attributes["cloudfront_facade.request_id"]


EXPECTED_NOT_FOUND = {
    "rpc.system": "grpc",
    "rpc.service": SERVICE,
    "rpc.method": GET,
    "rpc.grpc.status_code": grpc.StatusCode.NOT_FOUND.value[0],
    "aws.operation": GET,
    "aws.retry_attempts": 0,
    "aws.error_code": "NoSuchCloudFrontOriginAccessIdentity",
}


async def test_a_failed_call_has_the_error_status(
    not_found_spans: tuple[ReceivedSpan, list[ReceivedSpan]],
) -> None:
    span, _ = not_found_spans
    assert (span.span.status.code, span.span.status.message) == (STATUS_ERROR, "NOT_FOUND")


async def test_the_spans_name_the_service(
    not_found_spans: tuple[ReceivedSpan, list[ReceivedSpan]],
) -> None:
    span, _ = not_found_spans
    assert span.resource["service.name"] == "cloudfront-facade"


async def test_the_access_log_line_has_the_trace_id(
    traced_facade: FacadeProcess, not_found_spans: tuple[ReceivedSpan, list[ReceivedSpan]]
) -> None:
    # The module's first call is that Get; waiting for its line, since stdout is read apart.
    line = await traced_facade.logged("call")
    assert (line["method"], line["trace_id"]) == (GET, CALLER_TRACE_ID)


async def test_a_call_without_traceparent_starts_a_new_trace_with_status_unset(
    traced_facade: FacadeProcess, receiver: TraceReceiver
) -> None:
    async with grpc.aio.insecure_channel(traced_facade.address) as channel:
        stub = pb_grpc.OriginAccessIdentityServiceStub(channel)
        await stub.CreateCloudFrontOriginAccessIdentity(create_request("traced-create"))
    spans = await receiver.wait_for(lambda spans: server_span(spans, CREATE) is not None)
    span = server_span(spans, CREATE)
    assert span is not None
    assert span.trace_id != CALLER_TRACE_ID
    assert span.parent_span_id == ""
    assert span.span.status.code == 0  # UNSET: the call succeeded
    assert span.attributes["rpc.grpc.status_code"] == 0


async def test_shutdown_exports_the_spans_still_buffered() -> None:
    # A schedule delay far beyond the test: only the shutdown's flush can send the span.
    async with trace_receiver() as receiver:
        env = exporting_to(receiver, delay_ms=3_600_000)
        async with facade_process("--emulator", "--otel", env=env) as facade:
            await call_get(facade.address, "E0NOSUCHFLUSHED")
            facade.signal(signal.SIGTERM)
            assert await facade.wait() == 0
        spans = await receiver.wait_for(lambda spans: server_span(spans, GET) is not None)
    span = server_span(spans, GET)
    assert span is not None
    assert span.trace_id == CALLER_TRACE_ID


# -- off by default, and then free ------------------------------------------------------------

SETTINGS_ON = replace(TEST_SETTINGS, otel=True)


@pytest.mark.parametrize(
    ("settings", "environ", "on"),
    [
        (TEST_SETTINGS, {}, False),
        (SETTINGS_ON, {}, True),
        (TEST_SETTINGS, {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317"}, True),
        (TEST_SETTINGS, {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4317"}, True),
        (TEST_SETTINGS, {"OTEL_EXPORTER_OTLP_ENDPOINT": ""}, False),
        (TEST_SETTINGS, {"OTEL_SERVICE_NAME": "mine"}, False),
        (SETTINGS_ON, {"OTEL_SDK_DISABLED": "true"}, False),
        (SETTINGS_ON, {"OTEL_TRACES_EXPORTER": "none"}, False),
    ],
    ids=[
        "default",
        "--otel",
        "otlp-endpoint",
        "traces-endpoint",
        "empty-endpoint",
        "service-name-alone",
        "sdk-disabled",
        "exporter-none",
    ],
)
async def test_when_tracing_is_on(settings: object, environ: dict[str, str], on: bool) -> None:
    assert tracing_wanted(settings, environ) is on  # type: ignore[arg-type]


# A child process: the test process itself imports opentelemetry (the receiver).
IMPORTS_AFTER_A_CALL = textwrap.dedent(
    """
    import asyncio, sys
    import grpc
    from service.config import load
    from service.server import running
    from service._gen.cloudfront.v1 import origin_access_identity_service_pb2 as pb
    from service._gen.cloudfront.v1 import origin_access_identity_service_pb2_grpc as pb_grpc

    async def main() -> None:
        async with running(load(sys.argv[1:])) as facade:
            async with grpc.aio.insecure_channel(facade.address) as channel:
                stub = pb_grpc.OriginAccessIdentityServiceStub(channel)
                await stub.ListCloudFrontOriginAccessIdentities(
                    pb.ListCloudFrontOriginAccessIdentitiesRequest()
                )
        print(sorted({m.split(".")[1] for m in sys.modules if m.startswith("opentelemetry.")}))

    asyncio.run(main())
    """
)


@pytest.mark.parametrize(("on", "imported"), [(False, "[]"), (True, "'sdk'")], ids=["off", "on"])
async def test_opentelemetry_is_imported_only_when_tracing_is_on(
    receiver: TraceReceiver, on: bool, imported: str
) -> None:
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-c", IMPORTS_AFTER_A_CALL, "--listen", "127.0.0.1:0", "--emulator"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **(exporting_to(receiver) if on else {})},
    )
    out, err = await asyncio.wait_for(child.communicate(), 120)
    assert child.returncode == 0, err.decode()
    assert imported in out.decode().splitlines()[-1]


# -- propagators and start-up ------------------------------------------------------------------


async def test_xray_is_read_as_well_as_the_w3c_headers_when_asked() -> None:
    from service.tracing import propagator

    fields = propagator({"OTEL_PROPAGATORS": "xray"}).fields
    assert {name.lower() for name in fields} == {
        "traceparent",
        "tracestate",
        "baggage",
        "x-amzn-trace-id",
    }


async def test_the_w3c_headers_are_read_by_default() -> None:
    from service.tracing import propagator

    assert propagator({}).fields == {"traceparent", "tracestate", "baggage"}


async def test_an_unknown_propagator_stops_the_start() -> None:
    code, _, stderr = run_cli(["--emulator", "--otel"], env={"OTEL_PROPAGATORS": "nosuch"})
    assert (code, stderr.strip()) == (
        2,
        "cloudfront-facade: OTEL_PROPAGATORS: Propagator nosuch not found. It is either "
        "misspelled or not installed.",
    )


# As if the otel extra were not installed: None in sys.modules makes the import fail.
WITHOUT_OPENTELEMETRY = (
    "import sys; sys.modules['opentelemetry'] = None; from service.cli import main; "
    "sys.exit(main(['--listen', '127.0.0.1:0', '--emulator', '--otel']))"
)


async def test_tracing_without_the_otel_extra_stops_the_start_naming_it() -> None:
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-c", WITHOUT_OPENTELEMETRY),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(child.communicate(), 120)
    assert child.returncode == 2
    assert err.decode().startswith(
        "cloudfront-facade: --otel: needs the otel extra (pip install 'cloudfront-facade[otel]')"
    )


async def test_an_xray_trace_header_in_the_metadata_is_continued_when_asked() -> None:
    from opentelemetry import trace

    from service.tracing import METADATA, propagator

    header = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    context = propagator({"OTEL_PROPAGATORS": "xray"}).extract(
        {"x-amzn-trace-id": header}, getter=METADATA
    )
    parent = trace.get_current_span(context).get_span_context()
    assert (format(parent.trace_id, "032x"), format(parent.span_id, "016x")) == (
        "5759e988bd862e3fe1be46a994272793",
        "53995c3f42cd8ad8",
    )
