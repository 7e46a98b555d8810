"""Configuration: every setting, its flag, its environment variable and its default, in one list.

Each :class:`Settings` field carries its own spelling, parser, check and help in its metadata
(as grpclib's ``Configuration`` does); the argparse parser, the environment reading and
:data:`OPTIONS` are derived from the fields, and a ``Settings`` is checked when it is built, so
``dataclasses.replace`` cannot make a bad one either. A flag beats its ``CLOUDFRONT_FACADE_*``
variable, which beats the default. The standard AWS variables (``AWS_ENDPOINT_URL_CLOUDFRONT``,
``AWS_PROFILE``, ``AWS_MAX_ATTEMPTS``…) keep working because an AWS setting left unset here is
simply not passed to botocore.

Values that can never work are refused here; what only start-up can find out (a busy port, a
certificate that does not parse) is refused by :mod:`service.server` as a ``StartupError``.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

ENV_PREFIX = "CLOUDFRONT_FACADE_"
_OPTION = "option"  # the key of a field's metadata that holds its _Spec

T = TypeVar("T")


class ConfigError(ValueError):
    """A setting has a bad value; the message names the setting."""


class StartupError(Exception):
    """A setting that looked right cannot work on this machine (a busy port, a certificate that
    does not parse); found at start, and reported as one line naming the setting."""

    def __init__(self, setting: str, cause: str) -> None:
        super().__init__(f"{setting}: {cause}")
        self.setting = setting
        self.cause = cause


def os_cause(error: OSError) -> str:
    """An OSError as the short phrase people know: "address already in use"."""
    # asyncio and others put their own sentence in strerror; the errno's text is the cause.
    text = (
        os.strerror(error.errno)
        if error.errno and error.errno > 0
        else error.strerror or str(error)
    )
    return text[:1].lower() + text[1:]


# -- kinds of value: text -> value (syntax), then value -> None (what can work) -----------------
# Each raises ValueError with a message a person can act on; the caller adds the setting's name.


@dataclass(frozen=True, slots=True)
class Kind(Generic[T]):
    parse: Callable[[str], T]
    check: Callable[[T], None]


def _accept(_value: object) -> None:
    return None


def _parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"expected true or false, got {text!r}")


def _parse_int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"expected a whole number, got {text!r}") from None


def _count(maximum: int | None = None, why: str = "") -> Kind[int]:
    def check(value: int) -> None:
        if value <= 0:
            raise ValueError(f"expected a number above 0, got {value}")
        if maximum is not None and value > maximum:
            raise ValueError(f"expected at most {maximum}{why}, got {value}")

    return Kind(_parse_int, check)


def _parse_seconds(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"expected a number of seconds, got {text!r}") from None


def _seconds(maximum: float | None = None, why: str = "") -> Kind[float]:
    def check(value: float) -> None:
        if not math.isfinite(value):
            raise ValueError(f"expected a finite number of seconds, got {value}")
        if value < 0:
            raise ValueError(f"expected 0 or more seconds, got {value}")
        if maximum is not None and value > maximum:
            raise ValueError(f"expected at most {maximum:g} seconds{why}, got {value:g}")

    return Kind(_parse_seconds, check)


def _parse_mode(text: str) -> int:
    try:
        return int(text, 8)
    except ValueError:
        raise ValueError(f"expected an octal file mode such as 0600, got {text!r}") from None


def _check_mode(value: int) -> None:
    if not 0 <= value <= 0o777:
        raise ValueError(f"expected an octal file mode such as 0600, got {value:o}")


def _check_file(path: Path) -> None:
    if not path.is_file() or not os.access(path, os.R_OK):
        raise ValueError(f"no readable file at {str(path)!r}")


def _choice(*allowed: str) -> Kind[str]:
    def check(value: str) -> None:
        if value not in allowed:
            raise ValueError(f"expected one of {', '.join(allowed)}, got {value!r}")

    return Kind(str, check)


def _check_host_port(text: str, expected: str) -> None:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"expected {expected}, got {text!r}")


def _check_grpc_address(text: str) -> None:
    if text.startswith("unix:"):
        if not text.removeprefix("unix:").lstrip("/"):
            raise ValueError(f"expected unix:/path/to.sock, got {text!r}")
        return
    _check_host_port(text, "HOST:PORT or unix:/path")


def _check_http_address(text: str) -> None:
    if text.startswith("unix:"):
        raise ValueError(f"metrics are served over HTTP on HOST:PORT only, got {text!r}")
    _check_host_port(text, "HOST:PORT")


def _text_or_none(text: str) -> str | None:
    return text or None


_ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}")
_SESSION_NAME = re.compile(r"[\w+=,.@-]{2,64}")


def _check_role_arn(text: str) -> None:
    if not _ROLE_ARN.fullmatch(text):
        raise ValueError(f"expected arn:aws:iam::<12-digit account>:role/<name>, got {text!r}")


def _check_session_name(text: str) -> None:
    # STS's own pattern for RoleSessionName.
    if not _SESSION_NAME.fullmatch(text):
        raise ValueError(f"expected 2-64 letters, digits or +=,.@_- characters, got {text!r}")


BOOL = Kind(_parse_bool, _accept)
TEXT = Kind(_text_or_none, _accept)
FILE = Kind(Path, _check_file)
SECONDS = _seconds()
# gRPC core takes milliseconds as a C int.
KEEPALIVE_SECONDS = _seconds(
    maximum=(2**31 - 1) // 1000, why=" (gRPC counts milliseconds in 32 bits)"
)
# The server accepts up to twice this (see server_options), which must stay a 32-bit int.
REQUEST_BYTES = _count(maximum=2**30 - 1, why=" (under 1 GiB)")


@dataclass(frozen=True, slots=True)
class _Spec:
    kind: Kind[Any]
    help: str
    env_only: bool  # secrets: a flag would show in `ps`
    switch: bool  # a flag without a value (`--emulator`); its variable takes true/false
    shown_default: str | None


def spec(
    kind: Kind[Any],
    help: str,
    *,
    env_only: bool = False,
    switch: bool = False,
    shown_default: str | None = None,
) -> dict[str, _Spec]:
    """A Settings field's metadata: its parser, check and help; flag and variable follow."""
    return {_OPTION: _Spec(kind, help, env_only, switch, shown_default)}


