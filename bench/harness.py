"""The orchestrator behind ``python -m bench``: facade versus direct aioboto3, in one run.

Processes (each its own, so no side's CPU is billed to another):

* upstream — :mod:`bench.upstream` (or the bundled emulator with ``--upstream emulator``);
* direct client — :mod:`bench.client` ``direct``: one long-lived aioboto3 client;
* facade — ``python -m service --aws-endpoint-url …`` with throw-away credentials;
* gRPC client — :mod:`bench.client` ``grpc``: the same workload through the facade.

The two sides alternate phase by phase (which goes first alternates too), so machine noise
lands on both alike. CPU is read from /proc around each phase; latency is measured in the
calling process.
"""

from __future__ import annotations

import argparse
import dataclasses
import http.client
import json
import math
import os
import platform
import shlex
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from types import FrameType
from typing import Any

from bench import report, split
from bench.client import ACCESS_KEY, SECRET_KEY, WORKLOADS
from bench.procs import (
    REPO,
    Child,
    ChildFailed,
    Children,
    free_port,
    raise_fd_limit,
    wait_serving,
)

SIDES = ("direct", "facade")
Log = Callable[[str], None]
IDLE_SETTLE = 1.0  # seconds after SERVING before reading idle RSS: lets start-up garbage go
LIBRARIES = (
    "grpcio",
    "grpcio-health-checking",
    "protobuf",
    "aioboto3",
    "aiobotocore",
    "botocore",
    "aiohttp",
    "uvloop",
)


@dataclass(frozen=True, slots=True)
class Plan:
    """Fixed counts for one run; nothing adapts to timing, so runs compare."""

    mode: str
    concurrency: int
    calls: int  # per phase (one workload, one side, one round)
    rounds: int
    warmup: int  # per workload per side, unmeasured
    serial_calls: int  # Gets with one call in flight, per side per round
    serial_rounds: int
    soak_calls: int
    burst_calls: int
    burst_pairs: int
    burst_latency: float
    start_samples: int


def make_plan(args: argparse.Namespace) -> Plan:
    quick = bool(args.quick)
    calls = args.calls or (500 if quick else 3000)
    return Plan(
        mode="quick" if quick else "full",
        concurrency=args.concurrency,
        calls=calls,
        rounds=args.rounds or (2 if quick else 4),
        warmup=min(calls, 100 if quick else 500),
        serial_calls=min(calls, 200 if quick else 1000),
        serial_rounds=1 if quick else 2,
        soak_calls=args.soak_calls or (2000 if quick else 20_000),
        burst_calls=args.burst_calls,
        burst_pairs=3 if quick else 7,
        burst_latency=0.1,
        start_samples=2 if quick else 5,
    )


@dataclass(slots=True)
class Phase:
    side: str
    workload: str
    concurrency: int
    calls: int
    wall: float
    latencies: list[float]
    cpu: dict[str, float]  # process role -> CPU seconds during the phase
    errors: int
    error_samples: list[str]


@dataclass(slots=True)
class Side:
    worker: Child
    roles: dict[str, Child]  # every process whose CPU the side's calls cost
    phases: list[Phase] = field(default_factory=list)


class Upstream:
    def __init__(self, kind: str, child: Child, url: str) -> None:
        self.kind, self.child, self.url = kind, child, url
        self.port = int(url.rsplit(":", 1)[1])

    def set_latency(self, seconds: float) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            if self.kind == "stub":
                _request(connection, "POST", f"/_bench/latency?seconds={seconds}")
            else:
                _request(connection, "DELETE", "/_emulator/faults")
                if seconds:
                    _request(
                        connection, "POST", "/_emulator/faults", json.dumps({"latency": seconds})
                    )
        finally:
            connection.close()


def _request(
    connection: http.client.HTTPConnection, method: str, path: str, body: str | None = None
) -> None:
    connection.request(method, path, body=body)
    answer = connection.getresponse()
    answer.read()
    if answer.status >= 300:
        raise ChildFailed(f"upstream control {method} {path}: HTTP {answer.status}")


def start_upstream(children: Children, kind: str, identities: int) -> Upstream:
    if kind == "stub":
        child = children.start("upstream", "bench.upstream", ["--identities", str(identities)])
        return Upstream(kind, child, f"http://127.0.0.1:{int(child.read_line(30))}")
    child = children.start("upstream", "service.emulator", ["--port", "0"])
    return Upstream(kind, child, child.read_line(30).strip())


