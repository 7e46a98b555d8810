"""Shared constants and client construction for the emulator tests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import aioboto3
from botocore.config import Config
from botocore.exceptions import ClientError

from service.emulator import Emulator

EmulatorFactory = Callable[..., Awaitable[Emulator]]

ACCESS_KEY = "AKIDEXAMPLE"
SECRET_KEY = "secret"
REGION = "us-east-1"
# botocore's "max_attempts" counts retries; "total_max_attempts" counts every attempt.
NO_RETRIES = Config(retries={"total_max_attempts": 1, "mode": "standard"})
OAI_URL_PATH = "/2020-05-31/origin-access-identity/cloudfront"
# Well-formed but unverifiable: accepted when the emulator has no credentials configured.
FAKE_SIGV4_HEADERS = {
    "Authorization": "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/us-east-1/cloudfront/"
    "aws4_request, SignedHeaders=host;x-amz-date, Signature=00",
    "X-Amz-Date": "20240101T000000Z",
}


# One session for all tests: it caches the parsed service model, which is slow to load.
_SESSION = aioboto3.Session()


def make_client(
    target: Emulator | str,
    config: Config | None = None,
    *,
    access_key: str = ACCESS_KEY,
    secret_key: str = SECRET_KEY,
    session_token: str | None = None,
    service: str = "cloudfront",
) -> AbstractAsyncContextManager[Any]:
    """A real aioboto3 client of `service` for the emulator (STS needs ``sts=True``)."""
    client: AbstractAsyncContextManager[Any] = _SESSION.client(
        service,
        endpoint_url=target if isinstance(target, str) else target.base_url,
        region_name=REGION,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        aws_session_token=session_token,
        config=config,
    )
    return client


def assert_client_error(error: ClientError, code: str, status: int) -> None:
    """The code and status match, and the error carries the response's request id."""
    response: dict[str, Any] = error.response
    metadata = response["ResponseMetadata"]
    assert response["Error"]["Code"] == code
    assert metadata["HTTPStatusCode"] == status
    assert response["Error"]["Message"]
    assert response["Error"]["Type"] == ("Receiver" if status >= 500 else "Sender")
    assert metadata["RequestId"]
    assert metadata["RequestId"] == metadata["HTTPHeaders"]["x-amzn-requestid"]


def oai_config(caller_reference: str, comment: str = "") -> dict[str, str]:
    return {"CallerReference": caller_reference, "Comment": comment}


OAC_URL_PATH = "/2020-05-31/origin-access-control"


def oac_config(
    name: str,
    description: str | None = None,
    *,
    behavior: str = "always",
    protocol: str = "sigv4",
    origin_type: str = "s3",
) -> dict[str, str]:
    config = {
        "Name": name,
        "SigningProtocol": protocol,
        "SigningBehavior": behavior,
        "OriginAccessControlOriginType": origin_type,
    }
    if description is not None:
        config["Description"] = description
    return config


def fill(value: Any, resource_id: str, etag: str) -> Any:
    """An error table's request parameters with "{id}" and "{etag}" of the existing resource."""
    if isinstance(value, dict):
        return {key: fill(item, resource_id, etag) for key, item in value.items()}
    if isinstance(value, str):
        return value.replace("{id}", resource_id).replace("{etag}", etag)
    return value


def arrange(emulator: Emulator, cf: Any, resource_id: str, options: dict[str, Any]) -> None:
    """Set up what an error table's row asks for: the resource in use, an account limit, or a
    request body sent in place of the one botocore serialises."""
    if options.get("in_use"):
        emulator.mark_in_use(resource_id)
    if "account_limit" in options:
        emulator.account_limit = options["account_limit"]
    if "body" in options:
        body: bytes = options["body"]

        def replace_body(request: Any, **_: Any) -> None:
            request.data = body

        cf.meta.events.register("before-sign.cloudfront.*", replace_body)
