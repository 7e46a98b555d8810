"""Console entry point: `cloudfront-facade [flags]` serves; `cloudfront-facade health` probes.

Exit codes: 0 after a clean stop; 2 for a setting that is wrong or cannot work here (one line on
stderr naming it: a bad value, a busy port, a certificate that does not parse); 1 for any other
failure to start (no AWS credentials).
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import sys
import time
from collections.abc import Sequence

from service import config, logs

EXIT_CONFIG = 2
EXIT_STARTUP = 1
# The event-engine listener costs ~22-73 µs of CPU per call (issue 14's measurements).
GRPC_EXPERIMENTS = "-event_engine_listener"


def _process_start() -> float:
    """When this process started, on the monotonic clock: start-up time counts the
    interpreter and the imports too, not just main()."""
    try:
        with open("/proc/self/stat") as stat, open("/proc/uptime") as uptime:
            ticks = int(stat.read().rsplit(")", 1)[1].split()[19])
            age = float(uptime.read().split()[0]) - ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return time.monotonic()
    return time.monotonic() - max(age, 0.0)


def main(argv: Sequence[str] | None = None) -> int:
    started_at = _process_start()
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["health"]:
        from service.health_check import main as health_main

        return health_main(args[1:])
    try:
        settings = config.load(args)
    except config.ConfigError as error:
        print(f"cloudfront-facade: {error}", file=sys.stderr)
        return EXIT_CONFIG
    logs.configure(settings.log_level, settings.log_format)
    if not settings.grpc_event_engine_listener:
        # Read by gRPC core when grpc is first imported (just below); a value the user set wins.
        os.environ.setdefault("GRPC_EXPERIMENTS", GRPC_EXPERIMENTS)
    # Imported only to serve: `health`, --help and a bad setting need neither grpc nor aioboto3,
    # whose imports cost most of a second of CPU.
    from service.aws import CredentialsMissing
    from service.server import serve

    try:
        return _run(serve(settings, started_at), settings.event_loop)
    except config.StartupError as error:
        print(f"cloudfront-facade: {error}", file=sys.stderr)
        return EXIT_CONFIG
    except CredentialsMissing as error:
        print(f"cloudfront-facade: {error}", file=sys.stderr)
        return EXIT_STARTUP
    except OSError as error:
        print(f"cloudfront-facade: cannot start: {error}", file=sys.stderr)
        return EXIT_STARTUP


def _run(main_coroutine: object, event_loop: str) -> int:
    use_uvloop = event_loop == "uvloop"
    if event_loop == "auto":
        use_uvloop = importlib.util.find_spec("uvloop") is not None
    if use_uvloop:
        import uvloop

        return int(uvloop.run(main_coroutine))  # type: ignore[arg-type]
    return int(asyncio.run(main_coroutine))  # type: ignore[arg-type]
