"""The validation rules themselves: derived from botocore's model, checked against the services.

Unit level (no server): `violations()` over every OAC RPC, and `check_coverage()` refusing rules
that do not fit the registered services. The same OAC table runs through a real channel in
tests/test_validation_oac.py.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import pytest
from botocore.model import ServiceModel
from google.protobuf.descriptor import ServiceDescriptor
from google.protobuf.message import Message
from hypothesis import given, settings
from hypothesis import strategies as st

from service import validation
from service._gen.cloudfront.v1 import origin_access_control_service_pb2 as oac
from service._gen.cloudfront.v1 import origin_access_identity_service_pb2 as oai
from service.validation import CARRIAGE_RETURN, RULES, CoverageError, Rules, check_coverage
from tests.validation_cases import (
    BAD,
    BEHAVIOR,
    DESCRIPTION,
    GOOD,
    NAME,
    ORIGIN_TYPE,
    PROTOCOL,
    create,
)

OAI_SERVICE = oai.DESCRIPTOR.services_by_name["OriginAccessIdentityService"]
OAC_SERVICE = oac.DESCRIPTOR.services_by_name["OriginAccessControlService"]
SERVICES: list[ServiceDescriptor] = [OAI_SERVICE, OAC_SERVICE]


def fields(rpc: str, request: Message) -> set[str]:
    return {path for path, _ in validation.violations(rpc, request)}


# -- violations(): the OAC table ----------------------------------------------------------------


@pytest.mark.parametrize(("rpc", "request_message", "expected"), BAD)
def test_a_bad_oac_request_names_each_bad_field_once(
    rpc: str, request_message: Message, expected: set[str]
) -> None:
    found = validation.violations(rpc, request_message)
    assert {path for path, _ in found} == expected
    assert len(found) == len(expected), f"one violation per field: {found}"
    assert all(description for _, description in found)


@pytest.mark.parametrize(
    ("rpc", "request_message"), GOOD, ids=[f"{rpc}-{i}" for i, (rpc, _) in enumerate(GOOD)]
)
def test_a_good_oac_request_has_no_violations(rpc: str, request_message: Message) -> None:
    assert validation.violations(rpc, request_message) == []


def test_every_oac_rpc_has_a_bad_and_a_good_case() -> None:
    rpcs = {method.name for method in OAC_SERVICE.methods}
    assert {param.values[0] for param in BAD} == rpcs
    assert {rpc for rpc, _ in GOOD} == rpcs


def test_an_unset_enum_must_be_set() -> None:
    found = dict(
        validation.violations(
            "CreateOriginAccessControl",
            create(signing_protocol=0, signing_behavior=0, origin_access_control_origin_type=0),
        )
    )
    assert found == {PROTOCOL: "must be set", BEHAVIOR: "must be set", ORIGIN_TYPE: "must be set"}


def test_an_enum_number_the_proto_does_not_know_lists_the_values_it_does() -> None:
    found = dict(validation.violations("CreateOriginAccessControl", create(signing_behavior=99)))
    assert found == {
        BEHAVIOR: "must be one of ORIGIN_ACCESS_CONTROL_SIGNING_BEHAVIORS_NEVER, "
        "ORIGIN_ACCESS_CONTROL_SIGNING_BEHAVIORS_ALWAYS, "
        "ORIGIN_ACCESS_CONTROL_SIGNING_BEHAVIORS_NO_OVERRIDE"
    }


@pytest.mark.parametrize("field", ["name", "description"])
@pytest.mark.parametrize("text", ["a\rb", "a\r\nb", "\r"])
def test_a_carriage_return_in_oac_text_is_refused_with_the_reason(field: str, text: str) -> None:
    found = validation.violations("CreateOriginAccessControl", create(**{field: text}))
    assert found == [(f"origin_access_control_config.{field}", CARRIAGE_RETURN)]


def test_an_oac_name_is_limited_in_characters_not_bytes() -> None:
    assert validation.violations("CreateOriginAccessControl", create(name="é" * 64)) == []
    assert validation.violations("CreateOriginAccessControl", create(name="é" * 65)) == [
        (NAME, "must be at most 64 characters, got 65")
    ]


def test_an_empty_oac_description_is_fine_as_the_model_allows() -> None:
    assert DESCRIPTION not in fields("CreateOriginAccessControl", create(description=""))


# -- violations(): what is derived and what is a deliberate departure ---------------------------


OAI_CONFIG = "cloud_front_origin_access_identity_config"


def test_an_empty_oai_comment_is_a_value_though_the_model_requires_the_member() -> None:
    request = oai.CreateCloudFrontOriginAccessIdentityRequest(
        cloud_front_origin_access_identity_config=oai.CloudFrontOriginAccessIdentityConfig(
            caller_reference="ref", comment=""
        )
    )
    assert validation.violations("CreateCloudFrontOriginAccessIdentity", request) == []
    assert ("CreateCloudFrontOriginAccessIdentity", f"{OAI_CONFIG}.comment") in RULES.may_be_empty


@pytest.mark.parametrize(
    "rpc",
    [
        "UpdateCloudFrontOriginAccessIdentity",
        "DeleteCloudFrontOriginAccessIdentity",
        "UpdateOriginAccessControl",
        "DeleteOriginAccessControl",
    ],
)
def test_if_match_is_required_by_the_facade_though_the_model_leaves_it_optional(rpc: str) -> None:
    assert (
        "IfMatch"
        not in validation.cloudfront_model().operation_model(rpc).input_shape.required_members
    )
    request = getattr(oai if "Identity" in rpc else oac, f"{rpc}Request")()
    assert dict(validation.violations(rpc, request))["if_match"] == (
        "must not be empty: pass the etag of your last read"
    )


def _model_with(change: Any) -> ServiceModel:
    """botocore's CloudFront model with one edit, to show the rules follow the model."""
    raw = copy.deepcopy(validation.cloudfront_model()._service_description)
    change(raw["shapes"])
    return ServiceModel(raw, service_name="cloudfront")


