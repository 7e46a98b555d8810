"""Profile the facade's hot path: ``python -m bench.profiling [--op get] [--calls 10000]``.

The facade runs in this process through :func:`service.server.running` (on uvloop and with the
INFO JSON access log, as in production; the log goes to a scratch file), so a profiler sees its
event-loop thread. The upstream stub and the gRPC client are their own processes, as in the
benchmark. cProfile is the default (stdlib; its per-call overhead inflates small Python
functions, so read shares rather than absolute times); ``--profiler pyinstrument`` samples
instead, when pyinstrument is installed (it is not a dependency).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import importlib
import os
import pstats
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.client import ACCESS_KEY, SECRET_KEY, WORKLOADS
from bench.harness import start_upstream, start_worker
from bench.procs import Child, Children

_TICKS = os.sysconf("SC_CLK_TCK")

# Where self time goes, by the path of the code that spends it ("~" = C built-ins).
_GROUPS = (
    ("grpc (python + cython)", ("/grpc/", "grpc/_cython")),
    ("aiobotocore / aioboto3", ("/aiobotocore/", "/aioboto3/")),
    ("botocore", ("/botocore/",)),
    ("aiohttp / yarl / multidict", ("/aiohttp/", "/yarl/", "/multidict/")),
    ("facade code (service/)", ("/service/",)),
    ("logging", ("/logging/",)),
    ("json", ("/json/",)),
    ("asyncio", ("/asyncio/",)),
    ("protobuf", ("/google/protobuf/",)),
    ("stdlib other", ("/lib/python3",)),
)


def _group(filename: str) -> str:
    if filename == "~":
        return "C built-ins (called from any of the above)"
    for name, needles in _GROUPS:
        if any(needle in filename for needle in needles):
            return name
    return "other"


def _label(key: tuple[str, int, str]) -> str:
    filename, line, function = key
    if filename == "~":
        return function
    for marker in ("site-packages/", "/lib/python3.11/", str(Path.cwd()) + "/"):
        if marker in filename:
            filename = filename.split(marker, 1)[1]
            break
    return f"{filename}:{line} {function}"


def summarise_cprofile(profiler: cProfile.Profile, calls: int, top: int) -> str:
    stats = pstats.Stats(profiler)
    table: dict[tuple[str, int, str], tuple[int, int, float, float, Any]] = stats.stats  # type: ignore[attr-defined]
    total = sum(entry[2] for entry in table.values())
    out = [
        f"cProfile: {total:.2f} s of profiled self time over {calls} calls "
        f"({total / calls * 1e6:.0f} µs/call under the profiler)",
        "",
        "self time by component:",
    ]
    groups: dict[str, float] = {}
    for key, entry in table.items():
        groups[_group(key[0])] = groups.get(_group(key[0]), 0.0) + entry[2]
    for name, seconds in sorted(groups.items(), key=lambda item: -item[1]):
        out.append(f"  {seconds / total:6.1%}  {name}")
    out += ["", f"top {top} by self time:", f"  {'self%':>6} {'cum%':>6} {'calls/op':>9}  function"]
    for key, entry in sorted(table.items(), key=lambda item: -item[1][2])[:top]:
        out.append(
            f"  {entry[2] / total:6.1%} {entry[3] / total:6.1%} {entry[1] / calls:9.1f}"
            f"  {_label(key)}"
        )
    out += [
        "",
        f"top {top} by cumulative time (coroutines count only while running):",
        f"  {'cum%':>6} {'self%':>6} {'calls/op':>9}  function",
    ]
    for key, entry in sorted(table.items(), key=lambda item: -item[1][3])[:top]:
        out.append(
            f"  {entry[3] / total:6.1%} {entry[2] / total:6.1%} {entry[1] / calls:9.1f}"
            f"  {_label(key)}"
        )
    return "\n".join(out)


def thread_cpu() -> dict[str, float]:
    """CPU seconds so far of each thread of this process, by Python thread name or OS name."""
    names = {thread.native_id: thread.name for thread in threading.enumerate()}
    found: dict[str, float] = {}
    for task in Path("/proc/self/task").iterdir():
        try:
            stat = (task / "stat").read_text()
        except OSError:
            continue  # the thread ended meanwhile
        tid = int(task.name)
        fields = stat.rpartition(")")[2].split()
        name = (
            "main (event loop)"
            if tid == os.getpid()
            else names.get(tid) or stat[stat.index("(") + 1 : stat.rindex(")")]
        )
        found[name] = found.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / _TICKS
    return found


async def _call(worker: Child, command: dict[str, Any]) -> dict[str, Any]:
    # The worker answers over a pipe; wait for it off the loop, which is serving the calls.
    return await asyncio.to_thread(worker.call, command)


async def profile(args: argparse.Namespace) -> tuple[str, Any]:
    from service import logs
    from service.config import Settings
    from service.server import running

    with Children() as children:
        upstream = start_upstream(children, "stub", max(16, args.concurrency))
        os.environ.update(
            {
                "AWS_ACCESS_KEY_ID": ACCESS_KEY,
                "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
                "AWS_EC2_METADATA_DISABLED": "true",
            }
        )
        log_file = (children.log_dir / "facade-access.log").open("w")
        real_stdout, sys.stdout = sys.stdout, log_file
        try:
            logs.configure(args.log_level, "json")  # binds its handler to sys.stdout now
        finally:
            sys.stdout = real_stdout
        settings = Settings(
            listen="127.0.0.1:0", aws_endpoint_url=upstream.url, log_level=args.log_level
        )
        async with running(settings) as facade:
            worker = await asyncio.to_thread(
                start_worker, children, "grpc-client", ["grpc", "--target", facade.address]
            )
            found = await _call(worker, {"cmd": "ids", "count": max(16, args.concurrency)})
            ids, oac_ids = found["ids"], found["oac_ids"]

            async def load(calls: int) -> tuple[float, float, int]:
                await _call(worker, {"cmd": "prepare", "ids": ids})
                cpu, wall = time.process_time(), time.perf_counter()
                answer = await _call(
                    worker,
                    {
                        "cmd": "run",
                        "workload": args.op,
                        "calls": calls,
                        "concurrency": args.concurrency,
                        "ids": ids,
                        "oac_ids": oac_ids,
                    },
                )
                if answer["errors"]:
                    raise RuntimeError(f"calls failed: {answer['error_samples']}")
                return time.process_time() - cpu, time.perf_counter() - wall, calls

            await load(min(args.calls, 2000))  # warm-up
            before = thread_cpu()
            plain_cpu, plain_wall, calls = await load(args.calls)
            after = thread_cpu()
            split = sorted(
                ((name, after[name] - before.get(name, 0.0)) for name in after),
                key=lambda item: -item[1],
            )
            header = (
                f"facade in-process, {args.op} workload, {calls} calls at "
                f"{args.concurrency} in flight, log level {args.log_level}\n"
                f"without profiler: {plain_cpu / calls * 1e6:.0f} µs CPU/call "
                f"(whole process, all threads), {calls / plain_wall:.0f} calls/s\n"
                "  by thread, µs/call: "
                + ", ".join(
                    f"{name} {seconds / calls * 1e6:.0f}" for name, seconds in split if seconds > 0
                )
                + "\n"
            )
            if args.profiler == "pyinstrument":
                module = importlib.import_module("pyinstrument")
                sampler = module.Profiler(interval=0.001, async_mode="disabled")
                sampler.start()
                await load(args.calls)
                sampler.stop()
                return header, sampler
            profiler = cProfile.Profile()
            profiler.enable()
            await load(args.calls)
            profiler.disable()
            return header, profiler


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profiling", description=__doc__)
    parser.add_argument("--op", choices=tuple(WORKLOADS), default="get")
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--profiler", choices=("cprofile", "pyinstrument"), default="cprofile")
    parser.add_argument("--flat", action="store_true", help="pyinstrument: flat, by self time")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--log-level", default="INFO", choices=("INFO", "WARNING"))
    parser.add_argument("--output", help="save pstats (cprofile) or HTML (pyinstrument)")
    args = parser.parse_args(argv)
    import uvloop

    header, result = uvloop.run(profile(args))
    if isinstance(result, cProfile.Profile):
        if args.output:
            result.dump_stats(args.output)
        print(header + summarise_cprofile(result, args.calls, args.top))
    else:
        if args.output:
            Path(args.output).write_text(result.output_html())
        print(header + result.output_text(unicode=True, color=False, flat=args.flat))
    return 0


if __name__ == "__main__":
    sys.exit(main())
