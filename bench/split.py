"""Where the facade's CPU goes, by part: gRPC, the event loop, the access log, the facade's own
code, and the SDK. Used by ``python -m bench`` for one extra, separately sampled phase per
workload (the figures of the main table come from unsampled phases).

How each part is measured:

* CPU of every thread of the facade comes from ``/proc/<pid>/task/<tid>/stat`` around the
  phase (clock-tick resolution). Threads other than the event loop's are gRPC's (its Python
  poller thread and its C-core threads); a Python thread by another name counts as "other".
* The event-loop thread's CPU is divided by a sampling profile taken by ``py-spy`` (an
  outside process reading the facade's memory without pausing it: ``--nonblocking``, 250 Hz,
  idle samples dropped). Each sample is assigned by its innermost frame outside the standard
  library: ``service/logs.py`` or the interceptor's ``_report`` → access log; other
  ``service/`` code → facade; botocore, aiobotocore, aioboto3, aiohttp and their helpers →
  SDK; ``grpc`` → gRPC (Python). A sample with no such frame at all is code with no Python
  frame of its own, run straight from the loop: uvloop itself and gRPC's Cython layer
  ("loop + gRPC Cython"); stacks of only standard-library frames count as "other".
* Shares of the sampled thread time are applied to the event-loop thread's measured CPU.
  Sampling adds work to the facade (its CPU per call in the sampled phase is shown beside),
  so read the split as shares, not as exact microseconds.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

PARTS = ("grpc", "loop_cython", "access_log", "facade", "sdk", "other")
LABELS = {
    "grpc": "gRPC",
    "loop_cython": "loop+gRPC Cython",
    "access_log": "access log",
    "facade": "facade",
    "sdk": "SDK",
    "other": "other",
}
RATE = 250  # samples per second
_TICKS = os.sysconf("SC_CLK_TCK")
_SDK = (
    "/botocore/",
    "/aiobotocore/",
    "/aioboto3/",
    "/aiohttp/",
    "/yarl/",
    "/multidict/",
    "/aiohappyeyeballs/",
    "/propcache/",
    "/frozenlist/",
    "/aiosignal/",
    "/dateutil/",
    "/jmespath/",
    "/aioitertools/",
    "/wrapt/",
)
_STDLIB = ("/lib/python3", "<frozen ", "(<string>")


def py_spy() -> str | None:
    """The py-spy executable next to this interpreter, or on PATH."""
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


def classify(frames: list[str]) -> str:
    """The part one event-loop sample belongs to (frames outermost first, as py-spy writes)."""
    for frame in reversed(frames):
        if "/service/logs.py" in frame or (
            frame.startswith("_report ") and "/service/interceptors.py" in frame
        ):
            return "access_log"
        if "/service/" in frame:
            return "facade"
        if any(needle in frame for needle in _SDK):
            return "sdk"
        if "/grpc/" in frame or "/grpc_health/" in frame:
            return "grpc"
        if "/uvloop/" in frame or "asyncio/runners.py" in frame:
            return "loop_cython"
        if not any(needle in frame for needle in _STDLIB):
            return "other"
    return "other"


def thread_cpu(pid: int) -> dict[int, tuple[str, float]]:
    """tid -> (OS thread name, CPU seconds so far) for every thread of the process."""
    found = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            stat = (task / "stat").read_text()
        except OSError:
            continue  # the thread ended meanwhile
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat.rpartition(")")[2].split()
        found[int(task.name)] = (name, (int(fields[11]) + int(fields[12])) / _TICKS)
    return found


class Sampler:
    """py-spy on one process for one phase, plus the per-thread CPU around it."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._dir = tempfile.TemporaryDirectory(prefix="cloudfront-facade-split-")
        self._out = Path(self._dir.name) / "samples.txt"
        self._process: subprocess.Popen[bytes] | None = None
        self._before: dict[int, tuple[str, float]] = {}

    def start(self) -> None:
        executable = py_spy()
        if executable is None:
            raise RuntimeError("py-spy is not installed")
        self._process = subprocess.Popen(
            [
                executable,
                "record",
                "--pid",
                str(self.pid),
                "--rate",
                str(RATE),
                "--format",
                "raw",
                "--threads",
                "--full-filenames",
                "--nonblocking",
                "--output",
                str(self._out),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self._before = thread_cpu(self.pid)

    def stop(self) -> tuple[Counter[tuple[int, str, str]], dict[int, tuple[str, float]]]:
        """Samples by (tid, thread name, part), and CPU seconds by tid during the phase."""
        after = thread_cpu(self.pid)
        process = self._process
        assert process is not None
        process.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
        try:
            _, err = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            raise RuntimeError("py-spy did not stop") from None
        try:
            text = self._out.read_text(errors="replace")
        except OSError:
            message = err.decode(errors="replace")[-300:]
            raise RuntimeError(f"py-spy wrote nothing: {message}") from None
        finally:
            self._dir.cleanup()
        samples: Counter[tuple[int, str, str]] = Counter()
        for line in text.splitlines():
            stack, _, count = line.rpartition(" ")
            thread, *frames = stack.split(";")
            # "thread (0x1a2b): MainThread" or "thread (6789): MainThread"
            ident, _, name = thread.partition(": ")
            tid = int(ident.split("(", 1)[1].rstrip(")"), 0)
            samples[(tid, name, classify(frames))] += int(count)
        delta = {
            tid: (name, seconds - self._before.get(tid, (name, 0.0))[1])
            for tid, (name, seconds) in after.items()
        }
        return samples, delta


def split(
    pid: int,
    samples: Counter[tuple[int, str, str]],
    cpu: dict[int, tuple[str, float]],
    calls: int,
) -> dict[str, Any]:
    """CPU seconds per call by part, from one phase's samples and thread CPU."""
    parts = dict.fromkeys(PARTS, 0.0)
    loop_samples = Counter({part: n for (tid, _, part), n in samples.items() if tid == pid})
    total = sum(loop_samples.values())
    loop_cpu = cpu.get(pid, ("", 0.0))[1]
    for part, n in loop_samples.items():
        parts[part] += loop_cpu * n / total
    python_threads = {tid: name for (tid, name, _) in samples if tid != pid}
    for tid, (_, seconds) in cpu.items():
        if tid == pid:
            continue
        name = python_threads.get(tid)
        # Not a Python thread: one of gRPC's C-core threads (the facade starts no others).
        parts["grpc" if name is None or "_poll_wrapper" in name else "other"] += seconds
    return {
        "cpu_s_per_call": {part: seconds / calls for part, seconds in parts.items()},
        "loop_samples": total,
        # Sanity check: ~1 when py-spy's samples track the loop thread's CPU.
        "loop_samples_per_cpu_tick": total / (loop_cpu * RATE) if loop_cpu else None,
    }
