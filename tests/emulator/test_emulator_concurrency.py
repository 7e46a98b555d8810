"""State stays consistent under many concurrent requests."""

from __future__ import annotations

import asyncio
from typing import Any

from botocore.config import Config
from botocore.exceptions import ClientError

from tests.emulator.emulator_helpers import EmulatorFactory, make_client, oai_config


async def test_1000_concurrent_creates_make_1000_distinct_identities(
    emulator_factory: EmulatorFactory,
) -> None:
    emulator = await emulator_factory(account_limit=1000)
    config = Config(max_pool_connections=50, retries={"total_max_attempts": 1})
    async with make_client(emulator, config) as cf:
        results = await asyncio.gather(
            *(
                cf.create_cloud_front_origin_access_identity(
                    CloudFrontOriginAccessIdentityConfig=oai_config(f"ref-{n}")
                )
                for n in range(1000)
            )
        )
    ids = {result["CloudFrontOriginAccessIdentity"]["Id"] for result in results}
    s3_ids = {result["CloudFrontOriginAccessIdentity"]["S3CanonicalUserId"] for result in results}
    assert len(ids) == len(s3_ids) == 1000
    assert {identity.id for identity in emulator.identities()} == ids


async def test_concurrent_creates_with_one_caller_reference_make_one_identity(
    emulator_factory: EmulatorFactory,
) -> None:
    emulator = await emulator_factory()
    async with make_client(emulator, Config(max_pool_connections=20)) as cf:
        results = await asyncio.gather(
            *(
                cf.create_cloud_front_origin_access_identity(
                    CloudFrontOriginAccessIdentityConfig=oai_config("same", "same")
                )
                for _ in range(50)
            )
        )
    assert len({result["CloudFrontOriginAccessIdentity"]["Id"] for result in results}) == 1
    assert len(emulator.identities()) == 1


async def test_concurrent_updates_with_the_same_etag_have_exactly_one_winner(
    emulator_factory: EmulatorFactory,
) -> None:
    emulator = await emulator_factory()
    config = Config(max_pool_connections=20, retries={"total_max_attempts": 1})
    async with make_client(emulator, config) as cf:
        created = await cf.create_cloud_front_origin_access_identity(
            CloudFrontOriginAccessIdentityConfig=oai_config("ref", "v0")
        )

        async def update(n: int) -> Any:
            return await cf.update_cloud_front_origin_access_identity(
                Id=created["CloudFrontOriginAccessIdentity"]["Id"],
                IfMatch=created["ETag"],
                CloudFrontOriginAccessIdentityConfig=oai_config("ref", f"v{n}"),
            )

        outcomes = await asyncio.gather(*(update(n) for n in range(1, 21)), return_exceptions=True)
    winners = [outcome for outcome in outcomes if isinstance(outcome, dict)]
    losers = [outcome for outcome in outcomes if isinstance(outcome, ClientError)]
    assert len(winners) == 1
    assert len(losers) == 19
    assert {loser.response["Error"]["Code"] for loser in losers} == {"PreconditionFailed"}
    [stored] = emulator.identities()
    assert stored.etag == winners[0]["ETag"]
    assert (
        stored.comment
        == winners[0]["CloudFrontOriginAccessIdentity"]["CloudFrontOriginAccessIdentityConfig"][
            "Comment"
        ]
    )
