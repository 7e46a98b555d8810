"""The container image, checked without a container engine.

The Dockerfile is read for the facts the rest of the project relies on (base, user, entry
point, listen address, health check), and its two stages are replayed step by step:

* the build context is what .dockerignore lets through;
* stage 1: ``pip wheel --constraint constraints.txt --wheel-dir WHEELS .`` in that context
  (an empty constraints file stands in when the repository has none, as in the Dockerfile);
* stage 2: a fresh virtual environment installs ``WHEELS/cloudfront_facade-*.whl`` with
  ``--no-index --find-links WHEELS --constraint WHEELS/constraints.txt``, ignoring every pip
  configuration file, so it gets exactly the wheelhouse and nothing else;

and then the installed ``cloudfront-facade`` console script is started the way the image's
ENTRYPOINT starts it, probed with the HEALTHCHECK's own command and stopped with SIGTERM.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.ecosystem.conftest import REPO_ROOT

DOCKERFILE = REPO_ROOT / "Dockerfile"
DOCKERIGNORE = REPO_ROOT / ".dockerignore"
WHEEL_GLOB = "cloudfront_facade-*.whl"
STARTUP_TIMEOUT = 30.0
DEV_ONLY_DISTRIBUTIONS = {
    "grpcio-tools",
    "pytest",
    "pytest-asyncio",
    "ruff",
    "mypy",
    "hypothesis",
    "trustme",
    "types-protobuf",
    "grpc-stubs",
}

Instruction = tuple[str, str]


# -- reading the Dockerfile ------------------------------------------------------------------


def dockerfile_stages(text: str) -> list[list[Instruction]]:
    """The Dockerfile as stages of (INSTRUCTION, arguments), continuations joined."""
    logical: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    stages: list[list[Instruction]] = []
    for line in logical:
        keyword, _, arguments = line.partition(" ")
        if keyword.upper() == "FROM":
            stages.append([])
        stages[-1].append((keyword.upper(), arguments.strip()))
    return stages


def final_stage() -> list[Instruction]:
    return dockerfile_stages(DOCKERFILE.read_text())[-1]


def only(stage: list[Instruction], keyword: str) -> str:
    found = [arguments for name, arguments in stage if name == keyword]
    assert len(found) == 1, f"expected one {keyword} in the final stage, got {found}"
    return found[0]


def final_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for name, arguments in final_stage():
        if name == "ENV":
            for pair in shlex.split(arguments):
                key, _, value = pair.partition("=")
                env[key] = value
    return env


# -- the build context -----------------------------------------------------------------------


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern (the subset this repository uses: *, **, ?, [..]) as a regex."""
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        elif pattern[i] == "[":
            end = pattern.index("]", i)
            out, i = out + pattern[i : end + 1], end + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out)


def dockerignore_rules() -> list[tuple[bool, str, re.Pattern[str]]]:
    """(re-include?, cleaned pattern, regex) per rule, in file order."""
    rules = []
    for raw in DOCKERIGNORE.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        pattern = line.removeprefix("!").strip().strip("/")
        rules.append((negated, pattern, _pattern_regex(pattern)))
    return rules


def is_ignored(relative: str, rules: list[tuple[bool, str, re.Pattern[str]]]) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parents decides."""
    parts = relative.split("/")
    prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    ignored = False
    for negated, _, regex in rules:
        if any(regex.fullmatch(prefix) for prefix in prefixes):
            ignored = not negated
    return ignored


def build_context(root: Path) -> list[str]:
    """Every file `docker build` would send from `root`, as sorted relative paths."""
    rules = dockerignore_rules()
    reincluded = [pattern for negated, pattern, _ in rules if negated]
    files: list[str] = []
    for directory, subdirectories, names in os.walk(root):
        base = Path(directory).relative_to(root).as_posix()
        base = "" if base == "." else base + "/"
        # Skip an ignored directory unless some re-include pattern reaches inside it.
        subdirectories[:] = [
            name
            for name in subdirectories
            if not is_ignored(base + name, rules)
            or any(pattern.startswith(base + name + "/") for pattern in reincluded)
        ]
        files += [base + name for name in names if not is_ignored(base + name, rules)]
    return sorted(files)


# -- replaying the two stages ----------------------------------------------------------------


def _run(command: list[str], *, cwd: Path, env: dict[str, str], timeout: float) -> None:
    result = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert result.returncode == 0, (
        f"{shlex.join(command)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    )


@pytest.fixture(scope="module")
def image_venv(tmp_path_factory: pytest.TempPathFactory, child_env: dict[str, str]) -> Path:
    """A virtual environment holding what the image's final stage installs."""
    work = tmp_path_factory.mktemp("image")
    context, wheels, venv = work / "context", work / "wheels", work / "venv"
    for relative in build_context(REPO_ROOT):
        (context / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO_ROOT / relative, context / relative)

    # Stage 1. pip keeps this machine's configuration (index, certificates) and its cache.
    constraints = context / "constraints.txt"
    if not constraints.exists():
        constraints.write_text("")
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--constraint",
            "constraints.txt",
            "--wheel-dir",
            str(wheels),
            ".",
        ],
        cwd=context,
        env=child_env,
        timeout=600,
    )
    shutil.copy2(constraints, wheels / "constraints.txt")

    # Stage 2: the wheelhouse only; no index, no pip configuration file, no cache.
    _run([sys.executable, "-m", "venv", str(venv)], cwd=work, env=child_env, timeout=120)
    isolated = {k: v for k, v in child_env.items() if not k.startswith("PIP_")}
    isolated["PIP_CONFIG_FILE"] = os.devnull
    [wheel] = wheels.glob(WHEEL_GLOB)
    _run(
        [
            str(venv / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--no-cache-dir",
            "--no-index",
            "--find-links",
            str(wheels),
            "--constraint",
            str(wheels / "constraints.txt"),
            str(wheel),
        ],
        cwd=work,
        env=isolated,
        timeout=300,
    )
    return venv


class RunningFacade:
    """The installed console script, run as the image's ENTRYPOINT runs it."""

    def __init__(self, venv: Path, listen: str, env: dict[str, str], log: Path) -> None:
        self.script = venv / "bin" / "cloudfront-facade"
        self.env = {**env, "PYTHONUNBUFFERED": "1"}
        self.log = log
        with log.open("wb") as sink:
            self.process = subprocess.Popen(
                [str(self.script), "--emulator", "--listen", listen],
                cwd=log.parent,
                env=self.env,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )

    def health(self, target: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.script), "health", "--target", target, "--timeout", "1"],
            cwd=self.log.parent,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )

    def wait_until_serving(self, target: str) -> str:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"the facade exited early:\n{self.log.read_text()}"
            answer = self.health(target)
            if answer.returncode == 0:
                return answer.stdout.strip()
            time.sleep(0.2)
        raise AssertionError(f"not SERVING within {STARTUP_TIMEOUT}s:\n{self.log.read_text()}")

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=40)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