@dataclass(frozen=True, slots=True)
class Settings:
    """The facade's whole configuration, read once at start and checked when built."""

    listen: str = field(
        default="127.0.0.1:50051",
        metadata=spec(
            Kind(str, _check_grpc_address), "gRPC address: HOST:PORT or unix:/path/to.sock"
        ),
    )
    emulator: bool = field(
        default=False,
        metadata=spec(
            BOOL, "serve against the bundled CloudFront emulator (no AWS account)", switch=True
        ),
    )
    emulator_latency: float = field(
        default=0.0,
        metadata=spec(
            SECONDS,
            "with --emulator: seconds of latency the emulator adds to every call (for demos)",
        ),
    )
    unix_socket_mode: int = field(
        default=0o600,
        metadata=spec(
            Kind(_parse_mode, _check_mode),
            "file mode of a unix socket listener (octal)",
            shown_default="0600",
        ),
    )
    tls_cert: Path | None = field(
        default=None, metadata=spec(FILE, "PEM server certificate chain; enables TLS")
    )
    tls_key: Path | None = field(default=None, metadata=spec(FILE, "PEM private key of --tls-cert"))
    tls_client_ca: Path | None = field(
        default=None,
        metadata=spec(
            FILE, "PEM CA bundle; when set, callers must present a certificate it signed (mTLS)"
        ),
    )
    auth_token_file: Path | None = field(
        default=None,
        metadata=spec(
            FILE, "file holding the bearer token callers must send (authorization: Bearer …)"
        ),
    )
    auth_token: str | None = field(
        default=None,
        repr=False,
        metadata=spec(TEXT, "bearer token callers must send (environment only)", env_only=True),
    )
    max_concurrency: int = field(
        default=1024,
        metadata=spec(  # Envoy's circuit-breaker default
            _count(), "calls in flight at once; beyond it calls fail fast with RESOURCE_EXHAUSTED"
        ),
    )
    max_request_bytes: int = field(
        default=64 * 1024,
        metadata=spec(REQUEST_BYTES, "largest request message accepted, in bytes"),
    )
    shutdown_grace: float = field(
        default=20.0,
        metadata=spec(SECONDS, "seconds in-flight calls get to finish after SIGTERM/SIGINT"),
    )
    keepalive_time: float = field(
        default=60.0,
        metadata=spec(
            KEEPALIVE_SECONDS, "seconds between server keepalive pings on idle connections"
        ),
    )
    keepalive_timeout: float = field(
        default=20.0,
        metadata=spec(
            KEEPALIVE_SECONDS,
            "seconds to wait for a keepalive ping ack before closing the connection",
        ),
    )
    reflection: bool = field(
        default=True, metadata=spec(BOOL, "serve gRPC server reflection (true/false)")
    )
    log_level: str = field(
        default="INFO", metadata=spec(_choice("DEBUG", "INFO", "WARNING", "ERROR"), "log level")
    )
    log_format: str = field(
        default="json", metadata=spec(_choice("json", "text"), "log format on stdout")
    )
    metrics_listen: str | None = field(
        default=None,
        metadata=spec(
            Kind(_text_or_none, _check_http_address),
            "HOST:PORT for Prometheus metrics over HTTP; empty = off",
        ),
    )
    event_loop: str = field(
        default="auto",
        metadata=spec(
            _choice("auto", "uvloop", "asyncio"),
            "event loop: uvloop when installed (auto), or the standard asyncio loop",
        ),
    )
    grpc_event_engine_listener: bool = field(
        default=False,
        metadata=spec(
            BOOL,
            "keep gRPC's event_engine_listener experiment on; by default the facade sets "
            "GRPC_EXPERIMENTS=-event_engine_listener (less CPU per call) unless GRPC_EXPERIMENTS "
            "is already set",
            switch=True,
        ),
    )
    aws_region: str | None = field(
        default=None,
        metadata=spec(TEXT, "AWS region (default: the standard chain, else us-east-1)"),
    )
    aws_endpoint_url: str | None = field(
        default=None,
        metadata=spec(
            TEXT, "CloudFront endpoint URL (default: AWS_ENDPOINT_URL_CLOUDFRONT or AWS)"
        ),
    )
    aws_max_attempts: int | None = field(
        default=None,
        metadata=spec(
            _count(),
            "total attempts per AWS call incl. the first (default: AWS_MAX_ATTEMPTS or SDK's)",
        ),
    )
    aws_retry_mode: str | None = field(
        default=None,
        metadata=spec(
            _choice("legacy", "standard", "adaptive"),
            "botocore retry mode (default: AWS_RETRY_MODE or the SDK's)",
        ),
    )
    aws_role_arn: str | None = field(
        default=None,
        metadata=spec(
            Kind(_text_or_none, _check_role_arn),
            "IAM role to assume (AssumeRole) on top of the credentials the AWS chain finds; "
            "assumed at start, refreshed before expiry",
        ),
    )
    aws_role_external_id: str | None = field(
        default=None,
        metadata=spec(
            TEXT, "ExternalId sent with --aws-role-arn (when the role's trust policy asks)"
        ),
    )
    aws_role_session_name: str = field(
        default="cloudfront-facade",
        metadata=spec(
            Kind(str, _check_session_name), "RoleSessionName of --aws-role-arn (in CloudTrail)"
        ),
    )
    aws_connect_timeout: float = field(
        default=2.0, metadata=spec(SECONDS, "seconds to open an AWS connection")
    )
    aws_read_timeout: float = field(
        default=10.0, metadata=spec(SECONDS, "seconds to wait for AWS to answer")
    )
    aws_max_pool_connections: int | None = field(
        default=None,
        metadata=spec(
            _count(),
            "HTTP connections to AWS (default: --max-concurrency)",
            shown_default="max-concurrency",
        ),
    )

    def __post_init__(self) -> None:
        for option in OPTIONS:
            value = getattr(self, option.field)
            if value is None:
                continue
            try:
                option.kind.check(value)
            except ValueError as error:
                raise ConfigError(f"{option.name}: {error}") from None
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ConfigError("--tls-cert and --tls-key: set both or neither")
        if self.tls_client_ca is not None and self.tls_cert is None:
            raise ConfigError("--tls-client-ca: needs --tls-cert and --tls-key")
        if self.aws_role_external_id is not None and self.aws_role_arn is None:
            raise ConfigError("--aws-role-external-id: needs --aws-role-arn")
        if self.aws_role_arn is not None and self.emulator:
            raise ConfigError("--aws-role-arn: not with --emulator (it signs with its own keys)")
        if self.auth_token_file is not None and not self.caller_token():
            raise ConfigError(f"--auth-token-file: {self.auth_token_file} is empty")

    @property
    def pool_size(self) -> int:
        """Upstream connections: by default one per admitted call, so the pool never serialises."""
        return self.aws_max_pool_connections or self.max_concurrency

    def caller_token(self) -> str | None:
        """The bearer token callers must present, from the file or the environment."""
        if self.auth_token_file is not None:
            return self.auth_token_file.read_text().strip()
        return self.auth_token


