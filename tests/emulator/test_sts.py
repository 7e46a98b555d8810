"""The emulated STS and container credentials endpoint, driven by the real aioboto3 clients."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import botocore
import pytest
from aiobotocore.credentials import AioContainerProvider
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from service.emulator import Emulator, RoleRule, StsRecord
from tests.emulator.emulator_helpers import (
    ACCESS_KEY,
    NO_RETRIES,
    SECRET_KEY,
    EmulatorFactory,
    make_client,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
ROLE = "arn:aws:iam::111122223333:role/facade"
WEB_TOKEN = "eyJhbGciOiJSUzI1NiJ9.projected-service-account-token"
EXTERNAL_ID = "cloudfront-facade-external-id"
CONTAINER_TOKEN = "pod-identity-token"
# DurationSeconds below 900 is refused by botocore's own checks, so tests that ask for one turn
# them off; the emulator allows it on purpose.
NO_CLIENT_VALIDATION = Config(retries={"total_max_attempts": 1}, parameter_validation=False)


class FakeClock:
    """Wall-clock seconds that move only when a test says so."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def emulator(emulator_factory: EmulatorFactory, clock: FakeClock) -> Emulator:
    emulator = await emulator_factory(
        sts=True, credentials={ACCESS_KEY: SECRET_KEY}, clock=clock, seed=1
    )
    emulator.sts.roles[ROLE] = RoleRule(
        external_id=EXTERNAL_ID, web_identity_token=WEB_TOKEN, lifetime=60.0
    )
    emulator.sts.container_token = CONTAINER_TOKEN
    return emulator


def sts_client(
    emulator: Emulator, config: Config | None = NO_RETRIES, **keys: Any
) -> AbstractAsyncContextManager[Any]:
    return make_client(emulator, config, service="sts", **keys)


@pytest.fixture
async def sts(emulator: Emulator) -> AsyncIterator[Any]:
    async with sts_client(emulator) as client:
        yield client


async def web_identity(sts: Any, token: str = WEB_TOKEN, role: str = ROLE) -> dict[str, Any]:
    response: dict[str, Any] = await sts.assume_role_with_web_identity(
        RoleArn=role, RoleSessionName="pod", WebIdentityToken=token
    )
    return response


