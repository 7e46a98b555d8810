"""The tuned botocore client: handlers dropped for CloudFront change nothing on the wire.

The emulator verifies SigV4 on every call, so a call that succeeds was signed as before; its
request log shows botocore's retry headers and attempts.
"""

from __future__ import annotations

import grpc
import pytest
from botocore import handlers as botocore_handlers

from service._gen.cloudfront.v1 import origin_access_identity_service_pb2_grpc as pb_grpc
from service.aws import NOOP_HANDLERS
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