@dataclass(frozen=True, slots=True)
class Option:
    """One setting as the outside world spells it, derived from its Settings field."""

    field: str
    default: Any
    kind: Kind[Any]
    help: str
    env_only: bool
    switch: bool
    shown_default: str | None

    @property
    def flag(self) -> str:
        return "--" + self.field.replace("_", "-")

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.field.upper()

    @property
    def name(self) -> str:
        """How errors name the setting: its flag, or its variable when it has no flag."""
        return self.env if self.env_only else self.flag

    @property
    def default_text(self) -> str:
        if self.shown_default is not None:
            return self.shown_default
        if self.default is None:
            return "off"
        return str(self.default).lower() if isinstance(self.default, bool) else str(self.default)

    def parse(self, text: str) -> Any:
        """Text from a flag or variable -> a value that can work, or ValueError."""
        value = self.kind.parse(text)
        if value is not None:
            self.kind.check(value)
        return value


def _option(field: dataclasses.Field[Any]) -> Option:
    spec: _Spec = field.metadata[_OPTION]
    return Option(
        field.name,
        field.default,
        spec.kind,
        spec.help,
        spec.env_only,
        spec.switch,
        spec.shown_default,
    )


OPTIONS: tuple[Option, ...] = tuple(_option(f) for f in dataclasses.fields(Settings))


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
        text = f"{option.help} [env {option.env}; default {option.default_text}]"
        if option.switch:
            parser.add_argument(
                option.flag,
                dest=option.field,
                action="store_const",
                const="true",
                default=None,
                help=text,
            )
        else:
            parser.add_argument(
                option.flag,
                dest=option.field,
                metavar=option.field.upper(),
                default=None,
                help=text,
            )
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
    return Settings(**values)
