"""Credentials: refused AWS keys are UNAUTHENTICATED and blamed on the facade; keys in the
environment rotate with a restart, keys in a shared-credentials file without one (the file is
read again when AWS refuses the keys held).

The emulator verifies SigV4 signatures against the keys it is given.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import grpc
import pytest

from service.emulator import Emulator
from tests.process import facade_process
from tests.reliability.conftest import Figures
from tests.reliability.support import (
    LIST,
    Outcome,
    S,
    Stub,
    aws_env,
    error_infos,
    outcome,
)

pytestmark = pytest.mark.reliability

OLD_KEY, OLD_SECRET = "AKIDROTATEOLD0000001", "old-secret-access-key-0001"
NEW_KEY, NEW_SECRET = "AKIDROTATENEW0000002", "new-secret-access-key-0002"


async def list_once(address: str) -> Outcome:
    async with grpc.aio.insecure_channel(address) as channel:
        return await outcome(Stub(channel).ListCloudFrontOriginAccessIdentities(LIST, timeout=5))


def blames_the_facade(ended: Outcome) -> bool:
    if ended.code is not S.UNAUTHENTICATED or ended.error is None:
        return False
    (info,) = error_infos(ended.error)
    return info.metadata["credentials"] == "facade" and "facade's AWS credentials" in ended.message


@pytest.mark.parametrize(
    ("key", "secret", "aws_code"),
    [
        (OLD_KEY, "not-the-secret", "SignatureDoesNotMatch"),
        ("AKIDUNKNOWN000000009", OLD_SECRET, "InvalidClientTokenId"),
    ],
    ids=["wrong-secret", "unknown-key"],
)
async def test_refused_credentials_are_unauthenticated_and_blame_the_facade(
    key: str, secret: str, aws_code: str, figures: Figures
) -> None:
    async with Emulator(credentials={OLD_KEY: OLD_SECRET}) as upstream:
        async with facade_process(
            "--aws-endpoint-url", upstream.base_url, env=aws_env(key, secret)
        ) as proc:
            ended = await list_once(proc.address)
            proc.signal()
            assert await proc.wait() == 0
    figures.record(**{f"refused_{aws_code}": f"{ended.code.name}/{ended.reason}"})
    assert blames_the_facade(ended), (ended.code, ended.message)
    assert ended.error is not None
    assert error_infos(ended.error)[0].metadata["awsErrorCode"] == aws_code


async def test_a_restart_picks_up_rotated_environment_credentials(figures: Figures) -> None:
    async with Emulator(credentials={OLD_KEY: OLD_SECRET}) as upstream:
        url = upstream.base_url
        async with facade_process(
            "--aws-endpoint-url", url, env=aws_env(OLD_KEY, OLD_SECRET)
        ) as old:
            before = await list_once(old.address)
            # Rotate: CloudFront (the emulator, on the same address) now knows only the new key.
            await upstream.stop()
            async with Emulator(
                port=urlsplit(url).port or 0, credentials={NEW_KEY: NEW_SECRET}
            ) as rotated:
                assert rotated.base_url == url
                stale = await list_once(old.address)  # the environment is read at start only
                old.signal()
                assert await old.wait() == 0
                async with facade_process(
                    "--aws-endpoint-url", rotated.base_url, env=aws_env(NEW_KEY, NEW_SECRET)
                ) as restarted:
                    after = await list_once(restarted.address)
    figures.record(env_rotation=[o.code.name for o in (before, stale, after)])
    assert before.code is S.OK
    assert blames_the_facade(stale)
    assert after.code is S.OK


async def test_a_rewritten_shared_credentials_file_is_picked_up_without_a_restart(
    tmp_path: Path, figures: Figures
) -> None:
    credentials = tmp_path / "credentials"
    env = {"AWS_SHARED_CREDENTIALS_FILE": str(credentials)}

    def write(key: str, secret: str) -> None:
        credentials.write_text(
            f"[default]\naws_access_key_id = {key}\naws_secret_access_key = {secret}\n"
        )

    async with Emulator(credentials={OLD_KEY: OLD_SECRET}) as upstream:
        url = upstream.base_url
        write(OLD_KEY, "a-wrong-secret-in-the-file")
        async with facade_process("--aws-endpoint-url", url, env=env) as facade:
            assert facade.serving["aws_credentials"] == "shared-credentials-file"
            wrong = await list_once(facade.address)
            write(OLD_KEY, OLD_SECRET)  # the mounted Secret is fixed
            fixed = await list_once(facade.address)
            # Rotate: CloudFront (on the same address) now knows only the new key; the file too.
            await upstream.stop()
            async with Emulator(port=urlsplit(url).port or 0, credentials={NEW_KEY: NEW_SECRET}):
                write(NEW_KEY, NEW_SECRET)
                rotated = await list_once(facade.address)
                facade.signal()
                assert await facade.wait() == 0
    reads = [
        record
        for record in facade.records()
        if record.get("message") == "aws credentials refreshed"
        and record.get("source") == "shared-credentials-file"
    ]
    figures.record(file_rotation=[o.code.name for o in (wrong, fixed, rotated)])
    assert blames_the_facade(wrong)
    assert fixed.code is S.OK
    assert rotated.code is S.OK
    assert len(reads) == 3  # at start, the fixed secret, the new key
