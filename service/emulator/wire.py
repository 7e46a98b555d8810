"""CloudFront REST-XML (API 2020-05-31) documents, encoded and decoded from botocore's shapes.

Nothing here knows a resource: element names, list member names, which members are
required and which values an enum allows all come from the shape being read or written.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any, Final

from aiohttp import web

from service.emulator import model
from service.emulator.model import ApiError

__all__ = ["ApiError"]

REQUEST_ID_HEADER: Final = "x-amzn-RequestId"

_XML_DECL: Final = '<?xml version="1.0" encoding="UTF-8"?>\n'
_XML_CONTENT_TYPE: Final = "text/xml"


def missing_body() -> ApiError:
    return model.error("MissingBody", "The request body is missing.")


def invalid_argument(message: str) -> ApiError:
    return model.error("InvalidArgument", message)


def escape(text: str) -> str:
    # "\r" is escaped too: XML parsers normalise a literal CR to LF.
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    )


# -- decoding requests --------------------------------------------------------------


def _local_name(tag: str) -> tuple[str | None, str]:
    if tag.startswith("{"):
        namespace, _, name = tag[1:].partition("}")
        return namespace, name
    return None, tag


def decode(structure: Any, root_name: str, body: bytes) -> dict[str, Any]:
    """The members of a ``root_name`` document of shape ``structure``, namespaced or not."""
    if not body.strip():
        raise missing_body()
    # expat expands internal entities; refusing DTDs closes the door on entity bombs.
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        raise invalid_argument("Document type declarations are not allowed.")
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise invalid_argument(f"The XML document is malformed: {exc}") from None
    namespace, name = _local_name(root.tag)
    if name != root_name or namespace not in (None, model.namespace()):
        raise invalid_argument(f"Expected a {root_name} document.")
    value: dict[str, Any] = _decode(structure, root_name, root)
    return value


def _decode(shape: Any, name: str, element: ET.Element) -> Any:
    kind = shape.type_name
    if kind == "structure":
        return _decode_structure(shape, name, element)
    if kind == "list":
        member_name = model.element_name("member", shape.member)
        items = []
        for child in element:
            if _child_name(child, name) != member_name:
                raise _unexpected(child, name)
            items.append(_decode(shape.member, member_name, child))
        return items
    if len(element):
        raise invalid_argument(f"Element {name} must contain only text.")
    text = element.text or ""
    if kind == "string":
        if shape.enum and text not in shape.enum:
            allowed = ", ".join(shape.enum)
            raise invalid_argument(f"The value {text!r} of {name} is not one of: {allowed}.")
        return text
    if kind in ("integer", "long"):
        digits = text.strip()
        if not digits.lstrip("-").isdigit():
            raise invalid_argument(f"The value of {name} must be an integer, got {text!r}.")
        return int(digits)
    if kind == "boolean":
        if text.strip() not in ("true", "false"):
            raise invalid_argument(f"The value of {name} must be true or false, got {text!r}.")
        return text.strip() == "true"
    raise invalid_argument(f"Element {name} has a type the emulator does not read.")


def _child_name(child: ET.Element, parent: str) -> str:
    child_ns, child_name = _local_name(child.tag)
    if child_ns not in (None, model.namespace()):
        raise _unexpected(child, parent)
    return child_name


def _unexpected(child: ET.Element, parent: str) -> ApiError:
    return invalid_argument(f"Unexpected element {_local_name(child.tag)[1]} in {parent}.")


def _decode_structure(shape: Any, name: str, element: ET.Element) -> dict[str, Any]:
    by_element = {model.element_name(key, member): key for key, member in shape.members.items()}
    values: dict[str, Any] = {}
    for child in element:
        child_name = _child_name(child, name)
        key = by_element.get(child_name)
        if key is None:
            raise _unexpected(child, name)
        if key in values:
            raise invalid_argument(f"Element {child_name} appears more than once.")
        values[key] = _decode(shape.members[key], child_name, child)
    for key in shape.required_members:
        if key not in values:
            missing = model.element_name(key, shape.members[key])
            raise invalid_argument(f"{name} is missing the required element {missing}.")
    return values


# -- encoding responses -------------------------------------------------------------


def encode(structure: Any, root_name: str, value: Mapping[str, Any]) -> bytes:
    """A ``root_name`` document of shape ``structure`` in CloudFront's namespace."""
    inner = _encode_members(structure, value)
    return f'{_XML_DECL}<{root_name} xmlns="{model.namespace()}">{inner}</{root_name}>'.encode()


def _encode_members(structure: Any, value: Mapping[str, Any]) -> str:
    return "".join(
        _encode(member, model.element_name(key, member), value[key])
        for key, member in structure.members.items()
        if value.get(key) is not None
    )


def _encode(shape: Any, name: str, value: Any) -> str:
    kind = shape.type_name
    if kind == "structure":
        return f"<{name}>{_encode_members(shape, value)}</{name}>"
    if kind == "list":
        if not value:
            return ""  # CloudFront omits a list with no entries (e.g. an empty page's Items)
        member_name = model.element_name("member", shape.member)
        items = "".join(_encode(shape.member, member_name, item) for item in value)
        return f"<{name}>{items}</{name}>"
    if kind == "boolean":
        return f"<{name}>{'true' if value else 'false'}</{name}>"
    return f"<{name}>{escape(str(value))}</{name}>"


def response(operation_name: str, output: Mapping[str, Any], *, status: int) -> web.Response:
    """The HTTP response for an operation's output: payload as body, header members as headers."""
    shape = model.operation(operation_name).output_shape
    payload = model.payload_member(shape)
    headers: dict[str, str] = {}
    body: bytes | None = None
    if shape is not None:
        for key, member in shape.members.items():
            if member.serialization.get("location") == "header" and output.get(key) is not None:
                headers[model.element_name(key, member)] = str(output[key])
    if payload is not None:
        member = shape.members[payload]
        body = encode(member, model.element_name(payload, member), output[payload])
        headers["Content-Type"] = _XML_CONTENT_TYPE
    return web.Response(body=body, status=status, headers=headers)


def malformed_document(operation_name: str) -> bytes:
    """A truncated document of the operation's output shape, as a cut-off response would be.

    Raises ValueError for an operation with no output document: there is nothing to
    truncate, and an empty success would look like a real one.
    """
    shape = model.operation(operation_name).output_shape
    payload = model.payload_member(shape)
    if payload is None:
        raise ValueError(f"{operation_name} answers with no body, so it has none to malform")
    member = shape.members[payload]
    first_key, first = next(iter(member.members.items()))
    root, child = model.element_name(payload, member), model.element_name(first_key, first)
    return f'{_XML_DECL}<{root} xmlns="{model.namespace()}"><{child}>E1'.encode()


def xml_response(body: bytes, *, status: int = 200) -> web.Response:
    return web.Response(body=body, status=status, headers={"Content-Type": _XML_CONTENT_TYPE})


def error_document(code: str, message: str, request_id: str, status: int) -> bytes:
    kind = "Receiver" if status >= 500 else "Sender"
    return (
        f'{_XML_DECL}<ErrorResponse xmlns="{model.namespace()}"><Error><Type>{kind}</Type>'
        f"<Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
        f"<RequestId>{request_id}</RequestId></ErrorResponse>"
    ).encode()


def error_response(error: ApiError, request_id: str) -> web.Response:
    return xml_response(
        error_document(error.code, error.message, request_id, error.status),
        status=error.status,
    )
