"""The proto <-> botocore conversion is derived from both schemas, and refuses a mismatch."""

from __future__ import annotations

import botocore.session
import pytest
from google.protobuf.message import Message

from service._gen.cloudfront.v1 import origin_access_identity_service_pb2 as pb
from service.convert import ContractMismatch, MissingMembers, Plan

MODEL = botocore.session.get_session().get_service_model("cloudfront")


def _shape(operation: str, direction: str = "input") -> object:
    model = MODEL.operation_model(operation)
    return model.input_shape if direction == "input" else model.output_shape


def test_request_defaults_are_left_out_but_required_members_are_sent() -> None:
    plan = Plan(
        pb.ListCloudFrontOriginAccessIdentitiesRequest,
        _shape("ListCloudFrontOriginAccessIdentities"),
    )
    assert plan.to_boto(pb.ListCloudFrontOriginAccessIdentitiesRequest()) == {}
    assert plan.to_boto(pb.ListCloudFrontOriginAccessIdentitiesRequest(max_items=5)) == {
        "MaxItems": "5"
    }  # a string in the AWS model, an int32 in the proto

    create = Plan(
        pb.CreateCloudFrontOriginAccessIdentityRequest,
        _shape("CreateCloudFrontOriginAccessIdentity"),
    )
    config = pb.CloudFrontOriginAccessIdentityConfig(caller_reference="r", comment="")
    assert create.to_boto(
        pb.CreateCloudFrontOriginAccessIdentityRequest(
            cloud_front_origin_access_identity_config=config
        )
    ) == {"CloudFrontOriginAccessIdentityConfig": {"CallerReference": "r", "Comment": ""}}


def test_response_is_built_from_the_botocore_result_ignoring_metadata() -> None:
    plan = Plan(
        pb.ListCloudFrontOriginAccessIdentitiesResponse,
        _shape("ListCloudFrontOriginAccessIdentities", "output"),
    )
    result = {
        "ResponseMetadata": {"RequestId": "r-1"},
        "CloudFrontOriginAccessIdentityList": {
            "Marker": "",
            "MaxItems": 2,
            "IsTruncated": True,
            "Quantity": 1,
            "NextMarker": "E1",
            "Items": [{"Id": "E1", "S3CanonicalUserId": "ab", "Comment": "c"}],
        },
    }
    page = plan.from_boto(result).cloud_front_origin_access_identity_list
    assert (page.max_items, page.is_truncated, page.next_marker) == (2, True, "E1")
    assert [(i.id, i.comment) for i in page.items] == [("E1", "c")]


def test_etag_member_maps_to_the_etag_field() -> None:
    plan = Plan(
        pb.GetCloudFrontOriginAccessIdentityConfigResponse,
        _shape("GetCloudFrontOriginAccessIdentityConfig", "output"),
    )
    config = {"CallerReference": "r", "Comment": ""}
    assert (
        plan.from_boto({"ETag": "E2", "CloudFrontOriginAccessIdentityConfig": config}).etag == "E2"
    )


def test_an_answer_missing_what_the_model_promises_names_every_missing_member() -> None:
    plan = Plan(
        pb.ListCloudFrontOriginAccessIdentitiesResponse,
        _shape("ListCloudFrontOriginAccessIdentities", "output"),
    )
    page = {
        "Marker": "",
        "MaxItems": 100,
        "IsTruncated": False,
        "Quantity": 1,
        "Items": [{"Id": "E1", "Comment": ""}],
    }
    with pytest.raises(MissingMembers) as missing:
        plan.from_boto({"CloudFrontOriginAccessIdentityList": page})
    assert missing.value.paths == ["CloudFrontOriginAccessIdentityList.Items[0].S3CanonicalUserId"]
    with pytest.raises(MissingMembers) as empty:
        plan.from_boto({})  # the payload itself, though the model does not mark it required
    assert empty.value.paths == ["CloudFrontOriginAccessIdentityList"]


def test_an_answer_without_the_etag_header_is_missing_a_member() -> None:
    plan = Plan(
        pb.GetCloudFrontOriginAccessIdentityResponse,
        _shape("GetCloudFrontOriginAccessIdentity", "output"),
    )
    identity = {"Id": "E1", "S3CanonicalUserId": "ab"}
    assert plan.from_boto({"CloudFrontOriginAccessIdentity": identity, "ETag": "E2"}).etag == "E2"
    with pytest.raises(MissingMembers, match="ETag"):
        plan.from_boto({"CloudFrontOriginAccessIdentity": identity})


def test_a_proto_missing_an_aws_member_is_refused_at_start() -> None:
    with pytest.raises(ContractMismatch, match="if_match"):
        Plan(
            pb.GetCloudFrontOriginAccessIdentityRequest,
            _shape("DeleteCloudFrontOriginAccessIdentity"),
        )


def test_a_proto_field_unknown_to_aws_is_refused_at_start() -> None:
    with pytest.raises(ContractMismatch, match="unknown to AWS"):
        Plan(
            pb.DeleteCloudFrontOriginAccessIdentityRequest,
            _shape("GetCloudFrontOriginAccessIdentity"),
        )


def _oac_plan(message: type[Message], shape_name: str) -> Plan:
    import botocore.session

    model = botocore.session.get_session().get_service_model("cloudfront")
    return Plan(message, model.shape_for(shape_name))  # type: ignore[arg-type]


def test_proto_enums_travel_as_the_aws_values() -> None:
    from service._gen.cloudfront.v1 import origin_access_control_service_pb2 as oac

    plan = _oac_plan(oac.OriginAccessControlConfig, "OriginAccessControlConfig")
    config = oac.OriginAccessControlConfig(
        name="n",
        signing_protocol=oac.ORIGIN_ACCESS_CONTROL_SIGNING_PROTOCOLS_SIGV4,
        signing_behavior=oac.ORIGIN_ACCESS_CONTROL_SIGNING_BEHAVIORS_NO_OVERRIDE,
        origin_access_control_origin_type=oac.ORIGIN_ACCESS_CONTROL_ORIGIN_TYPES_MEDIAPACKAGEV2,
    )
    sent = plan.to_boto(config)
    assert sent["SigningProtocol"] == "sigv4"
    assert sent["SigningBehavior"] == "no-override"
    assert sent["OriginAccessControlOriginType"] == "mediapackagev2"
    assert plan.from_boto(sent) == config


def test_an_enum_value_aws_added_later_reads_as_unspecified() -> None:
    from service._gen.cloudfront.v1 import origin_access_control_service_pb2 as oac

    plan = _oac_plan(oac.OriginAccessControlConfig, "OriginAccessControlConfig")
    read = plan.from_boto(
        {
            "Name": "n",
            "SigningProtocol": "sigv5",
            "SigningBehavior": "always",
            "OriginAccessControlOriginType": "s3",
        }
    )
    assert read.signing_protocol == oac.ORIGIN_ACCESS_CONTROL_SIGNING_PROTOCOLS_UNSPECIFIED
    assert read.signing_behavior == oac.ORIGIN_ACCESS_CONTROL_SIGNING_BEHAVIORS_ALWAYS
