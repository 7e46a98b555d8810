"""The OAC validation table, shared by the unit test and the through-channel test."""

from __future__ import annotations

from typing import Any

import pytest
from google.protobuf.message import Message

from service._gen.cloudfront.v1 import origin_access_control_service_pb2 as oac

CONFIG = "origin_access_control_config"
NAME, DESCRIPTION = f"{CONFIG}.name", f"{CONFIG}.description"
PROTOCOL, BEHAVIOR = f"{CONFIG}.signing_protocol", f"{CONFIG}.signing_behavior"
ORIGIN_TYPE = f"{CONFIG}.origin_access_control_origin_type"
OK_ID, OK_ETAG = "E1OACEXAMPLE00", "E2ETAG0000000"


def oac_config(**overrides: Any) -> oac.OriginAccessControlConfig:
    """A config every rule accepts, with some fields overridden."""
    fields: dict[str, Any] = {
        "name": "oac-example",
        "description": "",
        "signing_protocol": oac.ORIGIN_ACCESS_CONTROL_SIGNING_PROTOCOLS_SIGV4,
        "signing_behavior": oac.ORIGIN_ACCESS_CONTROL_SIGNING_BEHAVIORS_ALWAYS,
        "origin_access_control_origin_type": oac.ORIGIN_ACCESS_CONTROL_ORIGIN_TYPES_S3,
    }
    return oac.OriginAccessControlConfig(**{**fields, **overrides})


def create(**overrides: Any) -> oac.CreateOriginAccessControlRequest:
    return oac.CreateOriginAccessControlRequest(
        origin_access_control_config=oac_config(**overrides)
    )


def update(**overrides: Any) -> oac.UpdateOriginAccessControlRequest:
    return oac.UpdateOriginAccessControlRequest(
        id=OK_ID, if_match=OK_ETAG, origin_access_control_config=oac_config(**overrides)
    )