def test_a_member_the_model_requires_is_required_without_a_hand_written_rule() -> None:
    def require_description(shapes: dict[str, Any]) -> None:
        shapes["OriginAccessControlConfig"]["required"].append("Description")

    rules = validation.compile_rules(
        "CreateOriginAccessControl",
        oac.CreateOriginAccessControlRequest.DESCRIPTOR,
        _model_with(require_description),
    )
    assert {rule.path: rule.required for rule in rules}[DESCRIPTION] == "must not be empty"


def test_a_proto_enum_value_the_model_does_not_have_fails_the_start_up_check() -> None:
    def drop_lambda(shapes: dict[str, Any]) -> None:
        shapes["OriginAccessControlOriginTypes"]["enum"].remove("lambda")

    with pytest.raises(CoverageError, match="LAMBDA"):
        check_coverage(SERVICES, model=_model_with(drop_lambda))


def test_a_proto_enum_for_a_member_the_model_has_no_enum_for_fails_the_start_up_check() -> None:
    def drop_enum(shapes: dict[str, Any]) -> None:
        del shapes["OriginAccessControlOriginTypes"]["enum"]

    with pytest.raises(CoverageError, match="origin_access_control_origin_type is a proto enum"):
        check_coverage(SERVICES, model=_model_with(drop_enum))


# -- check_coverage(): the start-up check --------------------------------------------------------


def test_the_rules_cover_exactly_the_registered_services() -> None:
    check_coverage(SERVICES)  # raises on any mismatch


def _with_checks(rpc: str, checks: dict[str, Any] | None) -> Rules:
    table = dict(RULES.checks)
    if checks is None:
        del table[rpc]
    else:
        table[rpc] = checks
    return dataclasses.replace(RULES, checks=table)


@pytest.mark.parametrize(
    "path", ["idd", "origin_access_control_config.nmae", "origin_access_control_config"]
)
def test_a_check_whose_path_does_not_resolve_fails_loudly(path: str) -> None:
    a_check = validation.CHECKS["GetOriginAccessControl"]["id"]
    rules = _with_checks("UpdateOriginAccessControl", {path: a_check})
    with pytest.raises(CoverageError, match=rf"UpdateOriginAccessControl names '{path}'"):
        check_coverage(SERVICES, rules)


def test_an_rpc_without_rules_fails_loudly() -> None:
    with pytest.raises(CoverageError, match=r"no rules for RPCs \['ListOriginAccessControls'\]"):
        check_coverage(SERVICES, _with_checks("ListOriginAccessControls", None))


