"""Every origin access control error, and the order in which they are checked."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from service.emulator import Emulator
from tests.emulator.emulator_helpers import (
    arrange,
    assert_client_error,
    fill,
    make_client,
    oac_config,
)

UNKNOWN_ID = "E0000000000000"
STALE_ETAG = "EAAAAAAAAAAAAA"
LONG_NAME = "n" * 65
# Parameter validation off so the table can send what botocore would refuse to.
UNVALIDATED = Config(parameter_validation=False, retries={"total_max_attempts": 1})

CREATE = "create_origin_access_control"
GET = "get_origin_access_control"
GET_CONFIG = "get_origin_access_control_config"
UPDATE = "update_origin_access_control"
DELETE = "delete_origin_access_control"
LIST = "list_origin_access_controls"


def cfg(name: str = "existing", **kwargs: Any) -> dict[str, Any]:
    return {"OriginAccessControlConfig": oac_config(name, "original", **kwargs)}


def without(member: str) -> dict[str, Any]:
    config = oac_config("new")
    del config[member]
    return {"OriginAccessControlConfig": config}


def upd(**extra: Any) -> dict[str, Any]:
    return {"Id": "{id}", "IfMatch": "{etag}", **cfg(), **extra}


MALFORMED = b"<OriginAccessControlConfig><Name>x</Na"

# (method, params, expected code, status, options). Params may use "{id}" and "{etag}"
# for a control named "existing" created first; a second one is named "taken".
ERROR_CASES = [
    # CreateOriginAccessControl
    pytest.param(CREATE, cfg("new"), "MissingBody", 400, {"body": b""}, id="create-missing-body"),
    pytest.param(
        CREATE, cfg("new"), "InvalidArgument", 400, {"body": MALFORMED}, id="create-malformed-xml"
    ),
    pytest.param(CREATE, without("Name"), "InvalidArgument", 400, {}, id="create-missing-name"),
    pytest.param(CREATE, cfg(""), "InvalidArgument", 400, {}, id="create-empty-name"),
    pytest.param(CREATE, cfg(LONG_NAME), "InvalidArgument", 400, {}, id="create-long-name"),
    pytest.param(
        CREATE,
        without("SigningBehavior"),
        "InvalidArgument",
        400,
        {},
        id="create-missing-signing-behavior",
    ),
    pytest.param(
        CREATE,
        cfg("new", behavior="sometimes"),
        "InvalidArgument",
        400,
        {},
        id="create-unknown-signing-behavior",
    ),
    pytest.param(
        CREATE,
        cfg("new", protocol="sigv2"),
        "InvalidArgument",
        400,
        {},
        id="create-unknown-signing-protocol",
    ),
    pytest.param(
        CREATE,
        cfg("new", origin_type="ftp"),
        "InvalidArgument",
        400,
        {},
        id="create-unknown-origin-type",
    ),
    pytest.param(
        CREATE, cfg("taken"), "OriginAccessControlAlreadyExists", 409, {}, id="create-name-taken"
    ),
    pytest.param(
        CREATE,
        cfg("new"),
        "TooManyOriginAccessControls",
        400,
        {"account_limit": 2},
        id="create-beyond-account-limit",
    ),
    pytest.param(
        CREATE,
        cfg("taken"),
        "OriginAccessControlAlreadyExists",
        409,
        {"account_limit": 2},
        id="order-create-already-exists-before-limit",
    ),
    pytest.param(
        CREATE,
        cfg(LONG_NAME),
        "InvalidArgument",
        400,
        {"account_limit": 2},
        id="order-create-invalid-argument-before-limit",
    ),
    # Get / GetConfig
    pytest.param(GET, {"Id": UNKNOWN_ID}, "NoSuchOriginAccessControl", 404, {}, id="get-unknown"),
    pytest.param(
        GET_CONFIG,
        {"Id": UNKNOWN_ID},
        "NoSuchOriginAccessControl",
        404,
        {},
        id="get-config-unknown",
    ),
    # UpdateOriginAccessControl
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
        UPDATE, upd(Id=UNKNOWN_ID), "NoSuchOriginAccessControl", 404, {}, id="update-unknown"
    ),
    pytest.param(
        UPDATE, upd(IfMatch=STALE_ETAG), "PreconditionFailed", 412, {}, id="update-stale-etag"
    ),
    pytest.param(
        UPDATE,
        upd(**cfg("taken")),
        "OriginAccessControlAlreadyExists",
        409,
        {},
        id="update-to-a-taken-name",
    ),
    pytest.param(UPDATE, upd(**cfg(LONG_NAME)), "InvalidArgument", 400, {}, id="update-long-name"),
    pytest.param(
        UPDATE,
        upd(**cfg(behavior="sometimes")),
        "InvalidArgument",
        400,
        {},
        id="update-unknown-signing-behavior",
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
        "NoSuchOriginAccessControl",
        404,
        {},
        id="order-update-unknown-before-precondition",
    ),
    pytest.param(
        UPDATE,
        upd(IfMatch=STALE_ETAG, **cfg("taken")),
        "PreconditionFailed",
        412,
        {},
        id="order-update-precondition-before-name-taken",
    ),
    # DeleteOriginAccessControl
    pytest.param(
        DELETE, {"Id": "{id}"}, "InvalidIfMatchVersion", 400, {}, id="delete-missing-if-match"
    ),
    pytest.param(
        DELETE,
        {"Id": UNKNOWN_ID, "IfMatch": STALE_ETAG},
        "NoSuchOriginAccessControl",
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
        "OriginAccessControlInUse",
        409,
        {"in_use": True},
        id="delete-in-use",
    ),
    pytest.param(
        DELETE,
        {"Id": "{id}", "IfMatch": STALE_ETAG},
        "PreconditionFailed",
        412,
        {"in_use": True},
        id="order-delete-precondition-before-in-use",
    ),
    # ListOriginAccessControls
    pytest.param(LIST, {"MaxItems": "ten"}, "InvalidArgument", 400, {}, id="list-max-items-word"),
    pytest.param(LIST, {"MaxItems": "-1"}, "InvalidArgument", 400, {}, id="list-max-items-minus"),
]


@pytest.mark.parametrize(("method", "params", "code", "status", "options"), ERROR_CASES)
async def test_oac_error_has_modelled_code_status_and_request_id(
    emulator: Emulator,
    method: str,
    params: dict[str, Any],
    code: str,
    status: int,
    options: dict[str, Any],
) -> None:
    async with make_client(emulator, UNVALIDATED) as cf:
        existing = await cf.create_origin_access_control(**cfg())
        await cf.create_origin_access_control(**cfg("taken"))
        control_id = existing["OriginAccessControl"]["Id"]
        arrange(emulator, cf, control_id, options)
        before = emulator.controls()
        with pytest.raises(ClientError) as caught:
            await getattr(cf, method)(**fill(params, control_id, existing["ETag"]))
    assert_client_error(caught.value, code, status)
    # A failed call must not have changed any control.
    assert emulator.controls() == before
