"""What each part of a default facade start costs in resident memory (issue 14).

Run in a fresh interpreter: `.venv/bin/python tools/rss_breakdown.py`. It imports what a default
start imports, step by step, then opens the CloudFront client and starts a gRPC server the way
`service.server` does (no emulator, no metrics, no reflection; throw-away static credentials,
nothing is sent to AWS), printing VmRSS from /proc/self/status after each step. Linux only.
"""

from __future__ import annotations

import importlib
import os

# A default start's imports, cheapest dependency first, so each line is what that layer adds.
IMPORTS = (
    "grpc",
    "google.protobuf.descriptor_pb2",
    "grpc_health.v1.health",
    "urllib3",
    "yarl",
    "aiohttp",
    "botocore.session",
    "aiobotocore.session",
    "aioboto3",
    "service.server",
    "uvloop",
)


def vm_rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


class Steps:
    def __init__(self) -> None:
        self.last = vm_rss_mb()
        print(f"{'interpreter':40s} {self.last:6.1f} MB")

    def done(self, name: str) -> None:
        now = vm_rss_mb()
        print(f"{name:40s} {now:6.1f} MB  +{now - self.last:4.1f}")
        self.last = now


async def _runtime(steps: Steps) -> None:
    import grpc

    from service.aws import CloudFrontClient, StaticCredentials
    from service.config import Settings

    settings = Settings(listen="127.0.0.1:0")
    keys = StaticCredentials("AKIDEXAMPLE", "not-a-secret")
    async with CloudFrontClient.open(settings, credentials=keys):
        steps.done("CloudFront client open")
        server = grpc.aio.server()
        server.add_insecure_port("127.0.0.1:0")
        await server.start()
        steps.done("gRPC server started")
        await server.stop(0)


def main() -> None:
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    steps = Steps()
    for name in IMPORTS:
        importlib.import_module(name)
        steps.done(f"import {name}")
    import uvloop

    uvloop.run(_runtime(steps))


if __name__ == "__main__":
    main()
