"""Credentials that rotate: a real facade process against the emulator's STS and container
credentials endpoint (in the test process), with credentials that live a few seconds.

Every wait ends on something observable (a call's outcome, the facade's "aws credentials
refreshed" and "aws credentials refresh failed" lines); the 60 s bound only stops a broken run.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from service.emulator import Emulator, FaultRule
from service.emulator.sts import RoleRule, TemporaryCredentials
from tests.process import FacadeProcess, facade_process, run_cli
from tests.reliability.conftest import Figures
from tests.reliability.support import LIST, Outcome, S, Stub, error_infos, outcome

pytestmark = pytest.mark.reliability

BASE_KEY, BASE_SECRET = "AKIDROTATIONBASE0001", "rotation-base-secret-key-0001"
WEB_ROLE = "arn:aws:iam::111122223333:role/facade-irsa"
CROSS_ROLE = "arn:aws:iam::444455556666:role/cloudfront-manager"
WEB_TOKEN = "eyJhbGciOiJSUzI1NiJ9.projected-service-account-token.signature"
CONTAINER_TOKEN = "pod-identity-agent-authorization-token-0123"
EXTERNAL_ID = "external-id-7f3a"
LIFETIME = 3.0
ROTATIONS = 3
WITHIN = 60.0
REFRESHED = "aws credentials refreshed"
REFRESH_FAILED = "aws credentials refresh failed"
FACADE_REASONS = {"AWS_CREDENTIALS_EXPIRED", "AWS_CREDENTIALS_REFRESH_FAILED"}


# -- what the emulator saw (the one place that knows its request logs) ------------------------


def cloudfront_keys(emulator: Emulator) -> list[str]:
    """The access key of each CloudFront request the emulator answered, in order."""
    return [r.access_key for r in emulator.request_log if r.status == 200 and r.access_key]


def issued_keys(emulator: Emulator, action: str) -> list[str]:
    return [e.issued for e in emulator.sts.request_log if e.action == action and e.issued]


# -- the facade process and its calls ---------------------------------------------------------


@dataclass
class Calls:
    """Calls made one after another on one channel, each outcome kept in order."""

    proc: FacadeProcess
    channel: grpc.aio.Channel
    outcomes: list[Outcome] = field(default_factory=list)

    async def one(self) -> Outcome:
        ended = await outcome(Stub(self.channel).ListCloudFrontOriginAccessIdentities(LIST))
        self.outcomes.append(ended)
        return ended

    async def until(self, done: Callable[[Outcome], bool], within: float = WITHIN) -> Outcome:
        """Call until `done` holds after a call."""

        async def loop() -> Outcome:
            while True:
                ended = await self.one()
                if done(ended):
                    return ended
                await asyncio.sleep(0.02)  # pacing the workload, not waiting for anything

        return await asyncio.wait_for(loop(), within)

    def logged(self, message: str, source: str | None = None) -> list[dict[str, object]]:
        return [
            record
            for record in self.proc.records()
            if record.get("message") == message
            and (source is None or record.get("source") == source)
        ]

    def intervals(self, source: str) -> list[float]:
        """Seconds between consecutive fetches of `source`, from the log lines' times."""
        times = [
            datetime.fromisoformat(str(record["time"]).replace("Z", "+00:00"))
            for record in self.logged(REFRESHED, source)
        ]
        return [round((b - a).total_seconds(), 2) for a, b in itertools.pairwise(times)]

    def codes(self) -> Counter[str]:
        return Counter(ended.code.name for ended in self.outcomes)

    async def health(self) -> int:
        answer = await health_pb2_grpc.HealthStub(self.channel).Check(
            health_pb2.HealthCheckRequest()
        )
        return int(answer.status)


