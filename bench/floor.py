"""What gRPC itself costs the facade per call: ``python -m bench.floor``.

A server answering GetCloudFrontOriginAccessIdentity with a canned response (no AWS call) is
run in its own process in four variants, and driven by the benchmark's gRPC client process:

* ``bare`` — grpc.aio server, servicer returns a constant: the floor any Python gRPC facade
  pays, whatever its own code does;
* ``guard`` — plus the facade's CallGuard interceptor (auth check, limit, request id, decode),
  log level WARNING;
* ``guard-log`` — plus the INFO JSON access log, the production default;
* ``bare-aioboto3`` — ``bare``, but the servicer makes the same aioboto3 call as the direct
  client (SDK defaults, pool of 16) against the stub upstream, and answers with the canned
  response: gRPC plus the AWS call, without the facade's servicer, conversion or interceptor;
* ``tuned-aioboto3`` — ``bare-aioboto3`` with the facade's own SDK settings (its AioConfig, the
  no-op handlers dropped, the shared trimmed loader) and gRPC's event-engine listener off, as
  the facade runs by default: the floor for a Python gRPC facade over this SDK, to which the
  facade's own code (guard, validation, conversion, access log) adds the rest.

Subtracting these from the facade's CPU per call (``python -m bench``) splits it into gRPC,
the interceptor, the access log, and the AWS call itself.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Sequence
from typing import Any

from bench.client import DirectCaller
from bench.harness import start_upstream, start_worker
from bench.procs import ChildFailed, Children, free_port, wait_serving
from bench.upstream import identity_id
from service.cli import GRPC_EXPERIMENTS

VARIANTS = ("bare", "guard", "guard-log", "bare-aioboto3", "tuned-aioboto3")


async def serve(listen: str, variant: str, endpoint: str | None) -> None:
    from grpc import aio
    from grpc_health.v1 import health_pb2, health_pb2_grpc
    from grpc_health.v1._async import HealthServicer

    from service import logs
    from service._gen.cloudfront.v1 import origin_access_identity_service_pb2 as pb
    from service._gen.cloudfront.v1 import origin_access_identity_service_pb2_grpc as rpc
    from service.interceptors import CallGuard

    logs.configure("INFO" if variant == "guard-log" else "WARNING", "json")
    answer = pb.GetCloudFrontOriginAccessIdentityResponse(
        cloud_front_origin_access_identity=pb.CloudFrontOriginAccessIdentity(
            id=identity_id(1),
            s3_canonical_user_id="0" * 96,
            cloud_front_origin_access_identity_config=pb.CloudFrontOriginAccessIdentityConfig(
                caller_reference="bench-ref-1", comment="bench identity 1"
            ),
        ),
        etag="E0000000000001",
    )

    aws: DirectCaller | None = None
    if variant == "bare-aioboto3":
        assert endpoint is not None
        aws = await DirectCaller.open(endpoint, 16)
    elif variant == "tuned-aioboto3":
        assert endpoint is not None
        aws = await tuned_caller(endpoint)

    class Canned(rpc.OriginAccessIdentityServiceServicer):
        async def GetCloudFrontOriginAccessIdentity(self, request: Any, context: Any) -> Any:
            if aws is not None:
                await aws.get(request.id)
            return answer

    interceptors = (
        []
        if variant.startswith("bare")
        else [CallGuard(max_concurrency=64, max_request_bytes=64 * 1024, token=None, metrics=None)]
    )
    server = aio.server(interceptors=interceptors)
    add_servicer: Any = rpc.add_OriginAccessIdentityServiceServicer_to_server
    add_servicer(Canned(), server)
    health_servicer = HealthServicer()
    await health_servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    server.add_insecure_port(listen)
    await server.start()
    await server.wait_for_termination()


async def tuned_caller(endpoint: str) -> DirectCaller:
    """DirectCaller's client, set up as service.aws sets up the facade's (its defaults)."""
    from contextlib import AsyncExitStack

    import aioboto3

    from bench.client import ACCESS_KEY, REGION, SECRET_KEY
    from service import aws
    from service.config import Settings

    session = aioboto3.Session(
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name=REGION,
        botocore_session=aws.botocore_session(),
    )
    stack = AsyncExitStack()
    config = aws.client_config(Settings())
    client = await stack.enter_async_context(
        session.client("cloudfront", endpoint_url=endpoint, config=config)
    )
    aws.drop_noop_handlers(client.meta.events)
    return DirectCaller(client, stack)


def measure(calls: int, concurrency: int, repeats: int) -> list[dict[str, Any]]:
    rows = []
    ids = [identity_id(1)]
    for variant in VARIANTS:
        with Children() as children:
            upstream = start_upstream(children, "stub", 16)
            port = free_port()
            address = f"127.0.0.1:{port}"
            server = children.start(
                f"floor-{variant}",
                "bench.floor",
                ["serve", "--listen", address, "--variant", variant, "--endpoint", upstream.url],
                # Read by gRPC core at its import, as service.cli sets it for the facade.
                env={"GRPC_EXPERIMENTS": GRPC_EXPERIMENTS} if variant.startswith("tuned") else None,
                stdout_to_log=True,
            )
            wait_serving(address, port, server)
            client = start_worker(children, "grpc-client", ["grpc", "--target", address])
            command = {
                "cmd": "run",
                "workload": "get",
                "calls": calls,
                "concurrency": concurrency,
                "ids": ids,
            }
            client.call(command | {"calls": min(calls, 2000)})  # warm-up
            per_call, rates = [], []
            for _ in range(repeats):
                before = server.cpu_seconds(), client.cpu_seconds()
                result = client.call(command)
                after = server.cpu_seconds(), client.cpu_seconds()
                if result["errors"]:
                    raise ChildFailed(f"floor {variant}: {result['error_samples']}")
                per_call.append(((after[0] - before[0]) / calls, (after[1] - before[1]) / calls))
                rates.append(calls / result["wall"])
            rows.append(
                {
                    "variant": variant,
                    "server_cpu_s_per_call": statistics.median(x[0] for x in per_call),
                    "client_cpu_s_per_call": statistics.median(x[1] for x in per_call),
                    "throughput_per_s": statistics.median(rates),
                }
            )
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.floor",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("action", nargs="?", choices=("measure", "serve"), default="measure")
    parser.add_argument("--listen", help="serve: HOST:PORT")
    parser.add_argument("--variant", choices=VARIANTS, default="bare")
    parser.add_argument("--endpoint", help="serve: upstream URL for bare-aioboto3")
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    if args.action == "serve":
        import uvloop  # as the facade: uvloop whenever it is installed

        uvloop.run(serve(args.listen, args.variant, args.endpoint))
        return 0
    rows = measure(args.calls, args.concurrency, args.repeats)
    print(
        f"canned GetCloudFrontOriginAccessIdentity, {args.calls} calls x {args.repeats} "
        f"at {args.concurrency} in flight (median of repeats)"
    )
    print(f"{'variant':12}{'server µs/call':>16}{'client µs/call':>16}{'calls/s':>10}")
    for row in rows:
        print(
            f"{row['variant']:12}{row['server_cpu_s_per_call'] * 1e6:16.0f}"
            f"{row['client_cpu_s_per_call'] * 1e6:16.0f}{row['throughput_per_s']:10.0f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
