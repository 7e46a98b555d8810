"""The JSON admin API under /_emulator/, driven over HTTP with aiohttp."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from botocore.exceptions import ClientError

from service.emulator import Emulator
from tests.emulator.emulator_helpers import assert_client_error, oai_config


@pytest.fixture
async def admin(emulator: Emulator) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=f"{emulator.base_url}/_emulator/") as session:
        yield session


async def _json(response: aiohttp.ClientResponse, status: int = 200) -> Any:
    assert response.status == status, await response.text()
    assert response.headers["x-amzn-RequestId"]
    return await response.json()


async def test_admin_post_fault_applies_it_and_get_lists_it(
    emulator: Emulator, admin: aiohttp.ClientSession, cf_no_retry: Any
) -> None:
    rule = {
        "operation": "ListCloudFrontOriginAccessIdentities",
        "error_code": "ServiceUnavailable",
        "http_status": 503,
        "latency": 0,
        "times": 2,
    }
    async with admin.post("faults", json=rule) as response:
        created = (await _json(response, 201))["rule"]
    assert created["error_code"] == "ServiceUnavailable"
    assert created["latency"] == 0.0
    with pytest.raises(ClientError) as caught:
        await cf_no_retry.list_cloud_front_origin_access_identities()
    assert_client_error(caught.value, "ServiceUnavailable", 503)
    async with admin.get("faults") as response:
        [listed] = (await _json(response))["faults"]
    assert (listed["operation"], listed["remaining"]) == (rule["operation"], 1)


async def test_admin_delete_faults_clears_them(
    emulator: Emulator, admin: aiohttp.ClientSession, cf_no_retry: Any
) -> None:
    async with admin.post("faults", json={"error_code": "Throttling"}) as response:
        await _json(response, 201)
    async with admin.delete("faults") as response:
        assert (await _json(response))["cleared"] == 1
    await cf_no_retry.list_cloud_front_origin_access_identities()
    assert emulator.faults() == []


@pytest.mark.parametrize(
    "body",
    [
        {"error_code": "Throttling", "nonsense": 1},
        {"http_status": True},
        {"times": "3"},
        {"drop_connection": True, "malformed_body": True},
        {"operation": "DeleteOriginAccessControl", "malformed_body": True},
        ["not", "an", "object"],
    ],
    ids=[
        "unknown-field",
        "bool-as-int",
        "string-as-int",
        "exclusive-outcomes",
        "malformed-body-on-delete",
        "not-object",
    ],
)
async def test_admin_rejects_invalid_fault_json(
    emulator: Emulator, admin: aiohttp.ClientSession, body: Any
) -> None:
    async with admin.post("faults", json=body) as response:
        assert "error" in await _json(response, 400)
    assert emulator.faults() == []


async def test_admin_requests_lists_and_clears_the_request_log(
    emulator: Emulator, admin: aiohttp.ClientSession, cf: Any
) -> None:
    await cf.create_cloud_front_origin_access_identity(
        CloudFrontOriginAccessIdentityConfig=oai_config("ref")
    )
    async with admin.get("requests") as response:
        [record] = (await _json(response))["requests"]
    assert record["operation"] == "CreateCloudFrontOriginAccessIdentity"
    assert (record["method"], record["status"], record["attempt"]) == ("POST", 201, 1)
    assert record["authorization_present"] is True
    assert record["fault"] is None
    assert "AWS4-HMAC-SHA256" not in str(record)
    async with admin.delete("requests") as response:
        assert (await _json(response))["cleared"] == 1
    # Admin calls themselves are never logged.
    assert emulator.request_log == []


async def test_admin_identities_in_use_and_reset(
    emulator: Emulator, admin: aiohttp.ClientSession, cf_no_retry: Any
) -> None:
    created = await cf_no_retry.create_cloud_front_origin_access_identity(
        CloudFrontOriginAccessIdentityConfig=oai_config("ref", "note")
    )
    identity_id = created["CloudFrontOriginAccessIdentity"]["Id"]
    async with admin.get("identities") as response:
        [listed] = (await _json(response))["identities"]
    assert listed == {
        "id": identity_id,
        "s3_canonical_user_id": created["CloudFrontOriginAccessIdentity"]["S3CanonicalUserId"],
        "caller_reference": "ref",
        "comment": "note",
        "etag": created["ETag"],
        "in_use": False,
    }
    async with admin.post(f"identities/{identity_id}/in-use", json={"in_use": True}) as response:
        assert (await _json(response))["identity"]["in_use"] is True
    with pytest.raises(ClientError) as caught:
        await cf_no_retry.delete_cloud_front_origin_access_identity(
            Id=identity_id, IfMatch=created["ETag"]
        )
    assert_client_error(caught.value, "CloudFrontOriginAccessIdentityInUse", 409)
    async with admin.post("reset") as response:
        await _json(response)
    assert emulator.identities() == []
    assert emulator.request_log == []


async def test_admin_in_use_for_unknown_identity_is_404(admin: aiohttp.ClientSession) -> None:
    async with admin.post("identities/E0000000000000/in-use", json={"in_use": True}) as response:
        await _json(response, 404)


async def test_admin_unknown_route_is_json_404(admin: aiohttp.ClientSession) -> None:
    async with admin.get("nope") as response:
        assert "error" in await _json(response, 404)
    async with admin.put("faults") as response:
        await _json(response, 404)


async def test_admin_health(admin: aiohttp.ClientSession) -> None:
    async with admin.get("health") as response:
        assert await _json(response) == {"status": "ok"}