def start_facade(
    children: Children,
    name: str,
    upstream: Upstream,
    extra: Sequence[str],
    args: argparse.Namespace,
) -> tuple[Child, str, float]:
    """`python -m service` as in production; returns it, its address and start-to-SERVING."""
    port = free_port()
    address = f"127.0.0.1:{port}"
    argv = [
        "--aws-endpoint-url",
        upstream.url,
        "--listen",
        address,
        *extra,
        *shlex.split(args.facade_args),
    ]
    if args.facade_log_level:
        argv += ["--log-level", args.facade_log_level]
    env = {
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    child = children.start(
        name, "service", argv, env=env, stdout_to_log=True, root=args.facade_root
    )
    return child, address, wait_serving(address, port, child)


def start_worker(children: Children, name: str, args: Sequence[str]) -> Child:
    child = children.start(name, "bench.client", args)
    child.read_line(60)  # {"ready": true}
    return child


@dataclass(frozen=True, slots=True)
class Ids:
    """What the workloads call on: identities (Get, Update, List) and controls (get-oac)."""

    identities: list[str]
    controls: list[str]


def measure(
    side_name: str, side: Side, workload: str, calls: int, concurrency: int, ids: Ids
) -> Phase:
    side.worker.call({"cmd": "prepare", "ids": ids.identities})
    before = {role: child.cpu_seconds() for role, child in side.roles.items()}
    answer = side.worker.call(
        {
            "cmd": "run",
            "workload": workload,
            "calls": calls,
            "concurrency": concurrency,
            "ids": ids.identities,
            "oac_ids": ids.controls,
        }
    )
    after = {role: child.cpu_seconds() for role, child in side.roles.items()}
    return Phase(
        side_name,
        workload,
        concurrency,
        len(answer["latencies"]),
        answer["wall"],
        answer["latencies"],
        {role: after[role] - before[role] for role in before},
        answer["errors"],
        answer["error_samples"],
    )


def measure_split(
    side: Side, pid: int, workload: str, calls: int, concurrency: int, ids: Ids
) -> dict[str, Any]:
    """One extra facade phase under py-spy: the facade's CPU per call by part (bench.split)."""
    side.worker.call({"cmd": "prepare", "ids": ids.identities})
    sampler = split.Sampler(pid)
    sampler.start()
    try:
        answer = side.worker.call(
            {
                "cmd": "run",
                "workload": workload,
                "calls": calls,
                "concurrency": concurrency,
                "ids": ids.identities,
                "oac_ids": ids.controls,
            }
        )
    finally:
        samples, cpu = sampler.stop()
    done = len(answer["latencies"])
    found = split.split(pid, samples, cpu, done)
    found["sampled_phase_cpu_s_per_call"] = sum(seconds for _, seconds in cpu.values()) / done
    found["calls"] = done
    return found


def percentile(ordered: Sequence[float], fraction: float) -> float:
    """Linear interpolation between closest ranks, on an already sorted sequence."""
    if not ordered:
        return float("nan")
    position = (len(ordered) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summarise(phases: Sequence[Phase]) -> dict[str, Any]:
    calls = sum(p.calls for p in phases)
    wall = sum(p.wall for p in phases)
    ordered = sorted(x for p in phases for x in p.latencies)
    roles = phases[0].cpu.keys()
    return {
        "calls": calls,
        "wall_s": wall,
        "throughput_per_s": calls / wall if wall else 0.0,
        "throughput_per_round": [p.calls / p.wall for p in phases if p.wall],
        "latency_ms": {
            name: percentile(ordered, q) * 1000
            for name, q in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99))
        }
        | {"mean": statistics.fmean(ordered) * 1000 if ordered else float("nan")},
        "cpu_s_per_call": {
            role: sum(p.cpu[role] for p in phases) / calls if calls else 0.0 for role in roles
        },
        "errors": sum(p.errors for p in phases),
        "error_samples": [s for p in phases for s in p.error_samples][:3],
    }


def _ratio(numerator: float, denominator: float) -> float | None:
    # A phase too short to cost one clock tick has no CPU ratio, rather than an infinite one.
    return numerator / denominator if denominator > 0 else None


def compare(direct: dict[str, Any], facade: dict[str, Any]) -> dict[str, float | None]:
    server = facade["cpu_s_per_call"]["facade_server"]
    client = direct["cpu_s_per_call"]["direct_client"]
    return {
        "cpu_ratio": _ratio(server, client),
        # What the caller's machine spends in all, counting its own gRPC client too.
        "cpu_ratio_with_grpc_client": _ratio(
            server + facade["cpu_s_per_call"]["grpc_client"], client
        ),
        "added_p50_ms": facade["latency_ms"]["p50"] - direct["latency_ms"]["p50"],
        "added_p99_ms": facade["latency_ms"]["p99"] - direct["latency_ms"]["p99"],
        "throughput_ratio": _ratio(facade["throughput_per_s"], direct["throughput_per_s"]),
    }


