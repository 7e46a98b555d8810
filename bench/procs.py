"""Child processes for the harness: start them, talk to them, measure them, never leak them.

Every child is started through a tiny bootstrap that asks the kernel to SIGTERM it when the
harness dies (PR_SET_PDEATHSIG), then runs its module exactly as ``python -m`` would. So a
child goes away on a normal exit, on an exception (:class:`Children` stops them all), and even
when the harness is SIGKILLed. CPU time and RSS come from /proc, so no dependency is needed.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

REPO = Path(__file__).resolve().parent.parent
_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")

# Runs `python -m MODULE ARGS…` after arranging to die with the parent. runpy with
# alter_sys=True is what -m itself does, so the child behaves exactly like `python -m`.
_BOOT = (
    "import ctypes, os, runpy, signal, sys\n"
    "ctypes.CDLL(None).prctl(1, signal.SIGTERM)\n"  # 1 = PR_SET_PDEATHSIG
    "if os.getppid() != int(os.environ['BENCH_PARENT_PID']): sys.exit(3)\n"
    "sys.argv = sys.argv[1:]\n"
    "runpy.run_module(sys.argv[0], run_name='__main__', alter_sys=True)\n"
)


class ChildFailed(RuntimeError):
    """A child exited, answered an error, or did not answer in time."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def child_env(extra: Mapping[str, str] | None = None, root: Path = REPO) -> dict[str, str]:
    """The harness's environment minus anything AWS or facade, so no setting leaks in."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AWS_", "CLOUDFRONT_FACADE_"))
    }
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
    env["BENCH_PARENT_PID"] = str(os.getpid())
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


class Child:
    """One child process running a Python module, with its stderr kept in a log file."""

    def __init__(
        self,
        name: str,
        module: str,
        args: Sequence[str],
        log_dir: Path,
        env: Mapping[str, str] | None = None,
        stdout_to_log: bool = False,
        root: Path = REPO,
        wrap: Sequence[str] = (),
    ) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self._log = self.log_path.open("wb")
        self.started_at = time.monotonic()
        self.process = subprocess.Popen(
            [*wrap, sys.executable, "-c", _BOOT, module, *args],  # wrap: e.g. valgrind
            cwd=root,
            env=child_env(env, root),
            stdin=subprocess.PIPE,
            stdout=self._log if stdout_to_log else subprocess.PIPE,
            stderr=self._log,
        )
        self.pid = self.process.pid
        self._buffer = b""

    # -- measurements ------------------------------------------------------------------------

    def cpu_seconds(self) -> float:
        """User + system CPU of all the process's threads so far (clock-tick resolution)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime

    def rss_bytes(self) -> int:
        pages = Path(f"/proc/{self.pid}/statm").read_text().split()[1]
        return int(pages) * _PAGE

    def rss_split_bytes(self) -> dict[str, int]:
        """RSS by kind: anonymous (heap, stacks) and file-backed (mostly shared libraries)."""
        found = {}
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("RssAnon", "RssFile", "RssShmem"):
                found[key] = int(value.split()[0]) * 1024
        return found

    # -- line protocol -----------------------------------------------------------------------

    def read_line(self, timeout: float) -> str:
        """One line of stdout, or ChildFailed if the child dies or stays silent too long."""
        assert self.process.stdout is not None
        fd = self.process.stdout.fileno()
        deadline = time.monotonic() + timeout
        with selectors.DefaultSelector() as selector:
            selector.register(fd, selectors.EVENT_READ)
            while b"\n" not in self._buffer:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise ChildFailed(
                        f"{self.name}: no answer within {timeout:.0f} s{self.log_tail()}"
                    )
                if selector.select(left):
                    chunk = os.read(fd, 1 << 20)
                    if not chunk:
                        raise ChildFailed(
                            f"{self.name} exited ({self.process.poll()}){self.log_tail()}"
                        )
                    self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line.decode()

    def call(self, command: Mapping[str, Any], timeout: float = 600.0) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write((json.dumps(command) + "\n").encode())
        self.process.stdin.flush()
        answer: dict[str, Any] = json.loads(self.read_line(timeout))
        if "error" in answer:
            raise ChildFailed(f"{self.name}: {answer['error']}")
        return answer

    def log_tail(self, lines: int = 15) -> str:
        with contextlib.suppress(OSError):
            text = self.log_path.read_text(errors="replace").strip().splitlines()[-lines:]
            if text:
                return "\n  " + "\n  ".join(text)
        return ""

    # -- lifecycle ---------------------------------------------------------------------------

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, grace: float = 3.0) -> int | None:
        """SIGTERM, then SIGKILL after `grace` seconds; returns the exit code."""
        if self.alive():
            with contextlib.suppress(OSError):
                if self.process.stdin is not None:
                    self.process.stdin.close()  # the workers exit on EOF
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(grace)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        for stream in (self.process.stdin, self.process.stdout):
            with contextlib.suppress(OSError):
                if stream is not None:
                    stream.close()
        self._log.close()
        return self.process.returncode


class Children:
    """Owns every child and a scratch directory for their logs; stops all of them on exit."""

    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="cloudfront-facade-bench-")
        self.log_dir = Path(self._dir.name)
        self._children: list[Child] = []

    def start(
        self,
        name: str,
        module: str,
        args: Sequence[str],
        env: Mapping[str, str] | None = None,
        stdout_to_log: bool = False,
        root: Path = REPO,
        wrap: Sequence[str] = (),
    ) -> Child:
        child = Child(name, module, args, self.log_dir, env, stdout_to_log, root, wrap)
        self._children.append(child)
        return child

    def stop(self, child: Child) -> int | None:
        if child in self._children:
            self._children.remove(child)
        return child.stop()

    def stop_all(self) -> None:
        # Reverse order: clients before the facade before the upstream.
        while self._children:
            self._children.pop().stop()

    def __enter__(self) -> Children:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.stop_all()
        finally:
            self._dir.cleanup()


def wait_listening(port: int, child: Child, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        if not child.alive():
            raise ChildFailed(f"{child.name} exited ({child.process.returncode}){child.log_tail()}")
        if time.monotonic() > deadline:
            raise ChildFailed(f"{child.name} did not listen on {port} in {timeout} s")
        time.sleep(0.002)


def wait_serving(address: str, port: int, child: Child, timeout: float = 30.0) -> float:
    """Seconds from the child's start until grpc.health.v1 Check says SERVING."""
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    # A TCP probe first: it resolves to milliseconds, where a gRPC channel that found the port
    # closed would back off for a second before trying again.
    wait_listening(port, child, timeout)
    deadline = time.monotonic() + timeout
    with grpc.insecure_channel(address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        request = health_pb2.HealthCheckRequest(service="")
        while True:
            try:
                status = stub.Check(request, timeout=1.0, wait_for_ready=True).status
                if status == health_pb2.HealthCheckResponse.SERVING:
                    return time.monotonic() - child.started_at
            except grpc.RpcError:
                pass
            if not child.alive() or time.monotonic() > deadline:
                raise ChildFailed(f"{child.name} never became SERVING{child.log_tail()}")
            time.sleep(0.002)


def raise_fd_limit() -> None:
    """A 1,000-call burst opens 1,000 upstream sockets in the facade; lift the soft limit."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = 65536 if hard == resource.RLIM_INFINITY else hard
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, target), hard))