@asynccontextmanager
async def calls_to(emulator: Emulator, *args: str, env: dict[str, str]) -> AsyncIterator[Calls]:
    environment = {
        "AWS_ENDPOINT_URL_STS": emulator.base_url,
        "AWS_ENDPOINT_URL_CLOUDFRONT": emulator.base_url,
        **env,
    }
    async with facade_process(*args, env=environment) as proc:
        async with grpc.aio.insecure_channel(proc.address) as channel:
            yield Calls(proc, channel)
        proc.signal()
        assert await proc.wait() == 0


def rotated(calls: Calls, source: str) -> Callable[[Outcome], bool]:
    """Done once the fetch at start and ROTATIONS refreshes were logged."""
    return lambda _: len(calls.logged(REFRESHED, source)) >= ROTATIONS + 1


@pytest.fixture
def token_file(tmp_path: Path) -> Path:
    path = tmp_path / "web-identity-token"
    path.write_text(WEB_TOKEN)
    return path


@pytest.fixture
def container_token_file(tmp_path: Path) -> Path:
    path = tmp_path / "container-authorization-token"
    path.write_text(CONTAINER_TOKEN)
    return path


def irsa(token_file: Path, **extra: str) -> dict[str, str]:
    return {"AWS_ROLE_ARN": WEB_ROLE, "AWS_WEB_IDENTITY_TOKEN_FILE": str(token_file), **extra}


# botocore retries a 503 from STS for seconds inside one refresh: longer than these credentials
# live. With one attempt, each failed refresh ends at once and the facade's own pause paces the
# next (real credentials live an hour; there the SDK's retries are welcome).
ONE_ATTEMPT = {"AWS_MAX_ATTEMPTS": "1"}


def pod_identity(emulator: Emulator, token_file: Path) -> dict[str, str]:
    return {
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": emulator.base_url + emulator.sts.container_path,
        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": str(token_file),
    }


def base_keys() -> dict[str, str]:
    return {"AWS_ACCESS_KEY_ID": BASE_KEY, "AWS_SECRET_ACCESS_KEY": BASE_SECRET}


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    async with Emulator(credentials={BASE_KEY: BASE_SECRET}, sts=True) as running:
        running.sts.roles[WEB_ROLE] = RoleRule(web_identity_token=WEB_TOKEN, lifetime=LIFETIME)
        running.sts.roles[CROSS_ROLE] = RoleRule(external_id=EXTERNAL_ID, lifetime=LIFETIME)
        running.sts.container_token = CONTAINER_TOKEN
        running.sts.container_lifetime = LIFETIME
        yield running


# -- the tests --------------------------------------------------------------------------------


async def test_irsa_credentials_rotate_with_no_failed_call(
    emulator: Emulator, token_file: Path, figures: Figures
) -> None:
    async with calls_to(emulator, env=irsa(token_file)) as calls:
        await calls.until(rotated(calls, "assume-role-with-web-identity"))
    used = set(cloudfront_keys(emulator))
    figures.record(
        irsa={
            "calls": dict(calls.codes()),
            "keys_used": len(used),
            "refresh_intervals_s": calls.intervals("assume-role-with-web-identity"),
        }
    )
    assert calls.codes() == {"OK": len(calls.outcomes)}
    assert len(used) >= ROTATIONS
    assert used <= set(issued_keys(emulator, "AssumeRoleWithWebIdentity"))


async def test_pod_identity_credentials_rotate_with_no_failed_call(
    emulator: Emulator, container_token_file: Path, figures: Figures
) -> None:
    async with calls_to(emulator, env=pod_identity(emulator, container_token_file)) as calls:
        await calls.until(rotated(calls, "container-role"))
    used = set(cloudfront_keys(emulator))
    figures.record(
        pod_identity={
            "calls": dict(calls.codes()),
            "keys_used": len(used),
            "refresh_intervals_s": calls.intervals("container-role"),
        }
    )
    assert calls.codes() == {"OK": len(calls.outcomes)}
    assert len(used) >= ROTATIONS
    assert used <= set(issued_keys(emulator, "ContainerCredentials"))


