"""`cloudfront-facade health`: a grpc_health_probe for exec probes and Docker HEALTHCHECK.

Exit 0 when the service is SERVING, 1 when it answers anything else, 2 when it cannot be
reached or the arguments are wrong.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="cloudfront-facade health",
                                     description="Ask a facade's gRPC health service.")
    parser.add_argument("--target", default="127.0.0.1:50051",
                        help="address of the facade: HOST:PORT or unix:/path (default %(default)s)")
    parser.add_argument("--service", default="",
                        help="service to ask about; empty means the whole server")
    parser.add_argument("--timeout", type=float, default=2.0, help="seconds (default 2)")
    parser.add_argument("--tls-ca", type=Path, help="PEM CA to verify a TLS facade with")
    parser.add_argument("--tls-cert", type=Path, help="PEM client certificate for mTLS")
    parser.add_argument("--tls-key", type=Path, help="PEM client key for mTLS")
    args = parser.parse_args(argv)
    try:
        status = check(args.target, args.service, args.timeout, args.tls_ca,
                       args.tls_cert, args.tls_key)
    except grpc.RpcError as error:
        print(f"unhealthy: {error.code().name}: {error.details()}", file=sys.stderr)
        return 2
    name = health_pb2.HealthCheckResponse.ServingStatus.Name(status)
    print(name)
    return 0 if status == health_pb2.HealthCheckResponse.SERVING else 1


def check(target: str, service: str = "", timeout: float = 2.0, tls_ca: Path | None = None,
          tls_cert: Path | None = None, tls_key: Path | None = None) -> int:
    if tls_ca is None:
        channel = grpc.insecure_channel(target)
    else:
        credentials = grpc.ssl_channel_credentials(
            root_certificates=tls_ca.read_bytes(),
            private_key=tls_key.read_bytes() if tls_key else None,
            certificate_chain=tls_cert.read_bytes() if tls_cert else None,
        )
        channel = grpc.secure_channel(target, credentials)
    with channel:
        stub = health_pb2_grpc.HealthStub(channel)
        response = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=timeout)
        return int(response.status)
