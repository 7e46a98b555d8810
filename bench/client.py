"""A load-generating client process, driven by the harness over stdin/stdout JSON lines.

``python -m bench.client direct --endpoint URL --pool N`` calls CloudFront with one long-lived
aioboto3 client, as a user's own service would; ``python -m bench.client grpc --target ADDR``
makes the same calls through the facade over one gRPC channel. Both run the same workload code
(:func:`run`), so the only difference between the two is the path a call takes.

Commands (one JSON object a line): ``ids`` (make sure N identities exist, return their ids),
``prepare`` (read each identity's current ETag, untimed), ``run`` (timed calls), ``quit``.
Each answer is one JSON line. The process exits when stdin closes, so it never outlives the
harness.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

# One cycle per workload; "mixed" is read-heavy (60 % Get, 20 % Update, 20 % List), the usual
# shape of a control-plane caller that reads far more than it writes. "get-oac" reads origin
# access controls: the second service, whose requests and answers carry enums.
WORKLOADS: dict[str, tuple[str, ...]] = {
    "mixed": ("get", "update", "get", "list", "get"),
    "get": ("get",),
    "update": ("update",),
    "list": ("list",),
    "get-oac": ("get_oac",),
}
OAC_CONFIG = {
    "Name": "bench-oac",
    "Description": "bench",
    "SigningProtocol": "sigv4",
    "SigningBehavior": "always",
    "OriginAccessControlOriginType": "s3",
}
# Throw-away credentials: the stub upstream checks no signature, the emulator any.
ACCESS_KEY = "AKIDBENCHMARK0000000"
SECRET_KEY = "bench-secret-key-not-a-real-one"
REGION = "us-east-1"
GRPC_DEADLINE = 30.0  # callers should always set one; the facade honours it upstream


@dataclass(slots=True)
class Version:
    etag: str
    caller_reference: str


class Caller(Protocol):
    async def get(self, ident: str) -> Version: ...

    async def update(self, ident: str, version: Version, comment: str) -> Version: ...

    async def list(self) -> list[str]: ...

    async def create(self, caller_reference: str) -> str: ...

    async def get_oac(self, ident: str) -> str: ...

    async def list_oacs(self) -> Sequence[str]: ...

    async def create_oac(self, name: str) -> str: ...

    async def close(self) -> None: ...


class DirectCaller:
    """aioboto3 straight at the upstream: one client, a pool as large as the concurrency."""

    def __init__(self, client: Any, stack: Any) -> None:
        self._client = client
        self._stack = stack

    @classmethod
    async def open(cls, endpoint: str, pool: int) -> DirectCaller:
        from contextlib import AsyncExitStack

        import aioboto3
        from aiobotocore.config import AioConfig

        session = aioboto3.Session(
            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, region_name=REGION
        )
        stack = AsyncExitStack()
        # Everything else left at the SDK's defaults, as a user's service would have it.
        client = await stack.enter_async_context(
            session.client(
                "cloudfront", endpoint_url=endpoint, config=AioConfig(max_pool_connections=pool)
            )
        )
        return cls(client, stack)

    async def get(self, ident: str) -> Version:
        answer = await self._client.get_cloud_front_origin_access_identity(Id=ident)
        config = answer["CloudFrontOriginAccessIdentity"]["CloudFrontOriginAccessIdentityConfig"]
        return Version(answer["ETag"], config["CallerReference"])

    async def update(self, ident: str, version: Version, comment: str) -> Version:
        answer = await self._client.update_cloud_front_origin_access_identity(
            Id=ident,
            IfMatch=version.etag,
            CloudFrontOriginAccessIdentityConfig={
                "CallerReference": version.caller_reference,
                "Comment": comment,
            },
        )
        return Version(answer["ETag"], version.caller_reference)

    async def list(self) -> list[str]:
        answer = await self._client.list_cloud_front_origin_access_identities()
        items = answer["CloudFrontOriginAccessIdentityList"].get("Items", [])
        return [item["Id"] for item in items]

    async def create(self, caller_reference: str) -> str:
        answer = await self._client.create_cloud_front_origin_access_identity(
            CloudFrontOriginAccessIdentityConfig={
                "CallerReference": caller_reference,
                "Comment": "bench",
            }
        )
        return str(answer["CloudFrontOriginAccessIdentity"]["Id"])

    async def get_oac(self, ident: str) -> str:
        answer = await self._client.get_origin_access_control(Id=ident)
        return str(answer["OriginAccessControl"]["OriginAccessControlConfig"]["Name"])

    async def list_oacs(self) -> Sequence[str]:
        answer = await self._client.list_origin_access_controls()
        return [item["Id"] for item in answer["OriginAccessControlList"].get("Items", [])]

    async def create_oac(self, name: str) -> str:
        answer = await self._client.create_origin_access_control(
            OriginAccessControlConfig=OAC_CONFIG | {"Name": name}
        )
        return str(answer["OriginAccessControl"]["Id"])

    async def close(self) -> None:
        await self._stack.aclose()


class GrpcCaller:
    """The facade over one gRPC channel, as a sidecar's caller would use it."""

    def __init__(self, target: str) -> None:
        import grpc

        from service._gen.cloudfront.v1 import origin_access_control_service_pb2 as oac
        from service._gen.cloudfront.v1 import origin_access_control_service_pb2_grpc as oac_rpc
        from service._gen.cloudfront.v1 import origin_access_identity_service_pb2 as pb
        from service._gen.cloudfront.v1 import origin_access_identity_service_pb2_grpc as rpc

        self._pb, self._oac = pb, oac
        self._channel = grpc.aio.insecure_channel(target)
        stub_class: Any = rpc.OriginAccessIdentityServiceStub  # generated without type hints
        self._stub = stub_class(self._channel)
        oac_stub_class: Any = oac_rpc.OriginAccessControlServiceStub
        self._oac_stub = oac_stub_class(self._channel)

    async def get(self, ident: str) -> Version:
        pb = self._pb
        answer = await self._stub.GetCloudFrontOriginAccessIdentity(
            pb.GetCloudFrontOriginAccessIdentityRequest(id=ident), timeout=GRPC_DEADLINE
        )
        config = answer.cloud_front_origin_access_identity.cloud_front_origin_access_identity_config
        return Version(answer.etag, config.caller_reference)

    async def update(self, ident: str, version: Version, comment: str) -> Version:
        pb = self._pb
        answer = await self._stub.UpdateCloudFrontOriginAccessIdentity(
            pb.UpdateCloudFrontOriginAccessIdentityRequest(
                id=ident,
                if_match=version.etag,
                cloud_front_origin_access_identity_config=pb.CloudFrontOriginAccessIdentityConfig(
                    caller_reference=version.caller_reference, comment=comment
                ),
            ),
            timeout=GRPC_DEADLINE,
        )
        return Version(answer.etag, version.caller_reference)

    async def list(self) -> list[str]:
        answer = await self._stub.ListCloudFrontOriginAccessIdentities(
            self._pb.ListCloudFrontOriginAccessIdentitiesRequest(), timeout=GRPC_DEADLINE
        )
        return [item.id for item in answer.cloud_front_origin_access_identity_list.items]

    async def create(self, caller_reference: str) -> str:
        pb = self._pb
        answer = await self._stub.CreateCloudFrontOriginAccessIdentity(
            pb.CreateCloudFrontOriginAccessIdentityRequest(
                cloud_front_origin_access_identity_config=pb.CloudFrontOriginAccessIdentityConfig(
                    caller_reference=caller_reference, comment="bench"
                )
            ),
            timeout=GRPC_DEADLINE,
        )
        return str(answer.cloud_front_origin_access_identity.id)

    async def get_oac(self, ident: str) -> str:
        answer = await self._oac_stub.GetOriginAccessControl(
            self._oac.GetOriginAccessControlRequest(id=ident), timeout=GRPC_DEADLINE
        )
        return str(answer.origin_access_control.origin_access_control_config.name)

    async def list_oacs(self) -> Sequence[str]:
        answer = await self._oac_stub.ListOriginAccessControls(
            self._oac.ListOriginAccessControlsRequest(), timeout=GRPC_DEADLINE
        )
        return [item.id for item in answer.origin_access_control_list.items]

    async def create_oac(self, name: str) -> str:
        oac = self._oac
        config = oac.OriginAccessControlConfig(
            name=name,
            description="bench",
            signing_protocol=oac.ORIGIN_ACCESS_CONTROL_SIGNING_PROTOCOLS_SIGV4,
            signing_behavior=oac.ORIGIN_ACCESS_CONTROL_SIGNING_BEHAVIORS_ALWAYS,
            origin_access_control_origin_type=oac.ORIGIN_ACCESS_CONTROL_ORIGIN_TYPES_S3,
        )
        answer = await self._oac_stub.CreateOriginAccessControl(
            oac.CreateOriginAccessControlRequest(origin_access_control_config=config),
            timeout=GRPC_DEADLINE,
        )
        return str(answer.origin_access_control.id)

    async def close(self) -> None:
        await self._channel.close(None)