# (RPC, request, the field paths that must be reported), one per rule and then some.
BAD: list[Any] = [
    pytest.param(
        "CreateOriginAccessControl",
        oac.CreateOriginAccessControlRequest(),
        {NAME, PROTOCOL, BEHAVIOR, ORIGIN_TYPE},
        id="create-no-config",
    ),
    pytest.param("CreateOriginAccessControl", create(name=""), {NAME}, id="create-name-empty"),
    pytest.param("CreateOriginAccessControl", create(name="x" * 65), {NAME}, id="create-name-65"),
    pytest.param("CreateOriginAccessControl", create(name="a\rb"), {NAME}, id="create-name-cr"),
    pytest.param(
        "CreateOriginAccessControl", create(name="bell\x07"), {NAME}, id="create-name-control"
    ),
    pytest.param(
        "CreateOriginAccessControl",
        create(description="a\r\nb"),
        {DESCRIPTION},
        id="create-description-crlf",
    ),
    pytest.param(
        "CreateOriginAccessControl",
        create(description="nul\x00"),
        {DESCRIPTION},
        id="create-description-nul",
    ),
    pytest.param(
        "CreateOriginAccessControl",
        create(signing_protocol=0),
        {PROTOCOL},
        id="create-protocol-unspecified",
    ),
    pytest.param(
        "CreateOriginAccessControl",
        create(signing_behavior=0),
        {BEHAVIOR},
        id="create-behavior-unspecified",
    ),
    pytest.param(
        "CreateOriginAccessControl",
        create(origin_access_control_origin_type=0),
        {ORIGIN_TYPE},
        id="create-origin-type-unspecified",
    ),
    pytest.param(
        "CreateOriginAccessControl",
        create(signing_behavior=99),
        {BEHAVIOR},
        id="create-behavior-unknown-number",
    ),
    pytest.param(
        "GetOriginAccessControl", oac.GetOriginAccessControlRequest(), {"id"}, id="get-no-id"
    ),
    pytest.param(
        "GetOriginAccessControl",
        oac.GetOriginAccessControlRequest(id="e1oacexample"),
        {"id"},
        id="get-id-lowercase",
    ),
    pytest.param(
        "GetOriginAccessControl",
        oac.GetOriginAccessControlRequest(id="../x"),
        {"id"},
        id="get-id-path",
    ),
    pytest.param(
        "GetOriginAccessControlConfig",
        oac.GetOriginAccessControlConfigRequest(),
        {"id"},
        id="get-config-no-id",
    ),
    pytest.param(
        "GetOriginAccessControlConfig",
        oac.GetOriginAccessControlConfigRequest(id="E" * 65),
        {"id"},
        id="get-config-id-65",
    ),
    pytest.param(
        "UpdateOriginAccessControl",
        oac.UpdateOriginAccessControlRequest(),
        {"id", "if_match", NAME, PROTOCOL, BEHAVIOR, ORIGIN_TYPE},
        id="update-empty",
    ),
    pytest.param(
        "UpdateOriginAccessControl",
        oac.UpdateOriginAccessControlRequest(id=OK_ID, origin_access_control_config=oac_config()),
        {"if_match"},
        id="update-no-if-match",
    ),
    pytest.param(
        "UpdateOriginAccessControl",
        oac.UpdateOriginAccessControlRequest(
            id=OK_ID, if_match="e\r\nX-Injected: 1", origin_access_control_config=oac_config()
        ),
        {"if_match"},
        id="update-if-match-header-injection",
    ),
    pytest.param(
        "UpdateOriginAccessControl",
        update(name="x" * 65, signing_protocol=0),
        {NAME, PROTOCOL},
        id="update-name-65-and-protocol-unspecified",
    ),
    pytest.param(
        "DeleteOriginAccessControl",
        oac.DeleteOriginAccessControlRequest(id=OK_ID),
        {"if_match"},
        id="delete-no-if-match",
    ),
    pytest.param(
        "DeleteOriginAccessControl",
        oac.DeleteOriginAccessControlRequest(if_match=OK_ETAG),
        {"id"},
        id="delete-no-id",
    ),
    pytest.param(
        "ListOriginAccessControls",
        oac.ListOriginAccessControlsRequest(max_items=-1),
        {"max_items"},
        id="list-max-items-negative",
    ),
    pytest.param(
        "ListOriginAccessControls",
        oac.ListOriginAccessControlsRequest(marker="E1\x00"),
        {"marker"},
        id="list-marker-control",
    ),
]

# Requests every rule accepts: the edges of each rule, and every enum value.
GOOD: list[tuple[str, Message]] = [
    ("CreateOriginAccessControl", create()),
    ("CreateOriginAccessControl", create(name="x" * 64)),
    ("CreateOriginAccessControl", create(name="é" * 64)),  # 64 characters, 128 UTF-8 bytes
    # AWS documents no limit on Description: none is invented.
    ("CreateOriginAccessControl", create(description="line\n\ttabbed " + "d" * 5000)),
    *[
        ("CreateOriginAccessControl", create(signing_behavior=value))
        for value in oac.OriginAccessControlSigningBehaviors.values()
        if value
    ],
    *[
        ("CreateOriginAccessControl", create(origin_access_control_origin_type=value))
        for value in oac.OriginAccessControlOriginTypes.values()
        if value
    ],
    ("GetOriginAccessControl", oac.GetOriginAccessControlRequest(id=OK_ID)),
    ("GetOriginAccessControlConfig", oac.GetOriginAccessControlConfigRequest(id=OK_ID)),
    ("UpdateOriginAccessControl", update()),
    ("DeleteOriginAccessControl", oac.DeleteOriginAccessControlRequest(id=OK_ID, if_match=OK_ETAG)),
    ("ListOriginAccessControls", oac.ListOriginAccessControlsRequest()),
    ("ListOriginAccessControls", oac.ListOriginAccessControlsRequest(marker=OK_ID, max_items=5)),
]
