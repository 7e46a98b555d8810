"""The docs say what the code does: settings and error tables match it, links resolve, and every
shell command is run by a test or marked illustrative (the rule is in docs/development.md)."""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import queue
import re
import shlex
import shutil
import signal
import subprocess
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest

from service import errors
from service.config import OPTIONS
from tests.npm import npm_ci

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
DOCS = REPO / "docs"
PAGES = (README, REPO / "CHANGELOG.md", *sorted(DOCS.glob("*.md")))
TEST_COMMAND = (
    "python3 -m venv .venv && .venv/bin/pip install -q -c constraints.txt -e '.[dev]'"
    " && .venv/bin/python -m pytest"
)
START_COMMAND = ".venv/bin/cloudfront-facade --emulator"
FACADE = ".venv/bin/cloudfront-facade"
PROCESS_TIMEOUT = 60.0

# -- the commands tests run -------------------------------------------------------------------

_HERE = "tests/test_docs.py::"
_FIRST_CALL = _HERE + "test_the_readme_facade_answers_the_first_call"
_EMULATOR = _HERE + "test_the_standalone_emulator_answers_the_aws_cli"
_BUF_CURL = "npx --no-install buf curl --protocol grpc --http2-prior-knowledge"
_OAI = "http://127.0.0.1:50051/cloudfront.v1.OriginAccessIdentityService"
_AWS = "aws --endpoint-url http://127.0.0.1:4566 cloudfront"
_DECODE = (
    ".venv/bin/python -c 'import base64, sys; from google.rpc import error_details_pb2 as d;"
    ' v = sys.argv[1]; print(d.ErrorInfo.FromString(base64.b64decode(v + "=" *'
    " (-len(v) % 4))))' 'CipOT19TVUNIX0NMT1VEX0ZST05UX09SSUdJTl9BQ0NFU1NfSURFTlRJVFkSGGNsb3Vk"
    "ZnJvbnQuYW1hem9uYXdzLmNvbRo0Cgxhd3NFcnJvckNvZGUSJE5vU3VjaENsb3VkRnJvbnRPcmlnaW5BY2Nlc3NJ"
    "ZGVudGl0eRoRCgpodHRwU3RhdHVzEgM0MDQ'"
)
_NODE = "tests/ecosystem/test_node_client.py::test_node_client_runs_the_whole_lifecycle"
_NODE_UNIX = (
    "tests/ecosystem/test_node_client.py::test_node_client_works_over_a_unix_socket_with_a_token"
)
_AWS_ENV = "export AWS_DEFAULT_REGION=us-east-1 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test"
_BENCH = "tests/test_bench_smoke.py::test_quick_bench_writes_the_expected_json"

#: Every shell command the docs show that is not marked illustrative, exactly as written
#: (continuation lines joined with one space) -> where it runs: a test, or ".ci/run".
RUN_BY_TESTS: dict[str, str] = {
    # README, command 1: the test starts its last part; test_image_install replays an install.
    "python3 -m venv .venv && .venv/bin/pip install -q -c constraints.txt ."
    " && .venv/bin/cloudfront-facade --emulator": _FIRST_CALL,
    TEST_COMMAND: ".ci/run",
    "npm ci --no-audit --no-fund": _FIRST_CALL,
    f"{_BUF_CURL} --list-methods http://127.0.0.1:50051": _FIRST_CALL,
    f'{_BUF_CURL} -d \'{{"cloud_front_origin_access_identity_config": {{"caller_reference":'
    f' "demo-1", "comment": "my first OAI"}}}}\''
    f" {_OAI}/CreateCloudFrontOriginAccessIdentity": _FIRST_CALL,
    f"{_BUF_CURL} -d '{{}}' {_OAI}/ListCloudFrontOriginAccessIdentities": _FIRST_CALL,
    _DECODE: _HERE + "test_the_error_info_one_liner_decodes_its_example",
    f"{FACADE} --help": _HERE + "test_help_names_every_flag_and_variable",
    f"{FACADE} health --help": _HERE + "test_health_help_and_operations_page_name_the_same_flags",
    "cd examples/node && npm ci": _NODE,
    "FACADE_ADDR=127.0.0.1:50051 node lifecycle.mjs": _NODE,
    "FACADE_ADDR=unix:/run/cloudfront-facade/facade.sock node lifecycle.mjs": _NODE_UNIX,
    ".venv/bin/python -m service.emulator --port 4566": _EMULATOR,
    _AWS_ENV: _EMULATOR,
    f"{_AWS} create-cloud-front-origin-access-identity"
    " --cloud-front-origin-access-identity-config CallerReference=demo-1,Comment=demo": _EMULATOR,
    f"{_AWS} list-cloud-front-origin-access-identities": _EMULATOR,
    # Runs with test-sized counts (--calls 100 --rounds 1 …).
    ".venv/bin/python -m bench --quick": _BENCH,
}

