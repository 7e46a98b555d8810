"""deploy/iam-policy.json grants exactly the CloudFront actions behind the facade's RPCs.

Each RPC of every service in `service.resources.SERVICES` calls the CloudFront operation of the
same name, and each operation is authorised by the IAM action of that name, so the policy's
actions are the services' method names. Per the Service Authorization Reference, Create and
List take no resource (Resource must be "*") while Get, GetConfig, Update and Delete can be
scoped to the resource's ARNs (origin-access-identity/*, origin-access-control/*).
"""

from __future__ import annotations

import json
from typing import Any

import botocore.session
import pytest

from service.resources import SERVICES
from tests.ecosystem.conftest import REPO_ROOT

POLICY = REPO_ROOT / "deploy" / "iam-policy.json"

#: Every RPC the facade serves, from the descriptors of every registered service.
RPCS = tuple(method.name for resource in SERVICES for method in resource.descriptor.methods)

# Service -> (what its operation names contain, the ARN its per-resource actions are scoped to).
RESOURCE_TYPES = {
    "cloudfront.v1.OriginAccessIdentityService": (
        "CloudFrontOriginAccessIdentit",
        "arn:aws:cloudfront::*:origin-access-identity/*",
    ),
    "cloudfront.v1.OriginAccessControlService": (
        "OriginAccessControl",
        "arn:aws:cloudfront::*:origin-access-control/*",
    ),
}
SERVICE_NAMES = [resource.full_name for resource in SERVICES]


def statements() -> list[dict[str, Any]]:
    document = json.loads(POLICY.read_text())
    assert document["Version"] == "2012-10-17"
    found: list[dict[str, Any]] = document["Statement"]
    return found


def actions(statement: dict[str, Any]) -> list[str]:
    named = statement["Action"]
    return [named] if isinstance(named, str) else list(named)


def service_rpcs(full_name: str) -> set[str]:
    (resource,) = [r for r in SERVICES if r.full_name == full_name]
    return {method.name for method in resource.descriptor.methods}


def test_every_registered_service_has_a_resource_type_here() -> None:
    assert set(SERVICE_NAMES) == set(RESOURCE_TYPES)


def test_policy_actions_are_exactly_the_rpcs_of_every_service() -> None:
    granted = [action for statement in statements() for action in actions(statement)]
    assert len(granted) == len(set(granted)), "an action is granted twice"
    assert set(granted) == {f"cloudfront:{name}" for name in RPCS}


@pytest.mark.parametrize("full_name", SERVICE_NAMES)
def test_service_has_an_rpc_for_every_cloudfront_operation_of_its_resource(full_name: str) -> None:
    model = botocore.session.get_session().get_service_model("cloudfront")
    marker, _ = RESOURCE_TYPES[full_name]
    operations = {name for name in model.operation_names if marker in name}
    assert len(operations) == 6
    assert service_rpcs(full_name) == operations


def test_policy_statements_only_allow_actions_named_in_full() -> None:
    for statement in statements():
        assert statement["Effect"] == "Allow"
        assert set(statement) <= {"Sid", "Effect", "Action", "Resource"}
        assert not [action for action in actions(statement) if "*" in action]


def test_policy_uses_the_any_resource_only_for_create_and_list() -> None:
    unscoped = {
        action
        for statement in statements()
        if statement["Resource"] == "*"
        for action in actions(statement)
    }
    assert unscoped == {f"cloudfront:{rpc}" for rpc in RPCS if rpc.startswith(("Create", "List"))}


@pytest.mark.parametrize("full_name", SERVICE_NAMES)
def test_policy_scopes_per_resource_actions_to_the_resource_arns(full_name: str) -> None:
    _, arn = RESOURCE_TYPES[full_name]
    scoped = [s for s in statements() if s["Resource"] == arn]
    assert len(scoped) == 1
    assert set(actions(scoped[0])) == {
        f"cloudfront:{rpc}"
        for rpc in service_rpcs(full_name)
        if rpc.startswith(("Get", "Update", "Delete"))
    }


def test_policy_names_no_resource_but_any_and_the_services_arns() -> None:
    arns = {arn for _, arn in RESOURCE_TYPES.values()}
    assert {s["Resource"] for s in statements()} == {"*", *arns}
