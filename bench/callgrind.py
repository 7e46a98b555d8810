"""Instructions per call of the facade, counted by valgrind: ``python -m bench.callgrind``.

CPU time on a shared machine moves with the load; the number of instructions a call executes
does not (repeat runs agree within about 1 %), so this is the before/after measure for a change
to the hot path: ``--facade-root DIR`` runs the facade from another source tree (an exported
older commit, say) with the same interpreter and libraries.

The facade runs as in production (``python -m service``, the INFO JSON access log to a file,
uvloop) under ``valgrind --tool=callgrind --instr-atstart=no``, against the benchmark's stub
upstream, driven by the benchmark's gRPC client process (neither under valgrind). After a
warm-up, counting is switched on (``callgrind_control -i on``) for a fixed number of calls,
then the counts are dumped; instructions per call = total ÷ calls, all of the facade's threads
included (user space only: the kernel's share of a syscall is not counted, so the read- and
write-like syscalls per call, from ``/proc/<pid>/io``, are printed beside; they include
valgrind's own, about 4-5x what the facade makes natively, so compare them only with each
other). Valgrind runs one thread at a time and slows the facade many times over, so this counts
work done, not what concurrency costs (GIL hand-offs, cache misses, context switches).
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from bench.client import ACCESS_KEY, SECRET_KEY, WORKLOADS
from bench.harness import start_upstream, start_worker
from bench.procs import REPO, ChildFailed, Children, free_port, wait_serving


def _control(*args: str) -> None:
    subprocess.run(["callgrind_control", *args], check=True, capture_output=True, timeout=300)


def _totals(out_dir: Path, pid: int) -> int:
    """Instructions in the dumps callgrind wrote for this process (the counted window only)."""
    total = 0
    for path in sorted(out_dir.glob(f"callgrind.out.{pid}*")):
        for line in path.read_text(errors="replace").splitlines():
            if line.startswith("totals:"):  # the header's "summary:" can read 0
                total += int(line.split()[1])
                break
    return total


def _syscalls(pid: int) -> tuple[int, int]:
    """(read-like, write-like) syscalls so far (/proc/<pid>/io: syscr, syscw)."""
    found = dict(line.split(": ") for line in Path(f"/proc/{pid}/io").read_text().splitlines())
    return int(found["syscr"]), int(found["syscw"])


def count(
    op: str, calls: int, warmup: int, concurrency: int, root: Path, extra: Sequence[str] = ()
) -> dict[str, float]:
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        raise ChildFailed("valgrind (with callgrind_control) is not installed")
    with Children() as children:
        upstream = start_upstream(children, "stub", max(16, concurrency))
        out_dir = children.log_dir
        port = free_port()
        address = f"127.0.0.1:{port}"
        facade = children.start(
            "facade-callgrind",
            "service",
            ["--aws-endpoint-url", upstream.url, "--listen", address, *extra],
            env={
                "AWS_ACCESS_KEY_ID": ACCESS_KEY,
                "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
                "AWS_EC2_METADATA_DISABLED": "true",
            },
            stdout_to_log=True,
            root=root,
            wrap=(
                "valgrind",
                "--tool=callgrind",
                "--instr-atstart=no",
                f"--callgrind-out-file={out_dir}/callgrind.out.%p",
            ),
        )
        wait_serving(address, port, facade, timeout=900)
        client = start_worker(children, "grpc-client", ["grpc", "--target", address])
        found = client.call({"cmd": "ids", "count": max(16, concurrency)})
        client.call({"cmd": "prepare", "ids": found["ids"]})
        command = {
            "cmd": "run",
            "workload": op,
            "concurrency": concurrency,
            "ids": found["ids"],
            "oac_ids": found["oac_ids"],
        }
        client.call(command | {"calls": warmup}, timeout=1800)
        _control("-i", "on", str(facade.pid))
        started, before = time.monotonic(), _syscalls(facade.pid)
        answer = client.call(command | {"calls": calls}, timeout=1800)
        after = _syscalls(facade.pid)
        _control("-i", "off", str(facade.pid))
        _control("--dump=measured", str(facade.pid))
        if answer["errors"]:
            raise ChildFailed(f"calls failed: {answer['error_samples']}")
        wall = time.monotonic() - started
        total = _totals(out_dir, facade.pid)
        children.stop(client)
        children.stop(facade)
    return {
        "instructions": total,
        "per_call": total / calls,
        "wall_s": wall,
        "reads_per_call": (after[0] - before[0]) / calls,
        "writes_per_call": (after[1] - before[1]) / calls,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.callgrind",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--op", choices=tuple(WORKLOADS), default="get")
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--facade-root", type=Path, default=REPO, metavar="DIR")
    parser.add_argument(
        "--facade-args", default="", metavar="'ARGS'", help="e.g. '--log-level WARNING'"
    )
    args = parser.parse_args(argv)
    extra = shlex.split(args.facade_args)
    found = count(args.op, args.calls, args.warmup, args.concurrency, args.facade_root, extra)
    print(
        f"facade ({args.facade_root} {args.facade_args}): {args.op} x {args.calls} at "
        f"{args.concurrency} in flight: "
        f"{found['per_call'] / 1e6:.3f} M instructions/call "
        f"({found['instructions']:,} in all; counted window {found['wall_s']:.0f} s); "
        f"syscalls/call: {found['reads_per_call']:.2f} read-like, "
        f"{found['writes_per_call']:.2f} write-like"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