def finite(value: Any) -> Any:
    """The document with NaN and infinities as null, so the JSON is strict JSON."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [finite(item) for item in value]
    return value


def service_revision() -> dict[str, Any]:
    """Which facade code was measured: HEAD, and whether service/ differs from it."""

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", *args], cwd=REPO, capture_output=True, text=True, timeout=10, check=True
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip()

    changes = git("status", "--porcelain", "--", "service")
    return {
        "commit": git("rev-parse", "HEAD"),
        "service_has_local_changes": None if changes is None else bool(changes),
    }


def facade_reported_start_ms(child: Child) -> float | None:
    """The facade's own startup_ms from its "serving" log line (INFO level only)."""
    try:
        for line in child.log_path.read_text(errors="replace").splitlines():
            if '"serving"' in line:
                return float(json.loads(line)["startup_ms"])
    except (OSError, ValueError, KeyError):
        pass
    return None


def run(plan: Plan, args: argparse.Namespace, log: Log) -> dict[str, Any]:
    started = time.monotonic()
    results: dict[str, Any] = {}
    identities = max(plan.concurrency, 16)
    with Children() as children:
        upstream = start_upstream(children, args.upstream, identities)
        log(f"upstream ({upstream.kind}) at {upstream.url}")
        facade, address, first_start = start_facade(children, "facade", upstream, [], args)
        starts = [first_start]
        reported = [facade_reported_start_ms(facade)]
        time.sleep(IDLE_SETTLE)
        idle_rss = [facade.rss_bytes()]
        idle_split = facade.rss_split_bytes()
        log(
            f"facade at {address}: SERVING after {first_start:.2f} s, "
            f"idle RSS {idle_rss[0] / 2**20:.1f} MB"
        )
        direct = start_worker(
            children,
            "direct-client",
            [
                "direct",
                "--endpoint",
                upstream.url,
                "--pool",
                str(plan.concurrency),
                "--loop",
                args.client_loop,
            ],
        )
        grpc_client = start_worker(
            children, "grpc-client", ["grpc", "--target", address, "--loop", args.client_loop]
        )
        found = direct.call({"cmd": "ids", "count": identities})
        ids = Ids(found["ids"], found["oac_ids"])
        sides = {
            "direct": Side(direct, {"direct_client": direct, "upstream": upstream.child}),
            "facade": Side(
                grpc_client,
                {"facade_server": facade, "grpc_client": grpc_client, "upstream": upstream.child},
            ),
        }

        for workload in WORKLOADS:
            for name in SIDES:
                measure(name, sides[name], workload, plan.warmup, plan.concurrency, ids)
        rss_warm = facade.rss_bytes()
        log(
            f"warm-up done; ABAB: {plan.rounds} rounds x {len(WORKLOADS)} workloads x "
            f"{plan.calls} calls at {plan.concurrency} in flight"
        )

        for number in range(plan.rounds):
            for index, workload in enumerate(WORKLOADS):
                # Alternate which side goes first, so a drift in machine speed cancels out.
                order = SIDES if (number + index) % 2 == 0 else SIDES[::-1]
                for name in order:
                    sides[name].phases.append(
                        measure(name, sides[name], workload, plan.calls, plan.concurrency, ids)
                    )
            log(f"round {number + 1}/{plan.rounds} done")

        serial: dict[str, list[Phase]] = {name: [] for name in SIDES}
        for number in range(plan.serial_rounds):
            for name in SIDES if number % 2 == 0 else SIDES[::-1]:
                serial[name].append(measure(name, sides[name], "get", plan.serial_calls, 1, ids))

        cpu_split: dict[str, Any] = {}
        unavailable = None if args.split else "turned off (--no-split)"
        if unavailable is None and split.py_spy() is None:
            unavailable = "py-spy is not installed"
        for workload in WORKLOADS if unavailable is None else ():
            try:
                cpu_split[workload] = measure_split(
                    sides["facade"], facade.pid, workload, plan.calls, plan.concurrency, ids
                )
            except (RuntimeError, OSError, ValueError) as error:
                unavailable, cpu_split = f"py-spy failed: {error}", {}
                break
        if cpu_split:
            log("CPU split: one py-spy phase per workload done")

        rss_before_soak = facade.rss_bytes()
        soak = measure("facade", sides["facade"], "mixed", plan.soak_calls, plan.concurrency, ids)
        rss_after_soak = facade.rss_bytes()
        log(
            f"soak: {plan.soak_calls} mixed calls, RSS {rss_before_soak / 2**20:.1f} -> "
            f"{rss_after_soak / 2**20:.1f} MB"
        )
        for child in (grpc_client, direct):
            children.stop(child)
        facade_exit = children.stop(facade)

        burst = run_burst(children, plan, upstream, ids, args, log)

        for number in range(1, plan.start_samples):
            extra, address, seconds = start_facade(
                children, f"facade-start-{number}", upstream, [], args
            )
            starts.append(seconds)
            reported.append(facade_reported_start_ms(extra))
            time.sleep(IDLE_SETTLE)
            idle_rss.append(extra.rss_bytes())
            children.stop(extra)
        log(f"start to SERVING: {', '.join(f'{s:.2f}' for s in starts)} s")

    workloads: dict[str, Any] = {}
    for workload in WORKLOADS:
        pair = {
            name: summarise([p for p in sides[name].phases if p.workload == workload])
            for name in SIDES
        }
        workloads[workload] = pair | {"ratios": compare(pair["direct"], pair["facade"])}
    serial_pair = {name: summarise(serial[name]) for name in SIDES}
    results.update(
        {
            "workloads": workloads,
            "serial_get": serial_pair
            | {"ratios": compare(serial_pair["direct"], serial_pair["facade"])},
            "soak": summarise([soak]),
            "cpu_split": {
                "workloads": cpu_split,
                "unavailable": unavailable,
                "method": "bench/split.py: thread CPU from /proc; the event-loop thread's "
                "divided by py-spy samples (250 Hz, nonblocking) in one extra phase",
            },
            "burst": burst,
            "memory": {
                "idle_rss_mb": statistics.median(idle_rss) / 2**20,
                "idle_rss_mb_samples": [x / 2**20 for x in idle_rss],
                # Info: file-backed pages are mostly shared libraries (grpc's core, libpython…).
                "idle_rss_split_mb": {key: value / 2**20 for key, value in idle_split.items()},
                "rss_after_warmup_mb": rss_warm / 2**20,
                "rss_before_soak_mb": rss_before_soak / 2**20,
                "rss_after_soak_mb": rss_after_soak / 2**20,
                "soak_calls": plan.soak_calls,
                "rss_growth_over_soak_mb": (rss_after_soak - rss_before_soak) / 2**20,
                "rss_growth_idle_to_end_mb": (rss_after_soak - idle_rss[0]) / 2**20,
            },
            "startup": {
                "start_to_serving_s": statistics.median(starts),
                "samples_s": starts,
                "max_s": max(starts),
                "facade_reported_ms": [x for x in reported if x is not None],
            },
            "facade_exit_code": facade_exit,
            "elapsed_s": time.monotonic() - started,
        }
    )
    return results


