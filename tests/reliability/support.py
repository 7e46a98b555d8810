"""Helpers shared by the reliability scenarios: outcomes, status checks, process figures."""

from __future__ import annotations

import asyncio
import math
import os
import re
from collections import Counter
from collections.abc import Awaitable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import grpc
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc

from service._gen.cloudfront.v1 import origin_access_identity_service_pb2_grpc as pb_grpc

# The one request builder and RPC list live in tests/conftest.py; re-exported for the scenarios.
from tests.conftest import LIST as LIST
from tests.conftest import RPCS as RPCS
from tests.conftest import SERVICE as SERVICE
from tests.conftest import create_request as create_request
from tests.conftest import rich_status
from tests.conftest import update_request as update_request

S = grpc.StatusCode
Stub = pb_grpc.OriginAccessIdentityServiceStub
#: Every code the two error tables of docs/api-and-errors.md name, plus OK.
DOCUMENTED = frozenset(
    {
        S.OK,
        S.NOT_FOUND,
        S.PERMISSION_DENIED,
        S.ALREADY_EXISTS,
        S.FAILED_PRECONDITION,
        S.ABORTED,
        S.INVALID_ARGUMENT,
        S.RESOURCE_EXHAUSTED,
        S.UNAVAILABLE,
        S.UNAUTHENTICATED,
        S.INTERNAL,
        S.DEADLINE_EXCEEDED,
    }
)

# What a caller must never see in a status message: internals of the facade.
_LEAKS = (
    re.compile(r"Traceback"),
    re.compile(r"\.py\b"),
    re.compile(r"\bFile \""),
    re.compile(r"\b[A-Z][a-zA-Z]+(Error|Exception)\b"),
    re.compile(r"<[a-z_.]+ object at 0x"),
)


def aws_env(
    access_key: str, secret_key: str, session_token: str | None = None, **extra: str
) -> dict[str, str]:
    """Environment for a facade process that signs with these static credentials (on top of
    the isolated environment tests/conftest.py gives every test)."""
    env = {"AWS_ACCESS_KEY_ID": access_key, "AWS_SECRET_ACCESS_KEY": secret_key}
    if session_token is not None:
        env["AWS_SESSION_TOKEN"] = session_token
    env.update(extra)
    return env


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one call ended, as the caller saw it."""

    code: grpc.StatusCode
    response: Any = None
    error: grpc.aio.AioRpcError | None = None
    seconds: float = 0.0

    @property
    def message(self) -> str:
        return (self.error.details() or "") if self.error is not None else ""

    @property
    def reason(self) -> str | None:
        """The ErrorInfo reason, None when there is none (or several)."""
        if self.error is None:
            return None
        infos = error_infos(self.error)
        return infos[0].reason if len(infos) == 1 else None


async def outcome(call: Awaitable[Any]) -> Outcome:
    """Await a call and turn its ending into an Outcome (a cancelled call is CANCELLED)."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        response = await call
    except grpc.aio.AioRpcError as error:
        return Outcome(error.code(), None, error, loop.time() - started)
    except asyncio.CancelledError:
        if isinstance(call, grpc.aio.Call) and call.cancelled():
            return Outcome(S.CANCELLED, seconds=loop.time() - started)
        raise
    return Outcome(S.OK, response, None, loop.time() - started)


def error_infos(error: grpc.aio.AioRpcError) -> list[error_details_pb2.ErrorInfo]:
    try:
        status = rich_status(error)
    except AssertionError:
        return []
    found = []
    for packed in status.details:
        if packed.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            packed.Unpack(info)
            found.append(info)
    return found


def message_problems(message: str) -> list[str]:
    """Why a status message is not fit for a caller: empty, or showing the facade's internals."""
    problems = [f"shows {leak.pattern!r}" for leak in _LEAKS if leak.search(message)]
    if not message.strip():
        problems.append("is empty")
    return problems


def tally(outcomes: Iterable[Outcome]) -> dict[str, int]:
    """Counts per status code name, most common first (for the figures)."""
    return dict(Counter(o.code.name for o in outcomes).most_common())


def reasons(outcomes: Iterable[Outcome]) -> dict[str, int]:
    """Counts per `CODE/REASON` of the errors (for the figures)."""
    return dict(
        Counter(f"{o.code.name}/{o.reason}" for o in outcomes if o.error is not None).most_common()
    )


def percentile(values: Iterable[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); 0.0 for no values."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[max(0, min(len(ordered) - 1, math.ceil(q / 100 * len(ordered)) - 1))]


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


# -- the OS view of a facade process ------------------------------------------------------------


def rss_kib(pid: int) -> int:
    """Resident set size of a process, from /proc/<pid>/status (VmRSS, in KiB)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError(f"no VmRSS for process {pid}")


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


async def health(channel: grpc.aio.Channel, service: str = "") -> str:
    stub = health_pb2_grpc.HealthStub(channel)
    response = await stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
    return str(health_pb2.HealthCheckResponse.ServingStatus.Name(response.status))


async def wait_until(predicate: Any, within: float, step: float = 0.005) -> float:
    """Poll `predicate()` until true; returns the seconds it took, or raises on timeout."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    while not predicate():
        if loop.time() - started > within:
            raise AssertionError(f"not true within {within} s")
        await asyncio.sleep(step)
    return loop.time() - started


def describe(outcomes: Iterable[Outcome], limit: int = 3) -> list[str]:
    """A few outcomes, readable in an assertion message."""
    return [f"{o.code.name} {o.reason}: {o.message[:120]}" for o in list(outcomes)[:limit]]


def merge(*counts: Mapping[str, int]) -> dict[str, int]:
    total: Counter[str] = Counter()
    for count in counts:
        total.update(count)
    return dict(total.most_common())
