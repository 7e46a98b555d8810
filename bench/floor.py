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
* ``tuned-aioboto3`` — ``bare-aioboto3`` through the facade's own client
  (``service.aws.CloudFrontClient``: its AioConfig, the no-op handlers dropped, the shared
  trimmed loader) and gRPC's event-engine listener off, as the facade runs by default: the
  floor for a Python gRPC facade over this SDK, to which the facade's own code (guard,
  validation, conversion, access log) adds the rest.

The run starts with the direct aioboto3 client (SDK defaults, as ``python -m bench`` measures
it) and ends with the facade itself (``python -m service``), so each floor is read against both
in one run: CPU per call and its ratio to the direct client, the median latency it adds, the
time from start to SERVING and the idle RSS before the first call.

Subtracting these from the facade's CPU per call (``python -m bench``) splits it into gRPC,
the interceptor, the access log, and the AWS call itself.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AsyncExitStack
from typing import Any

from bench.client import ACCESS_KEY, SECRET_KEY, DirectCaller
from bench.harness import IDLE_SETTLE, start_facade, start_upstream, start_worker
from bench.procs import REPO, Child, ChildFailed, Children, free_port, wait_serving
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

    stack = AsyncExitStack()
    get: Callable[[str], Awaitable[Any]] | None = None
    if variant == "bare-aioboto3":
        assert endpoint is not None
        get = (await DirectCaller.open(endpoint, 16)).get
    elif variant == "tuned-aioboto3":
        assert endpoint is not None
        from service.aws import CloudFrontClient, StaticCredentials
        from service.config import Settings

        # The facade's own client (its AioConfig, trimmed loader, no-op handlers dropped).
        client = await stack.enter_async_context(
            CloudFrontClient.open(
                Settings(),
                endpoint_url=endpoint,
                credentials=StaticCredentials(ACCESS_KEY, SECRET_KEY),
            )
        )

        async def get(ident: str) -> Any:
            return await client.call("GetCloudFrontOriginAccessIdentity", {"Id": ident}, None)

    class Canned(rpc.OriginAccessIdentityServiceServicer):
        async def GetCloudFrontOriginAccessIdentity(self, request: Any, context: Any) -> Any:
            if get is not None:
                await get(request.id)
            return answer

    # Only the guard variants run the facade's interceptor; the aioboto3 ones run no facade code.
    interceptors = (
        [CallGuard(max_concurrency=64, max_request_bytes=64 * 1024, token=None, metrics=None)]
        if variant.startswith("guard")
        else []
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
    await stack.aclose()


def _run_side(
    name: str, worker: Child, server: Child | None, command: dict[str, Any], repeats: int
) -> dict[str, Any]:
    """Warm up, then `repeats` runs: CPU per call of the server (or of the direct client) and
    of the driving client, calls per second, and the median latency."""
    worker.call(command | {"calls": min(command["calls"], 2000)})  # warm-up
    measured = server or worker
    runs = []
    for _ in range(repeats):
        before = measured.cpu_seconds(), worker.cpu_seconds()
        result = worker.call(command)
        after = measured.cpu_seconds(), worker.cpu_seconds()
        if result["errors"]:
            raise ChildFailed(f"floor {name}: {result['error_samples']}")
        calls = command["calls"]
        runs.append(
            (
                (after[0] - before[0]) / calls,
                (after[1] - before[1]) / calls,
                calls / result["wall"],
                statistics.median(result["latencies"]),
            )
        )
    return {
        "variant": name,
        "server_cpu_s_per_call": statistics.median(r[0] for r in runs),
        "client_cpu_s_per_call": statistics.median(r[1] for r in runs) if server else None,
        "throughput_per_s": statistics.median(r[2] for r in runs),
        "p50_s": statistics.median(r[3] for r in runs),
    }


def measure(calls: int, concurrency: int, repeats: int) -> list[dict[str, Any]]:
    """The direct client, each variant and the facade, one after another, each on a fresh
    stub upstream; for each server also start-to-SERVING and idle RSS (before any call)."""
    rows = []
    command = {
        "cmd": "run",
        "workload": "get",
        "calls": calls,
        "concurrency": concurrency,
        "ids": [identity_id(1)],
    }
    with Children() as children:
        upstream = start_upstream(children, "stub", 16)
        direct = start_worker(
            children, "direct-client", ["direct", "--endpoint", upstream.url, "--pool", "16"]
        )
        rows.append(_run_side("direct", direct, None, command, repeats))
    for variant in (*VARIANTS, "facade"):
        with Children() as children:
            upstream = start_upstream(children, "stub", 16)
            if variant == "facade":
                server, address, started = start_facade(
                    children, "facade", upstream, [], FACADE_DEFAULTS
                )
            else:
                port = free_port()
                address = f"127.0.0.1:{port}"
                server = children.start(
                    f"floor-{variant}",
                    "bench.floor",
                    [
                        "serve",
                        "--listen",
                        address,
                        "--variant",
                        variant,
                        "--endpoint",
                        upstream.url,
                    ],
                    # Read by gRPC core at its import, as service.cli sets it for the facade.
                    env={"GRPC_EXPERIMENTS": GRPC_EXPERIMENTS}
                    if variant.startswith("tuned")
                    else None,
                    stdout_to_log=True,
                )
                started = wait_serving(address, port, server)
            time.sleep(IDLE_SETTLE)
            idle_rss = server.rss_bytes()
            client = start_worker(children, "grpc-client", ["grpc", "--target", address])
            row = _run_side(variant, client, server, command, repeats)
            rows.append(row | {"start_to_serving_s": started, "idle_rss_bytes": idle_rss})
    return rows


# The facade as `python -m bench` starts it: log level INFO, no extra flags, this checkout.
FACADE_DEFAULTS = argparse.Namespace(
    facade_args="", facade_log_level=None, otel=False, facade_root=REPO
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.floor",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("action", nargs="?", choices=("measure", "serve"), default="measure")
    parser.add_argument("--listen", help="serve: HOST:PORT")
    parser.add_argument("--variant", choices=VARIANTS, default="bare")
    parser.add_argument("--endpoint", help="serve: upstream URL for the aioboto3 variants")
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
        f"GetCloudFrontOriginAccessIdentity, {args.calls} calls x {args.repeats} at "
        f"{args.concurrency} in flight (median of repeats), {os.cpu_count()} cores, "
        f"load {os.getloadavg()[0]:.2f} at the end"
    )
    direct = rows[0]
    print(
        f"{'variant':15}{'CPU µs/call':>12}{'÷ direct':>10}{'client µs':>11}{'calls/s':>9}"
        f"{'p50 ms':>8}{'+p50 ms':>9}{'start s':>9}{'idle MB':>9}"
    )
    for row in rows:
        cpu, p50 = row["server_cpu_s_per_call"], row["p50_s"]
        client = row["client_cpu_s_per_call"]
        start, rss = row.get("start_to_serving_s"), row.get("idle_rss_bytes")
        print(
            f"{row['variant']:15}{cpu * 1e6:12.0f}{cpu / direct['server_cpu_s_per_call']:10.2f}"
            f"{'-' if client is None else f'{client * 1e6:.0f}':>11}"
            f"{row['throughput_per_s']:9.0f}{p50 * 1e3:8.2f}"
            f"{(p50 - direct['p50_s']) * 1e3:+9.2f}"
            f"{'-' if start is None else f'{start:.2f}':>9}"
            f"{'-' if rss is None else f'{rss / 2**20:.1f}':>9}"
        )
    print(
        "  (CPU: the server's per call, or the direct client's; client: the gRPC client's;"
        " canned variants answer without AWS)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