def run_burst(
    children: Children,
    plan: Plan,
    upstream: Upstream,
    ids: Ids,
    args: argparse.Namespace,
    log: Log,
) -> dict[str, Any]:
    """How much 100 ms of upstream latency adds to a burst of N calls at once.

    The facade gets a --max-concurrency of at least the burst, so every call is admitted
    rather than refused with RESOURCE_EXHAUSTED by a smaller limit.
    """
    limit = max(1024, plan.burst_calls)
    facade, address, _ = start_facade(
        children, "facade-burst", upstream, ["--max-concurrency", str(limit)], args
    )
    client = start_worker(
        children, "grpc-burst-client", ["grpc", "--target", address, "--loop", args.client_loop]
    )
    command = {
        "cmd": "run",
        "workload": "get",
        "calls": plan.burst_calls,
        "concurrency": plan.burst_calls,
        "ids": ids.identities,
    }
    latency = plan.burst_latency

    def burst(seconds: float) -> dict[str, Any]:
        upstream.set_latency(seconds)
        answer = client.call(command)
        answer.pop("latencies")
        return answer

    # Unmeasured: the slow burst opens every upstream connection the measured ones will reuse.
    burst(latency)
    burst(0.0)
    pairs = []
    for _ in range(plan.burst_pairs):
        fast, slow = burst(0.0), burst(latency)
        pairs.append(
            {
                "without_s": fast["wall"],
                "with_s": slow["wall"],
                "added_units": (slow["wall"] - fast["wall"]) / latency,
                "errors": fast["errors"] + slow["errors"],
                "error_samples": fast["error_samples"] + slow["error_samples"],
            }
        )
    upstream.set_latency(0.0)
    children.stop(client)
    children.stop(facade)
    # A burst is about a second of CPU-bound work, and machine noise only ever adds to it: the
    # fastest of the bursts is the best estimate of each kind. The median of the per-pair
    # differences is kept alongside, for information.
    without = min(p["without_s"] for p in pairs)
    with_latency = min(p["with_s"] for p in pairs)
    units = (with_latency - without) / latency
    log(f"burst of {plan.burst_calls}: +{units:.2f} x {latency * 1000:.0f} ms")
    return {
        "calls": plan.burst_calls,
        "upstream_latency_s": latency,
        "facade_max_concurrency": limit,
        "added_units": units,
        "method": "min(with) - min(without) over pairs, in units of the latency",
        "added_units_median_of_pairs": statistics.median(p["added_units"] for p in pairs),
        "without_s": without,
        "with_s": with_latency,
        "errors": sum(p["errors"] for p in pairs),
        "pairs": pairs,
    }


