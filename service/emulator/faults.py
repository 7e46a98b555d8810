"""Fault rules, their selection, and the request log."""

from __future__ import annotations

import dataclasses
import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from service.emulator.resources import OPERATIONS, has_output_document

# Operations whose success has no body: a malformed body there would be a silent success.
_NO_DOCUMENT = frozenset(name for name in OPERATIONS if not has_output_document(name))


@dataclass(frozen=True, slots=True)
class FaultRule:
    """How to misbehave for matching CloudFront calls.

    Outcomes are exclusive: an error (``error_code``), a dropped connection or a
    malformed body; with none of them the rule only adds latency or a hold. A malformed
    body is refused for operations that answer with no body (Delete: 204), and a rule
    for any operation skips them, since the client would see a success.
    ``hold`` makes the request wait, before the operation runs, until the emulator's
    ``release_held()`` (or ``POST /_emulator/release``): tests then wait on
    ``wait_held(n)`` instead of racing the clock. It combines with everything else.
    ``after_commit`` performs the operation first and then applies the outcome, so
    the client loses a response for a committed change; its latency then also
    comes after the commit (a slow response rather than a slow request).
    """

    operation: str | None = None
    error_code: str | None = None
    http_status: int = 400
    message: str = ""
    latency: float = 0.0
    drop_connection: bool = False
    after_commit: bool = False
    malformed_body: bool = False
    hold: bool = False
    times: int | None = None
    probability: float = 1.0

    def __post_init__(self) -> None:
        if self.operation is not None and self.operation not in OPERATIONS:
            known = ", ".join(sorted(OPERATIONS))
            raise ValueError(f"unknown operation {self.operation!r}; expected one of {known}")
        if self.malformed_body and self.operation in _NO_DOCUMENT:
            raise ValueError(
                f"malformed_body cannot apply to {self.operation}: it answers with no body, "
                "so the client would see a success"
            )
        if self.error_code is not None and not self.error_code:
            raise ValueError("error_code must be non-empty or None")
        if not 100 <= self.http_status <= 599:
            raise ValueError("http_status must be between 100 and 599")
        if not math.isfinite(self.latency) or self.latency < 0:
            raise ValueError("latency must be a finite, non-negative number of seconds")
        outcomes = (self.error_code is not None) + self.drop_connection + self.malformed_body
        if outcomes > 1:
            raise ValueError("error_code, drop_connection and malformed_body are exclusive")
        if self.times is not None and self.times < 1:
            raise ValueError("times must be a positive integer or None")
        if not 0.0 <= self.probability <= 1.0:
            raise ValueError("probability must be between 0 and 1")

    @property
    def has_outcome(self) -> bool:
        return self.error_code is not None or self.drop_connection or self.malformed_body

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FaultRule:
        """Build a rule from decoded JSON, rejecting unknown fields and wrong types."""
        kwargs: dict[str, Any] = {}
        for name, value in data.items():
            expected = _FIELD_TYPES.get(name)
            if expected is None:
                raise ValueError(f"unknown field {name!r}")
            # bool is an int subclass; a JSON true must not pass as a status.
            if isinstance(value, bool) and bool not in expected:
                raise ValueError(f"field {name!r} has the wrong type")
            if not isinstance(value, expected):
                raise ValueError(f"field {name!r} has the wrong type")
            if name in _FLOAT_FIELDS and isinstance(value, int | float):
                value = float(value)
            kwargs[name] = value
        return cls(**kwargs)


_NONE = type(None)
_FLOAT_FIELDS = frozenset({"latency", "probability"})
_FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "operation": (str, _NONE),
    "error_code": (str, _NONE),
    "http_status": (int,),
    "message": (str,),
    "latency": (int, float),
    "drop_connection": (bool,),
    "after_commit": (bool,),
    "malformed_body": (bool,),
    "hold": (bool,),
    "times": (int, _NONE),
    "probability": (int, float),
}


@dataclass(slots=True)
class RequestRecord:
    """One CloudFront API request as the emulator saw it (admin calls are not logged)."""

    request_id: str
    operation: str | None
    method: str
    path: str
    if_match: str | None
    authorization_present: bool
    amz_date: str | None
    invocation_id: str | None
    sdk_request: str | None
    time: float
    # None until answered, and stays None when the connection was dropped.
    status: int | None = None
    fault: FaultRule | None = None
    # The access key id the Authorization header names, verified or not.
    access_key: str | None = None

    @property
    def attempt(self) -> int | None:
        """The attempt number from botocore's ``amz-sdk-request: attempt=N; max=M``."""
        if not self.sdk_request:
            return None
        for part in self.sdk_request.split(";"):
            key, _, value = part.strip().partition("=")
            if key == "attempt" and value.isdigit():
                return int(value)
        return None

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["attempt"] = self.attempt
        return data


@dataclass(slots=True)
class _ActiveRule:
    rule: FaultRule
    remaining: int | None


class FaultInjector:
    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._rules: list[_ActiveRule] = []

    def add(self, rule: FaultRule) -> None:
        self._rules.append(_ActiveRule(rule, rule.times))

    def clear(self) -> None:
        self._rules.clear()

    def rules(self) -> list[tuple[FaultRule, int | None]]:
        """Active rules in priority order with their remaining uses (None = unlimited)."""
        return [(active.rule, active.remaining) for active in self._rules]

    def select(self, operation: str) -> FaultRule | None:
        """The first rule that matches and wins its dice roll; consumes one use of it."""
        if not self._rules:
            return None
        for index, active in enumerate(self._rules):
            rule = active.rule
            if rule.operation is not None and rule.operation != operation:
                continue
            if rule.malformed_body and operation in _NO_DOCUMENT:
                continue
            if rule.probability < 1.0 and self._rng.random() >= rule.probability:
                continue
            if active.remaining is not None:
                active.remaining -= 1
                if active.remaining <= 0:
                    del self._rules[index]
            return rule
        return None
