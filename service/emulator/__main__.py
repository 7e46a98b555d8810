"""Run the emulator standalone: ``python -m service.emulator --port 4566``.

Exit codes: 0 after SIGINT/SIGTERM; 2 for bad arguments, or an address it cannot listen on (one
line on stderr naming --port or --host and the cause).
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import signal
import socket
import sys
from collections.abc import Sequence

from service.config import os_cause
from service.emulator.app import Emulator


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cloudfront-emulator",
        description="Serve a local CloudFront origin access identity API (2020-05-31).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback)")
    parser.add_argument("--port", type=int, default=4566, help="port to bind; 0 picks a free one")
    parser.add_argument("--account-limit", type=int, default=100, help="max identities")
    parser.add_argument("--access-key-id", help="verify SigV4 signatures for this key")
    parser.add_argument("--secret-access-key", help="secret for --access-key-id")
    parser.add_argument("--session-token", help="require this X-Amz-Security-Token")
    parser.add_argument(
        "--sts",
        action="store_true",
        help="also serve STS (POST /) and the container credentials endpoint; "
        "configure roles with POST /_emulator/sts",
    )
    parser.add_argument(
        "--container-token",
        help="the Authorization header the container credentials endpoint requires",
    )
    parser.add_argument("--seed", help="seed ids and fault dice for reproducible runs")
    return parser


async def _serve(args: argparse.Namespace) -> None:
    credentials = None
    if args.access_key_id is not None:
        credentials = {args.access_key_id: args.secret_access_key}
    emulator = Emulator(
        host=args.host,
        port=args.port,
        account_limit=args.account_limit,
        credentials=credentials,
        session_token=args.session_token,
        seed=args.seed,
        sts=args.sts,
    )
    emulator.sts.container_token = args.container_token
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await emulator.start()
    except OSError as error:
        raise _ListenError(args.host, args.port, error) from None
    try:
        print(emulator.base_url, flush=True)
        await stop.wait()
    finally:
        await emulator.stop()


class _ListenError(Exception):
    def __init__(self, host: str, port: int, error: OSError) -> None:
        # The port when it is taken or privileged; otherwise the host is what cannot work.
        setting = (
            f"--port {port}"
            if error.errno in (errno.EADDRINUSE, errno.EACCES)
            else f"--host {host}"
        )
        cause = os_cause(error)
        if isinstance(error, socket.gaierror):
            cause = f"cannot resolve the host: {cause}"
        super().__init__(f"{setting}: {cause}")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if (args.access_key_id is None) != (args.secret_access_key is None):
        _parser().error("--access-key-id and --secret-access-key go together")
    if args.container_token is not None and not args.sts:
        _parser().error("--container-token needs --sts")
    if args.account_limit < 0:
        _parser().error("--account-limit must be non-negative")
    if not 0 <= args.port <= 65535:
        _parser().error("--port must be 0..65535")
    try:
        asyncio.run(_serve(args))
    except _ListenError as error:
        print(f"cloudfront-emulator: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
