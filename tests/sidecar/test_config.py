"""Configuration: flags beat CLOUDFRONT_FACADE_* variables beat defaults; bad values fail at
start with one line naming the setting and exit code 2."""

from __future__ import annotations

from pathlib import Path

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


@pytest.mark.parametrize(("argv", "environ", "named"), [
    (["--max-concurrency", "lots"], {}, "--max-concurrency"),
    ([], {"CLOUDFRONT_FACADE_MAX_CONCURRENCY": "0"}, "CLOUDFRONT_FACADE_MAX_CONCURRENCY"),
    (["--listen", "no-port"], {}, "--listen"),
    (["--shutdown-grace", "-1"], {}, "--shutdown-grace"),
    (["--log-level", "LOUD"], {}, "--log-level"),
    (["--aws-retry-mode", "sometimes"], {}, "--aws-retry-mode"),
    (["--unix-socket-mode", "999"], {}, "--unix-socket-mode"),
    (["--tls-cert", "/nonexistent.pem"], {}, "--tls-cert"),
    ([], {"CLOUDFRONT_FACADE_REFLECTION": "maybe"}, "CLOUDFRONT_FACADE_REFLECTION"),
])
def test_bad_value_is_a_config_error_naming_the_setting(
    argv: list[str], environ: dict[str, str], named: str
) -> None:
    with pytest.raises(ConfigError, match=named):
        load(argv, environ=environ)


def test_tls_key_without_cert_is_refused(tmp_path: Path) -> None:
    key = tmp_path / "key.pem"
    key.write_text("x")
    with pytest.raises(ConfigError, match="--tls-cert and --tls-key"):
        load(["--tls-key", str(key)], environ={})


def test_bad_value_exits_2_with_one_line_and_no_traceback() -> None:
    code, out, err = run_cli(["--max-concurrency", "lots"])
    assert code == 2
    assert err.strip().count("\n") == 0
    assert "--max-concurrency" in err
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
    assert load([], environ={"CLOUDFRONT_FACADE_AUTH_TOKEN": "s3cret-token"}).caller_token() \
        == "s3cret-token"


def test_missing_aws_credentials_fail_at_start_not_on_first_call() -> None:
    code, out, err = run_cli(["--listen", "127.0.0.1:0"],
                             env={"AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
                                  "AWS_CONFIG_FILE": "/nonexistent",
                                  "AWS_EC2_METADATA_DISABLED": "true"})
    assert code == 1
    assert "no AWS credentials found" in err
    assert "Traceback" not in err + out
