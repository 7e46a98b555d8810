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
import stat
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as health_aio  # type: ignore[attr-defined]
from grpc_reflection.v1alpha import reflection

from service.aws import CloudFrontClient, StaticCredentials
from service.config import Settings
from service.interceptors import CallGuard
from service.logs import LOGGER, redactor
from service.metrics import Metrics
from service.resources import SERVICE_NAMES
from service.servicer import servicers

if TYPE_CHECKING:
    from service.emulator import Emulator

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
                Emulator(credentials={EMULATOR_CREDENTIALS.access_key_id:
                                      EMULATOR_CREDENTIALS.secret_access_key},
                         # It shares the facade's memory: keep its request log small.
                         request_log_limit=10_000)
            )
            if settings.emulator_latency:
                emulator.add_fault(FaultRule(latency=settings.emulator_latency))
            endpoint, credentials = emulator.base_url, EMULATOR_CREDENTIALS
        aws = await stack.enter_async_context(
            CloudFrontClient.open(settings, endpoint_url=endpoint, credentials=credentials)
        )
        token = settings.caller_token()
        redactor.add([aws.credentials.secret_access_key, aws.credentials.session_token,
                      aws.credentials.access_key_id, token])

        metrics = Metrics() if settings.metrics_listen else None
        metrics_port = None
        if metrics is not None and settings.metrics_listen:
            metrics_port = metrics.serve(settings.metrics_listen)
            stack.callback(metrics.close)

        guard = CallGuard(max_concurrency=settings.max_concurrency,
                          max_request_bytes=settings.max_request_bytes, token=token,
                          metrics=metrics)
        server = grpc.aio.server(interceptors=[guard], options=server_options(settings))
        # Every service in resources.SERVICES: its handlers, its health entry, its reflection.
        server.add_generic_rpc_handlers([servicer.handler() for servicer in servicers(aws)])
        health_servicer = health_aio.HealthServicer()
        for service in ("", *SERVICE_NAMES):
            await health_servicer.set(service, health_pb2.HealthCheckResponse.NOT_SERVING)
        health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
        if settings.reflection:
            reflection.enable_server_reflection(
                (*SERVICE_NAMES, health.SERVICE_NAME, reflection.SERVICE_NAME), server
            )
        address = bind(server, settings)
        await server.start()
        stack.push_async_callback(server.stop, None)
        for service in ("", *SERVICE_NAMES):
            await health_servicer.set(service, health_pb2.HealthCheckResponse.SERVING)
        yield Facade(settings, address, server, health_servicer, guard, aws, emulator,
                     metrics, metrics_port)


def bind(server: grpc.aio.Server, settings: Settings) -> str:
    """Add the listener; returns the address callers should dial (with the real port)."""
    listen = settings.listen
    credentials = _server_credentials(settings)
    if listen.startswith("unix:"):
        path = Path(listen.removeprefix("unix:"))
        if path.exists() and stat.S_ISSOCK(path.stat().st_mode):
            path.unlink()  # a stale socket from a previous run
        old_umask = os.umask(0o777 & ~settings.unix_socket_mode)
        try:
            _add_port(server, listen, credentials)
        finally:
            os.umask(old_umask)
        path.chmod(settings.unix_socket_mode)
        return listen
    port = _add_port(server, listen, credentials)
    if port == 0:
        raise OSError(f"could not listen on {listen}")
    host = listen.rpartition(":")[0]
    return f"{host}:{port}"


def _add_port(server: grpc.aio.Server, address: str,
              credentials: grpc.ServerCredentials | None) -> int:
    if credentials is None:
        return server.add_insecure_port(address)
    return server.add_secure_port(address, credentials)


def _server_credentials(settings: Settings) -> grpc.ServerCredentials | None:
    if settings.tls_cert is None or settings.tls_key is None:
        return None
    client_ca = settings.tls_client_ca.read_bytes() if settings.tls_client_ca else None
    return grpc.ssl_server_credentials(
        [(settings.tls_key.read_bytes(), settings.tls_cert.read_bytes())],
        root_certificates=client_ca,
        require_client_auth=client_ca is not None,
    )


async def serve(settings: Settings, started_at: float | None = None) -> int:
    """Run until SIGTERM/SIGINT; then drain gracefully. A second signal stops at once."""
    started_at = time.monotonic() if started_at is None else started_at
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    async with running(settings) as facade:
        signals_seen = 0
        stopping: list[asyncio.Task[None]] = []

        def on_signal(signum: int) -> None:
            nonlocal signals_seen
            signals_seen += 1
            if signals_seen == 1:
                log.info("draining", extra={"fields": {"signal": signal.Signals(signum).name,
                                                       "grace_s": settings.shutdown_grace}})
                stop.set()
            else:
                log.warning("second signal: stopping now")
                stopping.append(loop.create_task(facade.server.stop(0)))

        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, on_signal, signum)
        log.info("serving", extra={"fields": {
            "address": facade.address,
            "emulator": facade.emulator.base_url if facade.emulator else None,
            "metrics_port": facade.metrics_port,
            "aws_credentials": facade.aws.credentials.method,
            "startup_ms": round((time.monotonic() - started_at) * 1000, 1),
        }})
        await stop.wait()
        drain_started = time.monotonic()
        await facade.drain()
        log.info("stopped", extra={"fields": {
            "drain_ms": round((time.monotonic() - drain_started) * 1000, 1)}})
        for signum in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(Exception):
                loop.remove_signal_handler(signum)
    return 0