def machine_facts() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return {
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)),
        "cpu_model": model,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "versions": versions,
        "cpu_tick_s": 1 / os.sysconf("SC_CLK_TCK"),
        "service_revision": service_revision(),
    }


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark the facade against direct aioboto3 calls, on loopback only.",
    )
    parser.add_argument("--quick", action="store_true", help="a run of well under a minute")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write results as JSON")
    parser.add_argument("--calls", type=int, help="calls per phase (default 3000; quick 500)")
    parser.add_argument("--rounds", type=int, help="ABAB rounds (default 4; quick 2)")
    parser.add_argument("--concurrency", type=int, default=16, help="calls in flight (16)")
    parser.add_argument(
        "--soak-calls",
        type=int,
        help="calls between the two RSS readings (default 20000; quick 2000)",
    )
    parser.add_argument(
        "--burst-calls", type=int, default=1000, help="calls in the latency burst (1000)"
    )
    parser.add_argument(
        "--upstream",
        choices=("stub", "emulator"),
        default="stub",
        help="stub: bench.upstream (default, fast); emulator: service.emulator",
    )
    parser.add_argument(
        "--facade-log-level",
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
        help="override the facade's log level (default: its own, INFO)",
    )
    parser.add_argument(
        "--facade-args",
        default="",
        metavar="'ARGS'",
        help="extra facade flags, e.g. '--event-loop asyncio'",
    )
    parser.add_argument(
        "--facade-root",
        type=Path,
        default=REPO,
        metavar="DIR",
        help="run the facade from this source tree (A/B a change against HEAD)",
    )
    parser.add_argument(
        "--client-loop",
        choices=("uvloop", "asyncio"),
        default="uvloop",
        help="event loop of both client processes (uvloop, like the facade)",
    )
    parser.add_argument(
        "--no-split",
        dest="split",
        action="store_false",
        help="skip the per-part CPU split (one extra py-spy-sampled phase per workload)",
    )
    parser.add_argument(
        "--timeout", type=float, help="give up after this many seconds (default 900; quick 300)"
    )
    return parser


def _stop_on_signal(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds through Children, which stops every child


def _give_up(signum: int, frame: FrameType | None) -> None:
    raise TimeoutError("the benchmark ran past its --timeout")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    for name in ("calls", "rounds", "soak_calls"):
        value = getattr(args, name)
        if value is not None and value < 1:
            build_parser().error(f"--{name.replace('_', '-')} must be at least 1")
    if args.concurrency < 1 or args.burst_calls < 1:
        build_parser().error("--concurrency and --burst-calls must be at least 1")
    plan = make_plan(args)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _stop_on_signal)
    signal.signal(signal.SIGALRM, _give_up)
    signal.alarm(int(args.timeout or (300 if args.quick else 900)))
    raise_fd_limit()

    def log(message: str) -> None:
        print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    try:
        results = run(plan, args, log)
    except ChildFailed as error:
        print(f"bench: {error}", file=sys.stderr)
        return 1
    finally:
        signal.alarm(0)
    document = {
        "machine": machine_facts(),
        "plan": {
            **dataclasses.asdict(plan),
            "upstream": args.upstream,
            "facade_log_level": args.facade_log_level or "INFO (facade default)",
            "facade_args": args.facade_args,
            "facade_root": str(args.facade_root),
            "client_loop": args.client_loop,
            "workload_cycles": {name: list(cycle) for name, cycle in WORKLOADS.items()},
        },
        **results,
    }
    document = finite(document)
    document["targets"] = report.evaluate(document)
    print(report.render(document), flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(document, indent=2) + "\n")
    return 0
