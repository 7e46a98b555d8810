"""Configuration: every setting, its flag, its environment variable and its default, in one table.

Settings are read once at start into a frozen :class:`Settings`. A flag beats its
``CLOUDFRONT_FACADE_*`` variable, which beats the default. The standard AWS variables
(``AWS_ENDPOINT_URL_CLOUDFRONT``, ``AWS_PROFILE``, ``AWS_MAX_ATTEMPTS``…) keep working because
an AWS setting left unset here is simply not passed to botocore.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ENV_PREFIX = "CLOUDFRONT_FACADE_"


class ConfigError(ValueError):
    """A setting has a bad value; the message names the setting."""


@dataclass(frozen=True, slots=True)
class Settings:
    """The facade's whole configuration, read once at start."""

    listen: str = "127.0.0.1:50051"
    emulator: bool = False
    emulator_latency: float = 0.0
    unix_socket_mode: int = 0o600
    tls_cert: Path | None = None
    tls_key: Path | None = None
    tls_client_ca: Path | None = None
    auth_token_file: Path | None = None
    auth_token: str | None = dataclasses.field(default=None, repr=False)
    max_concurrency: int = 1024  # Envoy's default circuit-breaker bound
    max_request_bytes: int = 64 * 1024
    shutdown_grace: float = 20.0
    keepalive_time: float = 60.0
    keepalive_timeout: float = 20.0
    reflection: bool = True
    log_level: str = "INFO"
    log_format: str = "json"
    metrics_listen: str | None = None
    event_loop: str = "auto"
    aws_region: str | None = None
    aws_endpoint_url: str | None = None
    aws_max_attempts: int | None = None
    aws_retry_mode: str | None = None
    aws_connect_timeout: float = 2.0
    aws_read_timeout: float = 10.0
    aws_max_pool_connections: int | None = None

    @property
    def pool_size(self) -> int:
        """Upstream connections: by default one per admitted call, so the pool never serialises."""
        return self.aws_max_pool_connections or self.max_concurrency

    def caller_token(self) -> str | None:
        """The bearer token callers must present, from the file or the environment."""
        if self.auth_token_file is not None:
            return self.auth_token_file.read_text().strip()
        return self.auth_token


# -- value parsers: each raises ValueError with a message a person can act on -----------------


def _bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"expected true or false, got {text!r}")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"expected a whole number, got {text!r}") from None
    if value <= 0:
        raise ValueError(f"expected a number above 0, got {text!r}")
    return value


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"expected a number of seconds, got {text!r}") from None
    if not value >= 0:  # also rejects NaN
        raise ValueError(f"expected 0 or more seconds, got {text!r}")
    return value


def _octal_mode(text: str) -> int:
    try:
        value = int(text, 8)
    except ValueError:
        raise ValueError(f"expected an octal file mode such as 0600, got {text!r}") from None
    if not 0 <= value <= 0o777:
        raise ValueError(f"expected an octal file mode such as 0600, got {text!r}")
    return value


def _readable_file(text: str) -> Path:
    path = Path(text)
    if not path.is_file() or not os.access(path, os.R_OK):
        raise ValueError(f"no readable file at {text!r}")
    return path


def _choice(*allowed: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text not in allowed:
            raise ValueError(f"expected one of {', '.join(allowed)}, got {text!r}")
        return text

    return parse


def _listen_address(text: str) -> str:
    if text.startswith("unix:"):
        if not text.removeprefix("unix:").lstrip("/"):
            raise ValueError(f"expected unix:/path/to.sock, got {text!r}")
        return text
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"expected HOST:PORT or unix:/path, got {text!r}")
    return text


def _optional_listen(text: str) -> str | None:
    return _listen_address(text) if text else None


def _text(text: str) -> str | None:
    return text or None


@dataclass(frozen=True, slots=True)
class Option:
    """One setting: how it is spelled on the command line and in the environment."""

    field: str
    parse: Callable[[str], Any]
    help: str
    flag_only_bool: bool = False
    env_only: bool = False  # secrets: a flag would show in `ps`

    @property
    def flag(self) -> str:
        return "--" + self.field.replace("_", "-")

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.field.upper()