# -- reading markdown -------------------------------------------------------------------------

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<lang>[\w+-]*)[ \t]*$")
_ILLUSTRATIVE = re.compile(r"^\s*<!--\s*illustrative:\s*\S.*-->\s*$")
_SHELL = frozenset({"sh", "bash", "console"})
_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
_INLINE_CODE = re.compile(r"`[^`\n]*`")


@dataclass(frozen=True)
class Block:
    page: Path
    line: int  # 1-based line of the opening fence
    lang: str
    lines: tuple[str, ...]
    illustrative: bool

    def where(self) -> str:
        return f"{self.page.relative_to(REPO)}:{self.line}"


@functools.cache
def split_page(page: Path) -> tuple[list[Block], list[str]]:
    """The page's fenced blocks, and its prose lines (code blocks blanked out)."""
    lines = page.read_text().splitlines()
    blocks: list[Block] = []
    prose: list[str] = []
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if opening is None:
            prose.append(lines[index])
            index += 1
            continue
        indent, fence = len(opening["indent"]), opening["fence"]
        body: list[str] = []
        end = index + 1
        while end < len(lines):
            closing = _FENCE.match(lines[end])
            if closing and closing["fence"].startswith(fence) and not closing["lang"]:
                break
            body.append(lines[end][indent:] if lines[end][:indent].isspace() else lines[end])
            end += 1
        marked = index > 0 and _ILLUSTRATIVE.match(lines[index - 1]) is not None
        blocks.append(Block(page, index + 1, opening["lang"], tuple(body), marked))
        prose.extend([""] * (end + 1 - index))
        index = end + 1
    return blocks, prose


def commands(block: Block) -> list[str]:
    """Logical commands: `\\` continues a line; a quote left open continues it too."""
    found: list[str] = []
    pending = ""
    for raw in block.lines:
        line = raw.strip()
        if not pending:
            if block.lang == "console":
                if not line.startswith("$ "):
                    continue
                line = line[2:]
            if not line or line.startswith("#"):
                continue
        if line.endswith("\\"):
            pending += line[:-1].rstrip() + " "
            continue
        pending += line
        try:
            shlex.split(pending)
        except ValueError:  # an open quote: the newline belongs to the command
            pending += "\n"
            continue
        found.append(pending)
        pending = ""
    assert not pending, f"{block.where()}: unterminated command {pending!r}"
    return found


def all_blocks() -> list[Block]:
    return [block for page in PAGES for block in split_page(page)[0]]


def shell_commands(page: Path | None = None) -> list[tuple[Block, str]]:
    chosen = [b for b in all_blocks() if page is None or b.page == page]
    return [(b, c) for b in chosen if b.lang in _SHELL and not b.illustrative for c in commands(b)]


def block_with(command: str) -> Block:
    """The one documented, non-illustrative block holding this command."""
    holders = {block for block, found in shell_commands() if found == command}
    assert len(holders) == 1, f"{command!r} is documented {len(holders)} times, expected once"
    return holders.pop()


def table(page: Path, header: str) -> list[list[str]]:
    """The body rows of the table whose header row starts with `header`, as cells."""
    lines = split_page(page)[1]
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows


def ticked(text: str) -> list[str]:
    return re.findall(r"`([^`]+)`", text)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = heading.replace("`", "").strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    headings = [line for line in split_page(page)[1] if re.match(r"#{1,6} ", line)]
    return {slug(line.lstrip("#")) for line in headings}


# -- (a) the settings table -------------------------------------------------------------------


