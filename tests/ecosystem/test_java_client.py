"""examples/java, javac-built from protos/ with Debian's grpc-java, against a facade process.

TCP only: grpc-java reaches a unix socket through Netty's native epoll transport, whose
library Debian's libnetty-java does not ship.
"""

from __future__ import annotations

import sys
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

TOKEN = "java-client-token"
JARS = "/usr/share/java"


@pytest.fixture(scope="module")
def java_client(tmp_path_factory: pytest.TempPathFactory, child_env: dict[str, str]) -> Path:
    require(
        "java",
        ["java", "javac", "protoc", "grpc_java_plugin"],
        [
            f"{JARS}/{jar}.jar"
            for jar in (
                "grpc-netty",
                "protobuf",
                "netty-codec-http2",
                "geronimo-annotation-1.3-spec",
            )
        ],
    )
    out = tmp_path_factory.mktemp("java")
    # The google.rpc protos come from the googleapis-common-protos wheel this Python has.
    build(
        REPO_ROOT / "examples" / "java" / "build.sh", out, {**child_env, "PYTHON": sys.executable}
    )
    return out / "lifecycle"


@pytest.fixture(scope="module")
def token_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("token") / "token"
    path.write_text(TOKEN + "\n")
    return path


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def facade() -> AsyncIterator[FacadeProcess]:
    async with facade_process("--emulator") as running:
        yield running


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def token_facade(token_file: Path) -> AsyncIterator[FacadeProcess]:
    async with facade_process("--emulator", "--auth-token-file", str(token_file)) as running:
        yield running


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def oai_run(java_client: Path, facade: FacadeProcess, child_env: dict[str, str]) -> ClientRun:
    """One run of the OAI lifecycle, which the assertions below read."""
    return await run_client([str(java_client), "--addr", facade.address], child_env)


async def test_java_client_runs_the_whole_oai_lifecycle(oai_run: ClientRun) -> None:
    assert oai_run.code == 0, oai_run.output
    assert oai_run.summary["ok"] is True
    assert oai_run.summary["steps"] == OAI_STEPS


async def test_java_client_reads_the_error_info_of_not_found(oai_run: ClientRun) -> None:
    assert error_seen(oai_run.summary["notFound"]) == NOT_FOUND_SEEN, oai_run.output


async def test_java_client_reads_the_error_info_of_a_stale_etag(oai_run: ClientRun) -> None:
    assert error_seen(oai_run.summary["aborted"]) == STALE_ETAG_SEEN, oai_run.output


async def test_java_client_sends_the_token(
    java_client: Path, token_facade: FacadeProcess, token_file: Path, child_env: dict[str, str]
) -> None:
    run = await run_client(
        [str(java_client), "--addr", token_facade.address, "--token-file", str(token_file)],
        child_env,
    )
    assert run.code == 0, run.output
    assert run.summary["steps"] == OAI_STEPS


async def test_java_client_without_the_token_is_refused(
    java_client: Path, token_facade: FacadeProcess, child_env: dict[str, str]
) -> None:
    run = await run_client([str(java_client), "--addr", token_facade.address], child_env)
    assert run.code == 1
    assert (run.summary["ok"], run.summary["code"]) == (False, "UNAUTHENTICATED")


async def test_java_client_runs_the_whole_oac_lifecycle(
    java_client: Path, facade: FacadeProcess, child_env: dict[str, str]
) -> None:
    require_oac(await served_services(facade.address))
    run = await run_client([str(java_client), "--addr", facade.address, "--oac"], child_env)
    assert run.code == 0, run.output
    assert run.summary["oacSteps"] == OAC_STEPS
    assert run.summary["oacNotFound"]["reason"] == OAC_NOT_FOUND_REASON


async def test_java_client_exits_non_zero_when_no_facade_answers(
    java_client: Path, free_port: int, child_env: dict[str, str]
) -> None:
    run = await run_client(
        [str(java_client), "--addr", f"127.0.0.1:{free_port}", "--deadline-ms", "3000"],
        child_env,
    )
    assert run.code == 1
    assert (run.summary["ok"], run.summary["steps"]) == (False, [])
    assert run.summary["code"] == "UNAVAILABLE"
