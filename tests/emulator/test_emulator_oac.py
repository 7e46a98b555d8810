"""The six origin access control operations, driven by the real aioboto3 client."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import aiohttp
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.parsers import ResponseParserError

from service.emulator import Emulator, FaultRule
from tests.emulator.emulator_helpers import (
    FAKE_SIGV4_HEADERS,
    OAC_URL_PATH,
    EmulatorFactory,
    assert_client_error,
    make_client,
    oac_config,
)

ID_RE = re.compile(r"E[A-Z0-9]{13}")


async def _create(cf: Any, name: str, description: str | None = None, **kwargs: Any) -> Any:
    return await cf.create_origin_access_control(
        OriginAccessControlConfig=oac_config(name, description, **kwargs)
    )


async def test_create_returns_201_with_control_location_and_etag(
    emulator: Emulator, cf: Any
) -> None:
    result = await _create(cf, "site-bucket", "for the site", behavior="no-override")
    control = result["OriginAccessControl"]
    assert result["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert ID_RE.fullmatch(control["Id"])
    assert control["OriginAccessControlConfig"] == oac_config(
        "site-bucket", "for the site", behavior="no-override"
    )
    assert (
        result["Location"]
        == f"{emulator.base_url}/2020-05-31/origin-access-control/{control['Id']}"
    )
    assert ID_RE.fullmatch(result["ETag"])
    [stored] = emulator.controls()
    assert (stored.id, stored.etag, stored.name, stored.signing_behavior) == (
        control["Id"],
        result["ETag"],
        "site-bucket",
        "no-override",
    )


async def test_a_control_created_without_description_reads_back_an_empty_one(cf: Any) -> None:
    created = await _create(cf, "plain")
    assert created["OriginAccessControl"]["OriginAccessControlConfig"]["Description"] == ""


async def test_get_and_get_config_return_the_control_and_current_etag(cf: Any) -> None:
    created = await _create(cf, "oac", "note")
    control_id = created["OriginAccessControl"]["Id"]
    got = await cf.get_origin_access_control(Id=control_id)
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert (got["OriginAccessControl"], got["ETag"]) == (
        created["OriginAccessControl"],
        created["ETag"],
    )
    config = await cf.get_origin_access_control_config(Id=control_id)
    assert config["OriginAccessControlConfig"] == oac_config("oac", "note")
    assert config["ETag"] == created["ETag"]


async def test_update_changes_the_config_and_the_etag(cf: Any) -> None:
    created = await _create(cf, "before", "old")
    control_id = created["OriginAccessControl"]["Id"]
    new = oac_config("after", "new", behavior="never", origin_type="mediastore")
    updated = await cf.update_origin_access_control(
        Id=control_id, IfMatch=created["ETag"], OriginAccessControlConfig=new
    )
    assert updated["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert updated["ETag"] != created["ETag"]
    assert updated["OriginAccessControl"] == {"Id": control_id, "OriginAccessControlConfig": new}
    fetched = await cf.get_origin_access_control_config(Id=control_id)
    assert (fetched["OriginAccessControlConfig"], fetched["ETag"]) == (new, updated["ETag"])


async def test_update_keeping_its_own_name_is_not_a_conflict(cf: Any) -> None:
    created = await _create(cf, "mine", "old")
    updated = await cf.update_origin_access_control(
        Id=created["OriginAccessControl"]["Id"],
        IfMatch=created["ETag"],
        OriginAccessControlConfig=oac_config("mine", "new"),
    )
    assert updated["OriginAccessControl"]["OriginAccessControlConfig"]["Description"] == "new"


async def test_a_name_freed_by_rename_or_delete_can_be_taken(cf: Any) -> None:
    first = await _create(cf, "one")
    await cf.update_origin_access_control(
        Id=first["OriginAccessControl"]["Id"],
        IfMatch=first["ETag"],
        OriginAccessControlConfig=oac_config("renamed"),
    )
    second = await _create(cf, "one")
    await cf.delete_origin_access_control(
        Id=second["OriginAccessControl"]["Id"], IfMatch=second["ETag"]
    )
    third = await _create(cf, "one")
    assert third["OriginAccessControl"]["Id"] != second["OriginAccessControl"]["Id"]


async def test_delete_returns_204_and_removes_the_control(emulator: Emulator, cf: Any) -> None:
    created = await _create(cf, "gone")
    result = await cf.delete_origin_access_control(
        Id=created["OriginAccessControl"]["Id"], IfMatch=created["ETag"]
    )
    assert result["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert emulator.controls() == []


async def test_list_when_empty_has_no_items_element(emulator: Emulator, cf: Any) -> None:
    listing = (await cf.list_origin_access_controls())["OriginAccessControlList"]
    assert listing == {"Marker": "", "MaxItems": 100, "IsTruncated": False, "Quantity": 0}
    async with aiohttp.ClientSession() as session:
        # The raw document, since botocore would parse <Items/> and no Items alike.
        url = f"{emulator.base_url}{OAC_URL_PATH}"
        async with session.get(url, headers=FAKE_SIGV4_HEADERS) as response:
            assert "<Items" not in await response.text()


async def test_list_returns_summaries_ordered_by_id(cf: Any) -> None:
    ids = {}
    for n in range(3):
        created = await _create(cf, f"oac-{n}", f"description {n}")
        ids[created["OriginAccessControl"]["Id"]] = n
    listing = (await cf.list_origin_access_controls())["OriginAccessControlList"]
    assert (listing["Quantity"], listing["IsTruncated"]) == (3, False)
    assert "NextMarker" not in listing
    assert [item["Id"] for item in listing["Items"]] == sorted(ids)
    for item in listing["Items"]:
        n = ids[item["Id"]]
        assert item == {"Id": item["Id"], **oac_config(f"oac-{n}", f"description {n}")}


async def test_list_page_reports_next_marker_when_truncated(cf: Any) -> None:
    for n in range(5):
        await _create(cf, f"oac-{n}")
    first = (await cf.list_origin_access_controls(MaxItems="2"))["OriginAccessControlList"]
    assert (first["IsTruncated"], first["Quantity"], first["MaxItems"]) == (True, 2, 2)
    assert first["NextMarker"] == first["Items"][-1]["Id"]
    second = (await cf.list_origin_access_controls(Marker=first["NextMarker"], MaxItems="2"))[
        "OriginAccessControlList"
    ]
    assert second["Marker"] == first["NextMarker"]
    assert all(item["Id"] > first["NextMarker"] for item in second["Items"])


async def test_paginator_yields_every_control_exactly_once(cf: Any) -> None:
    created = {(await _create(cf, f"oac-{n}"))["OriginAccessControl"]["Id"] for n in range(25)}
    paginator = cf.get_paginator("list_origin_access_controls")
    seen: list[str] = []
    quantities = []
    async for page in paginator.paginate(PaginationConfig={"PageSize": "7"}):
        listing = page["OriginAccessControlList"]
        quantities.append(listing["Quantity"])
        seen.extend(item["Id"] for item in listing.get("Items", []))
    assert quantities == [7, 7, 7, 4]
    assert len(seen) == len(set(seen)) == 25
    assert set(seen) == created


@pytest.mark.parametrize(
    "description",
    ["", "<tag> & 'quotes' \"double\"", "ünïcödé ✓ 雲", "line one\nline two\ttabbed"],
    ids=["empty", "markup", "unicode", "whitespace"],
)
async def test_description_round_trips_exactly(cf: Any, description: str) -> None:
    created = await _create(cf, "oac", description)
    config = (await cf.get_origin_access_control_config(Id=created["OriginAccessControl"]["Id"]))[
        "OriginAccessControlConfig"
    ]
    assert config["Description"] == description


async def test_ids_of_identities_and_controls_are_separate_stores(
    emulator: Emulator, cf: Any
) -> None:
    await _create(cf, "oac")
    assert emulator.identities() == []
    assert len(emulator.controls()) == 1


# -- faults, admin, reset ---------------------------------------------------------------


async def test_faults_apply_to_oac_operations(emulator: Emulator, cf_no_retry: Any) -> None:
    emulator.add_fault(FaultRule(operation="CreateOriginAccessControl", error_code="Throttling"))
    emulator.add_fault(FaultRule(operation="ListOriginAccessControls", malformed_body=True))
    with pytest.raises(ClientError) as caught:
        await _create(cf_no_retry, "oac")
    assert_client_error(caught.value, "Throttling", 400)
    with pytest.raises(ResponseParserError):
        await cf_no_retry.list_origin_access_controls()
    assert [record.operation for record in emulator.request_log] == [
        "CreateOriginAccessControl",
        "ListOriginAccessControls",
    ]
    assert emulator.controls() == []


async def test_a_hold_on_an_oac_update_holds_it_before_it_commits(
    emulator: Emulator, cf_no_retry: Any
) -> None:
    created = await _create(cf_no_retry, "oac", "old")
    emulator.add_fault(FaultRule(operation="UpdateOriginAccessControl", hold=True))
    update = asyncio.ensure_future(
        cf_no_retry.update_origin_access_control(
            Id=created["OriginAccessControl"]["Id"],
            IfMatch=created["ETag"],
            OriginAccessControlConfig=oac_config("oac", "new"),
        )
    )
    await emulator.wait_held(1)
    assert emulator.controls()[0].description == "old"
    emulator.release_held()
    await update
    assert emulator.controls()[0].description == "new"


async def test_admin_lists_controls_and_marks_one_in_use(
    emulator: Emulator, cf_no_retry: Any
) -> None:
    created = await _create(cf_no_retry, "oac", "note")
    control_id = created["OriginAccessControl"]["Id"]
    async with aiohttp.ClientSession(base_url=f"{emulator.base_url}/_emulator/") as admin:
        async with admin.get("origin-access-controls") as response:
            assert response.status == 200
            [listed] = (await response.json())["origin_access_controls"]
        assert listed == {
            "id": control_id,
            "name": "oac",
            "description": "note",
            "signing_protocol": "sigv4",
            "signing_behavior": "always",
            "origin_access_control_origin_type": "s3",
            "etag": created["ETag"],
            "in_use": False,
        }
        path = f"origin-access-controls/{control_id}/in-use"
        async with admin.post(path, json={"in_use": True}) as response:
            assert (await response.json())["origin_access_control"]["in_use"] is True
        async with admin.post("origin-access-controls/E0000000000000/in-use") as response:
            assert response.status == 404
        # An OAC id is not an identity.
        async with admin.post(f"identities/{control_id}/in-use") as response:
            assert response.status == 404
    with pytest.raises(ClientError) as caught:
        await cf_no_retry.delete_origin_access_control(Id=control_id, IfMatch=created["ETag"])
    assert_client_error(caught.value, "OriginAccessControlInUse", 409)


async def test_mark_in_use_finds_a_control_by_id(emulator: Emulator, cf: Any) -> None:
    created = await _create(cf, "oac")
    marked = emulator.mark_in_use(created["OriginAccessControl"]["Id"])
    assert marked.in_use is True
    assert emulator.controls()[0].in_use is True
    emulator.mark_in_use(created["OriginAccessControl"]["Id"], False)
    assert emulator.controls()[0].in_use is False
    with pytest.raises(KeyError):
        emulator.mark_in_use("E0000000000000")


async def test_reset_forgets_controls(emulator: Emulator, cf: Any) -> None:
    await _create(cf, "oac")
    emulator.reset()
    assert emulator.controls() == []


# -- concurrency ------------------------------------------------------------------------


async def test_20_racing_updates_on_one_etag_have_exactly_one_winner(
    emulator_factory: EmulatorFactory,
) -> None:
    emulator = await emulator_factory()
    config = Config(max_pool_connections=20, retries={"total_max_attempts": 1})
    async with make_client(emulator, config) as cf:
        created = await _create(cf, "raced", "v0")
        # Hold all 20 so they reach the store together, not one after another.
        emulator.add_fault(FaultRule(operation="UpdateOriginAccessControl", hold=True))

        async def update(n: int) -> Any:
            return await cf.update_origin_access_control(
                Id=created["OriginAccessControl"]["Id"],
                IfMatch=created["ETag"],
                OriginAccessControlConfig=oac_config("raced", f"v{n}"),
            )

        racing = asyncio.gather(*(update(n) for n in range(1, 21)), return_exceptions=True)
        await emulator.wait_held(20)
        emulator.release_held()
        outcomes = await racing
    winners = [outcome for outcome in outcomes if isinstance(outcome, dict)]
    losers = [outcome for outcome in outcomes if isinstance(outcome, ClientError)]
    assert (len(winners), len(losers)) == (1, 19)
    assert {loser.response["Error"]["Code"] for loser in losers} == {"PreconditionFailed"}
    [stored] = emulator.controls()
    assert stored.etag == winners[0]["ETag"]
    assert (
        stored.description
        == (winners[0]["OriginAccessControl"]["OriginAccessControlConfig"]["Description"])
    )


async def test_20_concurrent_creates_of_one_name_have_exactly_one_winner(
    emulator_factory: EmulatorFactory,
) -> None:
    emulator = await emulator_factory()
    config = Config(max_pool_connections=20, retries={"total_max_attempts": 1})
    emulator.add_fault(FaultRule(operation="CreateOriginAccessControl", hold=True))
    async with make_client(emulator, config) as cf:
        racing = asyncio.gather(
            *(_create(cf, "same", f"attempt {n}") for n in range(20)), return_exceptions=True
        )
        await emulator.wait_held(20)
        emulator.release_held()
        outcomes = await racing
    winners = [outcome for outcome in outcomes if isinstance(outcome, dict)]
    losers = [outcome for outcome in outcomes if isinstance(outcome, ClientError)]
    assert (len(winners), len(losers)) == (1, 19)
    for loser in losers:
        assert_client_error(loser, "OriginAccessControlAlreadyExists", 409)
    [stored] = emulator.controls()
    assert stored.id == winners[0]["OriginAccessControl"]["Id"]
