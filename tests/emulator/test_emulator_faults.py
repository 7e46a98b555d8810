"""Fault injection through the Python API, observed through the real client."""

from __future__ import annotations

import time
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError, ReadTimeoutError
from botocore.parsers import ResponseParserError

from service.emulator import Emulator, FaultRule
from tests.emulator.emulator_helpers import (
    EmulatorFactory,
    assert_client_error,
    make_client,
    oai_config,
)

CREATE_OP = "CreateCloudFrontOriginAccessIdentity"
LIST_OP = "ListCloudFrontOriginAccessIdentities"
GET_OP = "GetCloudFrontOriginAccessIdentity"


@pytest.mark.parametrize(
    ("code", "status"),
    [("Throttling", 400), ("ServiceUnavailable", 503), ("AccessDenied", 403)],
)
async def test_error_fault_returns_code_and_status(
    emulator: Emulator, cf_no_retry: Any, code: str, status: int
) -> None:
    rule = FaultRule(operation=LIST_OP, error_code=code, http_status=status)
    emulator.add_fault(rule)
    with pytest.raises(ClientError) as caught:
        await cf_no_retry.list_cloud_front_origin_access_identities()
    assert_client_error(caught.value, code, status)
    [record] = emulator.request_log
    assert (record.status, record.fault) == (status, rule)


async def test_error_fault_uses_the_given_message(emulator: Emulator, cf_no_retry: Any) -> None:
    emulator.add_fault(FaultRule(error_code="AccessDenied", http_status=403, message="nope"))
    with pytest.raises(ClientError) as caught:
        await cf_no_retry.list_cloud_front_origin_access_identities()
    assert caught.value.response["Error"]["Message"] == "nope"


async def test_error_fault_prevents_the_operation(emulator: Emulator, cf_no_retry: Any) -> None:
    emulator.add_fault(FaultRule(operation=CREATE_OP, error_code="InternalError", http_status=500))
    with pytest.raises(ClientError):
        await cf_no_retry.create_cloud_front_origin_access_identity(
            CloudFrontOriginAccessIdentityConfig=oai_config("ref")
        )
    assert emulator.identities() == []


async def test_fault_only_matches_its_operation(emulator: Emulator, cf_no_retry: Any) -> None:
    emulator.add_fault(FaultRule(operation=CREATE_OP, error_code="Throttling"))
    listing = await cf_no_retry.list_cloud_front_origin_access_identities()
    assert listing["CloudFrontOriginAccessIdentityList"]["Quantity"] == 0


async def test_first_matching_rule_wins(emulator: Emulator, cf_no_retry: Any) -> None:
    emulator.add_fault(FaultRule(operation=CREATE_OP, error_code="Throttling"))
    emulator.add_fault(FaultRule(error_code="AccessDenied", http_status=403))
    emulator.add_fault(FaultRule(operation=LIST_OP, error_code="Throttling"))
    with pytest.raises(ClientError) as caught:
        await cf_no_retry.list_cloud_front_origin_access_identities()
    assert caught.value.response["Error"]["Code"] == "AccessDenied"


async def test_latency_fault_delays_the_response(emulator: Emulator, cf_no_retry: Any) -> None:
    emulator.add_fault(FaultRule(operation=LIST_OP, latency=0.3))
    started = time.monotonic()
    await cf_no_retry.list_cloud_front_origin_access_identities()
    assert time.monotonic() - started >= 0.3


async def test_latency_combines_with_an_error(emulator: Emulator, cf_no_retry: Any) -> None:
    emulator.add_fault(FaultRule(latency=0.2, error_code="ServiceUnavailable", http_status=503))
    started = time.monotonic()
    with pytest.raises(ClientError) as caught:
        await cf_no_retry.list_cloud_front_origin_access_identities()
    assert time.monotonic() - started >= 0.2
    assert_client_error(caught.value, "ServiceUnavailable", 503)


async def test_latency_exceeding_the_client_timeout_is_a_read_timeout(
    emulator: Emulator,
) -> None:
    # An hour: only the client's timeout can end the call. The emulator's stop wakes the
    # handler still sleeping on it.
    emulator.add_fault(FaultRule(latency=3600))
    config = Config(read_timeout=0.2, retries={"total_max_attempts": 1})
    async with make_client(emulator, config) as cf:
        with pytest.raises(ReadTimeoutError):
            await cf.list_cloud_front_origin_access_identities()