def documented_settings() -> dict[str, str | None]:
    """Environment variable -> flag (None for environment-only) of each row."""
    rows = table(DOCS / "configuration.md", "| flag | environment variable |")
    documented: dict[str, str | None] = {}
    for row in rows:
        flags = [name for name in ticked(row[0]) if name.startswith("--")]
        (env,) = ticked(row[1])
        assert env not in documented, f"{env} has two rows"
        documented[env] = flags[0] if flags else None
    return documented


@pytest.mark.parametrize("option", OPTIONS, ids=[o.field for o in OPTIONS])
def test_the_settings_table_names_each_setting_with_its_flag(option: Any) -> None:
    documented = documented_settings()
    assert option.env in documented, f"docs/configuration.md has no row for {option.env}"
    assert documented[option.env] == (None if option.env_only else option.flag)


def test_the_settings_table_names_no_setting_that_does_not_exist() -> None:
    real = {option.env for option in OPTIONS}
    assert set(documented_settings()) - real == set()


# -- (b) the error table ----------------------------------------------------------------------

ERROR_PAGE = DOCS / "api-and-errors.md"
GRPC_CODES = {code.name for code in grpc.StatusCode}


@pytest.mark.parametrize("aws_code", sorted(errors.AWS_ERRORS))
def test_the_error_table_gives_each_aws_code_its_grpc_code(aws_code: str) -> None:
    rule = errors.AWS_ERRORS[aws_code]
    rows = [row for row in table(ERROR_PAGE, "| AWS error |") if aws_code in ticked(row[0])]
    assert rows, f"docs/api-and-errors.md has no row for {aws_code}"
    assert any(rule.code.name in ticked(row[1]) for row in rows), (aws_code, rule.code.name)


def test_the_error_tables_name_only_real_grpc_codes() -> None:
    tables = [table(ERROR_PAGE, "| AWS error |"), table(ERROR_PAGE, "| failure | gRPC code |")]
    named = {
        name
        for rows in tables
        for row in rows
        for name in ticked(row[1])
        if re.fullmatch(r"[A-Z][A-Z_]+", name)
    }
    assert named, "no gRPC code found in the error tables"
    assert named - GRPC_CODES == set()


def local_rows() -> list[tuple[str, str]]:
    """(reason, gRPC code) of each local failure, read from whatever shape LOCAL_ERRORS has:
    any entry holding a rule (an object with a StatusCode `.code`) and an UPPER_SNAKE reason."""
    found = []
    for entry in getattr(errors, "LOCAL_ERRORS", ()):
        if dataclasses.is_dataclass(entry):
            parts = tuple(getattr(entry, field.name) for field in dataclasses.fields(entry))
        else:
            parts = entry if isinstance(entry, tuple) else ()
        codes = [
            p.code.name for p in parts if isinstance(getattr(p, "code", None), grpc.StatusCode)
        ]
        reasons = [p for p in parts if isinstance(p, str) and re.fullmatch(r"[A-Z][A-Z0-9_]+", p)]
        if len(codes) == 1 and len(reasons) == 1:
            found.append((reasons[0], codes[0]))
    return found


def test_the_local_error_table_gives_each_reason_its_grpc_code() -> None:
    rows = local_rows()
    if not rows:
        pytest.skip("service.errors.LOCAL_ERRORS has a shape this test does not read")
    documented = table(ERROR_PAGE, "| failure | gRPC code |")
    for reason, code in rows:
        holders = [row for row in documented if reason in ticked(row[2])]
        assert holders, f"docs/api-and-errors.md names no local failure {reason}"
        assert any(code in ticked(row[1]) for row in holders), (reason, code)


# -- (c) links --------------------------------------------------------------------------------


def links() -> list[tuple[Path, str]]:
    found: list[tuple[Path, str]] = []
    for page in PAGES:
        for line in split_page(page)[1]:
            text = _INLINE_CODE.sub("code", line)
            found.extend((page, target) for target in _LINK.findall(text))
    return found


RELATIVE_LINKS = [
    (page, target) for page, target in links() if not re.match(r"[a-z][a-z0-9+.-]*:", target)
]