class Driver:
    """Holds the caller and what it last read of each identity between commands."""

    def __init__(self, caller: Caller) -> None:
        self.caller = caller
        self.versions: dict[str, Version] = {}

    async def ensure_ids(self, count: int) -> list[str]:
        ids = await self.caller.list()
        for index in range(len(ids), count):
            await self.caller.create(f"bench-setup-{index}-{time.time_ns()}")
        if len(ids) < count:
            ids = await self.caller.list()
        return sorted(ids)[:count]

    async def ensure_oac_ids(self, count: int) -> list[str]:
        ids = await self.caller.list_oacs()
        for index in range(len(ids), count):
            await self.caller.create_oac(f"bench-setup-{index}-{time.time_ns()}")
        if len(ids) < count:
            ids = await self.caller.list_oacs()
        return sorted(ids)[:count]

    async def prepare(self, ids: Sequence[str]) -> None:
        """Learn each identity's current ETag: the other side may have updated it since."""
        versions = await asyncio.gather(*(self.caller.get(ident) for ident in ids))
        self.versions.update(zip(ids, versions, strict=True))

    async def run(
        self,
        workload: str,
        calls: int,
        concurrency: int,
        ids: Sequence[str],
        oac_ids: Sequence[str] = (),
    ) -> dict[str, Any]:
        cycle = WORKLOADS[workload]
        if "update" in cycle and concurrency > len(ids):
            raise ValueError("update workloads need one identity per worker (no ETag races)")
        if "get_oac" in cycle and not oac_ids:
            raise ValueError("OAC workloads need the ids of origin access controls")
        latencies: list[float] = []
        errors: list[str] = []
        remaining = calls
        caller = self.caller
        clock = time.perf_counter

        async def worker(number: int) -> None:
            nonlocal remaining
            ident = ids[number % len(ids)]
            control = oac_ids[number % len(oac_ids)] if oac_ids else ""
            step = 0
            while remaining > 0:
                remaining -= 1
                operation = cycle[step % len(cycle)]
                step += 1
                started = clock()
                try:
                    if operation == "get":
                        self.versions[ident] = await caller.get(ident)
                    elif operation == "update":
                        self.versions[ident] = await caller.update(
                            ident, self.versions[ident], f"bench {number} {step}"
                        )
                    elif operation == "get_oac":
                        await caller.get_oac(control)
                    else:
                        await caller.list()
                except Exception as error:
                    errors.append(f"{operation}: {type(error).__name__}: {error}"[:300])
                    self.versions[ident] = await caller.get(ident)  # resync, untimed
                    continue
                latencies.append(clock() - started)

        started = clock()
        await asyncio.gather(*(worker(number) for number in range(concurrency)))
        wall = clock() - started
        return {
            "wall": wall,
            "latencies": [round(x, 7) for x in latencies],
            "errors": len(errors),
            "error_samples": errors[:3],
        }


