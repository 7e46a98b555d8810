"""Access logs are structured and free of secrets; Prometheus metrics count what happened."""

from __future__ import annotations

import grpc
import pytest
from aiohttp import ClientSession

from service._gen.cloudfront.v1 import origin_access_identity_service_pb2_grpc as pb_grpc
from service.emulator import Emulator, FaultRule
from tests.conftest import LIST, FacadeFactory, create, create_request
from tests.process import facade_process

ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
SESSION_TOKEN = "FwoGZXIvYXdzEXAMPLESESSIONTOKENvalue0123456789"
CALLER_TOKEN = "caller-bearer-token-abcdef0123456789"


async def test_access_log_has_one_json_line_per_call_and_no_secret() -> None:
    async with Emulator(credentials={ACCESS_KEY: SECRET_KEY}) as upstream:
        env = {
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_SESSION_TOKEN": SESSION_TOKEN,
            "CLOUDFRONT_FACADE_AUTH_TOKEN": CALLER_TOKEN,
            "CLOUDFRONT_FACADE_LOG_LEVEL": "DEBUG",
            "CLOUDFRONT_FACADE_AWS_MAX_ATTEMPTS": "1",
        }
        async with facade_process("--aws-endpoint-url", upstream.base_url, env=env) as facade:
            auth = (("authorization", f"Bearer {CALLER_TOKEN}"), ("x-request-id", "req-7"))
            async with grpc.aio.insecure_channel(facade.address) as channel:
                stub = pb_grpc.OriginAccessIdentityServiceStub(channel)
                await stub.CreateCloudFrontOriginAccessIdentity(
                    create_request("r", "c"), metadata=auth
                )
                upstream.add_fault(FaultRule(error_code="AccessDenied", http_status=403, times=1))
                for metadata in (auth, (("authorization", "Bearer wrong-token-12345678"),)):
                    with pytest.raises(grpc.aio.AioRpcError) as failure:
                        await stub.ListCloudFrontOriginAccessIdentities(LIST, metadata=metadata)
                    for secret in (ACCESS_KEY, SECRET_KEY, SESSION_TOKEN, CALLER_TOKEN):
                        assert secret not in (failure.value.details() or "")
            facade.signal()
            assert await facade.wait() == 0
            output = await facade.output()
    for secret in (ACCESS_KEY, SECRET_KEY, SESSION_TOKEN, CALLER_TOKEN):
        assert secret not in output
    assert "Signature=" not in output
    calls = [r for r in facade.records() if r["message"] == "call"]
    assert [(c["method"], c["code"]) for c in calls] == [
        ("CreateCloudFrontOriginAccessIdentity", "OK"),
        ("ListCloudFrontOriginAccessIdentities", "PERMISSION_DENIED"),
        ("ListCloudFrontOriginAccessIdentities", "UNAUTHENTICATED"),
    ]
    first = calls[0]
    assert first["request_id"] == "req-7"
    assert first["aws_request_id"]
    assert first["peer"].startswith("ipv4:127.0.0.1:")
    assert first["duration_ms"] > 0


async def test_metrics_count_calls_codes_and_upstream_errors(
    facade_factory: FacadeFactory,
) -> None:
    async with facade_factory(metrics_listen="127.0.0.1:0") as facade:
        assert facade.emulator is not None
        assert facade.metrics_port
        async with grpc.aio.insecure_channel(facade.address) as channel:
            stub = pb_grpc.OriginAccessIdentityServiceStub(channel)
            await create(stub, "ref-metrics")
            facade.emulator.add_fault(FaultRule(error_code="Throttling", times=1))
            with pytest.raises(grpc.aio.AioRpcError):
                await stub.ListCloudFrontOriginAccessIdentities(LIST)
        async with (
            ClientSession() as http,
            http.get(f"http://127.0.0.1:{facade.metrics_port}/metrics") as response,
        ):
            text = await response.text()
    assert (
        'cloudfront_facade_calls_total{code="OK",method="CreateCloudFrontOriginAccessIdentity"} 1.0'
    ) in text
    assert (
        'cloudfront_facade_calls_total{code="RESOURCE_EXHAUSTED",'
        'method="ListCloudFrontOriginAccessIdentities"} 1.0'
    ) in text
    assert (
        'cloudfront_facade_upstream_errors_total{aws_code="Throttling",'
        'operation="ListCloudFrontOriginAccessIdentities"} 1.0'
    ) in text
    assert "cloudfront_facade_call_duration_seconds_bucket" in text
    assert "cloudfront_facade_in_flight_calls 0.0" in text


async def test_metrics_count_the_credential_fetch_at_start(facade_factory: FacadeFactory) -> None:
    async with (
        facade_factory(metrics_listen="127.0.0.1:0") as facade,
        ClientSession() as http,
        http.get(f"http://127.0.0.1:{facade.metrics_port}/metrics") as response,
    ):
        text = await response.text()
    # The emulator's keys are static: fetched once, and no expiry to count down to.
    assert 'aws_credential_refreshes_total{result="success",source="explicit"} 1.0' in text
    assert "# TYPE aws_credential_seconds_to_expiry gauge" in text
    assert "aws_credential_seconds_to_expiry{" not in text


async def test_metrics_are_off_by_default(facade_factory: FacadeFactory) -> None:
    async with facade_factory() as facade:
        assert facade.metrics is None
        assert facade.metrics_port is None


async def test_metrics_count_the_sdk_retries(facade_factory: FacadeFactory) -> None:
    async with facade_factory(
        metrics_listen="127.0.0.1:0", aws_max_attempts=3, aws_retry_mode="standard"
    ) as facade:
        assert facade.emulator is not None
        facade.emulator.add_fault(
            FaultRule(error_code="ServiceUnavailable", http_status=503, times=2)
        )
        async with grpc.aio.insecure_channel(facade.address) as channel:
            await pb_grpc.OriginAccessIdentityServiceStub(
                channel
            ).ListCloudFrontOriginAccessIdentities(LIST)
        async with (
            ClientSession() as http,
            http.get(f"http://127.0.0.1:{facade.metrics_port}/metrics") as response,
        ):
            text = await response.text()
    assert len(facade.emulator.request_log) == 3
    assert (
        "cloudfront_facade_upstream_retries_total"
        '{operation="ListCloudFrontOriginAccessIdentities"} 2.0'
    ) in text
