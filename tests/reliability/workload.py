"""A mixed workload over all six RPCs, the way a real caller uses them.

It creates identities, reads them, updates them with the ETag it last saw (so some updates go
stale and are ABORTED), deletes the ones it created, lists pages, and asks for unknown ids. With
`abuse=True` it also sends invalid requests, cancels calls and gives some calls tiny deadlines.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from service._gen.cloudfront.v1 import origin_access_identity_service_pb2 as pb
from tests.reliability.support import (
    Outcome,
    S,
    Stub,
    create_request,
    outcome,
    update_request,
)

_NORMAL = {
    "create": 3,
    "get": 4,
    "get_config": 2,
    "list": 2,
    "update": 3,
    "delete": 1,
    "unknown_id": 1,
}
_ABUSE = {"invalid": 1, "cancel": 1, "tiny_deadline": 1}


@dataclass
class _Known:
    id: str
    etag: str
    caller_reference: str


@dataclass
class Workload:
    stub: Stub
    rng: random.Random
    prefix: str
    timeout: float = 15.0
    abuse: bool = False
    known: list[_Known] = field(default_factory=list)
    created: list[_Known] = field(default_factory=list)
    _serial: int = 0

    async def prepare(self, identities: int) -> None:
        """Identities to read and update, created before any fault is injected."""
        for _ in range(identities):
            reference = self._reference()
            made = await self.stub.CreateCloudFrontOriginAccessIdentity(create_request(reference))
            self.known.append(
                _Known(made.cloud_front_origin_access_identity.id, made.etag, reference)
            )

    def next_call(self) -> tuple[str, Awaitable[Outcome]]:
        weights = {**_NORMAL, **(_ABUSE if self.abuse else {})}
        kind = self.rng.choices(list(weights), list(weights.values()))[0]
        maker: Callable[[], Awaitable[Outcome]] = getattr(self, f"_{kind}")
        return kind, maker()

    async def run(self, calls: int, concurrency: int) -> list[tuple[str, Outcome]]:
        """`calls` calls from `concurrency` concurrent callers."""
        results: list[tuple[str, Outcome]] = []
        remaining = iter(range(calls))

        async def caller() -> None:
            for _ in remaining:
                kind, call = self.next_call()
                results.append((kind, await call))

        await asyncio.gather(*(caller() for _ in range(concurrency)))
        return results

    # -- one coroutine per kind of call ---------------------------------------------------------

    def _reference(self) -> str:
        self._serial += 1
        return f"{self.prefix}-{self._serial}"

    async def _create(self) -> Outcome:
        reference = self._reference()
        ended = await outcome(
            self.stub.CreateCloudFrontOriginAccessIdentity(
                create_request(reference, "made by the workload"), timeout=self.timeout
            )
        )
        if ended.code is S.OK:
            identity = ended.response.cloud_front_origin_access_identity
            self.created.append(_Known(identity.id, ended.response.etag, reference))
        return ended

    async def _get(self) -> Outcome:
        target = self.rng.choice(self.known)
        ended = await outcome(
            self.stub.GetCloudFrontOriginAccessIdentity(
                pb.GetCloudFrontOriginAccessIdentityRequest(id=target.id), timeout=self.timeout
            )
        )
        if ended.code is S.OK:
            target.etag = ended.response.etag  # read before a write, as a careful caller does
        return ended

    async def _get_config(self) -> Outcome:
        target = self.rng.choice(self.known)
        return await outcome(
            self.stub.GetCloudFrontOriginAccessIdentityConfig(
                pb.GetCloudFrontOriginAccessIdentityConfigRequest(id=target.id),
                timeout=self.timeout,
            )
        )

    async def _list(self) -> Outcome:
        marker = self.rng.choice(["", self.rng.choice(self.known).id])
        return await outcome(
            self.stub.ListCloudFrontOriginAccessIdentities(
                pb.ListCloudFrontOriginAccessIdentitiesRequest(
                    marker=marker, max_items=self.rng.randrange(0, 20)
                ),
                timeout=self.timeout,
            )
        )

    async def _update(self) -> Outcome:
        target = self.rng.choice(self.known)
        ended = await outcome(
            self.stub.UpdateCloudFrontOriginAccessIdentity(
                update_request(
                    target.id,
                    target.etag,
                    target.caller_reference,
                    f"comment {self.rng.randrange(10**6)}",
                ),
                timeout=self.timeout,
            )
        )
        if ended.code is S.OK:
            target.etag = ended.response.etag
        return ended

    async def _delete(self) -> Outcome:
        if not self.created:
            return await self._get()
        target = self.created.pop(self.rng.randrange(len(self.created)))
        return await outcome(
            self.stub.DeleteCloudFrontOriginAccessIdentity(
                pb.DeleteCloudFrontOriginAccessIdentityRequest(id=target.id, if_match=target.etag),
                timeout=self.timeout,
            )
        )

    async def _unknown_id(self) -> Outcome:
        return await outcome(
            self.stub.GetCloudFrontOriginAccessIdentity(
                pb.GetCloudFrontOriginAccessIdentityRequest(id="ENOSUCHIDENTITY0"),
                timeout=self.timeout,
            )
        )

    async def _invalid(self) -> Outcome:
        return await outcome(
            self.stub.GetCloudFrontOriginAccessIdentityConfig(
                pb.GetCloudFrontOriginAccessIdentityConfigRequest(id="not an id"),
                timeout=self.timeout,
            )
        )

    async def _cancel(self) -> Outcome:
        call = self.stub.ListCloudFrontOriginAccessIdentities(
            pb.ListCloudFrontOriginAccessIdentitiesRequest(max_items=5), timeout=self.timeout
        )
        await asyncio.sleep(self.rng.uniform(0, 0.004))
        call.cancel()
        return await outcome(call)

    async def _tiny_deadline(self) -> Outcome:
        target = self.rng.choice(self.known)
        return await outcome(
            self.stub.GetCloudFrontOriginAccessIdentity(
                pb.GetCloudFrontOriginAccessIdentityRequest(id=target.id),
                timeout=self.rng.uniform(0.001, 0.02),
            )
        )
