"""Logging: JSON lines on stdout, with secrets scrubbed from every line whatever logger wrote it.

The redactor runs on the final text, so a secret cannot slip through an exception message,
a botocore debug dump or a third-party logger.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from collections.abc import Iterable
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
    # botocore at DEBUG dumps every signed request; the redactor would scrub it, but the volume
    # drowns the access log. Opt in with the botocore logger explicitly if ever needed.
    for noisy in ("botocore", "aiobotocore", "aioboto3", "urllib3"):
        logging.getLogger(noisy).setLevel(max(logging.INFO, logging.getLevelName(level)))
    # service.credentials logs each failed refresh once, at ERROR; aiobotocore's WARNING with a
    # traceback for the same failure would only double it.
    logging.getLogger("aiobotocore.credentials").setLevel(logging.ERROR)
