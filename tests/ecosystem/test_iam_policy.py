"""deploy/iam-policy.json grants exactly the CloudFront actions behind the facade's RPCs.

Each RPC calls the CloudFront operation of the same name, and each operation is authorised by
the IAM action of that name, so the policy's actions are the service's method names. Per the
Service Authorization Reference, Create and List take no resource (Resource must be "*") while
Get, GetConfig, Update and Delete can be scoped to origin-access-identity ARNs.
"""

from __future__ import annotations

import json
from typing import Any

import botocore.session

from tests.conftest import RPCS
from tests.ecosystem.conftest import REPO_ROOT

POLICY = REPO_ROOT / "deploy" / "iam-policy.json"
OAI_ARN = "arn:aws:cloudfront::*:origin-access-identity/*"


def statements() -> list[dict[str, Any]]:
    document = json.loads(POLICY.read_text())
    assert document["Version"] == "2012-10-17"
    found: list[dict[str, Any]] = document["Statement"]
    return found


def actions(statement: dict[str, Any]) -> list[str]:
    named = statement["Action"]
    return [named] if isinstance(named, str) else list(named)


def test_policy_actions_are_exactly_the_service_rpcs() -> None:
    granted = [action for statement in statements() for action in actions(statement)]
    assert len(granted) == len(set(granted)), "an action is granted twice"
    assert set(granted) == {f"cloudfront:{name}" for name in RPCS}


def test_service_has_an_rpc_for_every_cloudfront_oai_operation() -> None:
    model = botocore.session.get_session().get_service_model("cloudfront")
    operations = {name for name in model.operation_names if "CloudFrontOriginAccessIdentit" in name}
    assert len(operations) == 6
    assert set(RPCS) == operations


def test_policy_statements_only_allow_actions_named_in_full() -> None:
    for statement in statements():
        assert statement["Effect"] == "Allow"
        assert set(statement) <= {"Sid", "Effect", "Action", "Resource"}
        assert not [action for action in actions(statement) if "*" in action]


def test_policy_uses_the_any_resource_only_for_actions_without_a_resource_type() -> None:
    unscoped = {
        action
        for statement in statements()
        if statement["Resource"] == "*"
        for action in actions(statement)
    }
    assert unscoped == {
        "cloudfront:CreateCloudFrontOriginAccessIdentity",
        "cloudfront:ListCloudFrontOriginAccessIdentities",
    }


def test_policy_scopes_per_identity_actions_to_origin_access_identity_arns() -> None:
    scoped = [s for s in statements() if s["Resource"] != "*"]
    assert [s["Resource"] for s in scoped] == [OAI_ARN]
    assert set(actions(scoped[0])) == {
        "cloudfront:GetCloudFrontOriginAccessIdentity",
        "cloudfront:GetCloudFrontOriginAccessIdentityConfig",
        "cloudfront:UpdateCloudFrontOriginAccessIdentity",
        "cloudfront:DeleteCloudFrontOriginAccessIdentity",
    }
