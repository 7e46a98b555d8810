"""Secrets: the AWS key, secret and session token and the callers' bearer token never show in
the facade's logs (at DEBUG) nor in any status a caller gets, on success and error paths alike.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest
import pytest_asyncio

from service._gen.cloudfront.v1 import origin_access_identity_service_pb2 as pb
from service.emulator import Emulator, FaultRule
from tests.conftest import OAI_PATH
from tests.process import FacadeProcess, facade_process
from tests.reliability.conftest import Figures
from tests.reliability.support import (
    LIST,
    Outcome,
    S,
    Stub,
    aws_env,
    create_request,
    outcome,
)

pytestmark = pytest.mark.reliability

ACCESS_KEY = "AKIAI44QH8DHBEXAMPLE"
SECRET_KEY = "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY"
SESSION_TOKEN = "IQoJb3JpZ2luX2VjEXAMPLESESSIONTOKEN0123456789abcdefXYZ"
CALLER_TOKEN = "caller-bearer-token-reliability-0123456789"
SECRETS = (ACCESS_KEY, SECRET_KEY, SESSION_TOKEN, CALLER_TOKEN)
AUTH = (("authorization", f"Bearer {CALLER_TOKEN}"),)
BAD_AUTH = (("authorization", f"Bearer {CALLER_TOKEN[:-4]}XXXX"),)


@pytest_asyncio.fixture
async def upstream() -> AsyncIterator[Emulator]:
    async with Emulator(
        credentials={ACCESS_KEY: SECRET_KEY}, session_token=SESSION_TOKEN
    ) as emulator:
        yield emulator


@pytest_asyncio.fixture
async def facade(upstream: Emulator) -> AsyncIterator[FacadeProcess]:
    env = aws_env(ACCESS_KEY, SECRET_KEY, SESSION_TOKEN, CLOUDFRONT_FACADE_AUTH_TOKEN=CALLER_TOKEN)
    async with facade_process(
        "--aws-endpoint-url",
        upstream.base_url,
        "--log-level",
        "DEBUG",
        "--aws-max-attempts",
        "1",
        env=env,
    ) as proc:
        yield proc


def leaked(text: str) -> list[str]:
    return [
        name
        for name, secret in zip(
            ("access key", "secret key", "session token", "caller token"), SECRETS, strict=True
        )
        if secret in text
    ]


def caller_view(ended: Outcome) -> str:
    """Everything a caller can read from an error: message, trailers, rich details."""
    if ended.error is None:
        return ""
    return f"{ended.error.details()} {ended.error.trailing_metadata()!r}"


async def test_no_secret_reaches_the_logs_or_the_callers(
    upstream: Emulator, facade: FacadeProcess, figures: Figures
) -> None:
    async with grpc.aio.insecure_channel(facade.address) as channel:
        stub = Stub(channel)
        made = await stub.CreateCloudFrontOriginAccessIdentity(
            create_request("secret-ok"), metadata=AUTH, timeout=5
        )
        paths: dict[str, Outcome] = {
            "ok": await outcome(
                stub.ListCloudFrontOriginAccessIdentities(LIST, metadata=AUTH, timeout=5)
            ),
            "aws_not_found": await outcome(
                stub.GetCloudFrontOriginAccessIdentity(
                    pb.GetCloudFrontOriginAccessIdentityRequest(id="ENOSUCH0000000"),
                    metadata=AUTH,
                    timeout=5,
                )
            ),
            "bad_token": await outcome(
                stub.ListCloudFrontOriginAccessIdentities(LIST, metadata=BAD_AUTH, timeout=5)
            ),
            "no_token": await outcome(stub.ListCloudFrontOriginAccessIdentities(LIST, timeout=5)),
            "invalid_argument": await outcome(
                stub.GetCloudFrontOriginAccessIdentity(
                    pb.GetCloudFrontOriginAccessIdentityRequest(id=f"bad {SECRET_KEY}"),
                    metadata=AUTH,
                    timeout=5,
                )
            ),
        }
        upstream.add_fault(FaultRule(error_code="AccessDenied", http_status=403, times=1))
        paths["aws_access_denied"] = await outcome(
            stub.GetCloudFrontOriginAccessIdentity(
                pb.GetCloudFrontOriginAccessIdentityRequest(
                    id=made.cloud_front_origin_access_identity.id
                ),
                metadata=AUTH,
                timeout=5,
            )
        )
        # Two drops: aiohttp resends an idempotent request once on a dropped connection.
        upstream.add_fault(FaultRule(drop_connection=True, times=2))
        paths["upstream_drop"] = await outcome(
            stub.ListCloudFrontOriginAccessIdentities(LIST, metadata=AUTH, timeout=5)
        )
        # Held upstream until released: the call can only end by its deadline.
        upstream.add_fault(FaultRule(hold=True, times=1))
        paths["deadline"] = await outcome(
            stub.ListCloudFrontOriginAccessIdentities(LIST, metadata=AUTH, timeout=0.3)
        )
        upstream.release_held()
    facade.signal()
    assert await facade.wait() == 0
    logs = await facade.output()
    figures.record(
        paths={name: f"{o.code.name}/{o.reason}" for name, o in paths.items()},
        log_lines=len(facade.lines),
    )
    assert {name: o.code for name, o in paths.items()} == {
        "ok": S.OK,
        "aws_not_found": S.NOT_FOUND,
        "bad_token": S.UNAUTHENTICATED,
        "no_token": S.UNAUTHENTICATED,
        "invalid_argument": S.INVALID_ARGUMENT,
        "aws_access_denied": S.PERMISSION_DENIED,
        "upstream_drop": S.UNAVAILABLE,
        "deadline": S.DEADLINE_EXCEEDED,
    }
    assert '"level": "DEBUG"' in logs, "the run must really log at DEBUG"
    assert leaked(logs) == []
    for name, ended in paths.items():
        assert leaked(caller_view(ended)) == [], name


async def test_an_aws_message_echoing_the_signed_request_reaches_no_caller_unredacted(
    upstream: Emulator, facade: FacadeProcess
) -> None:
    # The shape of AWS's SignatureDoesNotMatch message: it quotes the canonical request.
    upstream.add_fault(
        FaultRule(
            error_code="SignatureDoesNotMatch",
            http_status=403,
            times=1,
            message="The request signature we calculated does not match the signature you "
            "provided. The Canonical String for this request should have been 'GET\n"
            f"{OAI_PATH}\n\nhost:cloudfront.amazonaws.com"
            f"\nx-amz-security-token:{SESSION_TOKEN}\n' Credential={ACCESS_KEY}/20250101/"
            "us-east-1/cloudfront/aws4_request",
        )
    )
    async with grpc.aio.insecure_channel(facade.address) as channel:
        ended = await outcome(
            Stub(channel).ListCloudFrontOriginAccessIdentities(LIST, metadata=AUTH, timeout=5)
        )
    assert ended.code is S.UNAUTHENTICATED
    assert leaked(caller_view(ended)) == []