# -- the Dockerfile's facts ------------------------------------------------------------------


def test_dockerfile_builds_and_runs_on_python_3_11_slim() -> None:
    stages = dockerfile_stages(DOCKERFILE.read_text())
    assert [stage[0] for stage in stages] == [
        ("FROM", "python:3.11-slim AS build"),
        ("FROM", "python:3.11-slim"),
    ]


def test_dockerfile_final_stage_runs_as_a_numeric_non_root_user() -> None:
    user, _, group = only(final_stage(), "USER").partition(":")
    assert user.isdigit()
    assert group.isdigit()
    assert int(user) != 0
    assert int(group) != 0


def test_dockerfile_entrypoint_is_the_console_script_in_exec_form() -> None:
    assert json.loads(only(final_stage(), "ENTRYPOINT")) == ["cloudfront-facade"]


def test_dockerfile_listens_on_all_interfaces_with_unbuffered_output() -> None:
    env = final_env()
    assert env["CLOUDFRONT_FACADE_LISTEN"] == "0.0.0.0:50051"
    assert env["PYTHONUNBUFFERED"] == "1"


def test_dockerfile_healthcheck_asks_the_health_subcommand_on_the_listen_port() -> None:
    _, _, command = only(final_stage(), "HEALTHCHECK").partition("CMD ")
    port = final_env()["CLOUDFRONT_FACADE_LISTEN"].rpartition(":")[2]
    assert json.loads(command) == ["cloudfront-facade", "health", "--target", f"127.0.0.1:{port}"]


def test_build_context_holds_only_the_package_and_its_metadata() -> None:
    files = build_context(REPO_ROOT)
    assert "pyproject.toml" in files
    assert "service/server.py" in files
    assert "service/emulator/app.py" in files  # the --emulator mode ships in the image
    allowed_top_level = {"pyproject.toml", "README.md", "LICENSE", "constraints.txt"}
    strays = [f for f in files if not f.startswith("service/") and f not in allowed_top_level]
    assert strays == []
    assert not [f for f in files if "__pycache__" in f or f.endswith(".pyc")]


# -- the replayed install --------------------------------------------------------------------
# Builds a wheelhouse and a fresh virtual environment: the costliest tests of the suite, so they
# run in .ci/run (and with `pytest -m image`), not in the everyday `pytest`.


@pytest.mark.image
def test_image_environment_imports_the_facade_from_the_installed_wheel(
    image_venv: Path, child_env: dict[str, str], short_tmp: Path
) -> None:
    result = subprocess.run(
        [str(image_venv / "bin" / "python"), "-c", "import service; print(service.__file__)"],
        cwd=short_tmp,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert Path(result.stdout.strip()).is_relative_to(image_venv)


@pytest.mark.image
def test_image_environment_has_no_dev_tools(image_venv: Path, child_env: dict[str, str]) -> None:
    result = subprocess.run(
        [str(image_venv / "bin" / "python"), "-m", "pip", "list", "--format", "json"],
        env={**child_env, "PIP_CONFIG_FILE": os.devnull},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    installed = {entry["name"].lower() for entry in json.loads(result.stdout)}
    assert "cloudfront-facade" in installed
    assert installed & DEV_ONLY_DISTRIBUTIONS == set()


@pytest.mark.image
def test_installed_facade_serves_on_tcp_and_exits_zero_on_sigterm(
    image_venv: Path, child_env: dict[str, str], free_port: int, short_tmp: Path
) -> None:
    address = f"127.0.0.1:{free_port}"
    facade = RunningFacade(image_venv, address, child_env, short_tmp / "facade.log")
    try:
        assert facade.wait_until_serving(address) == "SERVING"
        assert facade.stop() == 0
    finally:
        facade.kill()


@pytest.mark.image
def test_installed_facade_serves_on_a_unix_socket_for_exec_probes(
    image_venv: Path, child_env: dict[str, str], short_tmp: Path
) -> None:
    target = f"unix:{short_tmp / 'facade.sock'}"
    facade = RunningFacade(image_venv, target, child_env, short_tmp / "facade.log")
    try:
        assert facade.wait_until_serving(target) == "SERVING"
        assert facade.stop() == 0
    finally:
        facade.kill()