def error_of(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response: dict[str, Any] = caught.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


# -- AssumeRoleWithWebIdentity -------------------------------------------------------------


async def test_web_identity_with_the_configured_token_issues_temporary_credentials(
    emulator: Emulator, sts: Any, clock: FakeClock
) -> None:
    response = await web_identity(sts)
    credentials = response["Credentials"]
    assert credentials["AccessKeyId"].startswith("ASIA")
    assert len(credentials["AccessKeyId"]) == 20
    assert credentials["SecretAccessKey"]
    assert credentials["SessionToken"]
    lifetime = (credentials["Expiration"] - datetime.fromtimestamp(clock.now, UTC)).total_seconds()
    assert 60 <= lifetime < 61
    assert response["AssumedRoleUser"]["Arn"] == "arn:aws:sts::111122223333:assumed-role/facade/pod"
    assert response["ResponseMetadata"]["RequestId"]
    issued = emulator.credentials.lookup(credentials["AccessKeyId"])
    assert issued is not None
    assert issued.session_token == credentials["SessionToken"]


async def test_web_identity_with_another_token_is_invalid_identity_token(sts: Any) -> None:
    with pytest.raises(ClientError) as caught:
        await web_identity(sts, token="someone-elses-token")
    assert error_of(caught) == ("InvalidIdentityToken", 400)


async def test_web_identity_for_an_unknown_role_is_access_denied(sts: Any) -> None:
    with pytest.raises(ClientError) as caught:
        await web_identity(sts, role="arn:aws:iam::111122223333:role/unknown")
    assert error_of(caught) == ("AccessDenied", 403)


# -- AssumeRole -----------------------------------------------------------------------------


async def test_assume_role_with_the_right_external_id_issues_credentials(sts: Any) -> None:
    response = await sts.assume_role(RoleArn=ROLE, RoleSessionName="xa", ExternalId=EXTERNAL_ID)
    assert response["Credentials"]["AccessKeyId"].startswith("ASIA")
    assert response["AssumedRoleUser"]["AssumedRoleId"].endswith(":xa")


@pytest.mark.parametrize(
    "external_id", [pytest.param({"ExternalId": "wrong"}, id="wrong"), pytest.param({}, id="none")]
)
async def test_assume_role_without_the_right_external_id_is_access_denied(
    sts: Any, external_id: dict[str, str]
) -> None:
    with pytest.raises(ClientError) as caught:
        await sts.assume_role(RoleArn=ROLE, RoleSessionName="xa", **external_id)
    assert error_of(caught) == ("AccessDenied", 403)


async def test_assume_role_honours_a_short_duration_seconds(
    emulator: Emulator, clock: FakeClock
) -> None:
    async with sts_client(emulator, NO_CLIENT_VALIDATION) as sts:
        response = await sts.assume_role(
            RoleArn=ROLE, RoleSessionName="xa", ExternalId=EXTERNAL_ID, DurationSeconds=3
        )
    expiration = response["Credentials"]["Expiration"]
    lifetime = (expiration - datetime.fromtimestamp(clock.now, UTC)).total_seconds()
    assert 3 <= lifetime < 4


async def test_assume_role_signed_by_an_unknown_key_is_invalid_client_token_id(
    emulator: Emulator,
) -> None:
    async with sts_client(emulator, access_key="AKIDUNKNOWN") as sts:
        with pytest.raises(ClientError) as caught:
            await sts.assume_role(RoleArn=ROLE, RoleSessionName="xa", ExternalId=EXTERNAL_ID)
    assert error_of(caught) == ("InvalidClientTokenId", 403)


async def test_assume_role_with_a_wrong_secret_is_signature_does_not_match(
    emulator: Emulator,
) -> None:
    async with sts_client(emulator, secret_key="not-the-secret") as sts:
        with pytest.raises(ClientError) as caught:
            await sts.assume_role(RoleArn=ROLE, RoleSessionName="xa", ExternalId=EXTERNAL_ID)
    assert error_of(caught) == ("SignatureDoesNotMatch", 403)


async def test_unsigned_assume_role_is_missing_authentication_token(emulator: Emulator) -> None:
    config = Config(signature_version=botocore.UNSIGNED, retries={"total_max_attempts": 1})
    async with sts_client(emulator, config) as sts:
        with pytest.raises(ClientError) as caught:
            await sts.assume_role(RoleArn=ROLE, RoleSessionName="xa", ExternalId=EXTERNAL_ID)
    assert error_of(caught) == ("MissingAuthenticationToken", 403)


async def test_assume_role_signed_by_temporary_credentials_chains(
    emulator: Emulator, sts: Any
) -> None:
    first = (await web_identity(sts))["Credentials"]
    async with sts_client(
        emulator,
        access_key=first["AccessKeyId"],
        secret_key=first["SecretAccessKey"],
        session_token=first["SessionToken"],
    ) as chained:
        second = await chained.assume_role(
            RoleArn=ROLE, RoleSessionName="hop", ExternalId=EXTERNAL_ID
        )
    assert second["Credentials"]["AccessKeyId"] != first["AccessKeyId"]
    assert emulator.sts.request_log[-1].signed_by == first["AccessKeyId"]


async def test_assume_role_signed_by_expired_temporary_credentials_is_expired_token(
    emulator: Emulator, sts: Any, clock: FakeClock
) -> None:
    first = (await web_identity(sts))["Credentials"]
    clock.advance(61)
    async with sts_client(
        emulator,
        access_key=first["AccessKeyId"],
        secret_key=first["SecretAccessKey"],
        session_token=first["SessionToken"],
    ) as chained:
        with pytest.raises(ClientError) as caught:
            await chained.assume_role(RoleArn=ROLE, RoleSessionName="hop", ExternalId=EXTERNAL_ID)
    assert error_of(caught) == ("ExpiredToken", 403)
    refused = emulator.sts.request_log[-1]
    assert (refused.signed_by, refused.issued, refused.outcome) == (
        first["AccessKeyId"],
        None,
        "ExpiredToken",
    )


# -- the container credentials endpoint ---------------------------------------------------


async def test_container_endpoint_serves_what_botocores_container_provider_loads(
    emulator: Emulator, tmp_path: Path
) -> None:
    token_file = tmp_path / "eks-pod-identity-token"
    token_file.write_text(CONTAINER_TOKEN)
    emulator.sts.container_lifetime = 120.0
    provider = AioContainerProvider(
        environ={
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": emulator.base_url + emulator.sts.container_path,
            "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": str(token_file),
        }
    )
    credentials = await provider.load()
    frozen = await credentials.get_frozen_credentials()
    issued = emulator.credentials.lookup(frozen.access_key)
    assert issued is not None
    assert (frozen.secret_key, frozen.token) == (issued.secret_access_key, issued.session_token)
    assert issued.source == "ContainerCredentials"


@pytest.mark.parametrize(
    "headers",
    [pytest.param({"Authorization": "wrong"}, id="wrong"), pytest.param({}, id="missing")],
)
async def test_container_endpoint_without_the_token_is_refused(
    emulator: Emulator, headers: dict[str, str]
) -> None:
    url = emulator.base_url + emulator.sts.container_path
    async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as response:
        assert response.status == 401
        assert (await response.json())["code"] == "AccessDenied"
    assert emulator.credentials.issued() == []


async def test_each_container_request_issues_fresh_credentials(emulator: Emulator) -> None:
    url = emulator.base_url + emulator.sts.container_path
    keys = set()
    async with aiohttp.ClientSession(headers={"Authorization": CONTAINER_TOKEN}) as session:
        for _ in range(3):
            async with session.get(url) as response:
                assert response.status == 200
                keys.add((await response.json())["AccessKeyId"])
    assert len(keys) == 3


# -- CloudFront with temporary credentials ------------------------------------------------


async def test_cloudfront_accepts_issued_credentials_and_logs_their_key(
    emulator: Emulator, sts: Any
) -> None:
    issued = (await web_identity(sts))["Credentials"]
    async with make_client(
        emulator,
        NO_RETRIES,
        access_key=issued["AccessKeyId"],
        secret_key=issued["SecretAccessKey"],
        session_token=issued["SessionToken"],
    ) as cf:
        await cf.list_cloud_front_origin_access_identities()
    assert [record.access_key for record in emulator.request_log] == [issued["AccessKeyId"]]


async def test_cloudfront_refuses_issued_credentials_with_another_session_token(
    emulator: Emulator, sts: Any
) -> None:
    issued = (await web_identity(sts))["Credentials"]
    async with make_client(
        emulator,
        NO_RETRIES,
        access_key=issued["AccessKeyId"],
        secret_key=issued["SecretAccessKey"],
        session_token="not-the-session-token",
    ) as cf:
        with pytest.raises(ClientError) as caught:
            await cf.list_cloud_front_origin_access_identities()
    assert error_of(caught) == ("InvalidClientTokenId", 403)


async def test_cloudfront_refuses_expired_credentials_with_expired_token(
    emulator: Emulator, sts: Any, clock: FakeClock
) -> None:
    issued = (await web_identity(sts))["Credentials"]
    clock.advance(61)
    async with make_client(
        emulator,
        NO_RETRIES,
        access_key=issued["AccessKeyId"],
        secret_key=issued["SecretAccessKey"],
        session_token=issued["SessionToken"],
    ) as cf:
        with pytest.raises(ClientError) as caught:
            await cf.list_cloud_front_origin_access_identities()
    assert error_of(caught) == ("ExpiredToken", 403)
    assert caught.value.response["Error"]["Message"] == (
        "The security token included in the request is expired"
    )


async def test_cloudfront_accepts_credentials_until_the_moment_they_expire(
    emulator: Emulator, sts: Any, clock: FakeClock
) -> None:
    issued = (await web_identity(sts))["Credentials"]
    clock.now = issued["Expiration"].timestamp() - 0.001
    async with make_client(
        emulator,
        NO_RETRIES,
        access_key=issued["AccessKeyId"],
        secret_key=issued["SecretAccessKey"],
        session_token=issued["SessionToken"],
    ) as cf:
        await cf.list_cloud_front_origin_access_identities()


# -- availability and the request log -----------------------------------------------------


async def test_unavailable_sts_answers_service_unavailable_until_it_is_back(
    emulator: Emulator, sts: Any
) -> None:
    emulator.sts.available = False
    with pytest.raises(ClientError) as caught:
        await web_identity(sts)
    assert error_of(caught) == ("ServiceUnavailable", 503)
    emulator.sts.available = True
    assert (await web_identity(sts))["Credentials"]["AccessKeyId"]


async def test_unavailable_container_endpoint_answers_503(emulator: Emulator) -> None:
    emulator.sts.available = False
    url = emulator.base_url + emulator.sts.container_path
    async with (
        aiohttp.ClientSession(headers={"Authorization": CONTAINER_TOKEN}) as session,
        session.get(url) as response,
    ):
        assert response.status == 503
    assert emulator.credentials.issued() == []


async def test_a_held_sts_request_is_answered_on_release_by_the_configuration_then(
    emulator: Emulator, sts: Any
) -> None:
    emulator.sts.hold = True
    pending = asyncio.ensure_future(web_identity(sts))
    await asyncio.wait_for(emulator.wait_held(1), timeout=60)
    assert emulator.credentials.issued() == []
    emulator.sts.available = False
    emulator.release_held()
    with pytest.raises(ClientError) as caught:
        await asyncio.wait_for(pending, timeout=60)
    assert error_of(caught) == ("ServiceUnavailable", 503)


async def test_a_held_container_request_issues_credentials_on_release(emulator: Emulator) -> None:
    emulator.sts.hold = True
    url = emulator.base_url + emulator.sts.container_path
    async with aiohttp.ClientSession(headers={"Authorization": CONTAINER_TOKEN}) as session:
        pending = asyncio.ensure_future(session.get(url))
        await asyncio.wait_for(emulator.wait_held(1), timeout=60)
        assert emulator.credentials.issued() == []
        emulator.release_held()
        async with await asyncio.wait_for(pending, timeout=60) as response:
            assert response.status == 200
    [issued] = emulator.credentials.issued()
    assert issued.source == "ContainerCredentials"


async def test_request_log_records_action_role_signer_issued_key_and_outcome(
    emulator: Emulator, sts: Any
) -> None:
    issued = (await web_identity(sts))["Credentials"]["AccessKeyId"]
    assumed = await sts.assume_role(RoleArn=ROLE, RoleSessionName="xa", ExternalId=EXTERNAL_ID)
    with pytest.raises(ClientError):
        await sts.assume_role(RoleArn=ROLE, RoleSessionName="xa", ExternalId="wrong")
    rows = [
        (r.action, r.role_arn, r.signed_by, r.issued, r.outcome, r.status)
        for r in emulator.sts.request_log
    ]
    assert rows == [
        ("AssumeRoleWithWebIdentity", ROLE, None, issued, "ok", 200),
        ("AssumeRole", ROLE, ACCESS_KEY, assumed["Credentials"]["AccessKeyId"], "ok", 200),
        ("AssumeRole", ROLE, ACCESS_KEY, None, "AccessDenied", 403),
    ]
    assert all(isinstance(record, StsRecord) for record in emulator.sts.request_log)
    assert emulator.request_log == []


async def test_without_sts_the_emulator_serves_no_sts(emulator_factory: EmulatorFactory) -> None:
    plain = await emulator_factory()
    async with sts_client(plain) as sts:
        with pytest.raises(ClientError) as caught:
            await sts.assume_role(RoleArn=ROLE, RoleSessionName="xa")
    # The CloudFront catch-all answers: there is no CloudFront resource at "/".
    assert error_of(caught) == ("NotFound", 404)


# -- the signing scope ----------------------------------------------------------------------


def signed_headers(url: str, service: str, body: bytes) -> dict[str, str]:
    """Headers of a POST signed by the static test key for ``service``."""
    request = AWSRequest(
        method="POST",
        url=url,
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), service, "us-east-1").add_auth(request)
    return dict(request.headers.items())


