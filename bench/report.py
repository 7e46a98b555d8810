"""Targets and the terminal table; the JSON document is the same data, unformatted."""

from __future__ import annotations

from typing import Any

from bench import split
from bench.client import WORKLOADS

# Issue #14's targets; every target is "value <= limit". At 16 in flight only the CPU ratio is
# a target: latency there is queueing behind a CPU-bound loop (16 ÷ throughput), shown as info.
CPU_RATIO_LIMIT = 1.35  # per workload at the plan's concurrency
SERIAL_LIMITS = {"cpu_ratio": 1.5, "added_p50_ms": 0.45, "added_p99_ms": 1.5}  # get @1
BURST_LIMIT = 1.5  # x the upstream latency
IDLE_RSS_LIMIT_MB = 64.0
RSS_GROWTH_LIMIT_MB = 5.0
START_LIMIT_S = 0.4
_UNITS = {"cpu_ratio": "x", "added_p50_ms": "ms", "added_p99_ms": "ms"}


def _target(name: str, scope: str, value: float | None, limit: float, unit: str) -> dict[str, Any]:
    # No value (too few calls to measure) is not a pass.
    return {
        "name": name,
        "scope": scope,
        "value": value,
        "limit": limit,
        "unit": unit,
        "pass": value is not None and value <= limit,
    }