async def test_a_role_in_another_account_signs_the_calls_and_rotates(
    emulator: Emulator, figures: Figures
) -> None:
    role = ("--aws-role-arn", CROSS_ROLE, "--aws-role-external-id", EXTERNAL_ID)
    async with calls_to(emulator, *role, env=base_keys()) as calls:
        await calls.until(rotated(calls, "aws-role-arn"))
    used = set(cloudfront_keys(emulator))
    assumed = [e for e in emulator.sts.request_log if e.action == "AssumeRole"]
    figures.record(
        cross_account={
            "calls": dict(calls.codes()),
            "keys_used": len(used),
            "refresh_intervals_s": calls.intervals("aws-role-arn"),
        }
    )
    assert calls.codes() == {"OK": len(calls.outcomes)}
    assert BASE_KEY not in used
    assert used <= {e.issued for e in assumed}
    assert {e.signed_by for e in assumed} == {BASE_KEY}
    assert {e.role_arn for e in assumed} == {CROSS_ROLE}


async def test_a_wrong_external_id_fails_start_up_with_one_line(emulator: Emulator) -> None:
    env = {"AWS_ENDPOINT_URL_STS": emulator.base_url, **base_keys()}
    code, _, stderr = await asyncio.to_thread(
        run_cli,
        [
            "--aws-endpoint-url",
            emulator.base_url,
            "--aws-role-arn",
            CROSS_ROLE,
            "--aws-role-external-id",
            "not-the-external-id",
        ],
        env,
    )
    assert code == 2
    (line,) = stderr.strip().splitlines()
    assert line.startswith(f"cloudfront-facade: --aws-role-arn {CROSS_ROLE}: ")
    assert "AccessDenied" in line
    assert "--aws-role-external-id" in line


async def test_the_aws_config_profile_route_assumes_the_role(
    emulator: Emulator, tmp_path: Path
) -> None:
    config, credentials = tmp_path / "config", tmp_path / "credentials"
    config.write_text(
        f"[profile cross]\nrole_arn = {CROSS_ROLE}\nsource_profile = base\n"
        f"external_id = {EXTERNAL_ID}\n"
    )
    credentials.write_text(
        f"[base]\naws_access_key_id = {BASE_KEY}\naws_secret_access_key = {BASE_SECRET}\n"
    )
    env = {
        "AWS_CONFIG_FILE": str(config),
        "AWS_SHARED_CREDENTIALS_FILE": str(credentials),
        "AWS_PROFILE": "cross",
    }
    async with calls_to(emulator, env=env) as calls:
        assert calls.proc.serving["aws_credentials"] == "assume-role"
        await calls.until(rotated(calls, "assume-role"))
    assert calls.codes() == {"OK": len(calls.outcomes)}
    assert BASE_KEY not in set(cloudfront_keys(emulator))


async def test_sts_down_keeps_the_held_credentials_until_they_expire_then_calls_recover(
    emulator: Emulator, token_file: Path, figures: Figures
) -> None:
    # Longer-lived credentials: the first failed refresh comes with half their life (6 s) left,
    # ample for the one call that must still succeed on them on a loaded machine.
    emulator.sts.roles[WEB_ROLE] = RoleRule(web_identity_token=WEB_TOKEN, lifetime=12.0)
    async with calls_to(emulator, env=irsa(token_file, **ONE_ATTEMPT)) as calls:
        await calls.one()
        emulator.sts.available = False
        await calls.until(lambda _: bool(calls.logged(REFRESH_FAILED)))
        (first_failure, *_) = calls.logged(REFRESH_FAILED)
        on_held = await calls.one()
        failed = await calls.until(lambda ended: ended.code is not S.OK)
        health_while_failing = await calls.health()
        emulator.sts.available = True
        recovered = await calls.until(lambda ended: ended.code is S.OK)
    figures.record(
        sts_down={
            "calls": dict(calls.codes()),
            "failed_refreshes": len(calls.logged(REFRESH_FAILED)),
            "failure": f"{failed.code.name}/{failed.reason}",
        }
    )
    assert first_failure["using_held"] is True
    assert on_held.code is S.OK
    assert failed.code is S.UNAUTHENTICATED
    assert failed.error is not None
    (info,) = error_infos(failed.error)
    assert (info.domain, info.metadata["credentials"]) == ("cloudfront-facade", "facade")
    assert info.reason in FACADE_REASONS
    assert health_while_failing == health_pb2.HealthCheckResponse.SERVING
    assert recovered.code is S.OK


