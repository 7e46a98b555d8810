"""What botocore's CloudFront model says: routes, shapes, and the statuses of modelled errors.

The emulator restates none of it: paths, methods, response codes, element names, header
members and error statuses all come from here.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import unquote

import botocore.session

_SEGMENT_LABEL: Final = re.compile(r"\{(\w+)\}")


class ApiError(Exception):
    """A CloudFront error response; raised anywhere in request handling."""

    def __init__(self, code: str, message: str, status: int) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


@functools.cache
def service_model() -> Any:
    """botocore's CloudFront model, loaded once (parsing it is slow)."""
    return botocore.session.get_session().get_service_model("cloudfront")


@functools.cache
def namespace() -> str:
    """The xmlNamespace CloudFront's documents use (the same for every operation)."""
    model = service_model()
    for name in model.operation_names:
        member = payload_member(model.operation_model(name).input_shape)
        if member is not None:
            uri: str = (
                model.operation_model(name)
                .input_shape.members[member]
                .serialization["xmlNamespace"]["uri"]
            )
            return uri
    raise LookupError("the CloudFront model declares no xmlNamespace")  # pragma: no cover


def operation(name: str) -> Any:
    return service_model().operation_model(name)


def shape(name: str) -> Any:
    return service_model().shape_for(name)


def element_name(member_name: str, member: Any) -> str:
    """The XML element name of a member: its locationName, else its member name."""
    name: str = member.serialization.get("name", member_name)
    return name


def payload_member(structure: Any) -> str | None:
    """The member a REST-XML input or output carries as its body, if any."""
    if structure is None:
        return None
    payload: str | None = structure.serialization.get("payload")
    return payload


def error(code: str, message: str) -> ApiError:
    """A modelled error with the HTTP status the model gives its shape."""
    status = shape(code).metadata["error"]["httpStatusCode"]
    return ApiError(code, message, int(status))


@dataclass(frozen=True, slots=True)
class Route:
    """One operation's method and path, compiled from its requestUri."""

    operation: str
    method: str
    pattern: re.Pattern[str]
    response_code: int

    @classmethod
    def of(cls, name: str) -> Route:
        http = operation(name).http
        uri = http["requestUri"].partition("?")[0]
        parts = []
        for segment in uri.split("/"):
            label = _SEGMENT_LABEL.fullmatch(segment)
            parts.append(f"(?P<{label.group(1)}>[^/]+)" if label else re.escape(segment))
        return cls(name, http["method"], re.compile("/".join(parts)), int(http["responseCode"]))

    def match(self, raw_path: str) -> dict[str, str] | None:
        """Uri labels of a still percent-encoded path, decoded, or None if it does not match."""
        found = self.pattern.fullmatch(raw_path)
        if found is None:
            return None
        # Split before decoding so an encoded "/" stays part of the label.
        return {key: unquote(value) for key, value in found.groupdict().items()}

    def path(self, labels: Mapping[str, str]) -> str:
        """The requestUri with its labels filled in (for a Location header)."""
        uri: str = operation(self.operation).http["requestUri"].partition("?")[0]
        return _SEGMENT_LABEL.sub(lambda label: labels[label.group(1)], uri)