def evaluate(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Every target with its measured value and PASS/MISS, judged as measured."""
    found = []
    concurrency = doc["plan"]["concurrency"]
    for workload in WORKLOADS:
        ratio = doc["workloads"][workload]["ratios"]["cpu_ratio"]
        scope = f"{workload} @{concurrency}"
        found.append(_target("cpu_ratio", scope, ratio, CPU_RATIO_LIMIT, "x"))
    serial = doc["serial_get"]["ratios"]
    for key, limit in SERIAL_LIMITS.items():
        found.append(_target(key, "get @1", serial[key], limit, _UNITS[key]))
    burst = doc["burst"]
    found.append(
        _target(
            "burst_added_latency_units",
            f"{burst['calls']} calls",
            burst["added_units"],
            BURST_LIMIT,
            "x 100 ms",
        )
    )
    memory = doc["memory"]
    found.append(_target("idle_rss_mb", "facade", memory["idle_rss_mb"], IDLE_RSS_LIMIT_MB, "MB"))
    found.append(
        _target(
            "rss_growth_mb",
            f"{memory['soak_calls']} calls",
            memory["rss_growth_over_soak_mb"],
            RSS_GROWTH_LIMIT_MB,
            "MB",
        )
    )
    found.append(
        _target(
            "start_to_serving_s", "median", doc["startup"]["start_to_serving_s"], START_LIMIT_S, "s"
        )
    )
    return found


def _verdict(value: float | None, limit: float) -> str:
    return "PASS" if value is not None and value <= limit else "MISS"


def _num(value: float | None, spec: str, width: int) -> str:
    return f"{'n/a':>{width}}" if value is None else f"{value:{spec}}"


def _us(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1e6:.0f}"


def render(doc: dict[str, Any]) -> str:
    plan, machine = doc["plan"], doc["machine"]
    lines = [
        f"cloudfront-facade bench ({plan['mode']}): {machine['cores']} cores, "
        f"Python {machine['python']}, upstream {plan['upstream']} (own process)",
        f"{plan['concurrency']} in flight; {plan['rounds']} ABAB rounds x {plan['calls']} "
        f"calls per workload per side (first side alternates); warm-up {plan['warmup']}",
        f"facade: python -m service, log level {plan['facade_log_level']}, one JSON access "
        "log line per call; clients: " + plan["client_loop"],
        "",
        f"{'workload':9}{'side':8}{'calls/s':>9}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}"
        f"  {'CPU µs/call:':12}{'client':>7}{'facade':>7}{'upstr.':>7}{'errors':>8}",
    ]

    def row(label: str, side: str, summary: dict[str, Any]) -> str:
        lat, cpu = summary["latency_ms"], summary["cpu_s_per_call"]
        client = cpu.get("direct_client", cpu.get("grpc_client"))
        return (
            f"{label:9}{side:8}{_num(summary['throughput_per_s'], '9.0f', 9)}"
            f"{_num(lat['p50'], '9.2f', 9)}{_num(lat['p90'], '9.2f', 9)}"
            f"{_num(lat['p99'], '9.2f', 9)}  {'':12}{_us(client):>7}"
            f"{_us(cpu.get('facade_server')):>7}{_us(cpu.get('upstream')):>7}"
            f"{summary['errors']:8d}"
        )

    for workload in WORKLOADS:
        for side in ("direct", "facade"):
            lines.append(row(workload, side, doc["workloads"][workload][side]))
    for side in ("direct", "facade"):
        lines.append(row("get @1", side, doc["serial_get"][side]))
    lines.append(
        "  (client = the direct aioboto3 process, or the gRPC client process on the facade side)"
    )

    lines += [
        "",
        f"{'facade vs direct':22}{'CPU ratio':>15}{'added p50 ms':>19}"
        f"{'added p99 ms':>19}{'incl. gRPC client':>19}",
    ]
    for workload in (*WORKLOADS, "get @1"):
        serial = workload == "get @1"
        ratios = (doc["serial_get"] if serial else doc["workloads"][workload])["ratios"]
        limit = SERIAL_LIMITS["cpu_ratio"] if serial else CPU_RATIO_LIMIT

        lines.append(
            f"{workload:22}"
            f"{_num(ratios['cpu_ratio'], '9.2f', 9)} {_verdict(ratios['cpu_ratio'], limit)}"
            f"{_latency(ratios, 'added_p50_ms', serial)}{_latency(ratios, 'added_p99_ms', serial)}"
            f"{_num(ratios['cpu_ratio_with_grpc_client'], '17.2f', 17)}x"
        )
    serial_limits = [f"<= {SERIAL_LIMITS[key]}" for key in _UNITS]
    lines.append(f"{'targets':22}{f'<= {CPU_RATIO_LIMIT}':>15}{'info':>19}{'info':>19}")
    lines.append(
        f"{'targets get @1':22}"
        + "".join(f"{x:>{w}}" for x, w in zip(serial_limits, (15, 19, 19), strict=True))
    )
    lines += _split_lines(doc)

    burst, memory, startup = doc["burst"], doc["memory"], doc["startup"]
    units = [pair["added_units"] for pair in burst["pairs"]]
    lines += [
        "",
        f"burst of {burst['calls']} concurrent Gets via facade (--max-concurrency "
        f"{burst['facade_max_concurrency']}), fastest of {len(units)}: {burst['without_s']:.2f} s,"
        f" with {burst['upstream_latency_s'] * 1000:.0f} ms upstream latency "
        f"{burst['with_s']:.2f} s -> adds {burst['added_units']:.2f} x 100 ms "
        f"(target <= {BURST_LIMIT}) {_verdict(burst['added_units'], BURST_LIMIT)}",
        f"  per pair: median {burst['added_units_median_of_pairs']:.2f}, range "
        f"{min(units):.2f}..{max(units):.2f} x 100 ms (info); errors {burst['errors']}",
        f"idle RSS {memory['idle_rss_mb']:.1f} MB (target <= {IDLE_RSS_LIMIT_MB:.0f}) "
        f"{_verdict(memory['idle_rss_mb'], IDLE_RSS_LIMIT_MB)} (anon "
        f"{memory['idle_rss_split_mb'].get('RssAnon', 0):.1f}, file-backed "
        f"{memory['idle_rss_split_mb'].get('RssFile', 0):.1f}); after warm-up "
        f"{memory['rss_after_warmup_mb']:.1f} MB",
        f"RSS over {memory['soak_calls']} mixed calls {memory['rss_before_soak_mb']:.1f} -> "
        f"{memory['rss_after_soak_mb']:.1f} MB: {memory['rss_growth_over_soak_mb']:+.1f} MB "
        f"(target <= {RSS_GROWTH_LIMIT_MB:.0f}) "
        f"{_verdict(memory['rss_growth_over_soak_mb'], RSS_GROWTH_LIMIT_MB)}; idle to end "
        f"{memory['rss_growth_idle_to_end_mb']:+.1f} MB (info)",
        f"start to SERVING: median {startup['start_to_serving_s']:.2f} s of "
        f"{len(startup['samples_s'])} (max {startup['max_s']:.2f}) (target <= {START_LIMIT_S}) "
        f"{_verdict(startup['start_to_serving_s'], START_LIMIT_S)}",
        "",
        "versions: " + ", ".join(f"{k} {v}" for k, v in machine["versions"].items()),
        f"cpu: {machine['cpu_model']}; {machine['platform']}; run took {doc['elapsed_s']:.0f} s",
    ]
    misses = [t for t in doc["targets"] if not t["pass"]]
    lines.append(f"targets: {len(doc['targets']) - len(misses)} PASS, {len(misses)} MISS")
    return "\n".join(lines)


def _latency(ratios: dict[str, Any], key: str, judged: bool) -> str:
    verdict = _verdict(ratios[key], SERIAL_LIMITS[key]) if judged else "info"
    return f"{_num(ratios[key], '+13.2f', 13)} {verdict:4}"


def _split_lines(doc: dict[str, Any]) -> list[str]:
    found = doc.get("cpu_split") or {}
    if not found.get("workloads"):
        return ["", f"facade CPU by part: not measured ({found.get('unavailable') or 'no data'})"]
    widths = {part: max(7, len(label) + 2) for part, label in split.LABELS.items()}
    lines = [
        "",
        "facade CPU by part, µs/call: one extra phase per workload sampled by py-spy "
        "(bench/split.py: how each part is measured)",
        f"{'workload':9}"
        + "".join(f"{split.LABELS[part]:>{widths[part]}}" for part in split.PARTS)
        + f"{'sampled phase':>15}{'samples':>9}",
    ]
    for workload, entry in found["workloads"].items():
        cpu = entry["cpu_s_per_call"]
        lines.append(
            f"{workload:9}"
            + "".join(f"{_us(cpu[part]):>{widths[part]}}" for part in split.PARTS)
            + f"{_us(entry['sampled_phase_cpu_s_per_call']):>15}{entry['loop_samples']:>9}"
        )
    lines.append(
        "  (gRPC = its poller and core threads + grpc Python frames; loop+gRPC Cython = loop-thread"
        " samples with no Python frame of their own: uvloop and gRPC's Cython layer)"
    )
    return lines
