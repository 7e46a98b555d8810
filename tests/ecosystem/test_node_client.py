"""examples/node/lifecycle.mjs against a real facade (backed by the emulator) on this event loop.

Node runs as an asyncio subprocess so the in-process server keeps serving while it works.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from service.server import Facade
from tests.conftest import FacadeFactory
from tests.ecosystem.conftest import REPO_ROOT
from tests.ecosystem.toolchains import run_client
from tests.npm import npm_ci

EXAMPLE = REPO_ROOT / "examples" / "node"


@pytest.fixture(scope="module")
def node_example(child_env: dict[str, str]) -> Path:
    """The example with its dependencies installed (`npm ci` from the lock file if needed)."""
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    needs = EXAMPLE / "node_modules" / "@grpc" / "grpc-js"
    if not needs.is_dir() and shutil.which("npm") is None:
        pytest.skip("npm is not installed, and examples/node/node_modules is missing")
    npm_ci(EXAMPLE, needs, child_env)
    return EXAMPLE


async def run_example(
    example: Path, env: dict[str, str], address: str, **extra: str
) -> tuple[int, dict[str, Any], str]:
    """Run lifecycle.mjs; returns its exit code, its JSON summary line and all its output."""
    run = await run_client(
        ["node", "lifecycle.mjs"],
        {**env, "FACADE_ADDR": address, **extra},
        cwd=example,
    )
    return run.code, run.summary, run.output


async def test_node_client_runs_the_whole_lifecycle(
    node_example: Path, child_env: dict[str, str], facade: Facade
) -> None:
    code, summary, output = await run_example(node_example, child_env, facade.address)
    assert code == 0, output
    assert summary["ok"] is True
    assert summary["steps"] == [
        "create",
        "get",
        "get-config",
        "update",
        "list",
        "delete",
        "get-deleted",
        "oac-create",
        "oac-get",
        "oac-get-config",
        "oac-update",
        "oac-list",
        "oac-already-exists",
        "oac-delete",
    ]


async def test_node_client_decodes_the_error_info_of_the_failed_get(
    node_example: Path, child_env: dict[str, str], facade: Facade
) -> None:
    _, summary, output = await run_example(node_example, child_env, facade.address)
    not_found = summary["notFound"]
    assert not_found["code"] == "NOT_FOUND", output
    assert not_found["errorInfo"]["reason"] == "NO_SUCH_CLOUD_FRONT_ORIGIN_ACCESS_IDENTITY"
    assert not_found["errorInfo"]["domain"] == "cloudfront.amazonaws.com"
    assert not_found["errorInfo"]["metadata"]["awsErrorCode"] == (
        "NoSuchCloudFrontOriginAccessIdentity"
    )


async def test_node_client_reads_the_taken_name_from_an_oac_already_exists(
    node_example: Path, child_env: dict[str, str], facade: Facade
) -> None:
    _, summary, output = await run_example(node_example, child_env, facade.address)
    taken = summary["oac"]["alreadyExists"]
    assert taken["reason"] == "ORIGIN_ACCESS_CONTROL_ALREADY_EXISTS", output
    assert taken["domain"] == "cloudfront.amazonaws.com"
    assert taken["metadata"]["name"].startswith("node-example-")


async def test_node_client_leaves_no_identity_behind(
    node_example: Path, child_env: dict[str, str], facade: Facade
) -> None:
    code, _, output = await run_example(node_example, child_env, facade.address)
    assert code == 0, output
    assert facade.emulator is not None
    assert facade.emulator.identities() == []
    assert facade.emulator.controls() == []


async def test_node_client_works_over_a_unix_socket_with_a_token(
    node_example: Path, child_env: dict[str, str], facade_factory: FacadeFactory, short_tmp: Path
) -> None:
    token = short_tmp / "token"
    token.write_text("s3cret-token\n")
    socket_path = short_tmp / "facade.sock"
    async with facade_factory(listen=f"unix:{socket_path}", auth_token_file=token) as facade:
        code, summary, output = await run_example(
            node_example, child_env, facade.address, FACADE_TOKEN_FILE=str(token)
        )
    assert code == 0, output
    assert summary["ok"] is True


async def test_node_client_without_the_token_is_refused(
    node_example: Path, child_env: dict[str, str], facade_factory: FacadeFactory, tmp_path: Path
) -> None:
    token = tmp_path / "token"
    token.write_text("s3cret-token\n")
    async with facade_factory(auth_token_file=token) as facade:
        code, summary, _ = await run_example(node_example, child_env, facade.address)
    assert code == 1
    assert summary["ok"] is False
    assert summary["code"] == "UNAUTHENTICATED"


async def test_node_client_exits_non_zero_when_no_facade_answers(
    node_example: Path, child_env: dict[str, str], free_port: int
) -> None:
    code, summary, _ = await run_example(
        node_example, child_env, f"127.0.0.1:{free_port}", FACADE_DEADLINE_MS="3000"
    )
    assert code == 1
    assert summary["ok"] is False
    assert summary["steps"] == []