@pytest.mark.parametrize(
    ("page", "target"),
    RELATIVE_LINKS,
    ids=[f"{p.relative_to(REPO)}->{t}" for p, t in RELATIVE_LINKS],
)
def test_every_relative_link_resolves(page: Path, target: str) -> None:
    path_part, _, anchor = target.partition("#")
    resolved = (page.parent / path_part).resolve() if path_part else page
    assert resolved.is_relative_to(REPO), f"{target} leaves the repository"
    assert resolved.exists(), f"{page.relative_to(REPO)}: {target} does not exist"
    if anchor:
        assert resolved.suffix == ".md", f"{target}: an anchor needs a markdown page"
        assert anchor in anchors(resolved), f"{target}: no such heading"


def test_the_pages_have_relative_links_to_check() -> None:
    assert len(RELATIVE_LINKS) > len(PAGES)


# -- client snippets are the tested programs' code ---------------------------------------------

#: Each language's snippets in docs/clients.md, and the program CI builds and runs them from.
CLIENT_PROGRAMS = {
    "go": REPO / "examples/go/main.go",
    "java": REPO / "examples/java/Lifecycle.java",
}
CLIENT_SNIPPETS = [
    block for block in split_page(DOCS / "clients.md")[0] if block.lang in CLIENT_PROGRAMS
]


def _dedented(lines: Iterable[str]) -> list[str]:
    """Lines with their common leading whitespace removed (an excerpt from inside a function)."""
    lines = list(lines)
    margin = min((len(x) - len(x.lstrip()) for x in lines if x.strip()), default=0)
    return [x[margin:] for x in lines]


@pytest.mark.parametrize("block", CLIENT_SNIPPETS, ids=[b.where() for b in CLIENT_SNIPPETS])
def test_a_client_snippet_is_an_excerpt_of_the_program_ci_runs(block: Block) -> None:
    program = CLIENT_PROGRAMS[block.lang].read_text().splitlines()
    wanted, size = _dedented(block.lines), len(block.lines)
    windows = (_dedented(program[i : i + size]) for i in range(len(program) - size + 1))
    assert any(window == wanted for window in windows), (
        f"{block.where()} is not verbatim in {CLIENT_PROGRAMS[block.lang].relative_to(REPO)}"
    )


def test_each_client_language_has_a_snippet_to_check() -> None:
    assert {block.lang for block in CLIENT_SNIPPETS} == set(CLIENT_PROGRAMS)


def test_the_readme_links_every_docs_page() -> None:
    linked = {
        (README.parent / target.partition("#")[0]).resolve()
        for page, target in RELATIVE_LINKS
        if page == README
    }
    assert set(DOCS.glob("*.md")) - linked == set()


# -- (d) every shell command is run by a test or marked illustrative --------------------------

DOCUMENTED = shell_commands()


@pytest.mark.parametrize(
    ("block", "command"), DOCUMENTED, ids=[f"{b.where()}:{c[:40]}" for b, c in DOCUMENTED]
)
def test_every_documented_command_is_run_by_a_test(block: Block, command: str) -> None:
    assert command in RUN_BY_TESTS, (
        f"{block.where()}: {command!r} is run by no test; add it to RUN_BY_TESTS or mark the "
        "block <!-- illustrative: why -->"
    )


def test_every_registered_command_is_still_documented() -> None:
    assert set(RUN_BY_TESTS) - {command for _, command in DOCUMENTED} == set()


@pytest.mark.parametrize("command", sorted(RUN_BY_TESTS))
def test_every_registered_command_points_at_what_runs_it(command: str) -> None:
    where = RUN_BY_TESTS[command]
    if where == ".ci/run":
        ci_lines = (REPO / ".ci" / "run").read_text().splitlines()
        assert command in (line.strip() for line in ci_lines)
        return
    path, _, name = where.partition("::")
    source = (REPO / path).read_text()
    assert re.search(rf"^(async )?def {re.escape(name)}\(", source, re.MULTILINE), where


def test_shell_blocks_exist_on_both_sides_of_the_rule() -> None:
    shell = [block for block in all_blocks() if block.lang in _SHELL]
    assert any(block.illustrative for block in shell)
    assert any(not block.illustrative for block in shell)


