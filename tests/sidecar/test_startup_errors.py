"""A setting that cannot work on this machine stops the start with one line on stderr naming the
setting and the cause, and exit code 2: never a traceback, never a gRPC core log line."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import pytest
import trustme
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.process import facade_process, run_cli


@pytest.fixture(scope="module")
def busy_port() -> Iterator[int]:
    """A loopback port something else is listening on."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield int(holder.getsockname()[1])


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("startup")
    ca = trustme.CA()
    server = ca.issue_cert("127.0.0.1")
    other = ca.issue_cert("127.0.0.1")
    paths = {
        name: folder / name
        for name in ("cert.pem", "key.pem", "other-key.pem", "ca.pem", "garbage.pem", "plain-file")
    }
    server.cert_chain_pems[0].write_to_path(str(paths["cert.pem"]))
    server.private_key_pem.write_to_path(str(paths["key.pem"]))
    other.private_key_pem.write_to_path(str(paths["other-key.pem"]))
    ca.cert_pem.write_to_path(str(paths["ca.pem"]))
    paths["garbage.pem"].write_text("this is not PEM\n")
    paths["plain-file"].write_text("a regular file where the socket should go\n")
    return paths


def assert_one_line(result: tuple[int, str, str], line: str) -> None:
    code, out, err = result
    assert (code, err) == (2, line + "\n"), out
    assert "Traceback" not in out


# Each row: the flags, and the line stderr must hold (paths and ports filled in per run).
Case = Callable[[dict[str, Path], int], tuple[list[str], str]]
CASES: dict[str, Case] = {
    "busy gRPC port": lambda f, port: (
        ["--listen", f"127.0.0.1:{port}"],
        f"--listen 127.0.0.1:{port}: address already in use",
    ),
    "address not on this machine": lambda f, port: (
        ["--listen", "192.0.2.1:0"],
        "--listen 192.0.2.1:0: cannot assign requested address",
    ),
    "unix socket in a missing directory": lambda f, port: (
        ["--listen", f"unix:{f['plain-file'].parent}/missing/facade.sock"],
        f"--listen unix:{f['plain-file'].parent}/missing/facade.sock: "
        f"no directory {f['plain-file'].parent}/missing",
    ),
    "unix socket path that is a regular file": lambda f, port: (
        ["--listen", f"unix:{f['plain-file']}"],
        f"--listen unix:{f['plain-file']}: {f['plain-file']} exists and is not a socket; "
        "not replacing it",
    ),
    "garbage TLS certificate": lambda f, port: (
        ["--tls-cert", str(f["garbage.pem"]), "--tls-key", str(f["key.pem"])],
        f"--tls-cert {f['garbage.pem']}: no PEM certificate in it",
    ),
    "garbage TLS key": lambda f, port: (
        ["--tls-cert", str(f["cert.pem"]), "--tls-key", str(f["garbage.pem"])],
        f"--tls-key {f['garbage.pem']}: no unencrypted PEM private key in it",
    ),
    "TLS key of another certificate": lambda f, port: (
        ["--tls-cert", str(f["cert.pem"]), "--tls-key", str(f["other-key.pem"])],
        f"--tls-key {f['other-key.pem']}: not the key of --tls-cert",
    ),
    "garbage client CA": lambda f, port: (
        [
            "--tls-cert",
            str(f["cert.pem"]),
            "--tls-key",
            str(f["key.pem"]),
            "--tls-client-ca",
            str(f["garbage.pem"]),
        ],
        f"--tls-client-ca {f['garbage.pem']}: no PEM certificate in it",
    ),
    "unreadable TLS certificate (a directory)": lambda f, port: (
        ["--tls-cert", str(f["cert.pem"].parent), "--tls-key", str(f["key.pem"])],
        f"--tls-cert: no readable file at {str(f['cert.pem'].parent)!r}",
    ),
    "busy metrics port": lambda f, port: (
        ["--metrics-listen", f"127.0.0.1:{port}"],
        f"--metrics-listen 127.0.0.1:{port}: address already in use",
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_start_fails_in_one_line_naming_the_setting(
    case: Case, files: dict[str, Path], busy_port: int
) -> None:
    flags, line = case(files, busy_port)
    assert_one_line(
        run_cli(["--emulator", "--listen", "127.0.0.1:0", *flags]), f"cloudfront-facade: {line}"
    )


def test_standalone_emulator_on_a_busy_port_fails_in_one_line(busy_port: int) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "service.emulator", "--port", str(busy_port)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert_one_line(
        (done.returncode, done.stdout, done.stderr),
        f"cloudfront-emulator: --port {busy_port}: address already in use",
    )


async def _serving(address: str) -> bool:
    async with grpc.aio.insecure_channel(address) as channel:
        response = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(), timeout=5
        )
        return bool(response.status == health_pb2.HealthCheckResponse.SERVING)


async def test_a_live_unix_socket_is_not_taken_over(tmp_path: Path) -> None:
    path = tmp_path / "facade.sock"
    async with facade_process("--emulator", listen=f"unix:{path}") as first:
        second = run_cli(["--emulator", "--listen", f"unix:{path}"])
        assert_one_line(
            second,
            f"cloudfront-facade: --listen unix:{path}: another server is listening on this socket",
        )
        assert await _serving(first.address)


async def test_a_stale_unix_socket_is_replaced(tmp_path: Path) -> None:
    path = tmp_path / "facade.sock"
    with socket.socket(socket.AF_UNIX) as gone:  # bound, never listening: nobody answers
        gone.bind(str(path))
    async with facade_process("--emulator", listen=f"unix:{path}") as facade:
        assert await _serving(facade.address)
