"""Resource declarations are checked against botocore's model when the emulator loads."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from service.emulator import ORIGIN_ACCESS_CONTROL, ORIGIN_ACCESS_IDENTITY, RESOURCES, Resource


@pytest.mark.parametrize("resource", RESOURCES, ids=lambda resource: resource.admin_name)
def test_every_declared_resource_agrees_with_the_model(resource: Resource) -> None:
    resource.check()


@pytest.mark.parametrize(
    ("resource", "change", "complaint"),
    [
        (ORIGIN_ACCESS_CONTROL, {"no_such": "NoSuchOriginAccessKontrol"}, "not an error of"),
        (ORIGIN_ACCESS_CONTROL, {"in_use": "CloudFrontOriginAccessIdentityInUse"}, "not an error"),
        (ORIGIN_ACCESS_CONTROL, {"unique": ("Nmae",)}, "not a member"),
        (ORIGIN_ACCESS_IDENTITY, {"max_lengths": {"Coment": 128}}, "not a member"),
        (ORIGIN_ACCESS_IDENTITY, {"idempotency_key": "CallerRef"}, "not a member"),
        (
            ORIGIN_ACCESS_IDENTITY,
            {"operations": {**ORIGIN_ACCESS_IDENTITY.operations, "get": "GetIdentity"}},
            "not a CloudFront operation",
        ),
        (
            ORIGIN_ACCESS_IDENTITY,
            {"operations": {"create": "CreateCloudFrontOriginAccessIdentity"}},
            "no operation for",
        ),
    ],
    ids=[
        "misspelt-error",
        "another-resources-error",
        "unknown-unique-member",
        "unknown-length-member",
        "unknown-idempotency-key",
        "unknown-operation",
        "missing-operations",
    ],
)
def test_a_declaration_that_disagrees_with_the_model_is_refused(
    resource: Resource, change: dict[str, Any], complaint: str
) -> None:
    with pytest.raises(LookupError, match=complaint):
        dataclasses.replace(resource, **change).check()
