"""Bad input: generated requests for every RPC, and raw bytes that are not a message at all.

Every answer is OK or a documented code with a message fit for a caller: never UNKNOWN, never
INTERNAL (bad input is the caller's problem, not a facade bug), never a traceback, a file path
or an exception class name.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
import pytest_asyncio
from google.protobuf.message import Message
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service._gen.cloudfront.v1 import origin_access_identity_service_pb2 as pb
from service.server import Facade, running
from tests.conftest import TEST_SETTINGS
from tests.reliability.conftest import Figures, size
from tests.reliability.support import (
    DOCUMENTED,
    RPCS,
    SERVICE,
    Outcome,
    S,
    Stub,
    create_request,
    describe,
    error_infos,
    message_problems,
    outcome,
)

pytestmark = [pytest.mark.reliability, pytest.mark.asyncio(loop_scope="module")]

EXAMPLES = size(40, 400)  # generated requests per RPC
RAW_MESSAGES = size(60, 600)  # random byte strings per RPC
MAX_REQUEST_BYTES = TEST_SETTINGS.max_request_bytes
ACCEPTABLE = DOCUMENTED - {S.INTERNAL}
seen: Counter[str] = Counter()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def facade(figures: Figures) -> AsyncIterator[Facade]:
    async with running(TEST_SETTINGS) as started:
        assert started.emulator is not None
        started.emulator.account_limit = 1_000_000  # generated Creates must not hit the quota
        yield started
    figures.record(
        generated_requests_per_rpc=EXAMPLES,
        raw_messages_per_rpc=RAW_MESSAGES,
        statuses_by_reason=dict(seen.most_common()),
        calls=sum(seen.values()),
    )


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def channel(facade: Facade) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(
        facade.address, options=[("grpc.max_send_message_length", 4 * MAX_REQUEST_BYTES)]
    ) as opened:
        yield opened


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def known(channel: grpc.aio.Channel) -> tuple[str, str]:
    """A real identity, so generated requests sometimes name one that exists."""
    made = await Stub(channel).CreateCloudFrontOriginAccessIdentity(create_request("fuzz-known"))
    return made.cloud_front_origin_access_identity.id, made.etag


# -- strategies ---------------------------------------------------------------------------------

huge = st.integers(min_value=1_000, max_value=MAX_REQUEST_BYTES + 8_000).map(lambda n: "x" * n)
texts = st.one_of(
    st.text(),  # any unicode, control characters included
    st.text(st.characters(codec="utf-8", min_codepoint=0x80), max_size=300),
    st.sampled_from(
        [
            "",
            " ",
            "\x00",
            "\t\n\r",
            "<Comment/>",
            "&amp;",
            "]]>",
            "%2F..%2F",
            "\u202e",
            "\ufeff",
            "\ufffe",
            "😀" * 40,
            "E" * 65,
        ]
    ),
    huge,
)
ids = st.one_of(
    texts,
    st.from_regex(r"[A-Z0-9]{1,64}", fullmatch=True),
    st.from_regex(r"E[A-Z0-9]{13}", fullmatch=True),
)
etags = st.one_of(texts, st.from_regex(r"[\x21-\x7e]{1,300}", fullmatch=True))
numbers = st.one_of(
    st.integers(min_value=-(2**31), max_value=2**31 - 1),
    st.sampled_from([-(2**31), -1, 0, 1, 100, 101, 2**31 - 1]),
)
configs = st.one_of(
    st.none(),
    st.builds(pb.CloudFrontOriginAccessIdentityConfig, caller_reference=texts, comment=texts),
)


def _request(kind: type[Message], **fields: Any) -> Message:
    return kind(**{name: value for name, value in fields.items() if value is not None})


def requests(rpc: str, known_id: str, known_etag: str) -> st.SearchStrategy[Message]:
    """Requests for `rpc`, sometimes about a real identity with its real ETag."""
    some_id = st.one_of(ids, st.just(known_id))
    some_etag = st.one_of(etags, st.just(known_etag))
    kind = getattr(pb, f"{rpc}Request")
    config: dict[str, st.SearchStrategy[Any]] = {
        "cloud_front_origin_access_identity_config": configs
    }
    fields: dict[str, st.SearchStrategy[Any]] = {
        "CreateCloudFrontOriginAccessIdentity": config,
        "GetCloudFrontOriginAccessIdentity": {"id": some_id},
        "GetCloudFrontOriginAccessIdentityConfig": {"id": some_id},
        "UpdateCloudFrontOriginAccessIdentity": {**config, "id": some_id, "if_match": some_etag},
        "DeleteCloudFrontOriginAccessIdentity": {"id": some_id, "if_match": some_etag},
        "ListCloudFrontOriginAccessIdentities": {"marker": texts, "max_items": numbers},
    }[rpc]
    return st.builds(_request, st.just(kind), **fields)


def check(rpc: str, ended: Outcome) -> None:
    seen[f"{ended.code.name}/{ended.reason}" if ended.error else "OK"] += 1
    assert ended.code in ACCEPTABLE, f"{rpc}: {describe([ended])}"
    if ended.error is not None:
        problems = message_problems(ended.message)
        assert not problems, f"{rpc}: message {ended.message!r} {problems}"


# -- tests --------------------------------------------------------------------------------------


@pytest.mark.parametrize("rpc", RPCS)
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)
@given(data=st.data())
async def test_generated_requests_get_a_documented_status_and_a_clean_message(
    rpc: str, data: st.DataObject, channel: grpc.aio.Channel, known: tuple[str, str]
) -> None:
    request = data.draw(requests(rpc, *known), label="request")
    call = getattr(Stub(channel), rpc)
    check(rpc, await outcome(call(request, timeout=10)))


def raw_messages(rng: random.Random) -> list[bytes]:
    """Random bytes of many sizes, up to past the request size limit."""
    sizes = [0, 1, 2, 3, 7, 16, 64, 255, 1024, MAX_REQUEST_BYTES - 1, MAX_REQUEST_BYTES + 1]
    sizes += [
        rng.choice([rng.randrange(1, 64), rng.randrange(64, 4096)])
        for _ in range(RAW_MESSAGES - len(sizes))
    ]
    messages = [rng.randbytes(n) for n in sizes]
    # Also valid field tags with bad contents: a string that is not UTF-8, a truncated length.
    return [*messages, b"\x0a\x02\xff\xfe", b"\x0a\x7f", b"\x12\x05abc", b"\x10\xff\xff"]


@pytest.mark.parametrize("rpc", RPCS)
async def test_raw_bytes_get_a_documented_status_and_a_clean_message(
    rpc: str, channel: grpc.aio.Channel
) -> None:
    call = channel.unary_unary(SERVICE + rpc, request_serializer=None, response_deserializer=None)
    for message in raw_messages(random.Random(rpc)):
        check(rpc, await outcome(call(message, timeout=10)))


async def test_control_characters_in_a_list_marker_are_refused_before_aws(
    facade: Facade, channel: grpc.aio.Channel
) -> None:
    assert facade.emulator is not None
    facade.emulator.clear_request_log()
    ended = await outcome(
        Stub(channel).ListCloudFrontOriginAccessIdentities(
            pb.ListCloudFrontOriginAccessIdentitiesRequest(marker="E1\x00"), timeout=5
        )
    )
    assert (ended.code, ended.reason) == (S.INVALID_ARGUMENT, "INVALID_REQUEST")
    assert facade.emulator.request_log == []


async def test_an_oversized_request_carries_one_error_info(channel: grpc.aio.Channel) -> None:
    ended = await outcome(
        Stub(channel).CreateCloudFrontOriginAccessIdentity(
            create_request("big", "x" * MAX_REQUEST_BYTES), timeout=5
        )
    )
    assert ended.code is S.RESOURCE_EXHAUSTED
    assert ended.error is not None
    assert len(error_infos(ended.error)) == 1