OPTIONS: tuple[Option, ...] = (
    Option("listen", _listen_address, "gRPC address: HOST:PORT or unix:/path/to.sock"),
    Option("emulator", _bool, "serve against the bundled CloudFront emulator (no AWS account)",
           flag_only_bool=True),
    Option("emulator_latency", _non_negative_float,
           "with --emulator: seconds of latency the emulator adds to every call (for demos)"),
    Option("unix_socket_mode", _octal_mode, "file mode of a unix socket listener (octal)"),
    Option("tls_cert", _readable_file, "PEM server certificate chain; enables TLS"),
    Option("tls_key", _readable_file, "PEM private key of --tls-cert"),
    Option("tls_client_ca", _readable_file,
           "PEM CA bundle; when set, callers must present a certificate it signed (mTLS)"),
    Option("auth_token_file", _readable_file,
           "file holding the bearer token callers must send (authorization: Bearer …)"),
    Option("auth_token", _text, "bearer token callers must send (environment only)",
           env_only=True),
    Option("max_concurrency", _positive_int,
           "calls in flight at once; beyond it calls fail fast with RESOURCE_EXHAUSTED"),
    Option("max_request_bytes", _positive_int, "largest request message accepted, in bytes"),
    Option("shutdown_grace", _non_negative_float,
           "seconds in-flight calls get to finish after SIGTERM/SIGINT"),
    Option("keepalive_time", _non_negative_float,
           "seconds between server keepalive pings on idle connections"),
    Option("keepalive_timeout", _non_negative_float,
           "seconds to wait for a keepalive ping ack before closing the connection"),
    Option("reflection", _bool, "serve gRPC server reflection (true/false)"),
    Option("log_level", _choice("DEBUG", "INFO", "WARNING", "ERROR"), "log level"),
    Option("log_format", _choice("json", "text"), "log format on stdout"),
    Option("metrics_listen", _optional_listen,
           "HOST:PORT for Prometheus metrics over HTTP; empty = off"),
    Option("event_loop", _choice("auto", "uvloop", "asyncio"),
           "event loop: uvloop when installed (auto), or the standard asyncio loop"),
    Option("aws_region", _text, "AWS region (default: the standard chain, else us-east-1)"),
    Option("aws_endpoint_url", _text,
           "CloudFront endpoint URL (default: AWS_ENDPOINT_URL_CLOUDFRONT or AWS)"),
    Option("aws_max_attempts", _positive_int,
           "total attempts per AWS call incl. the first (default: AWS_MAX_ATTEMPTS or SDK's)"),
    Option("aws_retry_mode", _choice("legacy", "standard", "adaptive"),
           "botocore retry mode (default: AWS_RETRY_MODE or the SDK's)"),
    Option("aws_connect_timeout", _non_negative_float, "seconds to open an AWS connection"),
    Option("aws_read_timeout", _non_negative_float, "seconds to wait for AWS to answer"),
    Option("aws_max_pool_connections", _positive_int,
           "HTTP connections to AWS (default: --max-concurrency)"),
)


def _default(option: Option) -> Any:
    return {f.name: f.default for f in dataclasses.fields(Settings)}[option.field]


def _describe_default(option: Option) -> str:
    value = _default(option)
    if option.field == "unix_socket_mode":
        return f"{value:04o}"
    if option.field == "aws_max_pool_connections":
        return "max-concurrency"
    return "off" if value is None else str(value).lower() if isinstance(value, bool) else str(value)


def build_parser(prog: str = "cloudfront-facade") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="gRPC facade for Amazon CloudFront origin access identities. "
        f"Every flag can also be set as an environment variable {ENV_PREFIX}<NAME>. "
        "Subcommand: `health --target ADDR` checks a running facade.",
    )
    for option in OPTIONS:
        if option.env_only:
            continue
        text = f"{option.help} [env {option.env}; default {_describe_default(option)}]"
        if option.flag_only_bool:
            parser.add_argument(option.flag, dest=option.field, action="store_const",
                                const="true", default=None, help=text)
        else:
            parser.add_argument(option.flag, dest=option.field, metavar=option.field.upper(),
                                default=None, help=text)
    return parser


def load(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Read settings from flags and the environment; raises ConfigError naming a bad setting."""
    environ = os.environ if environ is None else environ
    raw = vars(build_parser().parse_args(argv))
    values: dict[str, Any] = {}
    for option in OPTIONS:
        given = raw.get(option.field)
        source = option.flag
        if given is None:
            given, source = environ.get(option.env), option.env
        if given is None:
            continue
        try:
            values[option.field] = option.parse(given)
        except ValueError as error:
            raise ConfigError(f"{source}: {error}") from None
    settings = Settings(**values)
    _check_consistency(settings)
    return settings


def _check_consistency(settings: Settings) -> None:
    if (settings.tls_cert is None) != (settings.tls_key is None):
        raise ConfigError("--tls-cert and --tls-key: set both or neither")
    if settings.tls_client_ca is not None and settings.tls_cert is None:
        raise ConfigError("--tls-client-ca: needs --tls-cert and --tls-key")
    if settings.auth_token_file is not None and not settings.caller_token():
        raise ConfigError(f"--auth-token-file: {settings.auth_token_file} is empty")
