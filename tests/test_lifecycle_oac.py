"""The whole OAC lifecycle through the facade, over a real channel to the real emulator.

One facade and emulator serve the module; the emulator is reset before each test.
"""

from __future__ import annotations

import re

import botocore.session
import grpc
import pytest

from service._gen.cloudfront.v1 import origin_access_control_service_pb2 as oac
from service.emulator import Emulator
from tests.conftest import error_info
from tests.oac import (  # noqa: F401
    LIST,
    OAC_PATH,
    Stub,
    config,
    create,
    delete_request,
    get_request,
    module_emulator,
    module_facade,
    module_stub,
    resets_emulator,
    update_request,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

OAC_ID = re.compile(r"E[A-Z0-9]{13}")  # real OAC ids: E + 13 uppercase alphanumerics

# Proto enum value <-> the AWS value on the wire, for each of the three enums.
SIGNING_PROTOCOLS = [(oac.ORIGIN_ACCESS_CONTROL_SIGNING_PROTOCOLS_SIGV4, "sigv4")]
SIGNING_BEHAVIORS = [
    (oac.ORIGIN_ACCESS_CONTROL_SIGNING_BEHAVIORS_NEVER, "never"),
    (oac.ORIGIN_ACCESS_CONTROL_SIGNING_BEHAVIORS_ALWAYS, "always"),
    (oac.ORIGIN_ACCESS_CONTROL_SIGNING_BEHAVIORS_NO_OVERRIDE, "no-override"),
]
ORIGIN_TYPES = [
    (oac.ORIGIN_ACCESS_CONTROL_ORIGIN_TYPES_S3, "s3"),
    (oac.ORIGIN_ACCESS_CONTROL_ORIGIN_TYPES_MEDIASTORE, "mediastore"),
    (oac.ORIGIN_ACCESS_CONTROL_ORIGIN_TYPES_MEDIAPACKAGEV2, "mediapackagev2"),
    (oac.ORIGIN_ACCESS_CONTROL_ORIGIN_TYPES_LAMBDA, "lambda"),
]
ENUM_TABLES = {
    "OriginAccessControlSigningProtocols": SIGNING_PROTOCOLS,
    "OriginAccessControlSigningBehaviors": SIGNING_BEHAVIORS,
    "OriginAccessControlOriginTypes": ORIGIN_TYPES,
}


@pytest.mark.parametrize("shape_name", sorted(ENUM_TABLES))
async def test_the_enum_tables_cover_every_proto_and_every_aws_value(shape_name: str) -> None:
    table = ENUM_TABLES[shape_name]
    model = botocore.session.get_session().get_service_model("cloudfront")
    assert sorted(aws for _, aws in table) == sorted(model.shape_for(shape_name).enum)
    proto_values = {v.number for v in oac.DESCRIPTOR.enum_types_by_name[shape_name].values}
    assert {number for number, _ in table} == proto_values - {0}


async def test_full_lifecycle_create_read_update_list_delete(
    stub: Stub, emulator: Emulator
) -> None:
    created = await create(stub, "oac-lifecycle", "first description")
    control = created.origin_access_control
    assert OAC_ID.fullmatch(control.id)
    assert control.origin_access_control_config == config("oac-lifecycle", "first description")
    assert created.location.endswith(f"{OAC_PATH}/{control.id}")
    assert created.etag

    got = await stub.GetOriginAccessControl(get_request(control.id), timeout=60)
    assert got.origin_access_control == control
    assert got.etag == created.etag

    got_config = await stub.GetOriginAccessControlConfig(
        oac.GetOriginAccessControlConfigRequest(id=control.id), timeout=60
    )
    assert got_config.origin_access_control_config == control.origin_access_control_config
    assert got_config.etag == created.etag

    updated = await stub.UpdateOriginAccessControl(
        update_request(control.id, got.etag, "oac-renamed", "second"), timeout=60
    )
    assert updated.origin_access_control.id == control.id
    assert updated.origin_access_control.origin_access_control_config == config(
        "oac-renamed", "second"
    )
    assert updated.etag not in ("", created.etag)
    (stored,) = emulator.controls()
    assert (stored.name, stored.description, stored.etag) == ("oac-renamed", "second", updated.etag)

    with pytest.raises(grpc.aio.AioRpcError) as stale:
        await stub.UpdateOriginAccessControl(
            update_request(control.id, created.etag, "oac-lost"), timeout=60
        )
    assert stale.value.code() is grpc.StatusCode.ABORTED
    assert error_info(stale.value).reason == "PRECONDITION_FAILED"

    listed = await stub.ListOriginAccessControls(LIST, timeout=60)
    page = listed.origin_access_control_list
    assert list(page.items) == [
        oac.OriginAccessControlSummary(
            id=control.id,
            name="oac-renamed",
            description="second",
            signing_protocol=oac.ORIGIN_ACCESS_CONTROL_SIGNING_PROTOCOLS_SIGV4,
            signing_behavior=oac.ORIGIN_ACCESS_CONTROL_SIGNING_BEHAVIORS_ALWAYS,
            origin_access_control_origin_type=oac.ORIGIN_ACCESS_CONTROL_ORIGIN_TYPES_S3,
        )
    ]
    assert (page.quantity, page.is_truncated, page.max_items) == (1, False, 100)
    assert (page.marker, page.next_marker) == ("", "")

    await stub.DeleteOriginAccessControl(delete_request(control.id, updated.etag), timeout=60)
    assert emulator.controls() == []

    with pytest.raises(grpc.aio.AioRpcError) as gone:
        await stub.GetOriginAccessControl(get_request(control.id), timeout=60)
    assert gone.value.code() is grpc.StatusCode.NOT_FOUND
    assert error_info(gone.value).reason == "NO_SUCH_ORIGIN_ACCESS_CONTROL"


@pytest.mark.parametrize(("behavior", "aws_behavior"), SIGNING_BEHAVIORS)
@pytest.mark.parametrize(("origin_type", "aws_origin_type"), ORIGIN_TYPES)
async def test_every_enum_value_is_sent_as_its_aws_value_and_read_back(
    stub: Stub,
    emulator: Emulator,
    behavior: int,
    aws_behavior: str,
    origin_type: int,
    aws_origin_type: str,
) -> None:
    ((protocol, aws_protocol),) = SIGNING_PROTOCOLS
    sent = config(
        "oac-enums",
        signing_protocol=protocol,
        signing_behavior=behavior,
        origin_type=origin_type,
    )
    created = await stub.CreateOriginAccessControl(
        oac.CreateOriginAccessControlRequest(origin_access_control_config=sent), timeout=60
    )
    (stored,) = emulator.controls()
    assert (
        stored.signing_protocol,
        stored.signing_behavior,
        stored.origin_access_control_origin_type,
    ) == (aws_protocol, aws_behavior, aws_origin_type)
    got = await stub.GetOriginAccessControl(
        get_request(created.origin_access_control.id), timeout=60
    )
    assert got.origin_access_control.origin_access_control_config == sent
    listed = await stub.ListOriginAccessControls(LIST, timeout=60)
    (summary,) = listed.origin_access_control_list.items
    assert (
        summary.signing_protocol,
        summary.signing_behavior,
        summary.origin_access_control_origin_type,
    ) == (protocol, behavior, origin_type)


async def test_an_empty_description_reads_back_empty(stub: Stub, emulator: Emulator) -> None:
    created = await create(stub, "oac-empty-description", "")
    assert created.origin_access_control.origin_access_control_config.description == ""
    assert emulator.controls()[0].description == ""


async def test_an_empty_list_has_no_items(stub: Stub) -> None:
    page = (await stub.ListOriginAccessControls(LIST, timeout=60)).origin_access_control_list
    assert (list(page.items), page.quantity, page.is_truncated) == ([], 0, False)


async def test_list_pages_with_marker_return_every_control_once(stub: Stub) -> None:
    made = {(await create(stub, f"oac-page-{n}")).origin_access_control.id for n in range(23)}
    seen: list[str] = []
    marker, pages = "", 0
    while True:
        response = await stub.ListOriginAccessControls(
            oac.ListOriginAccessControlsRequest(marker=marker, max_items=5), timeout=60
        )
        page = response.origin_access_control_list
        pages += 1
        assert page.max_items == 5
        assert page.marker == marker
        assert page.quantity == len(page.items) <= 5
        seen.extend(item.id for item in page.items)
        if not page.is_truncated:
            assert page.next_marker == ""
            break
        assert page.next_marker == page.items[-1].id
        marker = page.next_marker
    assert pages == 5
    assert sorted(seen) == sorted(made)
    assert len(seen) == len(set(seen))


async def test_max_items_zero_means_the_aws_default(stub: Stub, emulator: Emulator) -> None:
    await create(stub, "oac-default-page")
    response = await stub.ListOriginAccessControls(
        oac.ListOriginAccessControlsRequest(max_items=0), timeout=60
    )
    assert response.origin_access_control_list.max_items == 100
    assert "MaxItems" not in emulator.request_log[-1].path


async def test_update_keeping_its_own_name_is_not_a_conflict(stub: Stub) -> None:
    created = await create(stub, "oac-keeps-name", "one")
    control_id = created.origin_access_control.id
    updated = await stub.UpdateOriginAccessControl(
        update_request(control_id, created.etag, "oac-keeps-name", "two"), timeout=60
    )
    assert updated.origin_access_control.origin_access_control_config.description == "two"
