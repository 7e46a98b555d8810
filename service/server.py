"""Server bootstrap and lifecycle: start everything in order, serve, drain on a signal, stop.

Start-up order matters for probes: the AWS client (and credentials) come first, the listener
next, and health turns SERVING last, so SERVING means a call can really succeed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import ssl
import stat
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as health_aio  # type: ignore[attr-defined]

from service.aws import CloudFrontClient, StaticCredentials
from service.config import Settings, StartupError, os_cause
from service.interceptors import CallGuard
from service.logs import LOGGER, redactor
from service.resources import SERVICE_NAMES
from service.servicer import servicers

if TYPE_CHECKING:
    # Metrics (prometheus-client) and reflection are imported only when turned on: idle RSS.
    from service.emulator import Emulator
    from service.metrics import Metrics

log = logging.getLogger(LOGGER)

# Throw-away credentials for the embedded emulator: it checks the signature, not the account.
EMULATOR_CREDENTIALS = StaticCredentials("AKIDFACADEEMULATOR00", "facade-emulator-secret-key")


@dataclass
class Facade:
    """A running facade: its bound address and the parts tests and the lifecycle need."""

    settings: Settings
    address: str
    server: grpc.aio.Server
    health: health_aio.HealthServicer
    guard: CallGuard
    aws: CloudFrontClient
    emulator: Emulator | None
    metrics: Metrics | None
    metrics_port: int | None

    async def drain(self, grace: float | None = None) -> None:
        """Stop taking calls and let in-flight ones finish within `grace` seconds."""
        grace = self.settings.shutdown_grace if grace is None else grace
        await self.health.enter_graceful_shutdown()
        stopping = asyncio.ensure_future(self.server.stop(grace))
        # Health Watch streams never end by themselves; without this, one open Watch would
        # hold every drain for the whole grace. Once the API calls are done, cut the rest.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.guard.wait_idle(), grace)
        await self.server.stop(0)
        await stopping


def server_options(settings: Settings) -> list[tuple[str, int]]:
    return [
        # gRPC core cuts off grossly oversized messages (no details possible there); up to
        # twice the limit they reach the guard, which refuses them with an ErrorInfo.
        ("grpc.max_receive_message_length", 2 * settings.max_request_bytes),
        ("grpc.keepalive_time_ms", int(settings.keepalive_time * 1000)),
        ("grpc.keepalive_timeout_ms", int(settings.keepalive_timeout * 1000)),
        # Long-lived sidecar channels ping while idle; allow it instead of sending GOAWAY.
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
        ("grpc.http2.max_pings_without_data", 0),
        ("grpc.so_reuseport", 0),
    ]


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[Facade]:
    """Start the facade; on exit stop it at once (use Facade.drain first for a graceful stop)."""
    async with AsyncExitStack() as stack:
        emulator: Emulator | None = None
        endpoint, credentials = None, None
        if settings.emulator:
            # Imported only when used: a production sidecar does not carry the emulator.
            from service.emulator import Emulator, FaultRule

            emulator = await stack.enter_async_context(
                Emulator(
                    credentials={
                        EMULATOR_CREDENTIALS.access_key_id: EMULATOR_CREDENTIALS.secret_access_key
                    },
                    # It shares the facade's memory: keep its request log small.
                    request_log_limit=10_000,
                )
            )
            if settings.emulator_latency:
                emulator.add_fault(FaultRule(latency=settings.emulator_latency))
            endpoint, credentials = emulator.base_url, EMULATOR_CREDENTIALS
        aws = await stack.enter_async_context(
            CloudFrontClient.open(settings, endpoint_url=endpoint, credentials=credentials)
        )
        token = settings.caller_token()
        # The AWS keys were added by service.credentials, as each generation is fetched.
        redactor.add([token])

        metrics, metrics_port = _start_metrics(settings, stack)
        if metrics is not None:
            metrics.watch_credentials(aws.credentials.stats)

        guard = CallGuard(
            max_concurrency=settings.max_concurrency,
            max_request_bytes=settings.max_request_bytes,
            token=token,
            metrics=metrics,
        )
        server = grpc.aio.server(interceptors=[guard], options=server_options(settings))
        # Every service in resources.SERVICES: its handlers, its health entry, its reflection.
        server.add_generic_rpc_handlers([servicer.handler() for servicer in servicers(aws)])
        health_servicer = health_aio.HealthServicer()
        for service in ("", *SERVICE_NAMES):
            await health_servicer.set(service, health_pb2.HealthCheckResponse.NOT_SERVING)
        health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
        if settings.reflection:
            # Imported only when on: grpc_reflection is not needed by a facade without it.
            from service import reflection

            reflection.enable(server, (*SERVICE_NAMES, health.SERVICE_NAME))
        address = bind(server, settings)
        await server.start()
        stack.push_async_callback(server.stop, None)
        for service in ("", *SERVICE_NAMES):
            await health_servicer.set(service, health_pb2.HealthCheckResponse.SERVING)
        yield Facade(
            settings, address, server, health_servicer, guard, aws, emulator, metrics, metrics_port
        )


def _start_metrics(settings: Settings, stack: AsyncExitStack) -> tuple[Metrics | None, int | None]:
    if not settings.metrics_listen:
        return None, None
    from service.metrics import Metrics

    metrics = Metrics()
    try:
        port = metrics.serve(settings.metrics_listen)
    except OSError as error:
        raise StartupError(f"--metrics-listen {settings.metrics_listen}", os_cause(error)) from None
    stack.callback(metrics.close)
    return metrics, port


def bind(server: grpc.aio.Server, settings: Settings) -> str:
    """Add the listener; returns the address callers should dial (with the real port).

    What gRPC would only log (and answer with a bare RuntimeError) is found out first with a
    plain socket, so a busy port or a missing directory becomes a StartupError naming --listen.
    """
    listen = settings.listen
    credentials = _server_credentials(settings)
    if listen.startswith("unix:"):
        path = Path(listen.removeprefix("unix:"))
        _claim_unix_path(path, f"--listen {listen}")
        old_umask = os.umask(0o777 & ~settings.unix_socket_mode)
        try:
            _add_port(server, listen, credentials)
        finally:
            os.umask(old_umask)
        path.chmod(settings.unix_socket_mode)
        return listen
    _probe_tcp(listen)
    port = _add_port(server, listen, credentials)
    host = listen.rpartition(":")[0]
    return f"{host}:{port}"


def _claim_unix_path(path: Path, setting: str) -> None:
    """Make `path` free for a new socket: only a socket nobody answers on is stale."""
    if not path.parent.is_dir():
        raise StartupError(setting, f"no directory {path.parent}")
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        mode = None
    except OSError as error:
        raise StartupError(setting, os_cause(error)) from None
    if mode is not None:
        if not stat.S_ISSOCK(mode):
            raise StartupError(setting, f"{path} exists and is not a socket; not replacing it")
        if _unix_socket_answers(path, setting):
            raise StartupError(setting, "another server is listening on this socket")
        with contextlib.suppress(FileNotFoundError):
            path.unlink()  # stale: left by a process that is gone
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(str(path))
        except OSError as error:
            raise StartupError(setting, os_cause(error)) from None
    path.unlink()


def _unix_socket_answers(path: Path, setting: str) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        try:
            probe.connect(str(path))
        except (ConnectionRefusedError, FileNotFoundError):
            return False
        except TimeoutError:
            return True  # a full backlog: someone is there
        except OSError as error:
            raise StartupError(
                setting, f"cannot tell whether {path} is in use: {os_cause(error)}"
            ) from None
        return True


def _probe_tcp(listen: str) -> None:
    """Bind HOST:PORT the way gRPC will (SO_REUSEADDR, one address suffices) to learn why not."""
    setting = f"--listen {listen}"
    host, _, port = listen.rpartition(":")
    try:
        addresses = socket.getaddrinfo(
            host.strip("[]"), int(port), type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except socket.gaierror as error:
        raise StartupError(setting, f"cannot resolve the host: {os_cause(error)}") from None
    first_error: OSError | None = None
    for family, kind, proto, _, address in addresses:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(address)
            except OSError as error:
                first_error = first_error or error
            else:
                return
    if first_error is not None:
        raise StartupError(setting, os_cause(first_error))


def _add_port(
    server: grpc.aio.Server, address: str, credentials: grpc.ServerCredentials | None
) -> int:
    try:
        if credentials is None:
            port = server.add_insecure_port(address)
        else:
            port = server.add_secure_port(address, credentials)
    except RuntimeError:  # grpcio >= 1.5x; its log line above says why
        port = 0
    if port == 0:
        raise StartupError(f"--listen {address}", "gRPC could not listen on it")
    return port


def _server_credentials(settings: Settings) -> grpc.ServerCredentials | None:
    """TLS credentials, checked with the ssl module first: gRPC takes garbage PEM silently and
    fails only later, in a log line."""
    if settings.tls_cert is None or settings.tls_key is None:
        return None
    cert = _read_pem("--tls-cert", settings.tls_cert)
    key = _read_pem("--tls-key", settings.tls_key)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_verify_locations(cadata=cert.decode("ascii", "replace"))
    except (ssl.SSLError, ValueError):
        raise StartupError(f"--tls-cert {settings.tls_cert}", "no PEM certificate in it") from None
    try:
        # Called only for an encrypted key; gRPC cannot use one, and OpenSSL must not prompt.
        context.load_cert_chain(settings.tls_cert, settings.tls_key, password=lambda: b"")
    except ssl.SSLError as error:
        cause = {
            None: "no unencrypted PEM private key in it",
            "KEY_VALUES_MISMATCH": "not the key of --tls-cert",
        }.get(error.reason, f"not a usable PEM private key ({error.reason})")
        raise StartupError(f"--tls-key {settings.tls_key}", cause) from None
    client_ca = None
    if settings.tls_client_ca is not None:
        client_ca = _read_pem("--tls-client-ca", settings.tls_client_ca)
        try:
            context.load_verify_locations(cadata=client_ca.decode("ascii", "replace"))
        except (ssl.SSLError, ValueError):
            raise StartupError(
                f"--tls-client-ca {settings.tls_client_ca}", "no PEM certificate in it"
            ) from None
    return grpc.ssl_server_credentials(
        [(key, cert)], root_certificates=client_ca, require_client_auth=client_ca is not None
    )


def _read_pem(flag: str, path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise StartupError(f"{flag} {path}", os_cause(error)) from None


@dataclass
class Shutdown:
    """What the shutdown signals asked for: the first one a drain, a second one a stop now."""

    drain: asyncio.Event = field(default_factory=asyncio.Event)
    now: asyncio.Event = field(default_factory=asyncio.Event)
    signal: str | None = None

    def _on_signal(self, signum: int) -> None:
        if not self.drain.is_set():
            self.signal = signal.Signals(signum).name
            self.drain.set()
        else:
            self.now.set()


SHUTDOWN_SIGNALS = (signal.SIGTERM, signal.SIGINT)


@contextmanager
def shutdown_signals() -> Iterator[Shutdown]:
    """Catch SIGTERM/SIGINT for the block (like grpclib's graceful_exit); on the way out,
    whatever happens, the handlers that were there before are put back."""
    loop = asyncio.get_running_loop()
    shutdown = Shutdown()
    previous = {signum: signal.getsignal(signum) for signum in SHUTDOWN_SIGNALS}
    for signum in SHUTDOWN_SIGNALS:
        loop.add_signal_handler(signum, shutdown._on_signal, signum)
    try:
        yield shutdown
    finally:
        for signum, handler in previous.items():
            loop.remove_signal_handler(signum)
            # As uvicorn's capture_signals does: put back what was there, not asyncio's default.
            signal.signal(signum, handler)


async def serve(settings: Settings, started_at: float | None = None) -> int:
    """Run until SIGTERM/SIGINT; then drain gracefully. A second signal stops at once."""
    started_at = time.monotonic() if started_at is None else started_at
    async with running(settings) as facade:
        with shutdown_signals() as shutdown:
            log.info(
                "serving",
                extra={
                    "fields": {
                        "address": facade.address,
                        "emulator": facade.emulator.base_url if facade.emulator else None,
                        "metrics_port": facade.metrics_port,
                        "aws_credentials": facade.aws.credentials.method,
                        "grpc_experiments": os.environ.get("GRPC_EXPERIMENTS"),
                        "startup_ms": round((time.monotonic() - started_at) * 1000, 1),
                    }
                },
            )
            await shutdown.drain.wait()
            log.info(
                "draining",
                extra={"fields": {"signal": shutdown.signal, "grace_s": settings.shutdown_grace}},
            )
            drain_started = time.monotonic()
            draining = asyncio.ensure_future(facade.drain())
            second = asyncio.ensure_future(shutdown.now.wait())
            await asyncio.wait({draining, second}, return_when=asyncio.FIRST_COMPLETED)
            second.cancel()
            if not draining.done():
                log.warning("second signal: stopping now")
                await facade.server.stop(0)
            await draining
            log.info(
                "stopped",
                extra={"fields": {"drain_ms": round((time.monotonic() - drain_started) * 1000, 1)}},
            )
    return 0