async def serve(caller: Caller, out: Any) -> None:
    driver = Driver(caller)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    out.write(json.dumps({"ready": True}) + "\n")
    out.flush()
    try:
        while line := await reader.readline():
            command = json.loads(line)
            name = command["cmd"]
            answer: dict[str, Any]
            try:
                if name == "ids":
                    answer = {
                        "ids": await driver.ensure_ids(int(command["count"])),
                        "oac_ids": await driver.ensure_oac_ids(int(command["count"])),
                    }
                elif name == "prepare":
                    await driver.prepare(command["ids"])
                    answer = {"ok": True}
                elif name == "run":
                    answer = await driver.run(
                        command["workload"],
                        int(command["calls"]),
                        int(command["concurrency"]),
                        command["ids"],
                        command.get("oac_ids", ()),
                    )
                elif name == "quit":
                    break
                else:
                    answer = {"error": f"unknown command {name!r}"}
            except Exception as error:
                answer = {"error": f"{type(error).__name__}: {error}"}
            out.write(json.dumps(answer) + "\n")
            out.flush()
    finally:
        await caller.close()


async def _main(args: argparse.Namespace, out: Any) -> None:
    caller: Caller
    if args.mode == "direct":
        caller = await DirectCaller.open(args.endpoint, args.pool)
    else:
        caller = GrpcCaller(args.target)
    await serve(caller, out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.client")
    parser.add_argument("mode", choices=("direct", "grpc"))
    parser.add_argument("--endpoint", help="upstream URL (direct)")
    parser.add_argument("--target", help="facade HOST:PORT (grpc)")
    parser.add_argument("--pool", type=int, default=16, help="HTTP connections (direct)")
    parser.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop")
    args = parser.parse_args(argv)
    # stdout carries the protocol only; anything a library prints goes to stderr instead.
    out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    if args.loop == "uvloop":
        import uvloop

        uvloop.run(_main(args, out))
    else:
        asyncio.run(_main(args, out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