async def test_drop_connection_is_a_connection_error_and_commits_nothing(
    emulator: Emulator, cf_no_retry: Any
) -> None:
    emulator.add_fault(FaultRule(operation=CREATE_OP, drop_connection=True))
    with pytest.raises(ConnectionClosedError):
        await cf_no_retry.create_cloud_front_origin_access_identity(
            CloudFrontOriginAccessIdentityConfig=oai_config("ref")
        )
    assert emulator.identities() == []
    [record] = emulator.request_log
    assert record.status is None
    assert record.fault is not None
    assert record.fault.drop_connection


async def test_after_commit_drop_loses_the_response_but_keeps_the_identity(
    emulator: Emulator, cf_no_retry: Any
) -> None:
    emulator.add_fault(FaultRule(operation=CREATE_OP, drop_connection=True, after_commit=True))
    with pytest.raises(ConnectionClosedError):
        await cf_no_retry.create_cloud_front_origin_access_identity(
            CloudFrontOriginAccessIdentityConfig=oai_config("lost", "response")
        )
    [stored] = emulator.identities()
    assert (stored.caller_reference, stored.comment) == ("lost", "response")
    # Replaying the same CallerReference recovers the committed identity.
    emulator.clear_faults()
    replay = await cf_no_retry.create_cloud_front_origin_access_identity(
        CloudFrontOriginAccessIdentityConfig=oai_config("lost", "response")
    )
    assert replay["CloudFrontOriginAccessIdentity"]["Id"] == stored.id


async def test_after_commit_error_reports_failure_for_a_committed_update(
    emulator: Emulator, cf_no_retry: Any
) -> None:
    created = await cf_no_retry.create_cloud_front_origin_access_identity(
        CloudFrontOriginAccessIdentityConfig=oai_config("ref", "old")
    )
    emulator.add_fault(
        FaultRule(error_code="InternalError", http_status=500, after_commit=True, times=1)
    )
    with pytest.raises(ClientError) as caught:
        await cf_no_retry.update_cloud_front_origin_access_identity(
            Id=created["CloudFrontOriginAccessIdentity"]["Id"],
            IfMatch=created["ETag"],
            CloudFrontOriginAccessIdentityConfig=oai_config("ref", "new"),
        )
    assert_client_error(caught.value, "InternalError", 500)
    [stored] = emulator.identities()
    assert stored.comment == "new"
    assert stored.etag != created["ETag"]


async def test_malformed_body_is_a_parse_error(emulator: Emulator, cf_no_retry: Any) -> None:
    emulator.add_fault(FaultRule(operation=LIST_OP, malformed_body=True))
    with pytest.raises(ResponseParserError):
        await cf_no_retry.list_cloud_front_origin_access_identities()
    [record] = emulator.request_log
    assert record.status == 200


async def test_malformed_body_for_any_operation_skips_delete_which_has_no_body(
    emulator: Emulator, cf_no_retry: Any
) -> None:
    # A 200 with a broken body on Delete would read as success without deleting anything.
    created = await cf_no_retry.create_cloud_front_origin_access_identity(
        CloudFrontOriginAccessIdentityConfig=oai_config("ref")
    )
    emulator.add_fault(FaultRule(malformed_body=True, times=1))
    deleted = await cf_no_retry.delete_cloud_front_origin_access_identity(
        Id=created["CloudFrontOriginAccessIdentity"]["Id"], IfMatch=created["ETag"]
    )
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert emulator.identities() == []
    # The rule was not used up by the Delete: the next call with a body gets it.
    with pytest.raises(ResponseParserError):
        await cf_no_retry.list_cloud_front_origin_access_identities()
    assert [record.fault is not None for record in emulator.request_log] == [False, False, True]


async def test_fault_with_times_expires_after_that_many_calls(
    emulator: Emulator, cf_no_retry: Any
) -> None:
    emulator.add_fault(FaultRule(error_code="Throttling", times=2))
    for _ in range(2):
        with pytest.raises(ClientError):
            await cf_no_retry.list_cloud_front_origin_access_identities()
    await cf_no_retry.list_cloud_front_origin_access_identities()
    assert emulator.faults() == []
    assert [record.status for record in emulator.request_log] == [400, 400, 200]


