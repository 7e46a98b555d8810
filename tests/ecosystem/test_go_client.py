"""examples/go, built from protos/ with Debian's grpc-go, against `cloudfront-facade --emulator`.

The facade runs as its own process, as a sidecar does; the client is built once per module
(examples/go/build.sh) and run once per scenario.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.conftest import served_services
from tests.ecosystem.conftest import REPO_ROOT
from tests.ecosystem.toolchains import (
    NOT_FOUND_SEEN,
    OAC_NOT_FOUND_REASON,
    OAC_STEPS,
    OAI_STEPS,
    STALE_ETAG_SEEN,
    ClientRun,
    build,
    error_seen,
    require,
    require_oac,
    run_client,
)
from tests.process import FacadeProcess, facade_process

pytestmark = [pytest.mark.clients, pytest.mark.asyncio(loop_scope="module")]

TOKEN = "go-client-token"


@pytest.fixture(scope="module")
def go_client(tmp_path_factory: pytest.TempPathFactory, child_env: dict[str, str]) -> Path:
    require(
        "go",
        ["go", "protoc", "protoc-gen-go", "protoc-gen-go-grpc"],
        [
            "/usr/share/gocode/src/google.golang.org/grpc",
            "/usr/share/gocode/src/google.golang.org/genproto/googleapis/rpc/errdetails",
        ],
    )
    binary = tmp_path_factory.mktemp("go") / "lifecycle"
    build(REPO_ROOT / "examples" / "go" / "build.sh", binary, child_env)
    return binary


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def tcp_facade() -> AsyncIterator[FacadeProcess]:
    async with facade_process("--emulator") as facade:
        yield facade


@pytest.fixture(scope="module")
def token_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("token") / "token"
    path.write_text(TOKEN + "\n")
    return path


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def unix_facade(token_file: Path) -> AsyncIterator[FacadeProcess]:
    """A facade on a unix socket that requires a bearer token (a short path: 108 bytes max)."""
    directory = Path(tempfile.mkdtemp(prefix="cff-go-"))
    try:
        async with facade_process(
            "--emulator",
            "--auth-token-file",
            str(token_file),
            listen=f"unix:{directory / 'facade.sock'}",
        ) as facade:
            yield facade
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def oai_run(
    go_client: Path, tcp_facade: FacadeProcess, child_env: dict[str, str]
) -> ClientRun:
    """One run of the OAI lifecycle over TCP, which the assertions below read."""
    return await run_client([str(go_client), "-addr", tcp_facade.address], child_env)


async def test_go_client_runs_the_whole_oai_lifecycle_over_tcp(oai_run: ClientRun) -> None:
    assert oai_run.code == 0, oai_run.output
    assert oai_run.summary["ok"] is True
    assert oai_run.summary["steps"] == OAI_STEPS


async def test_go_client_reads_the_error_info_of_not_found(oai_run: ClientRun) -> None:
    assert error_seen(oai_run.summary["notFound"]) == NOT_FOUND_SEEN, oai_run.output


async def test_go_client_reads_the_error_info_of_a_stale_etag(oai_run: ClientRun) -> None:
    assert error_seen(oai_run.summary["aborted"]) == STALE_ETAG_SEEN, oai_run.output


async def test_go_client_runs_over_a_unix_socket_with_a_token(
    go_client: Path, unix_facade: FacadeProcess, token_file: Path, child_env: dict[str, str]
) -> None:
    run = await run_client(
        [str(go_client), "-addr", unix_facade.address, "-token-file", str(token_file)], child_env
    )
    assert run.code == 0, run.output
    assert run.summary["steps"] == OAI_STEPS


async def test_go_client_without_the_token_is_refused(
    go_client: Path, unix_facade: FacadeProcess, child_env: dict[str, str]
) -> None:
    run = await run_client([str(go_client), "-addr", unix_facade.address], child_env)
    assert run.code == 1
    assert (run.summary["ok"], run.summary["code"]) == (False, "UNAUTHENTICATED")


async def test_go_client_runs_the_whole_oac_lifecycle(
    go_client: Path, tcp_facade: FacadeProcess, child_env: dict[str, str]
) -> None:
    require_oac(await served_services(tcp_facade.address))
    run = await run_client([str(go_client), "-addr", tcp_facade.address, "-oac"], child_env)
    assert run.code == 0, run.output
    assert run.summary["oacSteps"] == OAC_STEPS
    assert run.summary["oacNotFound"]["reason"] == OAC_NOT_FOUND_REASON


async def test_go_client_exits_non_zero_when_no_facade_answers(
    go_client: Path, free_port: int, child_env: dict[str, str]
) -> None:
    run = await run_client(
        [str(go_client), "-addr", f"127.0.0.1:{free_port}", "-deadline", "3s"], child_env
    )
    assert run.code == 1
    assert (run.summary["ok"], run.summary["steps"]) == (False, [])
    assert run.summary["code"] == "UNAVAILABLE"