@pytest.mark.parametrize(
    ("service", "status"),
    [pytest.param("sts", 200, id="sts"), pytest.param("cloudfront", 403, id="cloudfront")],
)
async def test_assume_role_must_be_signed_for_sts(
    emulator: Emulator, service: str, status: int
) -> None:
    body = urlencode(
        {
            "Action": "AssumeRole",
            "Version": "2011-06-15",
            "RoleArn": ROLE,
            "RoleSessionName": "raw",
            "ExternalId": EXTERNAL_ID,
        }
    ).encode()
    url = emulator.base_url + "/"
    headers = signed_headers(url, service, body)
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=body, headers=headers) as response,
    ):
        assert response.status == status
        text = await response.text()
    assert ("Credential should be scoped to correct service: 'sts'" in text) == (status == 403)


# -- the admin API and the standalone emulator ----------------------------------------------


async def test_admin_configures_roles_and_availability(emulator: Emulator) -> None:
    role = "arn:aws:iam::444455556666:role/other"
    body = {"available": False, "roles": {role: {"web_identity_token": "t", "lifetime": 5}}}
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{emulator.base_url}/_emulator/sts", json=body) as response,
    ):
        assert response.status == 200
        state = await response.json()
    assert emulator.sts.roles[role] == RoleRule(web_identity_token="t", lifetime=5.0)
    assert emulator.sts.available is False
    assert state["roles"][role]["lifetime"] == 5.0


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"available": "no"}, id="available-not-bool"),
        pytest.param({"roles": {ROLE: {"lifetime": 0}}}, id="lifetime-zero"),
        pytest.param({"roles": {ROLE: {"colour": "red"}}}, id="unknown-role-field"),
        pytest.param({"container_lifetime": -1}, id="container-lifetime-negative"),
        pytest.param({"surprise": 1}, id="unknown-field"),
    ],
)
async def test_admin_refuses_bad_sts_configuration_and_changes_nothing(
    emulator: Emulator, body: dict[str, Any]
) -> None:
    before = emulator.sts.state()
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{emulator.base_url}/_emulator/sts", json=body) as response,
    ):
        assert response.status == 400
        assert (await response.json())["error"]
    assert emulator.sts.state() == before


async def test_admin_lists_sts_requests(emulator: Emulator, sts: Any) -> None:
    issued = (await web_identity(sts))["Credentials"]["AccessKeyId"]
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{emulator.base_url}/_emulator/sts/requests") as response,
    ):
        [record] = (await response.json())["requests"]
    assert (record["action"], record["issued"], record["outcome"]) == (
        "AssumeRoleWithWebIdentity",
        issued,
        "ok",
    )


async def test_standalone_emulator_with_sts_serves_the_container_endpoint() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "service.emulator",
        "--port",
        "0",
        "--sts",
        "--container-token",
        CONTAINER_TOKEN,
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        url = (await asyncio.wait_for(process.stdout.readline(), timeout=60)).decode().strip()
        headers = {"Authorization": CONTAINER_TOKEN}
        async with (
            aiohttp.ClientSession(headers=headers) as session,
            session.get(f"{url}/_emulator/container-credentials") as response,
        ):
            assert response.status == 200
            assert (await response.json())["AccessKeyId"].startswith("ASIA")
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), timeout=60) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
