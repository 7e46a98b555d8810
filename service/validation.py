"""Local validation: reject a bad request before it costs an AWS call.

Each RPC has a list of (field path, check) rules; every failing rule becomes one
``google.rpc.BadRequest`` field violation, so a caller learns of all its mistakes at once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from google.protobuf.message import Message

# Real ids vary in length (E2QWRUHAPOMQZL, E74FTE3AJFJ256A): pin the alphabet, bound the length.
_ID = re.compile(r"[A-Z0-9]{1,64}")
# An ETag travels in the If-Match header: printable ASCII only, so nothing can break the header.
_ETAG = re.compile(r"[\x21-\x7e]{1,256}")
# Characters XML 1.0 cannot carry; the comment and caller reference travel in an XML body.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# A marker is the id of the last item of a page; any printable ASCII is let through to AWS.
_MARKER = re.compile(r"[\x21-\x7e]{1,1024}")
MAX_COMMENT = 128
MAX_CALLER_REFERENCE = 1024

Check = Callable[[Any], str | None]
Violation = tuple[str, str]


def _id(value: str) -> str | None:
    if not value:
        return "must not be empty"
    if not _ID.fullmatch(value):
        return "must be 1 to 64 characters A-Z and 0-9, like E74FTE3AJFJ256A"
    return None


def _if_match(value: str) -> str | None:
    if not value:
        return "must not be empty: pass the etag of your last read"
    if not _ETAG.fullmatch(value):
        return "must be the etag returned by a previous call (printable ASCII, at most 256)"
    return None


def _caller_reference(value: str) -> str | None:
    if not value:
        return "must not be empty"
    if len(value) > MAX_CALLER_REFERENCE:
        return f"must be at most {MAX_CALLER_REFERENCE} characters"
    if _NOT_XML.search(value):
        return "must not contain control characters"
    return None


def _comment(value: str) -> str | None:
    if len(value) > MAX_COMMENT:
        return f"must be at most {MAX_COMMENT} characters, got {len(value)}"
    if _NOT_XML.search(value):
        return "must not contain control characters"
    return None


def _max_items(value: int) -> str | None:
    return "must not be negative (0 means the default of 100)" if value < 0 else None


def _marker(value: str) -> str | None:
    if value and not _MARKER.fullmatch(value):
        return "must be the next_marker of a previous page (printable ASCII, at most 1024)"
    return None


_CONFIG = "cloud_front_origin_access_identity_config"
_CONFIG_RULES: Sequence[tuple[str, Check]] = (
    (f"{_CONFIG}.caller_reference", _caller_reference),
    (f"{_CONFIG}.comment", _comment),
)

#: RPC name -> rules, checked in order.
RULES: Mapping[str, Sequence[tuple[str, Check]]] = {
    "CreateCloudFrontOriginAccessIdentity": _CONFIG_RULES,
    "GetCloudFrontOriginAccessIdentity": (("id", _id),),
    "GetCloudFrontOriginAccessIdentityConfig": (("id", _id),),
    "UpdateCloudFrontOriginAccessIdentity": (("id", _id), ("if_match", _if_match),
                                             *_CONFIG_RULES),
    "DeleteCloudFrontOriginAccessIdentity": (("id", _id), ("if_match", _if_match)),
    "ListCloudFrontOriginAccessIdentities": (("marker", _marker), ("max_items", _max_items)),
}


def _lookup(message: Message, path: str) -> Any:
    value: Any = message
    for part in path.split("."):
        value = getattr(value, part)
    return value


def violations(rpc: str, request: Message) -> list[Violation]:
    """Every rule the request breaks, as (field path, description)."""
    found: list[Violation] = []
    for path, check in RULES[rpc]:
        problem = check(_lookup(request, path))
        if problem is not None:
            found.append((path, problem))
    return found
