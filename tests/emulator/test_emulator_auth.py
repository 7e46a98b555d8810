"""Authentication: unsigned requests, and SigV4 verification when credentials are set."""

from __future__ import annotations

from typing import Any

import aiohttp
import botocore
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from service.emulator import Emulator
from tests.emulator.emulator_helpers import (
    FAKE_SIGV4_HEADERS,
    NO_RETRIES,
    OAI_URL_PATH,
    EmulatorFactory,
    assert_client_error,
    make_client,
    oai_config,
)

CREDENTIALS = {"AKIDEXAMPLE": "secret"}


async def test_unsigned_raw_request_gets_missing_authentication_token(
    emulator: Emulator,
) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{emulator.base_url}{OAI_URL_PATH}") as response,
    ):
        body = await response.text()
        assert response.status == 403
        request_id = response.headers["x-amzn-RequestId"]
    assert "<Code>MissingAuthenticationToken</Code>" in body
    assert "<Message>Missing Authentication Token</Message>" in body
    assert f"<RequestId>{request_id}</RequestId>" in body
    [record] = emulator.request_log
    assert (record.status, record.authorization_present) == (403, False)


async def test_unsigned_client_gets_missing_authentication_token(emulator: Emulator) -> None:
    config = Config(signature_version=botocore.UNSIGNED, retries={"total_max_attempts": 1})
    async with make_client(emulator, config) as cf:
        with pytest.raises(ClientError) as caught:
            await cf.list_cloud_front_origin_access_identities()
    assert_client_error(caught.value, "MissingAuthenticationToken", 403)
    assert caught.value.response["Error"]["Message"] == "Missing Authentication Token"


async def test_without_credentials_any_well_formed_signature_is_accepted(
    emulator: Emulator,
) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{emulator.base_url}{OAI_URL_PATH}", headers=FAKE_SIGV4_HEADERS) as response,
    ):
        assert response.status == 200


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer abc",
        "AWS4-HMAC-SHA256 SignedHeaders=host, Signature=00",
        "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1, SignedHeaders=host, Signature=00",
    ],
    ids=["other-scheme", "no-credential", "short-scope"],
)
async def test_malformed_authorization_header_is_incomplete_signature(
    emulator: Emulator, authorization: str
) -> None:
    headers = {**FAKE_SIGV4_HEADERS, "Authorization": authorization}
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{emulator.base_url}{OAI_URL_PATH}", headers=headers) as response,
    ):
        assert response.status == 403
        assert "<Code>IncompleteSignature</Code>" in await response.text()


async def test_sigv4_with_right_credentials_is_accepted(
    emulator_factory: EmulatorFactory,
) -> None:
    emulator = await emulator_factory(credentials=CREDENTIALS)
    async with make_client(emulator, NO_RETRIES) as cf:
        created = await cf.create_cloud_front_origin_access_identity(
            CloudFrontOriginAccessIdentityConfig=oai_config("signed", "a comment & more")
        )
        identity_id = created["CloudFrontOriginAccessIdentity"]["Id"]
        # Query strings and If-Match headers are part of what gets signed.
        listing = await cf.list_cloud_front_origin_access_identities(Marker="", MaxItems="5")
        assert listing["CloudFrontOriginAccessIdentityList"]["Quantity"] == 1
        await cf.delete_cloud_front_origin_access_identity(Id=identity_id, IfMatch=created["ETag"])
    assert emulator.identities() == []


async def test_sigv4_with_wrong_secret_is_signature_does_not_match(
    emulator_factory: EmulatorFactory,
) -> None:
    emulator = await emulator_factory(credentials=CREDENTIALS)
    async with make_client(emulator, NO_RETRIES, secret_key="not-the-secret") as cf:
        with pytest.raises(ClientError) as caught:
            await cf.list_cloud_front_origin_access_identities()
    assert_client_error(caught.value, "SignatureDoesNotMatch", 403)


async def test_sigv4_with_unknown_access_key_is_invalid_client_token_id(
    emulator_factory: EmulatorFactory,
) -> None:
    emulator = await emulator_factory(credentials=CREDENTIALS)
    async with make_client(emulator, NO_RETRIES, access_key="AKIDUNKNOWN") as cf:
        with pytest.raises(ClientError) as caught:
            await cf.list_cloud_front_origin_access_identities()
    assert_client_error(caught.value, "InvalidClientTokenId", 403)
    assert caught.value.response["Error"]["Message"] == (
        "The security token included in the request is invalid."
    )


async def test_sigv4_detects_a_body_changed_after_signing(
    emulator_factory: EmulatorFactory,
) -> None:
    emulator = await emulator_factory(credentials=CREDENTIALS)

    def tamper(request: Any, **_: Any) -> None:
        request.body = request.body.replace(b"aaaa", b"bbbb")

    async with make_client(emulator, NO_RETRIES) as cf:
        cf.meta.events.register("before-send.cloudfront.*", tamper)
        with pytest.raises(ClientError) as caught:
            await cf.create_cloud_front_origin_access_identity(
                CloudFrontOriginAccessIdentityConfig=oai_config("ref", "aaaa")
            )
    assert_client_error(caught.value, "SignatureDoesNotMatch", 403)
    assert emulator.identities() == []


async def test_session_token_is_checked_when_configured(
    emulator_factory: EmulatorFactory,
) -> None:
    emulator = await emulator_factory(credentials=CREDENTIALS, session_token="token-1")
    async with make_client(emulator, NO_RETRIES, session_token="token-1") as cf:
        await cf.list_cloud_front_origin_access_identities()
    async with make_client(emulator, NO_RETRIES, session_token="token-2") as cf:
        with pytest.raises(ClientError) as caught:
            await cf.list_cloud_front_origin_access_identities()
    assert_client_error(caught.value, "InvalidClientTokenId", 403)


async def test_unknown_path_is_404_with_request_id(emulator: Emulator) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{emulator.base_url}/2020-05-31/nothing", headers=FAKE_SIGV4_HEADERS) as resp,
    ):
        assert resp.status == 404
        assert f"<RequestId>{resp.headers['x-amzn-RequestId']}</RequestId>" in await resp.text()


async def test_unsupported_method_on_known_path_is_405(emulator: Emulator) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.put(f"{emulator.base_url}{OAI_URL_PATH}", headers=FAKE_SIGV4_HEADERS) as resp,
    ):
        assert resp.status == 405
        assert "x-amzn-RequestId" in resp.headers