async def _outcomes(emulator: Emulator, calls: int) -> list[bool]:
    emulator.add_fault(FaultRule(error_code="Throttling", probability=0.5))
    outcomes = []
    async with make_client(emulator, Config(retries={"total_max_attempts": 1})) as cf:
        for _ in range(calls):
            try:
                await cf.list_cloud_front_origin_access_identities()
            except ClientError:
                outcomes.append(True)
            else:
                outcomes.append(False)
    return outcomes


async def test_probability_with_seed_is_reproducible(emulator_factory: EmulatorFactory) -> None:
    first = await _outcomes(await emulator_factory(seed=7), 30)
    second = await _outcomes(await emulator_factory(seed=7), 30)
    assert first == second
    assert 0 < sum(first) < 30


async def test_request_log_counts_each_retry(emulator: Emulator) -> None:
    emulator.add_fault(FaultRule(operation=LIST_OP, error_code="Throttling"))
    config = Config(retries={"total_max_attempts": 3, "mode": "standard"})
    async with make_client(emulator, config) as cf:
        with pytest.raises(ClientError) as caught:
            await cf.list_cloud_front_origin_access_identities()
    assert caught.value.response["ResponseMetadata"]["RetryAttempts"] == 2
    records = emulator.request_log
    assert len(records) == 3
    assert [record.attempt for record in records] == [1, 2, 3]
    assert len({record.invocation_id for record in records}) == 1
    assert all(record.status == 400 for record in records)
    assert records[0].time < records[1].time < records[2].time


async def test_request_log_records_headers_but_not_credentials(emulator: Emulator, cf: Any) -> None:
    created = await cf.create_cloud_front_origin_access_identity(
        CloudFrontOriginAccessIdentityConfig=oai_config("ref")
    )
    await cf.delete_cloud_front_origin_access_identity(
        Id=created["CloudFrontOriginAccessIdentity"]["Id"], IfMatch=created["ETag"]
    )
    create, delete = emulator.request_log
    assert (create.operation, create.method, create.status) == (CREATE_OP, "POST", 201)
    assert delete.operation == "DeleteCloudFrontOriginAccessIdentity"
    assert delete.path.endswith(created["CloudFrontOriginAccessIdentity"]["Id"])
    assert (delete.if_match, delete.status) == (created["ETag"], 204)
    assert create.authorization_present is True
    assert create.amz_date
    assert create.invocation_id
    assert create.sdk_request is not None
    assert create.sdk_request.startswith("attempt=1")
    assert "secret" not in repr(emulator.request_log)
    emulator.clear_request_log()
    assert emulator.request_log == []


async def test_reset_drops_state_faults_and_log(emulator: Emulator, cf: Any) -> None:
    await cf.create_cloud_front_origin_access_identity(
        CloudFrontOriginAccessIdentityConfig=oai_config("ref")
    )
    emulator.add_fault(FaultRule(operation=GET_OP, error_code="Throttling"))
    emulator.reset()
    assert (emulator.identities(), emulator.faults(), emulator.request_log) == ([], [], [])


@pytest.mark.parametrize(
    "kwargs",
    [
        {"operation": "CreateDistribution"},
        {"error_code": "Throttling", "drop_connection": True},
        {"drop_connection": True, "malformed_body": True},
        {"times": 0},
        {"probability": 1.5},
        {"latency": -1.0},
        {"http_status": 700},
        {"operation": "DeleteCloudFrontOriginAccessIdentity", "malformed_body": True},
        {"operation": "DeleteOriginAccessControl", "malformed_body": True},
    ],
    ids=[
        "unknown-operation",
        "error-and-drop",
        "drop-and-malformed",
        "zero-times",
        "probability-above-one",
        "negative-latency",
        "bad-status",
        "malformed-body-on-oai-delete",
        "malformed-body-on-oac-delete",
    ],
)
def test_invalid_fault_rules_are_rejected(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"."):
        FaultRule(**kwargs)
