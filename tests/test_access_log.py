"""The access line's fast path writes exactly what the JSON formatter would, and steps aside
whenever anything else should see the record (another handler, a filter, a silenced logger).

The facade's own process is covered end to end in tests/sidecar/test_logs_and_metrics.py.
Here the writer runs on a logger hierarchy of its own, set up as logs.configure() sets up the
real one (pytest's log capture adds handlers to the real root during each test, which rightly
turns the fast path off there).
"""

from __future__ import annotations

import io
import json
import logging
import re
import sys
from dataclasses import dataclass
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


class Stream(io.StringIO):
    """A scratch stdout that counts its flushes (each is one write to the real stdout)."""

    flushes = 0

    def flush(self) -> None:
        self.flushes += 1


@dataclass
class Setup:
    stream: Stream
    writer: logging.StreamHandler[Any]
    root: logging.Logger
    logger: logging.Logger  # the access logger of this hierarchy
    access: logs.AccessLog

    def write(self, **changes: Any) -> None:
        self.access.write(**CALL | changes)

    def line(self) -> dict[str, Any]:
        entry: dict[str, Any] = json.loads(self.stream.getvalue())
        return entry


@pytest.fixture
def setup() -> Setup:
    root = logging.RootLogger(logging.INFO)
    logger = logging.Manager(root).getLogger(logs.ACCESS_LOGGER)
    stream = Stream()
    writer: logging.StreamHandler[Any] = logging.StreamHandler(stream)
    writer.setFormatter(logs.JsonFormatter())
    root.addHandler(writer)
    access = logs.AccessLog(logger)
    access.install(writer)
    return Setup(stream, writer, root, logger, access)


def formatter_line(call: dict[str, Any]) -> str:
    record = logging.LogRecord(logs.ACCESS_LOGGER, logging.INFO, __file__, 0, "call", None, None)
    record.fields = call
    return logs.JsonFormatter().format(record)


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
    setup: Setup, changes: dict[str, Any]
) -> None:
    assert setup.access.direct is setup.writer
    setup.write(**changes)
    line = setup.stream.getvalue()
    assert line.count("\n") == 1
    assert line.endswith("\n")
    assert without_time(line.rstrip("\n")) == without_time(formatter_line(CALL | changes))


def test_the_fast_line_keeps_the_field_order_and_a_utc_millisecond_time(setup: Setup) -> None:
    setup.write()
    entry = setup.line()
    assert list(entry) == ["time", "level", "logger", "message", *ACCESS_FIELDS]
    assert entry == json.loads(formatter_line(CALL)) | {"time": entry["time"]}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", entry["time"])


def test_known_secrets_are_scrubbed_on_the_fast_path(setup: Setup) -> None:
    secret = "caller-supplied-secret-value-0123"
    logs.redactor.add([secret])
    setup.write(request_id=secret)
    assert secret not in setup.stream.getvalue()
    assert setup.line()["request_id"] == logs.REDACTED


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.mark.parametrize("where", ["root", "access logger", "parent logger"])
def test_another_handler_gets_the_record_with_its_fields(setup: Setup, where: str) -> None:
    collect = Collect()
    holder = {
        "root": setup.root,
        "access logger": setup.logger,
        "parent logger": setup.logger.parent,
    }[where]
    assert holder is not None
    holder.addHandler(collect)
    assert setup.access.direct is None
    setup.write()
    assert [r.fields for r in collect.records] == [CALL]  # type: ignore[attr-defined]
    entry = setup.line()  # the JSON writer still writes the same line, through the record
    assert entry == json.loads(formatter_line(CALL)) | {"time": entry["time"]}


def test_a_filter_on_the_access_logger_still_decides(setup: Setup) -> None:
    setup.logger.addFilter(logging.Filter("nothing-matches-this"))
    setup.write()
    assert setup.stream.getvalue() == ""


def test_a_logger_that_does_not_propagate_gets_no_fast_line(setup: Setup) -> None:
    setup.logger.propagate = False
    setup.write()
    assert setup.stream.getvalue() == ""  # no handler of its own: INFO goes nowhere


@pytest.mark.parametrize("how", ["level WARNING", "disabled"])
def test_a_silenced_access_logger_is_not_enabled(setup: Setup, how: str) -> None:
    assert setup.access.enabled()
    if how == "disabled":
        setup.logger.disabled = True
    else:
        setup.logger.setLevel(logging.WARNING)
    assert not setup.access.enabled()


def test_every_line_is_flushed_as_it_is_written(setup: Setup) -> None:
    setup.write()
    assert setup.stream.flushes == 1
    setup.write()
    assert setup.stream.flushes == 2


def test_configure_puts_the_access_line_on_the_fast_path() -> None:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    noisy = {name: logging.getLogger(name).level for name in ("botocore", "aiobotocore")}
    stream = Stream()
    real, sys.stdout = sys.stdout, stream
    try:
        logs.configure("INFO", "json")
        writer = root.handlers[0]
        direct = logs.access.direct
        logs.configure("INFO", "text")
        text_direct = logs.access.direct
    finally:
        sys.stdout = real
        logs.access.install(None)
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved[0]:
            root.addHandler(handler)
        root.setLevel(saved[1])
        for name, level in noisy.items():
            logging.getLogger(name).setLevel(level)
    assert direct is writer
    assert text_direct is None  # the text format keeps the record path
