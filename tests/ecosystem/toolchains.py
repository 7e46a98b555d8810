"""Building and running the Go and Java example clients against a facade process."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.ecosystem.conftest import REPO_ROOT

INSTALL_SCRIPT = REPO_ROOT / "tools" / "install_client_toolchains.sh"
BUILD_TIMEOUT = 900.0
RUN_TIMEOUT = 120.0
# What the clients' summaries list, in order, after a lifecycle where every step went right.
OAI_STEPS = [
    "create",
    "get",
    "get-config",
    "update",
    "update-stale",
    "list",
    "delete",
    "get-deleted",
]
OAC_STEPS = ["create", "get", "get-config", "update", "list", "delete", "get-deleted"]
OAC_SERVICE = "cloudfront.v1.OriginAccessControlService"
# How each client reports the two errors its OAI lifecycle provokes (see error_seen).
NOT_FOUND_SEEN = {
    "code": "NOT_FOUND",
    "reason": "NO_SUCH_CLOUD_FRONT_ORIGIN_ACCESS_IDENTITY",
    "domain": "cloudfront.amazonaws.com",
    "awsErrorCode": "NoSuchCloudFrontOriginAccessIdentity",
}
STALE_ETAG_SEEN = {
    "code": "ABORTED",
    "reason": "PRECONDITION_FAILED",
    "domain": "cloudfront.amazonaws.com",
    "awsErrorCode": "PreconditionFailed",
}
OAC_NOT_FOUND_REASON = "NO_SUCH_ORIGIN_ACCESS_CONTROL"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def require(toolchain: str, commands: Sequence[str], files: Sequence[str] = ()) -> None:
    """Skip when the toolchain is missing, except in CI, where that is a failure."""
    missing = [c for c in commands if shutil.which(c) is None]
    missing += [f for f in files if not Path(f).exists()]
    if not missing:
        return
    message = (
        f"the {toolchain} client toolchain is missing {', '.join(missing)}; "
        f"run `bash {INSTALL_SCRIPT.relative_to(REPO_ROOT)} {toolchain}`"
    )
    if in_ci():
        pytest.fail(message)
    pytest.skip(message)


def build(script: Path, out: Path, env: Mapping[str, str]) -> None:
    """Run an example's build.sh; a failed build fails the test with the build's output."""
    done = subprocess.run(
        ["bash", str(script), str(out)],
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, f"{script} failed:\n{done.stdout}\n{done.stderr}"


@dataclass(frozen=True)
class ClientRun:
    code: int
    summary: dict[str, Any]
    output: str


async def run_client(
    argv: Sequence[str],
    env: Mapping[str, str],
    cwd: Path | None = None,
) -> ClientRun:
    """Run a client to its end; it prints a JSON summary as its last line either way."""
    process = await asyncio.create_subprocess_exec(
        *argv,
        cwd=cwd,
        env=dict(env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), RUN_TIMEOUT)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    output = stdout.decode() + stderr.decode()
    lines = stdout.decode().strip().splitlines()
    assert lines, f"{argv[0]} printed nothing:\n{output}"
    assert process.returncode is not None
    return ClientRun(process.returncode, json.loads(lines[-1]), output)


def require_oac(services: Sequence[str]) -> None:
    """The OAC part needs a facade that serves OAC; outside CI a facade without it skips."""
    if OAC_SERVICE in services:
        return
    message = f"this facade does not serve {OAC_SERVICE}"
    if in_ci():
        pytest.fail(message)
    pytest.skip(message)


def error_seen(report: Mapping[str, Any]) -> dict[str, Any]:
    """The parts of a client's report of one error that the tests compare."""
    return {
        "code": report.get("code"),
        "reason": report.get("reason"),
        "domain": report.get("domain"),
        "awsErrorCode": report.get("metadata", {}).get("awsErrorCode"),
    }
