"""The whole OAI lifecycle through the facade, over a real channel to the real emulator."""

from __future__ import annotations

import re

import grpc
import pytest

from service._gen.cloudfront.v1 import origin_access_identity_service_pb2 as pb
from service._gen.cloudfront.v1 import origin_access_identity_service_pb2_grpc as pb_grpc
from service.emulator import Emulator
from tests.conftest import OAI_PATH, config, create, error_info

Stub = pb_grpc.OriginAccessIdentityServiceStub


async def test_full_lifecycle_create_read_update_list_delete(stub: Stub) -> None:
    created = await create(stub, "ref-lifecycle", "first comment")
    identity = created.cloud_front_origin_access_identity
    assert re.fullmatch(r"E[A-Z0-9]{13}", identity.id)
    assert re.fullmatch(r"[0-9a-f]{96}", identity.s3_canonical_user_id)
    assert created.location.endswith(f"{OAI_PATH}/{identity.id}")
    assert created.etag

    got = await stub.GetCloudFrontOriginAccessIdentity(
        pb.GetCloudFrontOriginAccessIdentityRequest(id=identity.id)
    )
    assert got.cloud_front_origin_access_identity == identity
    assert got.etag == created.etag

    got_config = await stub.GetCloudFrontOriginAccessIdentityConfig(
        pb.GetCloudFrontOriginAccessIdentityConfigRequest(id=identity.id)
    )
    assert got_config.cloud_front_origin_access_identity_config == config(
        "ref-lifecycle", "first comment"
    )
    assert got_config.etag == created.etag

    updated = await stub.UpdateCloudFrontOriginAccessIdentity(
        pb.UpdateCloudFrontOriginAccessIdentityRequest(
            id=identity.id,
            if_match=got.etag,
            cloud_front_origin_access_identity_config=config("ref-lifecycle", "second"),
        )
    )
    assert (
        updated.cloud_front_origin_access_identity.cloud_front_origin_access_identity_config.comment
        == "second"
    )
    assert updated.etag != created.etag

    with pytest.raises(grpc.aio.AioRpcError) as stale:
        await stub.UpdateCloudFrontOriginAccessIdentity(
            pb.UpdateCloudFrontOriginAccessIdentityRequest(
                id=identity.id,
                if_match=created.etag,
                cloud_front_origin_access_identity_config=config("ref-lifecycle", "lost"),
            )
        )
    assert stale.value.code() is grpc.StatusCode.ABORTED
    assert error_info(stale.value).reason == "PRECONDITION_FAILED"

    listed = await stub.ListCloudFrontOriginAccessIdentities(
        pb.ListCloudFrontOriginAccessIdentitiesRequest()
    )
    page = listed.cloud_front_origin_access_identity_list
    assert [item.id for item in page.items] == [identity.id]
    assert page.items[0].comment == "second"
    assert (page.quantity, page.is_truncated, page.max_items) == (1, False, 100)

    await stub.DeleteCloudFrontOriginAccessIdentity(
        pb.DeleteCloudFrontOriginAccessIdentityRequest(id=identity.id, if_match=updated.etag)
    )

    with pytest.raises(grpc.aio.AioRpcError) as gone:
        await stub.GetCloudFrontOriginAccessIdentity(
            pb.GetCloudFrontOriginAccessIdentityRequest(id=identity.id)
        )
    assert gone.value.code() is grpc.StatusCode.NOT_FOUND
    assert error_info(gone.value).reason == "NO_SUCH_CLOUD_FRONT_ORIGIN_ACCESS_IDENTITY"


async def test_same_caller_reference_and_config_returns_the_existing_identity(stub: Stub) -> None:
    first = await create(stub, "ref-idempotent", "same")
    again = await create(stub, "ref-idempotent", "same")
    assert again.cloud_front_origin_access_identity == first.cloud_front_origin_access_identity
    assert again.etag == first.etag


async def test_same_caller_reference_with_other_config_is_already_exists(stub: Stub) -> None:
    await create(stub, "ref-conflict", "one")
    with pytest.raises(grpc.aio.AioRpcError) as conflict:
        await create(stub, "ref-conflict", "two")
    assert conflict.value.code() is grpc.StatusCode.ALREADY_EXISTS
    assert error_info(conflict.value).reason == "CLOUD_FRONT_ORIGIN_ACCESS_IDENTITY_ALREADY_EXISTS"


async def test_empty_comment_is_a_real_value_sent_to_aws(stub: Stub) -> None:
    created = await create(stub, "ref-empty-comment", "")
    stored = created.cloud_front_origin_access_identity.cloud_front_origin_access_identity_config
    assert stored.comment == ""


async def test_list_pages_with_marker_return_every_identity_once(stub: Stub) -> None:
    made = {
        (await create(stub, f"ref-page-{n}")).cloud_front_origin_access_identity.id
        for n in range(23)
    }
    seen: list[str] = []
    marker, pages = "", 0
    while True:
        response = await stub.ListCloudFrontOriginAccessIdentities(
            pb.ListCloudFrontOriginAccessIdentitiesRequest(marker=marker, max_items=5)
        )
        page = response.cloud_front_origin_access_identity_list
        pages += 1
        assert page.max_items == 5
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
    await create(stub, "ref-default-page")
    response = await stub.ListCloudFrontOriginAccessIdentities(
        pb.ListCloudFrontOriginAccessIdentitiesRequest(max_items=0)
    )
    assert response.cloud_front_origin_access_identity_list.max_items == 100
    assert "MaxItems" not in emulator.request_log[-1].path


async def test_delete_of_identity_in_use_is_failed_precondition(
    stub: Stub, emulator: Emulator
) -> None:
    created = await create(stub, "ref-in-use")
    emulator.mark_in_use(created.cloud_front_origin_access_identity.id)
    with pytest.raises(grpc.aio.AioRpcError) as in_use:
        await stub.DeleteCloudFrontOriginAccessIdentity(
            pb.DeleteCloudFrontOriginAccessIdentityRequest(
                id=created.cloud_front_origin_access_identity.id, if_match=created.etag
            )
        )
    assert in_use.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert len(emulator.identities()) == 1
