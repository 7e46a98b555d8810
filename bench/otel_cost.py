"""What tracing costs per call, side by side: ``python -m bench.otel_cost``.

Two facades against one upstream stub, one without tracing and one with ``--otel`` exporting
every span (always_on) to a local OTLP sink (bench.otlp_sink), each driven by its own gRPC
client process, in alternating ABAB rounds of the same workload; CPU per call of each facade
process from /proc. Alternating in one run is what makes the difference readable on a shared
machine, where two separate runs differ by more than tracing costs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Sequence

from bench.harness import Side, measure, start_facade, start_upstream, start_worker
from bench.procs import REPO, Children, raise_fd_limit

SIDES = ("off", "on")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.otel_cost", description=__doc__)
    parser.add_argument("--workload", default="get", choices=("get", "update", "list", "mixed"))
    parser.add_argument("--calls", type=int, default=2000, help="calls per phase (2000)")
    parser.add_argument("--rounds", type=int, default=4, help="ABAB rounds (4)")
    parser.add_argument("--concurrency", type=int, default=16, help="calls in flight (16)")
    args = parser.parse_args(argv)
    raise_fd_limit()
    common = {"facade_args": "", "facade_log_level": None, "facade_root": REPO}
    with Children() as children:
        upstream = start_upstream(children, "stub", max(args.concurrency, 16))
        sides: dict[str, Side] = {}
        for name in SIDES:
            options = argparse.Namespace(**common, otel=name == "on")
            facade, address, _ = start_facade(children, f"facade-{name}", upstream, [], options)
            client = start_worker(children, f"client-{name}", ["grpc", "--target", address])
            sides[name] = Side(client, {"facade": facade})
        direct = start_worker(children, "ids", ["direct", "--endpoint", upstream.url])
        ids = direct.call({"cmd": "ids", "count": max(args.concurrency, 16)})["ids"]
        children.stop(direct)
        for name in SIDES:  # warm-up
            measure(name, sides[name], args.workload, args.calls // 4, args.concurrency, ids)
        per_round: dict[str, list[float]] = {name: [] for name in SIDES}
        for number in range(args.rounds):
            for name in SIDES if number % 2 == 0 else SIDES[::-1]:
                phase = measure(name, sides[name], args.workload, args.calls, args.concurrency, ids)
                if phase.errors:
                    print(f"{name}: {phase.errors} errors: {phase.error_samples[:2]}")
                    return 1
                per_round[name].append(phase.cpu["facade"] / phase.calls * 1e6)
    print(
        f"facade CPU µs per call, {args.workload}, {args.concurrency} in flight, "
        f"{args.rounds} ABAB rounds x {args.calls} calls"
    )
    for name in SIDES:
        rounds = ", ".join(f"{x:.0f}" for x in per_round[name])
        print(f"tracing {name:3}: median {statistics.median(per_round[name]):6.0f}  ({rounds})")
    added = [on - off for off, on in zip(per_round["off"], per_round["on"], strict=True)]
    print(
        f"added by tracing: median {statistics.median(added):.0f} µs per call "
        f"({', '.join(f'{x:.0f}' for x in added)})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
