"""The access line's fast path writes exactly what the JSON formatter would, and steps aside
whenever anything else should see the record (another handler, a filter, a disabled logger).

The facade's own process is covered end to end in tests/sidecar/test_logs_and_metrics.py;
these pin the writer itself, in this process, with the logging set-up restored afterwards.
"""

from __future__ import annotations

import io
import json
import logging
import re
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from service import logs

ACCESS_FIELDS = (
    "method",
    "code",
    "duration_ms",
    "request_id",
    "aws_request_id",
    "aws_error_code",
    "peer",
)
CALL: dict[str, Any] = {
    "method": "GetCloudFrontOriginAccessIdentity",
    "code": "OK",
    "duration_ms": 1.234,
    "request_id": "req-1",
    "aws_request_id": "0f1e2d3c-aaaa-bbbb-cccc-000000000001",
    "aws_error_code": None,
    "peer": "ipv4:127.0.0.1:40000",
}


@pytest.fixture
def stdout() -> Iterator[io.StringIO]:
    """logs.configure() bound to a scratch stream; the previous logging set-up comes back."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    noisy = {name: logging.getLogger(name).level for name in ("botocore", "aiobotocore")}
    stream = io.StringIO()
    real, sys.stdout = sys.stdout, stream
    try:
        logs.configure("INFO", "json")
    finally:
        sys.stdout = real
    yield stream
    logs.access.install(None)
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in saved[0]:
        root.addHandler(handler)
    root.setLevel(saved[1])
    for name, level in noisy.items():
        logging.getLogger(name).setLevel(level)
    logging.getLogger(logs.ACCESS_LOGGER).disabled = False


def formatted(**fields: Any) -> dict[str, Any]:
    """What JsonFormatter writes for the same call, decoded, without the time."""
    record = logging.LogRecord(logs.ACCESS_LOGGER, logging.INFO, __file__, 0, "call", None, None)
    record.fields = fields
    entry: dict[str, Any] = json.loads(logs.JsonFormatter().format(record))
    return entry


def without_time(line: str) -> str:
    return line.split('", ', 1)[1]


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"request_id": 'quote"back\\slash', "aws_error_code": "AccessDenied"},
        {"peer": "unix:/tmp/sock dir/é€😀", "aws_request_id": None},
        {"duration_ms": 0.0, "code": "DEADLINE_EXCEEDED"},
        {"duration_ms": 12345.678},
    ],
    ids=["plain", "escapes", "non-ascii-and-null", "zero", "large"],
)
def test_the_fast_line_is_byte_for_byte_the_formatter_line(
    stdout: io.StringIO, changes: dict[str, Any]
) -> None:
    call = CALL | changes
    logs.access.write(**call)
    line = stdout.getvalue()
    assert line.count("\n") == 1
    assert line.endswith("\n")
    record = logging.LogRecord(logs.ACCESS_LOGGER, logging.INFO, __file__, 0, "call", None, None)
    record.fields = call
    assert without_time(line.rstrip("\n")) == without_time(logs.JsonFormatter().format(record))


def test_the_fast_line_keeps_the_field_order_and_a_utc_millisecond_time(
    stdout: io.StringIO,
) -> None:
    logs.access.write(**CALL)
    entry = json.loads(stdout.getvalue())
    assert list(entry) == ["time", "level", "logger", "message", *ACCESS_FIELDS]
    assert entry == formatted(**CALL) | {"time": entry["time"]}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", entry["time"])


def test_known_secrets_are_scrubbed_on_the_fast_path(stdout: io.StringIO) -> None:
    secret = "caller-supplied-secret-value-0123"
    logs.redactor.add([secret])
    logs.access.write(**CALL | {"request_id": secret})
    assert secret not in stdout.getvalue()
    assert json.loads(stdout.getvalue())["request_id"] == logs.REDACTED


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.mark.parametrize("where", ["root", "access logger", "parent logger"])
def test_another_handler_gets_the_record_with_its_fields(stdout: io.StringIO, where: str) -> None:
    collect = Collect()
    name = {"root": "", "access logger": logs.ACCESS_LOGGER, "parent logger": logs.LOGGER}[where]
    logger = logging.getLogger(name)
    logger.addHandler(collect)
    try:
        logs.access.write(**CALL)
    finally:
        logger.removeHandler(collect)
    assert [r.fields for r in collect.records] == [CALL]  # type: ignore[attr-defined]
    assert json.loads(stdout.getvalue()) == formatted(**CALL) | {
        "time": json.loads(stdout.getvalue())["time"]
    }


def test_a_filter_on_the_access_logger_still_decides(stdout: io.StringIO) -> None:
    logger = logging.getLogger(logs.ACCESS_LOGGER)
    refuse = logging.Filter("nothing-matches-this")
    logger.addFilter(refuse)
    try:
        logs.access.write(**CALL)
    finally:
        logger.removeFilter(refuse)
    assert stdout.getvalue() == ""


@pytest.mark.parametrize("how", ["level WARNING", "disabled"])
def test_a_silenced_access_logger_is_not_enabled(stdout: io.StringIO, how: str) -> None:
    logger = logging.getLogger(logs.ACCESS_LOGGER)
    if how == "disabled":
        logger.disabled = True
    else:
        logger.setLevel(logging.WARNING)
    try:
        assert not logs.access.enabled()
    finally:
        logger.setLevel(logging.NOTSET)
        logger.disabled = False
    assert logs.access.enabled()
