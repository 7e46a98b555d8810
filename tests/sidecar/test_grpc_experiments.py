"""The facade turns gRPC's event_engine_listener experiment off (less CPU per call) before grpc
is imported, leaves a GRPC_EXPERIMENTS the user set alone, and has a switch to keep it on; with
the experiment off it still serves over TCP, TLS and a unix socket."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grpc
import pytest
import trustme
from grpc_health.v1 import health_pb2, health_pb2_grpc

from service._gen.cloudfront.v1 import origin_access_identity_service_pb2 as pb
from service._gen.cloudfront.v1 import origin_access_identity_service_pb2_grpc as pb_grpc
from tests.process import facade_process

OFF = "-event_engine_listener"


def test_the_cli_module_does_not_import_grpc_before_it_sets_the_experiment() -> None:
    probe = "import sys, service.cli; service.cli.config.load([]); print('grpc' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


@pytest.mark.parametrize(
    ("args", "env", "experiments"),
    [
        ((), {}, OFF),
        ((), {"GRPC_EXPERIMENTS": "event_engine_listener"}, "event_engine_listener"),
        (("--grpc-event-engine-listener",), {}, None),
        ((), {"CLOUDFRONT_FACADE_GRPC_EVENT_ENGINE_LISTENER": "true"}, None),
    ],
    ids=["default-off", "user-value-wins", "flag-keeps-it-on", "variable-keeps-it-on"],
)
async def test_grpc_experiments_the_facade_runs_with(
    args: tuple[str, ...], env: dict[str, str], experiments: str | None
) -> None:
    async with facade_process("--emulator", *args, env=env) as facade:
        assert facade.serving["grpc_experiments"] == experiments


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("pki")
    ca = trustme.CA()
    server = ca.issue_cert("localhost", "127.0.0.1")
    paths = {"ca": folder / "ca.pem", "cert": folder / "cert.pem", "key": folder / "key.pem"}
    ca.cert_pem.write_to_path(str(paths["ca"]))
    server.cert_chain_pems[0].write_to_path(str(paths["cert"]))
    server.private_key_pem.write_to_path(str(paths["key"]))
    return paths


async def _call(channel: grpc.aio.Channel) -> None:
    health = await health_pb2_grpc.HealthStub(channel).Check(
        health_pb2.HealthCheckRequest(), timeout=10
    )
    assert health.status == health_pb2.HealthCheckResponse.SERVING
    stub = pb_grpc.OriginAccessIdentityServiceStub(channel)  # type: ignore[no-untyped-call]
    created = await stub.CreateCloudFrontOriginAccessIdentity(
        pb.CreateCloudFrontOriginAccessIdentityRequest(
            cloud_front_origin_access_identity_config=pb.CloudFrontOriginAccessIdentityConfig(
                caller_reference="experiments", comment="over every transport"
            )
        ),
        timeout=10,
    )
    assert created.cloud_front_origin_access_identity.id


async def test_serves_over_tcp_with_the_experiment_off() -> None:
    async with facade_process("--emulator") as facade:
        assert facade.serving["grpc_experiments"] == OFF
        async with grpc.aio.insecure_channel(facade.address) as channel:
            await _call(channel)


async def test_serves_over_tls_with_the_experiment_off(pki: dict[str, Path]) -> None:
    async with facade_process(
        "--emulator", "--tls-cert", str(pki["cert"]), "--tls-key", str(pki["key"])
    ) as facade:
        assert facade.serving["grpc_experiments"] == OFF
        credentials = grpc.ssl_channel_credentials(root_certificates=pki["ca"].read_bytes())
        async with grpc.aio.secure_channel(facade.address, credentials) as channel:
            await _call(channel)


async def test_serves_over_a_unix_socket_with_the_experiment_off(tmp_path: Path) -> None:
    async with facade_process("--emulator", listen=f"unix:{tmp_path / 'f.sock'}") as facade:
        assert facade.serving["grpc_experiments"] == OFF
        async with grpc.aio.insecure_channel(facade.address) as channel:
            await _call(channel)
