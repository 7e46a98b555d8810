"""Every modelled error, and the order in which CloudFront checks for them."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from service.emulator import Emulator
from tests.emulator.emulator_helpers import (
    FAKE_SIGV4_HEADERS,
    arrange,
    assert_client_error,
    fill,
    make_client,
    oai_config,
)

UNKNOWN_ID = "E0000000000000"
STALE_ETAG = "EAAAAAAAAAAAAA"
LONG = "x" * 129
# Parameter validation off so the table can send what botocore would refuse to.
UNVALIDATED = Config(parameter_validation=False, retries={"total_max_attempts": 1})

CREATE = "create_cloud_front_origin_access_identity"
GET = "get_cloud_front_origin_access_identity"
GET_CONFIG = "get_cloud_front_origin_access_identity_config"
UPDATE = "update_cloud_front_origin_access_identity"
DELETE = "delete_cloud_front_origin_access_identity"
LIST = "list_cloud_front_origin_access_identities"


def cfg(caller_reference: str = "existing", comment: str = "original") -> dict[str, Any]:
    return {"CloudFrontOriginAccessIdentityConfig": oai_config(caller_reference, comment)}


def upd(**extra: Any) -> dict[str, Any]:
    return {"Id": "{id}", "IfMatch": "{etag}", **cfg(), **extra}


MALFORMED = b"<CloudFrontOriginAccessIdentityConfig><CallerReference>x</Call"

# (method, params, expected code, status, options). Params may use "{id}" and
# "{etag}" for an identity created first with CallerReference "existing".
ERROR_CASES = [
    # CreateCloudFrontOriginAccessIdentity
    pytest.param(CREATE, cfg("new"), "MissingBody", 400, {"body": b""}, id="create-missing-body"),
    pytest.param(
        CREATE, cfg("new"), "InvalidArgument", 400, {"body": MALFORMED}, id="create-malformed-xml"
    ),
    pytest.param(
        CREATE,
        cfg("new"),
        "InvalidArgument",
        400,
        {"body": b"<Wrong><CallerReference>a</CallerReference><Comment/></Wrong>"},
        id="create-wrong-root-element",
    ),
    pytest.param(
        CREATE,
        {"CloudFrontOriginAccessIdentityConfig": {"Comment": "c"}},
        "InvalidArgument",
        400,
        {},
        id="create-missing-caller-reference",
    ),
    pytest.param(
        CREATE,
        {"CloudFrontOriginAccessIdentityConfig": {"CallerReference": "new"}},
        "InvalidArgument",
        400,
        {},
        id="create-missing-comment",
    ),
    pytest.param(
        CREATE, cfg("", "c"), "InvalidArgument", 400, {}, id="create-empty-caller-reference"
    ),
    pytest.param(CREATE, cfg("new", LONG), "InvalidArgument", 400, {}, id="create-long-comment"),
    pytest.param(
        CREATE,
        cfg("existing", "different"),
        "CloudFrontOriginAccessIdentityAlreadyExists",
        409,
        {},
        id="create-caller-reference-reused-with-other-config",
    ),
    pytest.param(
        CREATE,
        cfg("new"),
        "TooManyCloudFrontOriginAccessIdentities",
        400,
        {"account_limit": 1},
        id="create-beyond-account-limit",
    ),
    pytest.param(
        CREATE,
        cfg("existing", "different"),
        "CloudFrontOriginAccessIdentityAlreadyExists",
        409,
        {"account_limit": 1},
        id="order-create-already-exists-before-limit",
    ),
    pytest.param(
        CREATE,
        cfg("new", LONG),
        "InvalidArgument",
        400,
        {"account_limit": 1},
        id="order-create-invalid-argument-before-limit",
    ),
    # Get / GetConfig
    pytest.param(
        GET, {"Id": UNKNOWN_ID}, "NoSuchCloudFrontOriginAccessIdentity", 404, {}, id="get-unknown"
    ),
    pytest.param(
        GET_CONFIG,
        {"Id": UNKNOWN_ID},
        "NoSuchCloudFrontOriginAccessIdentity",
        404,
        {},
        id="get-config-unknown",
    ),
    # UpdateCloudFrontOriginAccessIdentity
    pytest.param(UPDATE, upd(), "MissingBody", 400, {"body": b""}, id="update-missing-body"),
    pytest.param(
        UPDATE, upd(), "InvalidArgument", 400, {"body": MALFORMED}, id="update-malformed-xml"
    ),
    pytest.param(
        UPDATE,
        {"Id": "{id}", **cfg()},
        "InvalidIfMatchVersion",
        400,
        {},
        id="update-missing-if-match",
    ),
    pytest.param(
        UPDATE,
        upd(Id=UNKNOWN_ID),
        "NoSuchCloudFrontOriginAccessIdentity",
        404,
        {},
        id="update-unknown",
    ),
    pytest.param(
        UPDATE, upd(IfMatch=STALE_ETAG), "PreconditionFailed", 412, {}, id="update-stale-etag"
    ),
    pytest.param(
        UPDATE, upd(**cfg("changed")), "IllegalUpdate", 400, {}, id="update-caller-reference"
    ),
    pytest.param(
        UPDATE, upd(**cfg("existing", LONG)), "InvalidArgument", 400, {}, id="update-long-comment"
    ),
    pytest.param(
        UPDATE,
        {"Id": UNKNOWN_ID, **cfg()},
        "MissingBody",
        400,
        {"body": b""},
        id="order-update-missing-body-first",
    ),
    pytest.param(
        UPDATE,
        {"Id": UNKNOWN_ID, **cfg()},
        "InvalidArgument",
        400,
        {"body": MALFORMED},
        id="order-update-malformed-before-if-match",
    ),
    pytest.param(
        UPDATE,
        {"Id": UNKNOWN_ID, **cfg()},
        "InvalidIfMatchVersion",
        400,
        {},
        id="order-update-if-match-before-unknown-id",
    ),
    pytest.param(
        UPDATE,
        upd(Id=UNKNOWN_ID, IfMatch=STALE_ETAG),
        "NoSuchCloudFrontOriginAccessIdentity",
        404,
        {},
        id="order-update-unknown-before-precondition",
    ),
    pytest.param(
        UPDATE,
        upd(IfMatch=STALE_ETAG, **cfg("changed")),
        "PreconditionFailed",
        412,
        {},
        id="order-update-precondition-before-illegal-update",
    ),
    pytest.param(
        UPDATE,
        upd(**cfg("changed", LONG)),
        "IllegalUpdate",
        400,
        {},
        id="order-update-illegal-update-before-comment-length",
    ),
    # DeleteCloudFrontOriginAccessIdentity
    pytest.param(
        DELETE, {"Id": "{id}"}, "InvalidIfMatchVersion", 400, {}, id="delete-missing-if-match"
    ),
    pytest.param(
        DELETE,
        {"Id": UNKNOWN_ID, "IfMatch": STALE_ETAG},
        "NoSuchCloudFrontOriginAccessIdentity",
        404,
        {},
        id="delete-unknown",
    ),
    pytest.param(
        DELETE,
        {"Id": "{id}", "IfMatch": STALE_ETAG},
        "PreconditionFailed",
        412,
        {},
        id="delete-stale-etag",
    ),
    pytest.param(
        DELETE,
        {"Id": "{id}", "IfMatch": "{etag}"},
        "CloudFrontOriginAccessIdentityInUse",
        409,
        {"in_use": True},
        id="delete-in-use",
    ),
    pytest.param(
        DELETE,
        {"Id": UNKNOWN_ID},
        "InvalidIfMatchVersion",
        400,
        {},
        id="order-delete-if-match-before-unknown-id",
    ),
    pytest.param(
        DELETE,
        {"Id": "{id}", "IfMatch": STALE_ETAG},
        "PreconditionFailed",
        412,
        {"in_use": True},
        id="order-delete-precondition-before-in-use",
    ),
    # ListCloudFrontOriginAccessIdentities
    pytest.param(LIST, {"MaxItems": "ten"}, "InvalidArgument", 400, {}, id="list-max-items-word"),
    pytest.param(LIST, {"MaxItems": "-1"}, "InvalidArgument", 400, {}, id="list-max-items-minus"),
    pytest.param(LIST, {"MaxItems": "1.5"}, "InvalidArgument", 400, {}, id="list-max-items-float"),
]


@pytest.mark.parametrize(("method", "params", "code", "status", "options"), ERROR_CASES)
async def test_error_response_has_modelled_code_status_and_request_id(
    emulator: Emulator,
    method: str,
    params: dict[str, Any],
    code: str,
    status: int,
    options: dict[str, Any],
) -> None:
    async with make_client(emulator, UNVALIDATED) as cf:
        existing = await cf.create_cloud_front_origin_access_identity(**cfg())
        identity_id = existing["CloudFrontOriginAccessIdentity"]["Id"]
        arrange(emulator, cf, identity_id, options)
        with pytest.raises(ClientError) as caught:
            await getattr(cf, method)(**fill(params, identity_id, existing["ETag"]))
    assert_client_error(caught.value, code, status)
    # A failed call must not have changed the identity.
    [after] = emulator.identities()
    assert (after.id, after.etag, after.comment) == (identity_id, existing["ETag"], "original")


async def test_error_response_body_is_namespaced_error_response(
    emulator: Emulator, cf: Any
) -> None:
    with pytest.raises(ClientError) as caught:
        await cf.get_cloud_front_origin_access_identity(Id=UNKNOWN_ID)
    # botocore's parse hides the envelope, so look at the raw document once.
    async with aiohttp.ClientSession() as session:
        url = f"{emulator.base_url}/2020-05-31/origin-access-identity/cloudfront/{UNKNOWN_ID}"
        async with session.get(url, headers=FAKE_SIGV4_HEADERS) as response:
            text = await response.text()
            assert response.status == 404
            assert response.headers["Content-Type"] == "text/xml"
            request_id = response.headers["x-amzn-RequestId"]
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    assert (
        '<ErrorResponse xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/">'
        "<Error><Type>Sender</Type><Code>NoSuchCloudFrontOriginAccessIdentity</Code>"
    ) in text
    assert text.endswith(f"<RequestId>{request_id}</RequestId></ErrorResponse>")
    assert caught.value.response["Error"]["Code"] == "NoSuchCloudFrontOriginAccessIdentity"


async def test_comment_of_exactly_128_characters_is_accepted(cf: Any) -> None:
    result = await cf.create_cloud_front_origin_access_identity(**cfg("ref", "y" * 128))
    assert result["ResponseMetadata"]["HTTPStatusCode"] == 201