def test_rules_for_an_rpc_no_service_has_fail_loudly() -> None:
    with pytest.raises(CoverageError, match=r"no registered service has: \['Frobnicate'\]"):
        check_coverage(SERVICES, _with_checks("Frobnicate", {}))


def test_rules_for_a_service_that_is_not_registered_fail_loudly() -> None:
    with pytest.raises(CoverageError, match="CreateOriginAccessControl"):
        check_coverage([OAI_SERVICE])


def test_an_rpc_in_two_services_fails_loudly() -> None:
    with pytest.raises(CoverageError, match="two registered services"):
        check_coverage([OAI_SERVICE, OAI_SERVICE, OAC_SERVICE])


@pytest.mark.parametrize(
    ("table", "entry", "error"),
    [
        ("must_be_given", ("GetOriginAccessControl", "id"), "the model requires it"),
        ("may_be_empty", ("UpdateOriginAccessControl", DESCRIPTION), "does not require it"),
        ("may_be_empty", ("GetOriginAccessControl", "idd"), "names 'idd'"),
        ("must_be_given", ("Frobnicate", "id"), r"no registered service has: \['Frobnicate'\]"),
    ],
)
def test_a_departure_from_the_model_that_is_none_or_names_nothing_fails_loudly(
    table: str, entry: tuple[str, str], error: str
) -> None:
    rules = dataclasses.replace(RULES, **{table: {**getattr(RULES, table), entry: "why"}})
    with pytest.raises(CoverageError, match=error):
        check_coverage(SERVICES, rules)


# -- any request at all -------------------------------------------------------------------------

_texts = st.one_of(st.text(max_size=80), st.sampled_from(["", "\r", "x" * 65, "E2QWRUHAPOMQZL"]))
_enums = st.integers(min_value=-(2**31), max_value=2**31 - 1)
_configs = st.builds(
    oac.OriginAccessControlConfig,
    name=_texts,
    description=_texts,
    signing_protocol=_enums,
    signing_behavior=_enums,
    origin_access_control_origin_type=_enums,
)
_ANY_OAC = st.one_of(
    st.tuples(
        st.just("CreateOriginAccessControl"),
        st.builds(oac.CreateOriginAccessControlRequest, origin_access_control_config=_configs),
    ),
    st.tuples(
        st.just("UpdateOriginAccessControl"),
        st.builds(
            oac.UpdateOriginAccessControlRequest,
            id=_texts,
            if_match=_texts,
            origin_access_control_config=_configs,
        ),
    ),
    st.tuples(
        st.just("ListOriginAccessControls"),
        st.builds(oac.ListOriginAccessControlsRequest, marker=_texts, max_items=_enums),
    ),
)


@settings(max_examples=300, deadline=None, database=None)
@given(_ANY_OAC)
def test_any_oac_request_gets_at_most_one_described_violation_per_field(
    case: tuple[str, Message],
) -> None:
    rpc, request = case
    found = validation.violations(rpc, request)
    paths = [path for path, _ in found]
    assert len(paths) == len(set(paths))
    assert all(description for _, description in found)


def test_an_rpc_that_is_not_an_aws_operation_fails_loudly() -> None:
    with pytest.raises(CoverageError, match="Frobnicate is not an operation"):
        validation.compile_rules(
            "Frobnicate",
            oac.GetOriginAccessControlRequest.DESCRIPTOR,
            validation.cloudfront_model(),
            _with_checks("Frobnicate", {}),
        )


def test_rules_reach_each_element_of_a_repeated_message() -> None:
    """No request has a list yet, so ListOriginAccessControls' response shape stands in."""
    shape = validation.cloudfront_model().operation_model("ListOriginAccessControls").output_shape
    leaves = validation._derive(
        "ListOriginAccessControls", oac.ListOriginAccessControlsResponse.DESCRIPTOR, shape
    )
    required = {path for _, path, model_required, _ in leaves if model_required}
    assert "origin_access_control_list.items[].name" in required
    rule = validation.FieldRule("origin_access_control_list.items[].name", "must not be empty", ())
    response = oac.ListOriginAccessControlsResponse(
        origin_access_control_list=oac.OriginAccessControlList(
            items=[oac.OriginAccessControlSummary(name="a"), oac.OriginAccessControlSummary()]
        )
    )
    assert rule.values(response) == [
        ("origin_access_control_list.items[0].name", "a"),
        ("origin_access_control_list.items[1].name", ""),
    ]