def test_an_illustrative_marker_sits_right_before_a_block() -> None:
    for page in PAGES:
        lines = page.read_text().splitlines()
        for number, line in enumerate(lines[:-1]):
            if "illustrative" in line and line.strip().startswith("<!--"):
                assert _ILLUSTRATIVE.match(line), f"{page.name}:{number + 1}: give a reason"
                assert _FENCE.match(lines[number + 1]), f"{page.name}:{number + 1}: no block"


# -- (e) the README's two commands ------------------------------------------------------------


def test_the_readme_starts_the_facade_after_setting_up_the_venv() -> None:
    starts = [c for _, c in shell_commands(README) if c.endswith("&& " + START_COMMAND)]
    assert len(starts) == 1
    assert starts[0].startswith("python3 -m venv .venv && .venv/bin/pip install")


def test_the_readme_test_command_is_the_one_ci_runs() -> None:
    assert TEST_COMMAND in [c for _, c in shell_commands(README)]
    ci_lines = (REPO / ".ci" / "run").read_text().splitlines()
    assert TEST_COMMAND in [line.strip() for line in ci_lines]


# -- the cheap commands, run as written -------------------------------------------------------


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CLOUDFRONT_"))}
    return {**env, **extra}


def needs_venv() -> None:
    if not (REPO / FACADE).exists():
        pytest.skip(f"{FACADE} is missing: run the README's test command")


def run(command: str, **env: str) -> subprocess.CompletedProcess[str]:
    assert command in RUN_BY_TESTS, "run only documented commands"
    return subprocess.run(
        ["bash", "-c", command],
        cwd=REPO,
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=PROCESS_TIMEOUT,
        check=False,
    )


@functools.cache
def facade_help() -> str:
    """What `cloudfront-facade --help`, as documented, prints."""
    needs_venv()
    completed = run(f"{FACADE} --help")
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


def test_help_names_every_flag_and_variable() -> None:
    for option in OPTIONS:
        if not option.env_only:
            assert option.flag in facade_help()
            assert option.env in facade_help()


def test_the_settings_table_states_the_defaults_help_states() -> None:
    text = " ".join(facade_help().split())
    in_help = dict(re.findall(r"\[env (CLOUDFRONT_FACADE_\w+); default ([^\]]+)\]", text))
    if not in_help:
        pytest.skip("--help no longer shows defaults as [env NAME; default VALUE]")
    rows = table(DOCS / "configuration.md", "| flag | environment variable |")
    documented = {ticked(row[1])[0]: row[2].strip("`") for row in rows}
    assert {env: documented.get(env) for env in in_help} == in_help


def test_health_help_and_operations_page_name_the_same_flags() -> None:
    needs_venv()
    completed = run(f"{FACADE} health --help")
    assert completed.returncode == 0, completed.stderr
    in_help = set(re.findall(r"(--[a-z][a-z-]+)", completed.stdout)) - {"--help"}
    prose = "\n".join(split_page(DOCS / "operations.md")[1])
    health = prose[prose.index("## Health") : prose.index("\n## ", prose.index("## Health") + 1)]
    assert in_help == set(re.findall(r"`(--[a-z][a-z-]+)`", health))


def test_the_error_info_one_liner_decodes_its_example() -> None:
    needs_venv()
    completed = run(_DECODE)
    assert completed.returncode == 0, completed.stderr
    assert 'reason: "NO_SUCH_CLOUD_FRONT_ORIGIN_ACCESS_IDENTITY"' in completed.stdout
    assert 'domain: "cloudfront.amazonaws.com"' in completed.stdout