async def test_calls_go_on_with_the_held_credentials_while_a_refresh_waits_on_sts(
    emulator: Emulator, token_file: Path, figures: Figures
) -> None:
    # 16 s credentials: the refresh starts with 8 s left, and calls would wait for it only in
    # the last 4 s; the checks below take a fraction of that, even on a loaded machine.
    emulator.sts.roles[WEB_ROLE] = RoleRule(web_identity_token=WEB_TOKEN, lifetime=16.0)
    async with calls_to(emulator, env=irsa(token_file)) as calls:
        emulator.sts.hold = True
        parked = asyncio.ensure_future(emulator.wait_held(1))
        # This caller's call that starts the refresh waits with it; the others must not.
        pacer = asyncio.ensure_future(calls.until(lambda _: parked.done()))
        await asyncio.wait_for(parked, WITHIN)
        start_key = cloudfront_keys(emulator)[-1]
        during = [await asyncio.wait_for(calls.one(), WITHIN) for _ in range(5)]
        signed_during = cloudfront_keys(emulator)[-5:]
        emulator.sts.hold = False
        emulator.release_held()
        await asyncio.wait_for(pacer, WITHIN)
        after = await asyncio.wait_for(calls.one(), WITHIN)
        signed_after = cloudfront_keys(emulator)[-1]
    figures.record(refresh_in_flight={"calls": dict(calls.codes())})
    assert [ended.code for ended in during] == [S.OK] * 5
    assert signed_during == [start_key] * 5
    assert after.code is S.OK
    assert signed_after != start_key
    assert calls.codes() == {"OK": len(calls.outcomes)}


def leaks(text: str, issued: list[TemporaryCredentials]) -> list[tuple[str, str]]:
    """(key id suffix, what) for each issued key, secret or token found in `text`."""
    return [
        (creds.access_key_id[-4:], name)
        for creds in issued
        for name, secret in (
            ("access key", creds.access_key_id),
            ("secret key", creds.secret_access_key),
            ("session token", creds.session_token),
        )
        if secret in text
    ]


async def test_no_rotated_secret_or_session_token_reaches_the_log_or_a_caller(
    emulator: Emulator, token_file: Path
) -> None:
    env = irsa(token_file, **ONE_ATTEMPT)
    async with calls_to(emulator, "--log-level", "DEBUG", env=env) as calls:
        await calls.until(rotated(calls, "assume-role-with-web-identity"))
        # AWS quoting the signing material back (as SignatureDoesNotMatch does): only the
        # redactor, told of each generation as it is fetched, keeps it from the caller.
        latest = emulator.credentials.issued()[-1]
        emulator.add_fault(
            FaultRule(
                error_code="AccessDenied",
                http_status=403,
                times=1,
                message=f"denied: token {latest.session_token} secret "
                f"{latest.secret_access_key} key {latest.access_key_id}",
            )
        )
        echoed = await calls.one()
        emulator.sts.available = False
        await calls.until(lambda ended: ended.code is not S.OK)
    logs = await calls.proc.output()
    issued = emulator.credentials.issued()
    assert len(issued) >= ROTATIONS + 1
    assert '"level": "DEBUG"' in logs, "the run must really log at DEBUG"
    assert echoed.code is S.PERMISSION_DENIED
    assert echoed.error is not None
    assert "denied: token [REDACTED]" in echoed.message
    assert leaks(f"{echoed.error.details()} {echoed.error.trailing_metadata()!r}", issued) == []
    assert leaks(logs, issued) == []
