"""XML encoding and decoding round-trips, independent of the HTTP layer."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.emulator import ORIGIN_ACCESS_CONTROL as OAC
from service.emulator import ORIGIN_ACCESS_IDENTITY as OAI
from service.emulator.wire import ApiError, decode, encode


def parse_config(body: bytes) -> tuple[str, str]:
    """(CallerReference, Comment) as the emulator's request parser reads them."""
    config = decode(OAI.config_shape, OAI.config_member, body)
    return config["CallerReference"], config["Comment"]


def config_document(caller_reference: str, comment: str) -> bytes:
    """The GetCloudFrontOriginAccessIdentityConfig response document."""
    config = {"CallerReference": caller_reference, "Comment": comment}
    return encode(OAI.config_shape, OAI.config_member, config)


# Characters XML 1.0 can carry; the rest cannot reach the emulator in a request anyway.
xml_text = st.text(
    alphabet=st.characters(
        exclude_categories=["Cs"],
        exclude_characters=[chr(c) for c in range(32) if chr(c) not in "\t\n\r"]
        + ["\ufffe", "\uffff"],
    ),
    max_size=200,
)


@given(caller_reference=xml_text.filter(lambda text: text.strip() != ""), comment=xml_text)
def test_config_document_round_trips_through_the_request_parser(
    caller_reference: str, comment: str
) -> None:
    assert parse_config(config_document(caller_reference, comment)) == (caller_reference, comment)


@pytest.mark.parametrize(
    "body",
    [
        b'<!DOCTYPE x [<!ENTITY a "aaaa">]><CloudFrontOriginAccessIdentityConfig>'
        b"<CallerReference>&a;</CallerReference><Comment/></CloudFrontOriginAccessIdentityConfig>",
        b"<CloudFrontOriginAccessIdentityConfig><CallerReference>a</CallerReference>"
        b"<CallerReference>b</CallerReference><Comment/></CloudFrontOriginAccessIdentityConfig>",
        b"<CloudFrontOriginAccessIdentityConfig><CallerReference>a</CallerReference>"
        b"<Comment/><Extra/></CloudFrontOriginAccessIdentityConfig>",
        b'<CloudFrontOriginAccessIdentityConfig xmlns="urn:other"><CallerReference>a'
        b"</CallerReference><Comment/></CloudFrontOriginAccessIdentityConfig>",
    ],
    ids=["doctype", "duplicate-element", "unknown-element", "foreign-namespace"],
)
def test_suspicious_request_documents_are_invalid_argument(body: bytes) -> None:
    with pytest.raises(ApiError) as caught:
        parse_config(body)
    assert (caught.value.code, caught.value.status) == ("InvalidArgument", 400)


def _enum(member: str) -> st.SearchStrategy[str]:
    return st.sampled_from(list(OAC.config_shape.members[member].enum))


@given(
    config=st.fixed_dictionaries(
        {
            "Name": xml_text.filter(lambda text: text.strip() != ""),
            "Description": xml_text,
            "SigningProtocol": _enum("SigningProtocol"),
            "SigningBehavior": _enum("SigningBehavior"),
            "OriginAccessControlOriginType": _enum("OriginAccessControlOriginType"),
        }
    )
)
def test_oac_config_round_trips_through_the_shape_driven_codec(config: dict[str, str]) -> None:
    body = encode(OAC.config_shape, OAC.config_member, config)
    assert decode(OAC.config_shape, OAC.config_member, body) == config


def test_an_enum_value_outside_the_model_is_invalid_argument() -> None:
    body = (
        b"<OriginAccessControlConfig><Name>n</Name><SigningProtocol>sigv4</SigningProtocol>"
        b"<SigningBehavior>sometimes</SigningBehavior>"
        b"<OriginAccessControlOriginType>s3</OriginAccessControlOriginType>"
        b"</OriginAccessControlConfig>"
    )
    with pytest.raises(ApiError) as caught:
        decode(OAC.config_shape, OAC.config_member, body)
    assert (caught.value.code, caught.value.status) == ("InvalidArgument", 400)
    assert "never, always, no-override" in caught.value.message
