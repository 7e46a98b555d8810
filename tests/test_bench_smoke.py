"""Smoke test of the benchmark harness (`python -m bench`): it runs end to end in a tiny mode,
stops every process it started, and writes the JSON document it promises.

No timing assertions: the numbers depend on the machine. Only their presence and sign are
checked, so a slow CI machine cannot fail this test.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
WORKLOADS = ("mixed", "get", "update", "list", "get-oac")


def _positive(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value) and value > 0


def _non_negative(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value) and value >= 0


def test_quick_bench_writes_the_expected_json(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    # 100 calls a phase: enough for every measured process to cost at least a few clock ticks;
    # the soak and the burst need only run (their figures are checked for presence and sign).
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--quick",
            "--calls",
            "100",
            "--rounds",
            "1",
            "--soak-calls",
            "100",
            "--burst-calls",
            "50",
            "--json",
            str(out),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    assert "PASS" in completed.stdout or "MISS" in completed.stdout
    doc = json.loads(out.read_text())

    machine = doc["machine"]
    assert _positive(machine["cores"])
    for library in ("grpcio", "aioboto3", "aiobotocore", "botocore", "protobuf", "uvloop"):
        assert machine["versions"][library]

    for workload in WORKLOADS:
        entry = doc["workloads"][workload]
        for side, client in (("direct", "direct_client"), ("facade", "grpc_client")):
            summary = entry[side]
            assert summary["calls"] == 100
            assert summary["errors"] == 0, summary["error_samples"]
            assert _positive(summary["throughput_per_s"])
            for name in ("p50", "p90", "p99"):
                assert _positive(summary["latency_ms"][name])
            cpu = summary["cpu_s_per_call"]
            assert _non_negative(cpu[client])
            assert _non_negative(cpu["upstream"])
        assert _positive(entry["facade"]["cpu_s_per_call"]["facade_server"])
        assert _positive(entry["direct"]["cpu_s_per_call"]["direct_client"])
        ratios = entry["ratios"]
        assert _positive(ratios["cpu_ratio"])
        assert isinstance(ratios["added_p50_ms"], float)
        assert isinstance(ratios["added_p99_ms"], float)

    split = doc["cpu_split"]
    if split["unavailable"] is None:  # py-spy is a dev dependency, but may lack ptrace rights
        for workload in WORKLOADS:
            parts = split["workloads"][workload]["cpu_s_per_call"]
            assert set(parts) == {"grpc", "loop_cython", "access_log", "facade", "sdk", "other"}
            assert all(_non_negative(seconds) for seconds in parts.values())
            assert _positive(sum(parts.values()))
    else:
        assert "facade CPU by part: not measured" in completed.stdout

    assert doc["burst"]["calls"] == 50
    assert doc["burst"]["errors"] == 0
    assert _positive(doc["burst"]["with_s"])
    assert _positive(doc["burst"]["without_s"])
    memory = doc["memory"]
    for key in ("idle_rss_mb", "rss_before_soak_mb", "rss_after_soak_mb"):
        assert _positive(memory[key])
    assert _positive(doc["startup"]["start_to_serving_s"])
    assert doc["facade_exit_code"] == 0  # drained and stopped cleanly on SIGTERM

    names = {target["name"] for target in doc["targets"]}
    assert names >= {
        "cpu_ratio",
        "added_p50_ms",
        "added_p99_ms",
        "burst_added_latency_units",
        "idle_rss_mb",
        "rss_growth_mb",
        "start_to_serving_s",
    }
    assert all(isinstance(target["pass"], bool) for target in doc["targets"])
