"""Configuration: flags beat CLOUDFRONT_FACADE_* variables beat defaults; bad values fail at
start with one line naming the setting and exit code 2."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from service import config
from service.config import OPTIONS, ConfigError, Settings, load
from tests.process import run_cli


def test_defaults_apply_when_nothing_is_set() -> None:
    assert load([], environ={}) == Settings()


def test_environment_variable_sets_a_setting() -> None:
    assert load([], environ={"CLOUDFRONT_FACADE_MAX_CONCURRENCY": "7"}).max_concurrency == 7


def test_flag_beats_environment_variable() -> None:
    settings = load(["--max-concurrency", "9"], environ={"CLOUDFRONT_FACADE_MAX_CONCURRENCY": "7"})
    assert settings.max_concurrency == 9


def test_settings_are_frozen() -> None:
    with pytest.raises(AttributeError):
        Settings().listen = "0.0.0.0:1"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("argv", "environ", "named"),
    [
        (["--max-concurrency", "lots"], {}, "--max-concurrency"),
        ([], {"CLOUDFRONT_FACADE_MAX_CONCURRENCY": "0"}, "CLOUDFRONT_FACADE_MAX_CONCURRENCY"),
        (["--listen", "no-port"], {}, "--listen"),
        (["--shutdown-grace", "-1"], {}, "--shutdown-grace"),
        (["--log-level", "LOUD"], {}, "--log-level"),
        (["--aws-retry-mode", "sometimes"], {}, "--aws-retry-mode"),
        (["--unix-socket-mode", "999"], {}, "--unix-socket-mode"),
        (["--tls-cert", "/nonexistent.pem"], {}, "--tls-cert"),
        ([], {"CLOUDFRONT_FACADE_REFLECTION": "maybe"}, "CLOUDFRONT_FACADE_REFLECTION"),
        # Metrics are plain HTTP on HOST:PORT; a unix socket cannot work.
        (["--metrics-listen", "unix:/x.sock"], {}, "--metrics-listen"),
        # Twice the limit goes to gRPC as a 32-bit int: 1 GiB would overflow it.
        (["--max-request-bytes", str(2**30)], {}, "--max-request-bytes"),
        (["--emulator-latency", "inf"], {}, "--emulator-latency"),
        (["--emulator-latency", "nan"], {}, "--emulator-latency"),
        (["--shutdown-grace", "inf"], {}, "--shutdown-grace"),
        (["--keepalive-time", "1e10"], {}, "--keepalive-time"),
        (["--aws-role-arn", "arn:aws:iam::123:role/short-account"], {}, "--aws-role-arn"),
        (["--aws-role-arn", "arn:aws:s3:::a-bucket"], {}, "--aws-role-arn"),
        ([], {"CLOUDFRONT_FACADE_AWS_ROLE_ARN": "role/x"}, "CLOUDFRONT_FACADE_AWS_ROLE_ARN"),
        (["--aws-role-session-name", "has space"], {}, "--aws-role-session-name"),
        (["--aws-role-session-name", "x" * 65], {}, "--aws-role-session-name"),
        # An external id means nothing without a role to assume.
        (["--aws-role-external-id", "ext-1"], {}, "--aws-role-external-id"),
        (
            ["--emulator", "--aws-role-arn", "arn:aws:iam::123456789012:role/r"],
            {},
            "--aws-role-arn",
        ),
        (
            [],
            {"CLOUDFRONT_FACADE_GRPC_EVENT_ENGINE_LISTENER": "sometimes"},
            "CLOUDFRONT_FACADE_GRPC_EVENT_ENGINE_LISTENER",
        ),
    ],
)
def test_bad_value_is_a_config_error_naming_the_setting(
    argv: list[str], environ: dict[str, str], named: str
) -> None:
    with pytest.raises(ConfigError, match=named):
        load(argv, environ=environ)


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:iam::123456789012:role/cloudfront-manager",
        "arn:aws:iam::123456789012:role/team/path/cf+admin=1,x.y@z_w-v",
        "arn:aws-cn:iam::123456789012:role/china",
        "arn:aws-us-gov:iam::123456789012:role/gov",
    ],
)
def test_role_arns_in_any_partition_and_path_are_accepted(arn: str) -> None:
    assert load(["--aws-role-arn", arn], environ={}).aws_role_arn == arn


def test_the_role_session_name_defaults_to_the_facade_s_name() -> None:
    assert load([], environ={}).aws_role_session_name == "cloudfront-facade"


def test_largest_request_limit_below_1_gib_is_accepted() -> None:
    assert load(["--max-request-bytes", str(2**30 - 1)], environ={}).max_request_bytes == 2**30 - 1


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_concurrency", 0),
        ("max_request_bytes", 2**30),
        ("emulator_latency", float("inf")),
        ("shutdown_grace", -1.0),
        ("listen", "no-port"),
        ("metrics_listen", "unix:/x.sock"),
        ("log_level", "LOUD"),
    ],
)
def test_settings_are_checked_when_built_so_replace_cannot_make_a_bad_one(
    field: str, value: Any
) -> None:
    flag = "--" + field.replace("_", "-")
    with pytest.raises(ConfigError, match=flag):
        dataclasses.replace(Settings(), **{field: value})


def test_every_settings_field_is_an_option_with_help() -> None:
    assert [option.field for option in OPTIONS] == [f.name for f in dataclasses.fields(Settings)]
    assert all(option.help for option in OPTIONS)


def test_tls_key_without_cert_is_refused(tmp_path: Path) -> None:
    key = tmp_path / "key.pem"
    key.write_text("x")
    with pytest.raises(ConfigError, match="--tls-cert and --tls-key"):
        load(["--tls-key", str(key)], environ={})


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["--max-concurrency", "lots"], "--max-concurrency"),
        (["--metrics-listen", "unix:/x.sock"], "--metrics-listen"),
        (["--max-request-bytes", str(2**30)], "--max-request-bytes"),
        (["--emulator", "--emulator-latency", "inf"], "--emulator-latency"),
    ],
)
def test_bad_value_exits_2_with_one_line_and_no_traceback(argv: list[str], named: str) -> None:
    code, out, err = run_cli(argv)
    assert code == 2
    assert err.strip().count("\n") == 0
    assert err.startswith(f"cloudfront-facade: {named}: ")
    assert "Traceback" not in err + out


def test_help_documents_every_flag_and_its_variable() -> None:
    code, out, _ = run_cli(["--help"])
    assert code == 0
    flat = " ".join(out.split())
    for option in OPTIONS:
        if option.env_only:
            continue
        assert option.flag in flat
        assert option.env in flat


def test_auth_token_is_environment_only_never_a_flag() -> None:
    assert "--auth-token " not in config.build_parser().format_help()
    assert (
        load([], environ={"CLOUDFRONT_FACADE_AUTH_TOKEN": "s3cret-token"}).caller_token()
        == "s3cret-token"
    )


def test_missing_aws_credentials_fail_at_start_not_on_first_call() -> None:
    code, out, err = run_cli(
        ["--listen", "127.0.0.1:0"],
        env={
            "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
            "AWS_CONFIG_FILE": "/nonexistent",
            "AWS_EC2_METADATA_DISABLED": "true",
        },
    )
    assert code == 1
    assert "no AWS credentials found" in err
    assert "Traceback" not in err + out
