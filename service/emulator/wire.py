"""CloudFront REST-XML (API 2020-05-31) encoding, decoding and error documents."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

from aiohttp import web

if TYPE_CHECKING:
    from service.emulator.store import Identity

API_VERSION: Final = "2020-05-31"
NAMESPACE: Final = f"http://cloudfront.amazonaws.com/doc/{API_VERSION}/"
OAI_PATH: Final = f"/{API_VERSION}/origin-access-identity/cloudfront"
REQUEST_ID_HEADER: Final = "x-amzn-RequestId"
MAX_COMMENT_LENGTH: Final = 128

CREATE: Final = "CreateCloudFrontOriginAccessIdentity"
GET: Final = "GetCloudFrontOriginAccessIdentity"
GET_CONFIG: Final = "GetCloudFrontOriginAccessIdentityConfig"
UPDATE: Final = "UpdateCloudFrontOriginAccessIdentity"
DELETE: Final = "DeleteCloudFrontOriginAccessIdentity"
LIST: Final = "ListCloudFrontOriginAccessIdentities"
OPERATIONS: Final = frozenset({CREATE, GET, GET_CONFIG, UPDATE, DELETE, LIST})

_XML_DECL: Final = '<?xml version="1.0" encoding="UTF-8"?>\n'
_CONFIG_TAG: Final = "CloudFrontOriginAccessIdentityConfig"
_CONFIG_FIELDS: Final = frozenset({"CallerReference", "Comment"})
_XML_CONTENT_TYPE: Final = "text/xml"


class ApiError(Exception):
    """A CloudFront error response; raised anywhere in request handling."""

    def __init__(self, code: str, message: str, status: int) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


# Shortcuts for the modelled errors, so call sites cannot mistype a status.
def missing_body() -> ApiError:
    return ApiError("MissingBody", "The request body is missing.", 400)


def invalid_argument(message: str) -> ApiError:
    return ApiError("InvalidArgument", message, 400)


def invalid_if_match() -> ApiError:
    return ApiError(
        "InvalidIfMatchVersion",
        "The If-Match version is missing or not valid for the resource.",
        400,
    )


def no_such_identity(identity_id: str) -> ApiError:
    return ApiError(
        "NoSuchCloudFrontOriginAccessIdentity",
        f"The specified origin access identity does not exist: {identity_id}",
        404,
    )


def precondition_failed() -> ApiError:
    return ApiError(
        "PreconditionFailed",
        "The precondition given in one or more of the request-header fields evaluated to false.",
        412,
    )


def illegal_update() -> ApiError:
    return ApiError(
        "IllegalUpdate",
        "The CallerReference of an origin access identity cannot be changed.",
        400,
    )


def already_exists() -> ApiError:
    return ApiError(
        "CloudFrontOriginAccessIdentityAlreadyExists",
        "An origin access identity with this CallerReference already exists "
        "with a different configuration.",
        409,
    )


def too_many(limit: int) -> ApiError:
    return ApiError(
        "TooManyCloudFrontOriginAccessIdentities",
        "Processing your request would cause you to exceed the maximum number of "
        f"origin access identities allowed ({limit}).",
        400,
    )


def in_use() -> ApiError:
    return ApiError(
        "CloudFrontOriginAccessIdentityInUse",
        "The origin access identity is in use and cannot be deleted.",
        409,
    )


def escape(text: str) -> str:
    # "\r" is escaped too: XML parsers normalise a literal CR to LF.
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    )


def _local_name(tag: str) -> tuple[str | None, str]:
    if tag.startswith("{"):
        namespace, _, name = tag[1:].partition("}")
        return namespace, name
    return None, tag


def parse_config(body: bytes) -> tuple[str, str]:
    """Return (CallerReference, Comment) from a config document, namespaced or not.

    The Comment length is deliberately not checked here: for updates CloudFront
    reports it only after the identity and version checks.
    """
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
    if name != _CONFIG_TAG or namespace not in (None, NAMESPACE):
        raise invalid_argument(f"Expected a {_CONFIG_TAG} document.")
    values: dict[str, str] = {}
    for child in root:
        child_ns, child_name = _local_name(child.tag)
        if child_name not in _CONFIG_FIELDS or child_ns not in (None, NAMESPACE):
            raise invalid_argument(f"Unexpected element {child_name} in {_CONFIG_TAG}.")
        if child_name in values:
            raise invalid_argument(f"Element {child_name} appears more than once.")
        if len(child):
            raise invalid_argument(f"Element {child_name} must contain only text.")
        values[child_name] = child.text or ""
    for field in ("CallerReference", "Comment"):
        if field not in values:
            raise invalid_argument(f"{_CONFIG_TAG} is missing the required element {field}.")
    caller_reference = values["CallerReference"]
    if not caller_reference.strip():
        raise invalid_argument("CallerReference must not be empty.")
    return caller_reference, values["Comment"]


def check_comment(comment: str) -> None:
    if len(comment) > MAX_COMMENT_LENGTH:
        raise invalid_argument(
            f"The parameter Comment is too long: {len(comment)} characters, "
            f"the maximum is {MAX_COMMENT_LENGTH}."
        )


def _config_element(identity: Identity) -> str:
    return (
        f"<{_CONFIG_TAG}><CallerReference>{escape(identity.caller_reference)}</CallerReference>"
        f"<Comment>{escape(identity.comment)}</Comment></{_CONFIG_TAG}>"
    )


def identity_document(identity: Identity) -> bytes:
    return (
        f'{_XML_DECL}<CloudFrontOriginAccessIdentity xmlns="{NAMESPACE}">'
        f"<Id>{identity.id}</Id><S3CanonicalUserId>{identity.s3_canonical_user_id}"
        f"</S3CanonicalUserId>{_config_element(identity)}</CloudFrontOriginAccessIdentity>"
    ).encode()


def config_document(identity: Identity) -> bytes:
    return (
        f'{_XML_DECL}<{_CONFIG_TAG} xmlns="{NAMESPACE}">'
        f"<CallerReference>{escape(identity.caller_reference)}</CallerReference>"
        f"<Comment>{escape(identity.comment)}</Comment></{_CONFIG_TAG}>"
    ).encode()


def list_document(
    marker: str, max_items: int, page: Sequence[Identity], is_truncated: bool
) -> bytes:
    parts = [
        f'{_XML_DECL}<CloudFrontOriginAccessIdentityList xmlns="{NAMESPACE}">',
        f"<Marker>{escape(marker)}</Marker>",
    ]
    if is_truncated and page:
        parts.append(f"<NextMarker>{page[-1].id}</NextMarker>")
    parts.append(
        f"<MaxItems>{max_items}</MaxItems>"
        f"<IsTruncated>{'true' if is_truncated else 'false'}</IsTruncated>"
        f"<Quantity>{len(page)}</Quantity>"
    )
    if page:
        parts.append("<Items>")
        parts.extend(
            "<CloudFrontOriginAccessIdentitySummary>"
            f"<Id>{item.id}</Id><S3CanonicalUserId>{item.s3_canonical_user_id}"
            f"</S3CanonicalUserId><Comment>{escape(item.comment)}</Comment>"
            "</CloudFrontOriginAccessIdentitySummary>"
            for item in page
        )
        parts.append("</Items>")
    parts.append("</CloudFrontOriginAccessIdentityList>")
    return "".join(parts).encode()


def malformed_document(operation: str) -> bytes:
    """A truncated document of roughly the right shape, as a cut-off response would be."""
    root = {
        GET_CONFIG: _CONFIG_TAG,
        LIST: "CloudFrontOriginAccessIdentityList",
    }.get(operation, "CloudFrontOriginAccessIdentity")
    return f'{_XML_DECL}<{root} xmlns="{NAMESPACE}"><Id>E1'.encode()


def xml_response(
    body: bytes, *, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    all_headers = {"Content-Type": _XML_CONTENT_TYPE}
    if headers:
        all_headers.update(headers)
    return web.Response(body=body, status=status, headers=all_headers)


def error_document(code: str, message: str, request_id: str, status: int) -> bytes:
    kind = "Receiver" if status >= 500 else "Sender"
    return (
        f'{_XML_DECL}<ErrorResponse xmlns="{NAMESPACE}"><Error><Type>{kind}</Type>'
        f"<Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
        f"<RequestId>{request_id}</RequestId></ErrorResponse>"
    ).encode()


def error_response(error: ApiError, request_id: str) -> web.Response:
    return xml_response(
        error_document(error.code, error.message, request_id, error.status),
        status=error.status,
    )
