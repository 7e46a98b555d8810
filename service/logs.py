"""Logging: JSON lines on stdout, with secrets scrubbed from every line whatever logger wrote it.

The redactor runs on the final text, so a secret cannot slip through an exception message,
a botocore debug dump or a third-party logger.
"""

from __future__ import annotations

import json
import logging
import math
import re
import sys
import time
from collections.abc import Iterable
from json.encoder import encode_basestring
from typing import Any, ClassVar

ACCESS_LOGGER = "cloudfront_facade.access"
LOGGER = "cloudfront_facade"

# Header values and signing material that must never be shown, whatever the secret is.
_SENSITIVE = re.compile(
    r"(?i)(authorization|x-amz-security-token|aws_secret_access_key|aws_session_token"
    r"|secret_key|session_token|signature)(['\"]?\s*[:=]\s*['\"]?)([^'\",\s}]+(?: [^'\",\s}]+)?)"
)
_ACCESS_KEY = re.compile(r"\b(AKIA|ASIA)[A-Z0-9]{12,}\b")
REDACTED = "[REDACTED]"


class Redactor:
    """Known secret values plus patterns; shared by every handler of the process."""

    def __init__(self) -> None:
        self._secrets: set[str] = set()

    def add(self, secrets: Iterable[str | None]) -> None:
        # Short strings would redact ordinary words; real secrets are long.
        self._secrets.update(s for s in secrets if s and len(s) >= 8)

    def discard(self, secrets: Iterable[str | None]) -> None:
        """Forget secrets that are no longer used (rotated credentials long expired)."""
        self._secrets.difference_update(s for s in secrets if s)

    def __call__(self, text: str, *, patterns: bool = True) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        if not patterns:
            return text
        text = _SENSITIVE.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
        return _ACCESS_KEY.sub(REDACTED, text)


redactor = Redactor()


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and any `fields` extra."""

    _RESERVED: ClassVar[frozenset[str]] = frozenset(
        logging.LogRecord("", 0, "", 0, "", None, None).__dict__
    ) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(fields)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        text = json.dumps(entry, default=str, ensure_ascii=False)
        # Access lines hold only fields the facade built (the caller's x-request-id is checked
        # to be short printable ASCII), so the pattern pass, the costly part, is skipped for
        # them; known secret values are still scrubbed from every line.
        return redactor(text, patterns=record.name != ACCESS_LOGGER)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            text += " " + " ".join(f"{k}={v}" for k, v in fields.items())
        return redactor(text)


def _json(value: object) -> str:
    """One value exactly as ``json.dumps(..., default=str, ensure_ascii=False)`` writes it."""
    if value is None:
        return "null"
    if isinstance(value, str):
        return str(encode_basestring(value))
    if type(value) is float and math.isfinite(value):
        return repr(value)
    if isinstance(value, float | int) and not isinstance(value, bool):
        return json.dumps(value)
    return str(encode_basestring(str(value)))


class AccessLog:
    """The one access line per call, cheap on the hot path.

    When :func:`configure` installed the JSON writer and the record would reach nothing else
    (no other handler or filter on the way, the logger enabled at INFO), the line is built
    from a fixed field order and written straight to the writer's stream, byte for byte what
    :class:`JsonFormatter` would write, known secrets still scrubbed. A ``LogRecord`` costs
    more than the rest of the line; anything else attached (a test's ``caplog``, a handler
    added at run time) gets the ordinary record with its ``fields``.
    """

    _HEAD = '", "level": "INFO", "logger": "' + ACCESS_LOGGER + '", "message": "call"'

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self._logger = logger or logging.getLogger(ACCESS_LOGGER)
        self._writer: logging.StreamHandler[Any] | None = None
        self._second = -1
        self._stamp = ""
        self._names: dict[str, str] = {}

    def install(self, writer: logging.StreamHandler[Any] | None) -> None:
        self._writer = writer

    def _name(self, name: str) -> str:
        encoded = self._names[name] = _json(name)
        return encoded

    def enabled(self) -> bool:
        return self._logger.isEnabledFor(logging.INFO)

    @property
    def direct(self) -> logging.StreamHandler[Any] | None:
        """The writer the next line goes straight to; None: the ordinary record path."""
        return self._direct()

    def _direct(self) -> logging.StreamHandler[Any] | None:
        writer = self._writer
        logger: logging.Logger | None = self._logger
        if writer is None or self._logger.filters or writer.filters or writer.level > logging.INFO:
            return None
        while logger is not None:
            if logger.parent is None:  # the root: exactly the writer configure() set up
                return writer if logger.handlers == [writer] else None
            if logger.handlers or not logger.propagate:
                return None
            logger = logger.parent
        return None

    def write(
        self,
        method: str,
        code: str,
        duration_ms: float,
        request_id: str,
        aws_request_id: str | None,
        aws_error_code: str | None,
        peer: str,
    ) -> None:
        writer = self._direct()
        if writer is not None:
            now = time.time()
            second = int(now)
            if second != self._second:
                self._second = second
                self._stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            names = self._names  # method and code names repeat: each is encoded once
            line = (
                f'{{"time": "{self._stamp}.{int((now - second) * 1000):03d}Z{self._HEAD}'
                f', "method": {names.get(method) or self._name(method)}'
                f', "code": {names.get(code) or self._name(code)}'
                f', "duration_ms": {_json(duration_ms)}, "request_id": {_json(request_id)}'
                f', "aws_request_id": {"null" if aws_request_id is None else _json(aws_request_id)}'
                f', "aws_error_code": {"null" if aws_error_code is None else _json(aws_error_code)}'
                f', "peer": {_json(peer)}}}'
            )
            line = redactor(line, patterns=False) + writer.terminator
            lock = writer.lock
            if lock is not None:
                try:
                    # As Handler.handle: lines from other threads never interleave. Flushed
                    # per line, as StreamHandler does: batching the flush per loop turn was
                    # measured and saved ~0.25 of 8.5 write syscalls per call at 16 in flight.
                    with lock:
                        writer.stream.write(line)
                        writer.stream.flush()
                    return
                except Exception:  # the record path below reports it, as logging does
                    pass
        self._logger.info(
            "call",
            extra={
                "fields": {
                    "method": method,
                    "code": code,
                    "duration_ms": duration_ms,
                    "request_id": request_id,
                    "aws_request_id": aws_request_id,
                    "aws_error_code": aws_error_code,
                    "peer": peer,
                }
            },
        )


access = AccessLog()


def configure(level: str, fmt: str = "json") -> None:
    """Route every logger to stdout in the chosen format; replaces earlier handlers."""
    # Written inline on the loop thread: a writer thread measured slower (GIL hand-offs cost
    # more than the write), and a sidecar's stdout is drained by the container runtime.
    writer = logging.StreamHandler(sys.stdout)
    writer.setFormatter(
        JsonFormatter() if fmt == "json" else TextFormatter("%(asctime)s %(levelname)s %(message)s")
    )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(writer)
    root.setLevel(level)
    access.install(writer if fmt == "json" else None)
    # botocore at DEBUG dumps every signed request; the redactor would scrub it, but the volume
    # drowns the access log. Opt in with the botocore logger explicitly if ever needed.
    for noisy in ("botocore", "aiobotocore", "aioboto3", "urllib3"):
        logging.getLogger(noisy).setLevel(max(logging.INFO, logging.getLevelName(level)))
    # service.credentials logs each failed refresh once, at ERROR; aiobotocore's WARNING with a
    # traceback for the same failure would only double it.
    logging.getLogger("aiobotocore.credentials").setLevel(logging.ERROR)
