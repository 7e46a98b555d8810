"""The tuned botocore client: handlers dropped for CloudFront change nothing on the wire.

The emulator verifies SigV4 on every call, so a call that succeeds was signed as before; its
request log shows botocore's retry headers and attempts.
"""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from aiobotocore.config import AioConfig
from aiobotocore.session import AioSession
from botocore import handlers as botocore_handlers
from botocore.exceptions import BotoCoreError

from service._gen.cloudfront.v1 import origin_access_identity_service_pb2_grpc as pb_grpc
from service.aws import NOOP_HANDLERS, botocore_session
from service.emulator import Emulator, FaultRule
from tests.conftest import LIST, FacadeFactory

# botocore's own registrations, (event, handler[, order]).
BUILTIN = [(entry[0], entry[1]) for entry in botocore_handlers.BUILTIN_HANDLERS]


@pytest.mark.parametrize(("event", "name"), NOOP_HANDLERS)
def test_each_dropped_handler_is_still_one_of_botocores(event: str, name: str) -> None:
    # A rename in a botocore upgrade would otherwise leave the handler silently registered.
    handler = getattr(botocore_handlers, name, None)
    assert handler is not None, f"botocore.handlers.{name} is gone"
    assert any(event == e and handler is h for e, h in BUILTIN), f"{name} not on {event}"


def test_the_retry_headers_handler_is_kept() -> None:
    assert all(name != "add_retry_headers" for _, name in NOOP_HANDLERS)


async def test_calls_are_still_signed_with_sigv4(
    stub: pb_grpc.OriginAccessIdentityServiceStub, emulator: Emulator
) -> None:
    await stub.ListCloudFrontOriginAccessIdentities(LIST)  # the emulator refuses a bad signature
    (record,) = emulator.request_log
    assert record.authorization_present
    assert record.status == 200


async def test_throttling_is_still_retried(facade_factory: FacadeFactory) -> None:
    async with facade_factory(aws_max_attempts=3, aws_retry_mode="standard") as facade:
        assert facade.emulator is not None
        facade.emulator.add_fault(FaultRule(error_code="Throttling", times=2))
        async with grpc.aio.insecure_channel(facade.address) as channel:
            await pb_grpc.OriginAccessIdentityServiceStub(
                channel
            ).ListCloudFrontOriginAccessIdentities(LIST)
        log = facade.emulator.request_log
        assert [(record.attempt, record.status) for record in log] == [
            (1, 400),
            (2, 400),
            (3, 200),
        ]
        assert len({record.invocation_id for record in log}) == 1  # one call, retried


# -- the trimmed endpoints.json: same endpoints as botocore's whole file ------------------------


class _Resolved(Exception):
    """Raised from before-sign to stop a call once botocore has chosen its URL."""


async def _endpoints(session: AioSession, service: str, region: str, **config: bool) -> Any:
    """(client endpoint_url, URL a call is sent to, signing region) or the error's name."""
    seen: dict[str, Any] = {}

    def capture(request: Any, **kwargs: Any) -> None:
        seen["url"] = request.url
        seen["signing"] = request.context.get("signing", {}).get("region")
        raise _Resolved

    try:
        async with session.create_client(
            service,
            region_name=region,
            aws_access_key_id="AKIDEXAMPLE",
            aws_secret_access_key="secret",
            config=AioConfig(**config, retries={"total_max_attempts": 1}),
        ) as client:
            client.meta.events.register(f"before-sign.{service}", capture)
            operation = OPERATIONS[service]
            with pytest.raises(_Resolved):
                await getattr(client, operation)()
            return client.meta.endpoint_url, seen["url"], seen["signing"]
    except BotoCoreError as error:
        return type(error).__name__


OPERATIONS = {
    "cloudfront": "list_cloud_front_origin_access_identities",
    "sts": "get_caller_identity",
}
VARIANTS = [
    {},
    {"use_fips_endpoint": True},
    {"use_dualstack_endpoint": True},
    {"use_fips_endpoint": True, "use_dualstack_endpoint": True},
]
REGIONS = ["us-east-1", "eu-west-1", "us-gov-west-1", "cn-north-1"]


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: "+".join(v) or "default")
@pytest.mark.parametrize("region", REGIONS)
@pytest.mark.parametrize("service", sorted(OPERATIONS))
async def test_trimmed_endpoints_resolve_as_botocores_own(
    service: str, region: str, variant: dict[str, bool]
) -> None:
    trimmed = await _endpoints(botocore_session(), service, region, **variant)
    whole = await _endpoints(AioSession(), service, region, **variant)
    assert trimmed == whole


async def test_cloudfront_fips_keeps_its_own_hostname() -> None:
    # Pins the hostname itself, not just trimmed == whole.
    session = botocore_session()
    resolved = await _endpoints(session, "cloudfront", "us-east-1", use_fips_endpoint=True)
    assert resolved[1].startswith("https://cloudfront-fips.amazonaws.com/")
