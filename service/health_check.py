"""`cloudfront-facade health`: a grpc_health_probe for exec probes and Docker HEALTHCHECK.

Exit codes:

* 0: the server answered ``SERVING`` for the service (stdout: ``SERVING``).
* 1: the server answered, and not ``SERVING``: ``NOT_SERVING`` (stdout: ``NOT_SERVING``), or it
  does not know the service (it answers ``NOT_FOUND``; stdout: ``SERVICE_UNKNOWN``).
* 2: no answer (nothing listening, a TLS mismatch, the timeout passed), or bad arguments; one
  line on stderr says which.

A draining facade turns ``NOT_SERVING`` and stops listening at once (so no new call reaches
it), so from a new connection it cannot be told from a stopped one: a probe during a drain
exits 2, "unreachable". Only a client already connected sees the ``NOT_SERVING`` (and a Watch
stream sees it first).
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

EXIT_SERVING = 0
EXIT_NOT_SERVING = 1
EXIT_UNREACHABLE = 2

_PROG = "cloudfront-facade health"


def _timeout(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(
            f"expected a finite number of seconds above 0, got {text!r}"
        )
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=_PROG,
        description="Ask a facade's gRPC health service. Exit 0 SERVING, 1 "
        "NOT_SERVING or unknown service, 2 unreachable or bad arguments.",
    )
    parser.add_argument(
        "--target",
        default="127.0.0.1:50051",
        help="address of the facade: HOST:PORT or unix:/path (default %(default)s)",
    )
    parser.add_argument(
        "--service", default="", help="service to ask about; empty means the whole server"
    )
    parser.add_argument("--timeout", type=_timeout, default=2.0, help="seconds (default 2)")
    parser.add_argument("--tls-ca", type=Path, help="PEM CA to verify a TLS facade with")
    parser.add_argument("--tls-cert", type=Path, help="PEM client certificate for mTLS")
    parser.add_argument("--tls-key", type=Path, help="PEM client key for mTLS")
    return parser


def main(argv: Sequence[str]) -> int:
    args = _parser().parse_args(argv)
    try:
        credentials = _credentials(args.tls_ca, args.tls_cert, args.tls_key)
    except _BadArgument as error:
        print(f"{_PROG}: {error}", file=sys.stderr)
        return EXIT_UNREACHABLE
    try:
        status = check(args.target, args.service, args.timeout, credentials)
    except grpc.RpcError as error:
        code = error.code()
        if code is grpc.StatusCode.NOT_FOUND:
            print("SERVICE_UNKNOWN")
            print(
                f"not serving: {args.target} does not know the service {args.service!r}",
                file=sys.stderr,
            )
            return EXIT_NOT_SERVING
        print(
            f"unhealthy: unreachable: {args.target}: {code.name}: {error.details()}",
            file=sys.stderr,
        )
        return EXIT_UNREACHABLE
    print(health_pb2.HealthCheckResponse.ServingStatus.Name(status))
    return EXIT_SERVING if status == health_pb2.HealthCheckResponse.SERVING else EXIT_NOT_SERVING


class _BadArgument(Exception):
    pass


def _read(flag: str, path: Path | None) -> bytes | None:
    if path is None:
        return None
    try:
        return path.read_bytes()
    except OSError as error:
        raise _BadArgument(f"{flag} {path}: {error.strerror or error}") from None


def _credentials(
    tls_ca: Path | None, tls_cert: Path | None, tls_key: Path | None
) -> grpc.ChannelCredentials | None:
    if tls_ca is None:
        if tls_cert is not None or tls_key is not None:
            raise _BadArgument("--tls-cert and --tls-key need --tls-ca")
        return None
    if (tls_cert is None) != (tls_key is None):
        raise _BadArgument("--tls-cert and --tls-key: set both or neither")
    return grpc.ssl_channel_credentials(
        root_certificates=_read("--tls-ca", tls_ca),
        private_key=_read("--tls-key", tls_key),
        certificate_chain=_read("--tls-cert", tls_cert),
    )


def check(
    target: str,
    service: str = "",
    timeout: float = 2.0,
    credentials: grpc.ChannelCredentials | None = None,
) -> int:
    """The serving status `target` reports for `service`; raises grpc.RpcError if it cannot."""
    if credentials is None:
        channel = grpc.insecure_channel(target)
    else:
        channel = grpc.secure_channel(target, credentials)
    with channel:
        stub = health_pb2_grpc.HealthStub(channel)
        response = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=timeout)
        return int(response.status)
