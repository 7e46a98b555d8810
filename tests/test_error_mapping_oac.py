"""Every OAC error row, provoked through the facade by what the emulator really does.

Each row sets up a state (a taken name, a stale ETag, a control in use, a full account) and
makes one call that CloudFront refuses; the caller must see the row's gRPC code, reason and
details. One facade and emulator serve the module; the emulator is reset before each test.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2

from service._gen.cloudfront.v1 import origin_access_control_service_pb2 as oac
from service.emulator import Emulator, FaultRule
from tests.conftest import detail, error_info, trailer
from tests.oac import (  # noqa: F401
    Stub,
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

S = grpc.StatusCode
UNKNOWN_ID = "E0NOSUCHCONTRL"  # shaped like an OAC id, never issued
Provoke = Callable[[Stub, Emulator], Awaitable[Any]]


async def _get_unknown(stub: Stub, emulator: Emulator) -> Any:
    return await stub.GetOriginAccessControl(get_request(UNKNOWN_ID), timeout=60)


async def _get_config_unknown(stub: Stub, emulator: Emulator) -> Any:
    request = oac.GetOriginAccessControlConfigRequest(id=UNKNOWN_ID)
    return await stub.GetOriginAccessControlConfig(request, timeout=60)


async def _update_unknown(stub: Stub, emulator: Emulator) -> Any:
    request = update_request(UNKNOWN_ID, "E2ETAG0000000", "oac-nobody")
    return await stub.UpdateOriginAccessControl(request, timeout=60)


async def _delete_unknown(stub: Stub, emulator: Emulator) -> Any:
    request = delete_request(UNKNOWN_ID, "E2ETAG0000000")
    return await stub.DeleteOriginAccessControl(request, timeout=60)


async def _create_taken_name(stub: Stub, emulator: Emulator) -> Any:
    await create(stub, "oac-taken")
    return await create(stub, "oac-taken", "another description")


async def _rename_to_taken_name(stub: Stub, emulator: Emulator) -> Any:
    await create(stub, "oac-taken")
    mine = await create(stub, "oac-mine")
    request = update_request(mine.origin_access_control.id, mine.etag, "oac-taken")
    return await stub.UpdateOriginAccessControl(request, timeout=60)


async def _update_stale_etag(stub: Stub, emulator: Emulator) -> Any:
    made = await create(stub, "oac-stale")
    control_id = made.origin_access_control.id
    await stub.UpdateOriginAccessControl(
        update_request(control_id, made.etag, "oac-stale", "newer"), timeout=60
    )
    request = update_request(control_id, made.etag, "oac-stale", "lost")
    return await stub.UpdateOriginAccessControl(request, timeout=60)


async def _delete_stale_etag(stub: Stub, emulator: Emulator) -> Any:
    made = await create(stub, "oac-stale")
    control_id = made.origin_access_control.id
    await stub.UpdateOriginAccessControl(
        update_request(control_id, made.etag, "oac-stale", "newer"), timeout=60
    )
    return await stub.DeleteOriginAccessControl(delete_request(control_id, made.etag), timeout=60)


async def _delete_in_use(stub: Stub, emulator: Emulator) -> Any:
    made = await create(stub, "oac-in-use")
    emulator.mark_in_use(made.origin_access_control.id)
    request = delete_request(made.origin_access_control.id, made.etag)
    return await stub.DeleteOriginAccessControl(request, timeout=60)


async def _create_over_the_limit(stub: Stub, emulator: Emulator) -> Any:
    emulator.account_limit = 2
    await create(stub, "oac-1")
    await create(stub, "oac-2")
    return await create(stub, "oac-3")


async def _update_without_if_match_upstream(stub: Stub, emulator: Emulator) -> Any:
    # The facade refuses an empty if_match itself (tests/test_validation_oac.py), so what AWS
    # says to a missing or unusable If-Match is only reachable by injecting its answer.
    made = await create(stub, "oac-if-match")
    emulator.add_fault(
        FaultRule(operation="UpdateOriginAccessControl", error_code="InvalidIfMatchVersion")
    )
    request = update_request(made.origin_access_control.id, made.etag, "oac-if-match", "x")
    return await stub.UpdateOriginAccessControl(request, timeout=60)


@dataclass(frozen=True)
class Row:
    provoke: Provoke
    operation: str
    code: grpc.StatusCode
    reason: str
    extra: type | None = None
    metadata: dict[str, str] = field(default_factory=dict)


NOT_FOUND = "NO_SUCH_ORIGIN_ACCESS_CONTROL"
ROWS = {
    "get-unknown-id": Row(_get_unknown, "GetOriginAccessControl", S.NOT_FOUND, NOT_FOUND),
    "get-config-unknown-id": Row(
        _get_config_unknown, "GetOriginAccessControlConfig", S.NOT_FOUND, NOT_FOUND
    ),
    "update-unknown-id": Row(_update_unknown, "UpdateOriginAccessControl", S.NOT_FOUND, NOT_FOUND),
    "delete-unknown-id": Row(_delete_unknown, "DeleteOriginAccessControl", S.NOT_FOUND, NOT_FOUND),
    "create-taken-name": Row(
        _create_taken_name,
        "CreateOriginAccessControl",
        S.ALREADY_EXISTS,
        "ORIGIN_ACCESS_CONTROL_ALREADY_EXISTS",
        metadata={"name": "oac-taken"},
    ),
    "rename-to-taken-name": Row(
        _rename_to_taken_name,
        "UpdateOriginAccessControl",
        S.ALREADY_EXISTS,
        "ORIGIN_ACCESS_CONTROL_ALREADY_EXISTS",
        metadata={"name": "oac-taken"},
    ),
    "update-stale-etag": Row(
        _update_stale_etag, "UpdateOriginAccessControl", S.ABORTED, "PRECONDITION_FAILED"
    ),
    "delete-stale-etag": Row(
        _delete_stale_etag, "DeleteOriginAccessControl", S.ABORTED, "PRECONDITION_FAILED"
    ),
    "delete-in-use": Row(
        _delete_in_use,
        "DeleteOriginAccessControl",
        S.FAILED_PRECONDITION,
        "ORIGIN_ACCESS_CONTROL_IN_USE",
    ),
    "create-over-the-account-limit": Row(
        _create_over_the_limit,
        "CreateOriginAccessControl",
        S.RESOURCE_EXHAUSTED,
        "TOO_MANY_ORIGIN_ACCESS_CONTROLS",
        extra=error_details_pb2.QuotaFailure,
    ),
    "update-if-match-refused-upstream": Row(
        _update_without_if_match_upstream,
        "UpdateOriginAccessControl",
        S.INVALID_ARGUMENT,
        "INVALID_IF_MATCH_VERSION",
    ),
}


@pytest.mark.parametrize("row", ROWS.values(), ids=ROWS.keys())
async def test_oac_error_maps_to_its_grpc_status(stub: Stub, emulator: Emulator, row: Row) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await row.provoke(stub, emulator)
    error = failure.value
    assert error.code() is row.code, error.details()
    info = error_info(error)
    assert (info.domain, info.reason) == ("cloudfront.amazonaws.com", row.reason)
    last = emulator.request_log[-1]
    assert last.operation == row.operation
    assert info.metadata["awsErrorCode"] == aws_code(row.reason)
    assert info.metadata["httpStatus"] == str(last.status)
    assert info.metadata["awsRequestId"] == last.request_id
    assert trailer(error.trailing_metadata(), "aws-request-id") == last.request_id
    for key, value in row.metadata.items():
        assert info.metadata[key] == value
    if row.extra is not None:
        detail(error, row.extra)


def aws_code(reason: str) -> str:
    """NO_SUCH_ORIGIN_ACCESS_CONTROL -> NoSuchOriginAccessControl (the AWS code)."""
    return "".join(word.capitalize() for word in reason.split("_"))


async def test_already_exists_on_create_names_the_taken_name_and_changes_nothing(
    stub: Stub, emulator: Emulator
) -> None:
    first = await create(stub, "oac-retried", "as first sent")
    with pytest.raises(grpc.aio.AioRpcError) as again:
        await create(stub, "oac-retried", "as first sent")
    assert again.value.code() is S.ALREADY_EXISTS
    assert error_info(again.value).metadata["name"] == "oac-retried"
    assert [c.id for c in emulator.controls()] == [first.origin_access_control.id]


async def test_a_retried_create_is_recovered_by_listing_and_finding_the_name(
    stub: Stub, emulator: Emulator
) -> None:
    # The recovery docs/api-and-errors.md describes: the first answer was lost (after the
    # commit), the retry is ALREADY_EXISTS, and the caller finds its control by name.
    emulator.add_fault(
        FaultRule(
            operation="CreateOriginAccessControl", drop_connection=True, after_commit=True, times=1
        )
    )
    with pytest.raises(grpc.aio.AioRpcError) as lost:
        await create(stub, "oac-lost-answer", "mine")
    assert lost.value.code() is S.UNAVAILABLE
    with pytest.raises(grpc.aio.AioRpcError) as retried:
        await create(stub, "oac-lost-answer", "mine")
    name = error_info(retried.value).metadata["name"]
    listed = await stub.ListOriginAccessControls(oac.ListOriginAccessControlsRequest(), timeout=60)
    (found,) = [i for i in listed.origin_access_control_list.items if i.name == name]
    got = await stub.GetOriginAccessControlConfig(
        oac.GetOriginAccessControlConfigRequest(id=found.id), timeout=60
    )
    assert got.origin_access_control_config.description == "mine"
    assert [c.id for c in emulator.controls()] == [found.id]


async def test_delete_of_a_control_in_use_keeps_it(stub: Stub, emulator: Emulator) -> None:
    with pytest.raises(grpc.aio.AioRpcError):
        await _delete_in_use(stub, emulator)
    (kept,) = emulator.controls()
    assert kept.in_use
