"""The six origin access identity operations, driven by the real aioboto3 client."""

from __future__ import annotations

import re
import string
from typing import Any

import pytest
from botocore.exceptions import ClientError

from service.emulator import Emulator
from tests.emulator.emulator_helpers import assert_client_error, oai_config

ID_RE = re.compile(r"E[A-Z0-9]{13}")
S3_ID_RE = re.compile(r"[0-9a-f]{96}")


async def test_create_returns_201_with_identity_location_and_etag(
    emulator: Emulator, cf: Any
) -> None:
    result = await cf.create_cloud_front_origin_access_identity(
        CloudFrontOriginAccessIdentityConfig=oai_config("ref-1", "first")
    )
    identity = result["CloudFrontOriginAccessIdentity"]
    assert result["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert ID_RE.fullmatch(identity["Id"])
    assert S3_ID_RE.fullmatch(identity["S3CanonicalUserId"])
    assert identity["CloudFrontOriginAccessIdentityConfig"] == oai_config("ref-1", "first")
    assert result["Location"] == (
        f"{emulator.base_url}/2020-05-31/origin-access-identity/cloudfront/{identity['Id']}"
    )
    assert ID_RE.fullmatch(result["ETag"])
    [stored] = emulator.identities()
    assert (stored.id, stored.etag, stored.caller_reference) == (
        identity["Id"],
        result["ETag"],
        "ref-1",
    )


async def test_get_returns_identity_and_current_etag(cf: Any) -> None:
    created = await cf.create_cloud_front_origin_access_identity(
        CloudFrontOriginAccessIdentityConfig=oai_config("ref-1", "hello")
    )
    identity_id = created["CloudFrontOriginAccessIdentity"]["Id"]
    result = await cf.get_cloud_front_origin_access_identity(Id=identity_id)
    assert result["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert result["ETag"] == created["ETag"]
    assert result["CloudFrontOriginAccessIdentity"] == created["CloudFrontOriginAccessIdentity"]


async def test_get_config_returns_config_and_etag(cf: Any) -> None:
    created = await cf.create_cloud_front_origin_access_identity(
        CloudFrontOriginAccessIdentityConfig=oai_config("ref-1", "hello")
    )
    identity_id = created["CloudFrontOriginAccessIdentity"]["Id"]
    result = await cf.get_cloud_front_origin_access_identity_config(Id=identity_id)
    assert result["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert result["ETag"] == created["ETag"]
    assert result["CloudFrontOriginAccessIdentityConfig"] == oai_config("ref-1", "hello")


async def test_update_changes_comment_and_etag(cf: Any) -> None:
    created = await cf.create_cloud_front_origin_access_identity(
        CloudFrontOriginAccessIdentityConfig=oai_config("ref-1", "before")
    )
    identity_id = created["CloudFrontOriginAccessIdentity"]["Id"]
    updated = await cf.update_cloud_front_origin_access_identity(
        Id=identity_id,
        IfMatch=created["ETag"],
        CloudFrontOriginAccessIdentityConfig=oai_config("ref-1", "after"),
    )
    assert updated["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert ID_RE.fullmatch(updated["ETag"])
    assert updated["ETag"] != created["ETag"]
    identity = updated["CloudFrontOriginAccessIdentity"]
    assert identity["Id"] == identity_id
    assert (
        identity["S3CanonicalUserId"]
        == (created["CloudFrontOriginAccessIdentity"]["S3CanonicalUserId"])
    )
    assert identity["CloudFrontOriginAccessIdentityConfig"]["Comment"] == "after"
    fetched = await cf.get_cloud_front_origin_access_identity_config(Id=identity_id)
    assert fetched["ETag"] == updated["ETag"]
    assert fetched["CloudFrontOriginAccessIdentityConfig"]["Comment"] == "after"


async def test_update_with_unchanged_config_still_issues_a_new_etag(cf: Any) -> None:
    created = await cf.create_cloud_front_origin_access_identity(
        CloudFrontOriginAccessIdentityConfig=oai_config("ref-1", "same")
    )
    updated = await cf.update_cloud_front_origin_access_identity(
        Id=created["CloudFrontOriginAccessIdentity"]["Id"],
        IfMatch=created["ETag"],
        CloudFrontOriginAccessIdentityConfig=oai_config("ref-1", "same"),
    )
    assert updated["ETag"] != created["ETag"]


async def test_delete_returns_204_and_removes_identity(emulator: Emulator, cf: Any) -> None:
    created = await cf.create_cloud_front_origin_access_identity(
        CloudFrontOriginAccessIdentityConfig=oai_config("ref-1")
    )
    result = await cf.delete_cloud_front_origin_access_identity(
        Id=created["CloudFrontOriginAccessIdentity"]["Id"], IfMatch=created["ETag"]
    )
    assert result["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert emulator.identities() == []


async def test_list_returns_summaries_ordered_by_id(cf: Any) -> None:
    ids = []
    for n in range(3):
        created = await cf.create_cloud_front_origin_access_identity(
            CloudFrontOriginAccessIdentityConfig=oai_config(f"ref-{n}", f"comment {n}")
        )
        ids.append(created["CloudFrontOriginAccessIdentity"]["Id"])
    listing = (await cf.list_cloud_front_origin_access_identities())[
        "CloudFrontOriginAccessIdentityList"
    ]
    assert listing["Marker"] == ""
    assert "NextMarker" not in listing
    assert listing["MaxItems"] == 100
    assert listing["IsTruncated"] is False
    assert listing["Quantity"] == 3
    assert [item["Id"] for item in listing["Items"]] == sorted(ids)
    for item in listing["Items"]:
        assert set(item) == {"Id", "S3CanonicalUserId", "Comment"}
        assert S3_ID_RE.fullmatch(item["S3CanonicalUserId"])
        assert item["Comment"] == f"comment {ids.index(item['Id'])}"


async def test_list_when_empty_omits_items(cf: Any) -> None:
    listing = (await cf.list_cloud_front_origin_access_identities())[
        "CloudFrontOriginAccessIdentityList"
    ]
    assert listing == {"Marker": "", "MaxItems": 100, "IsTruncated": False, "Quantity": 0}


async def test_list_page_reports_next_marker_when_truncated(cf: Any) -> None:
    for n in range(5):
        await cf.create_cloud_front_origin_access_identity(
            CloudFrontOriginAccessIdentityConfig=oai_config(f"ref-{n}")
        )
    first = (await cf.list_cloud_front_origin_access_identities(MaxItems="2"))[
        "CloudFrontOriginAccessIdentityList"
    ]
    assert first["IsTruncated"] is True
    assert first["Quantity"] == 2
    assert first["MaxItems"] == 2
    assert first["NextMarker"] == first["Items"][-1]["Id"]
    second = (
        await cf.list_cloud_front_origin_access_identities(Marker=first["NextMarker"], MaxItems="2")
    )["CloudFrontOriginAccessIdentityList"]
    assert second["Marker"] == first["NextMarker"]
    assert all(item["Id"] > first["NextMarker"] for item in second["Items"])


async def test_paginator_yields_every_identity_exactly_once(cf: Any) -> None:
    created = set()
    for n in range(25):
        result = await cf.create_cloud_front_origin_access_identity(
            CloudFrontOriginAccessIdentityConfig=oai_config(f"ref-{n}")
        )
        created.add(result["CloudFrontOriginAccessIdentity"]["Id"])
    paginator = cf.get_paginator("list_cloud_front_origin_access_identities")
    seen: list[str] = []
    quantities = []
    async for page in paginator.paginate(PaginationConfig={"PageSize": "7"}):
        listing = page["CloudFrontOriginAccessIdentityList"]
        quantities.append(listing["Quantity"])
        seen.extend(item["Id"] for item in listing.get("Items", []))
    assert quantities == [7, 7, 7, 4]
    assert len(seen) == len(set(seen)) == 25
    assert set(seen) == created


async def test_list_marker_stays_valid_after_the_marker_item_is_deleted(cf: Any) -> None:
    etags = {}
    for n in range(6):
        created = await cf.create_cloud_front_origin_access_identity(
            CloudFrontOriginAccessIdentityConfig=oai_config(f"ref-{n}")
        )
        etags[created["CloudFrontOriginAccessIdentity"]["Id"]] = created["ETag"]
    first = (await cf.list_cloud_front_origin_access_identities(MaxItems="3"))[
        "CloudFrontOriginAccessIdentityList"
    ]
    marker = first["NextMarker"]
    await cf.delete_cloud_front_origin_access_identity(Id=marker, IfMatch=etags[marker])
    rest = (await cf.list_cloud_front_origin_access_identities(Marker=marker))[
        "CloudFrontOriginAccessIdentityList"
    ]
    assert [item["Id"] for item in rest["Items"]] == sorted(etags)[3:]


async def test_idempotent_create_with_same_config_returns_existing_identity(
    emulator: Emulator, cf: Any
) -> None:
    first = await cf.create_cloud_front_origin_access_identity(
        CloudFrontOriginAccessIdentityConfig=oai_config("ref-1", "same")
    )
    # Surrounding whitespace is not a difference, as with CloudFront.
    again = await cf.create_cloud_front_origin_access_identity(
        CloudFrontOriginAccessIdentityConfig=oai_config("ref-1", "  same\n")
    )
    assert again["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert again["CloudFrontOriginAccessIdentity"] == first["CloudFrontOriginAccessIdentity"]
    assert again["ETag"] == first["ETag"]
    assert again["Location"] == first["Location"]
    assert len(emulator.identities()) == 1


async def test_idempotent_create_compares_with_the_original_request_after_an_update(
    emulator: Emulator, cf: Any
) -> None:
    first = await cf.create_cloud_front_origin_access_identity(
        CloudFrontOriginAccessIdentityConfig=oai_config("ref-1", "hello world")
    )
    updated = await cf.update_cloud_front_origin_access_identity(
        Id=first["CloudFrontOriginAccessIdentity"]["Id"],
        IfMatch=first["ETag"],
        CloudFrontOriginAccessIdentityConfig=oai_config("ref-1", "new"),
    )
    # A replay of the original request is still that request: it returns the identity,
    # as it is now.
    again = await cf.create_cloud_front_origin_access_identity(
        CloudFrontOriginAccessIdentityConfig=oai_config("ref-1", "hello world")
    )
    assert again["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert again["CloudFrontOriginAccessIdentity"] == updated["CloudFrontOriginAccessIdentity"]
    assert again["ETag"] == updated["ETag"]
    assert len(emulator.identities()) == 1


async def test_create_with_the_updated_config_is_not_a_replay(cf: Any) -> None:
    first = await cf.create_cloud_front_origin_access_identity(
        CloudFrontOriginAccessIdentityConfig=oai_config("ref-1", "hello world")
    )
    await cf.update_cloud_front_origin_access_identity(
        Id=first["CloudFrontOriginAccessIdentity"]["Id"],
        IfMatch=first["ETag"],
        CloudFrontOriginAccessIdentityConfig=oai_config("ref-1", "new"),
    )
    with pytest.raises(ClientError) as caught:
        await cf.create_cloud_front_origin_access_identity(
            CloudFrontOriginAccessIdentityConfig=oai_config("ref-1", "new")
        )
    assert_client_error(caught.value, "CloudFrontOriginAccessIdentityAlreadyExists", 409)


async def test_caller_reference_is_reusable_after_delete(cf: Any) -> None:
    first = await cf.create_cloud_front_origin_access_identity(
        CloudFrontOriginAccessIdentityConfig=oai_config("ref-1", "one")
    )
    await cf.delete_cloud_front_origin_access_identity(
        Id=first["CloudFrontOriginAccessIdentity"]["Id"], IfMatch=first["ETag"]
    )
    second = await cf.create_cloud_front_origin_access_identity(
        CloudFrontOriginAccessIdentityConfig=oai_config("ref-1", "two")
    )
    assert (
        second["CloudFrontOriginAccessIdentity"]["Id"]
        != first["CloudFrontOriginAccessIdentity"]["Id"]
    )


@pytest.mark.parametrize(
    "comment",
    [
        "",
        "a" * 128,
        "<tag> & 'quotes' \"double\"",
        "ünïcödé ✓ 雲",
        "line one\nline two\ttabbed",
        "]]> <![CDATA[ x",
        string.punctuation,
    ],
    ids=["empty", "max-length", "markup", "unicode", "whitespace", "cdata", "punctuation"],
)
async def test_comment_round_trips_exactly(cf: Any, comment: str) -> None:
    created = await cf.create_cloud_front_origin_access_identity(
        CloudFrontOriginAccessIdentityConfig=oai_config("ref-<&>", comment)
    )
    identity_id = created["CloudFrontOriginAccessIdentity"]["Id"]
    config = (await cf.get_cloud_front_origin_access_identity_config(Id=identity_id))[
        "CloudFrontOriginAccessIdentityConfig"
    ]
    assert config == oai_config("ref-<&>", comment)
    listing = (await cf.list_cloud_front_origin_access_identities())[
        "CloudFrontOriginAccessIdentityList"
    ]
    assert listing["Items"][0]["Comment"] == comment


async def test_request_xml_without_namespace_is_accepted(emulator: Emulator, cf: Any) -> None:
    def strip_namespace(request: Any, **_: Any) -> None:
        request.data = (
            b"<CloudFrontOriginAccessIdentityConfig><CallerReference>plain</CallerReference>"
            b"<Comment>no namespace</Comment></CloudFrontOriginAccessIdentityConfig>"
        )

    cf.meta.events.register(
        "before-sign.cloudfront.CreateCloudFrontOriginAccessIdentity", strip_namespace
    )
    result = await cf.create_cloud_front_origin_access_identity(
        CloudFrontOriginAccessIdentityConfig=oai_config("ignored")
    )
    assert result["CloudFrontOriginAccessIdentity"]["CloudFrontOriginAccessIdentityConfig"] == (
        oai_config("plain", "no namespace")
    )
