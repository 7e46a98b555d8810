"""Reliability suite: sizes and figures.

Every scenario runs SHORT in the normal `python -m pytest` run. `RELIABILITY_FULL=1` picks the
FULL sizes. Each scenario records its figures; they are printed at the end of its module (see
them with `-s`) and, when `RELIABILITY_REPORT_DIR` is set, written there as `<scenario>.json`.
"""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

FULL = os.environ.get("RELIABILITY_FULL", "").strip().lower() not in {"", "0", "false", "no"}
MODE = "full" if FULL else "short"


def size(short: int, full: int) -> int:
    """The size of a scenario in this run."""
    return full if FULL else short


class Figures:
    """What one scenario measured, for docs/reliability.md."""

    def __init__(self, scenario: str) -> None:
        self.scenario = scenario
        self.data: dict[str, Any] = {}

    def record(self, **values: Any) -> None:
        self.data.update(values)

    def as_json(self, seconds: float) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "mode": MODE,
            "duration_s": round(seconds, 2),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            **self.data,
        }


@pytest.fixture(scope="module")
def figures(request: pytest.FixtureRequest) -> Iterator[Figures]:
    scenario = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
    recorded = Figures(scenario)
    started = time.monotonic()
    yield recorded
    report = recorded.as_json(time.monotonic() - started)
    print(f"\n[reliability {MODE}] {json.dumps(report, sort_keys=False)}")
    folder = os.environ.get("RELIABILITY_REPORT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / f"{scenario}.json").write_text(json.dumps(report, indent=2) + "\n")