class Started:
    """A documented long-running command in its own process; its output read by a thread, so
    waiting for a line has a bound."""

    def __init__(self, command: str, **env: str) -> None:
        self.process = subprocess.Popen(
            ["bash", "-c", f"exec {command}"],
            cwd=REPO,
            env=clean_env(**env),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.output: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def line_where(self, wanted: Callable[[str], bool]) -> str:
        """The first line of output for which `wanted` holds; fails if the process ends first."""
        while (line := self.lines.get(timeout=PROCESS_TIMEOUT)) is not None:
            self.output.append(line)
            if wanted(line):
                return line
        raise AssertionError(f"exited {self.process.wait()} first:\n{''.join(self.output)}")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(PROCESS_TIMEOUT)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()


@contextmanager
def started(command: str, **env: str) -> Iterator[Started]:
    documented = command.replace("--port 0", "--port 4566")
    assert any(documented in registered for registered in RUN_BY_TESTS), "a documented command"
    handle = Started(command, **env)
    try:
        yield handle
    finally:
        handle.stop()


def json_documents(text: str) -> list[Any]:
    """Every JSON object printed in `text`, in order (tools print them pretty, one after the
    other, between lines of plain text)."""
    decoder = json.JSONDecoder()
    found: list[Any] = []
    index = text.find("{")
    while index != -1:
        try:
            document, end = decoder.raw_decode(text, index)
        except ValueError:
            index = text.find("{", index + 1)
            continue
        found.append(document)
        index = text.find("{", end)
    return found


def block_script(command: str, **replacements: str) -> str:
    """The block holding `command`, as a script, with only the addresses replaced."""
    script = "\n".join(commands(block_with(command)))
    for old, new in replacements.items():
        script = script.replace(old, new)
    return "set -e\n" + script


def serving(line: str) -> bool:
    return line.startswith("{") and json.loads(line).get("message") == "serving"


def test_the_readme_facade_answers_the_first_call() -> None:
    needs_venv()
    if shutil.which("npm") is None or shutil.which("node") is None:
        pytest.skip("node and npm are needed for buf curl")
    readme_start = next(c for _, c in shell_commands(README) if c.endswith(START_COMMAND))
    assert readme_start in RUN_BY_TESTS
    # The flag wins over the variable, and the README's command sets no --listen.
    with started(START_COMMAND, CLOUDFRONT_FACADE_LISTEN="127.0.0.1:0") as facade:
        address = json.loads(facade.line_where(serving))["address"]
        script = block_script(
            f"{_BUF_CURL} --list-methods http://127.0.0.1:50051", **{"127.0.0.1:50051": address}
        )
        # The README's `npm ci`, run once for all workers (tests/npm.py), not in the script.
        npm_ci(REPO, REPO / "node_modules" / ".bin" / "buf")
        script = script.replace("npm ci --no-audit --no-fund\n", "")
        completed = subprocess.run(
            ["bash", "-c", script],
            cwd=REPO,
            env=clean_env(),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert completed.returncode == 0, completed.stdout + completed.stderr
        methods = completed.stdout[: completed.stdout.index("{")]
        assert "cloudfront.v1.OriginAccessIdentityService/ListCloudFrontOriginAccessIdentities" in (
            methods
        )
        created, listed = json_documents(completed.stdout)
        identity = created["cloudFrontOriginAccessIdentity"]
        assert created["etag"]
        assert identity["cloudFrontOriginAccessIdentityConfig"]["comment"] == "my first OAI"
        items = listed["cloudFrontOriginAccessIdentityList"]["items"]
        assert [item["id"] for item in items] == [identity["id"]]
        assert facade.stop() == 0


def test_the_standalone_emulator_answers_the_aws_cli(tmp_path: Path) -> None:
    needs_venv()
    if shutil.which("aws") is None:
        pytest.skip("the aws CLI is not installed")
    with started(".venv/bin/python -m service.emulator --port 0") as emulator:
        base_url = emulator.line_where(lambda line: line.startswith("http")).strip()
        assert base_url.startswith("http://127.0.0.1:"), base_url
        script = block_script(
            f"{_AWS} list-cloud-front-origin-access-identities",
            **{"http://127.0.0.1:4566": base_url},
        )
        # A machine without AWS configuration: no config or credentials file to fall back on.
        completed = subprocess.run(
            ["bash", "-c", script],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=False,
            timeout=PROCESS_TIMEOUT,
            env=clean_env(
                AWS_CONFIG_FILE=str(tmp_path / "none"),
                AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
            ),
        )
        assert completed.returncode == 0, completed.stderr
        created, listed = json_documents(completed.stdout)
        assert created["CloudFrontOriginAccessIdentity"]["Id"]
        items = listed["CloudFrontOriginAccessIdentityList"]["Items"]
        assert [item["Comment"] for item in items] == ["demo"]
        assert emulator.stop() == 0
