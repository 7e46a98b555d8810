"""XML encoding and decoding round-trips, independent of the HTTP layer."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.emulator import Identity
from service.emulator.wire import ApiError, config_document, parse_config

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
    identity = Identity(
        id="E0000000000000",
        s3_canonical_user_id="0" * 96,
        caller_reference=caller_reference,
        comment=comment,
        etag="E1111111111111",
    )
    assert parse_config(config_document(identity)) == (caller_reference, comment)


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
