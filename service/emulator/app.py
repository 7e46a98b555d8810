"""The emulator server: CloudFront request handling and lifecycle."""

from __future__ import annotations

import logging
import random
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from contextvars import ContextVar
from types import TracebackType
from typing import Any, Final
from urllib.parse import unquote

from aiohttp import web

from service.emulator import admin, wire
from service.emulator.faults import FaultInjector, FaultRule, RequestRecord
from service.emulator.parking import Parking, Stopped
from service.emulator.sigv4 import Authenticator
from service.emulator.store import Identity, IdentityStore
from service.emulator.wire import ApiError

logger = logging.getLogger(__name__)

# Each aiohttp request runs in its own task, hence its own context.
_request_id: ContextVar[str] = ContextVar("cloudfront_emulator_request_id")
_DEFAULT_MAX_ITEMS: Final = 100
_DIGITS: Final = re.compile(r"[0-9]+")
# In-flight requests (e.g. ones sleeping on injected latency) are cut off after this.
_SHUTDOWN_TIMEOUT: Final = 1.0

_COLLECTION_OPS: Final = {"POST": wire.CREATE, "GET": wire.LIST}
_ITEM_OPS: Final = {"GET": wire.GET, "DELETE": wire.DELETE}
_CONFIG_OPS: Final = {"GET": wire.GET_CONFIG, "PUT": wire.UPDATE}

_FAULT_MESSAGES: Final = {
    "Throttling": "Rate exceeded",
    "ServiceUnavailable": "The service is unavailable. Please try again later.",
    "InternalError": "We encountered an internal error. Please try again.",
    "AccessDenied": "Access denied.",
}


def _route(method: str, path: str) -> tuple[str | None, str | None, bool]:
    """Map a raw (still percent-encoded) path to (operation, identity id, path is known)."""
    table: Mapping[str, str]
    identity_id: str | None = None
    if path == wire.OAI_PATH:
        table = _COLLECTION_OPS
    elif path.startswith(wire.OAI_PATH + "/"):
        head, sep, tail = path[len(wire.OAI_PATH) + 1 :].partition("/")
        if not head or (sep and tail != "config"):
            return None, None, False
        # Split before decoding so an encoded "/" stays part of the id.
        identity_id = unquote(head)
        table = _CONFIG_OPS if sep else _ITEM_OPS
    else:
        return None, None, False
    return table.get(method), identity_id, True


def _parse_max_items(raw: str | None) -> int:
    if raw is None:
        return _DEFAULT_MAX_ITEMS
    if not _DIGITS.fullmatch(raw):
        raise wire.invalid_argument(f"MaxItems must be a non-negative integer, got {raw!r}.")
    return int(raw)


def _drop(request: web.BaseRequest) -> web.Response:
    transport = request.transport
    if transport is not None:
        transport.close()
    # aiohttp's attempt to write this to the closed transport fails quietly.
    return web.Response(status=599)


class Emulator:
    """A CloudFront origin access identity API on a local port, with fault injection."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        account_limit: int = 100,
        credentials: Mapping[str, str] | None = None,
        session_token: str | None = None,
        seed: int | str | None = None,
        request_log_limit: int | None = 100_000,
    ) -> None:
        if account_limit < 0:
            raise ValueError("account_limit must be non-negative")
        if request_log_limit is not None and request_log_limit < 1:
            raise ValueError("request_log_limit must be positive or None")
        self.host = host
        self.port = port
        self._seed = seed
        self._request_log_limit = request_log_limit
        self._auth = Authenticator(credentials, session_token)
        self._store = IdentityStore(account_limit, self._new_rng("ids"))
        self._faults = FaultInjector(self._new_rng("faults"))
        self.request_log: list[RequestRecord] = []
        self._parking = Parking()
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None

    def _new_rng(self, purpose: str) -> random.Random:
        # Separate streams so fault dice do not shift when more ids are drawn.
        return random.Random(None if self._seed is None else f"{purpose}:{self._seed}")

    # -- lifecycle ---------------------------------------------------------------

    @property
    def base_url(self) -> str:
        if self._base_url is None:
            raise RuntimeError("the emulator is not running; call start() first")
        return self._base_url

    @property
    def running(self) -> bool:
        return self._runner is not None

    def make_app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware])
        admin.add_routes(app, self)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        return app

    async def start(self) -> str:
        if self._runner is not None:
            raise RuntimeError("the emulator is already running")
        runner = web.AppRunner(self.make_app(), access_log=None, shutdown_timeout=_SHUTDOWN_TIMEOUT)
        await runner.setup()
        self._parking.open()
        try:
            site = web.TCPSite(runner, self.host, self.port)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        address = runner.addresses[0]
        host, port = str(address[0]), int(address[1])
        self._runner = runner
        self._base_url = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
        return self._base_url

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        self._base_url = None
        if runner is not None:
            # Wake held and sleeping requests first: they drop their connections at once.
            self._parking.stop()
            await runner.cleanup()

    async def __aenter__(self) -> Emulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # -- test controls -----------------------------------------------------------

    @property
    def account_limit(self) -> int:
        return self._store.account_limit

    @account_limit.setter
    def account_limit(self, value: int) -> None:
        if value < 0:
            raise ValueError("account_limit must be non-negative")
        self._store.account_limit = value

    def add_fault(self, rule: FaultRule) -> None:
        """Append a rule; earlier rules take precedence."""
        self._faults.add(rule)

    def clear_faults(self) -> None:
        self._faults.clear()

    def faults(self) -> list[tuple[FaultRule, int | None]]:
        """Active rules with their remaining uses (None = unlimited)."""
        return self._faults.rules()

    def mark_in_use(self, identity_id: str, in_use: bool = True) -> Identity:
        """Flag an identity as used by a distribution; raises KeyError if unknown."""
        return self._store.set_in_use(identity_id, in_use)

    def identities(self) -> list[Identity]:
        """A snapshot of all identities, ordered by Id."""
        return self._store.snapshot()

    @property
    def held(self) -> int:
        """How many requests a ``hold`` fault is holding right now."""
        return self._parking.held

    async def wait_held(self, count: int) -> None:
        """Return once at least ``count`` requests are held; RuntimeError if the emulator stops."""
        try:
            await self._parking.wait_held(count)
        except Stopped:
            raise RuntimeError("the emulator stopped while waiting for held requests") from None

    def release_held(self) -> int:
        """Let every held request go on; later matching requests are held again."""
        return self._parking.release()

    def clear_request_log(self) -> None:
        self.request_log.clear()

    def reset(self) -> None:
        """Forget all identities, faults and logged requests, and reseed."""
        self._store = IdentityStore(self._store.account_limit, self._new_rng("ids"))
        self._faults = FaultInjector(self._new_rng("faults"))
        self.request_log.clear()

    # -- request handling --------------------------------------------------------

    @web.middleware
    async def _middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        request_id = str(uuid.uuid4())
        _request_id.set(request_id)
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            response = web.json_response({"error": exc.reason}, status=exc.status)
        except Exception:
            logger.exception("unhandled error in the CloudFront emulator")
            error = ApiError("InternalFailure", "The emulator failed unexpectedly.", 500)
            response = wire.error_response(error, request_id)
        response.headers[wire.REQUEST_ID_HEADER] = request_id
        return response

    def _log(self, record: RequestRecord) -> None:
        log = self.request_log
        log.append(record)
        limit = self._request_log_limit
        # Trim in batches so a full log costs amortised O(1) per request.
        if limit is not None and len(log) > limit + max(1, limit // 4):
            del log[: len(log) - limit]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        request_id = _request_id.get()
        headers = request.headers
        record = RequestRecord(
            request_id=request_id,
            operation=None,
            method=request.method,
            path=request.raw_path,
            if_match=headers.get("If-Match"),
            authorization_present="Authorization" in headers,
            amz_date=headers.get("X-Amz-Date"),
            invocation_id=headers.get("amz-sdk-invocation-id"),
            sdk_request=headers.get("amz-sdk-request"),
            time=time.monotonic(),
        )
        self._log(record)
        try:
            response, dropped = await self._process(request, record, request_id)
        except ApiError as error:
            response, dropped = wire.error_response(error, request_id), False
        except Stopped:
            response, dropped = _drop(request), True
        # A dropped connection keeps status None: the client never saw one.
        record.status = None if dropped else response.status
        return response

    async def _process(
        self, request: web.Request, record: RequestRecord, request_id: str
    ) -> tuple[web.Response, bool]:
        """Authenticate, route, apply faults and run the operation.

        Returns the response and whether the connection was dropped instead.
        """
        path = request.raw_path.partition("?")[0]
        operation, identity_id, known_path = _route(request.method, path)
        record.operation = operation
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            raise ApiError("RequestEntityTooLarge", "The request body is too large.", 413) from None
        self._auth.check(request.method, request.raw_path, request.headers, body)
        if operation is None:
            if known_path:
                raise ApiError(
                    "MethodNotAllowed",
                    f"The method {request.method} is not allowed on {path}.",
                    405,
                )
            raise ApiError("NotFound", f"There is no CloudFront resource at {path}.", 404)
        rule = self._faults.select(operation)
        record.fault = rule
        if rule is not None and rule.hold:
            await self._parking.hold()
        if rule is not None and not rule.after_commit:
            if rule.latency:
                await self._parking.sleep(rule.latency)
            if rule.has_outcome:
                return self._fault_response(rule, operation, request, request_id)
        try:
            response = self._operation(operation, identity_id, request, body)
        except ApiError as error:
            response = wire.error_response(error, request_id)
        if rule is not None and rule.after_commit:
            if rule.latency:
                await self._parking.sleep(rule.latency)
            if rule.has_outcome:
                return self._fault_response(rule, operation, request, request_id)
        return response, False

    def _operation(
        self, operation: str, identity_id: str | None, request: web.Request, body: bytes
    ) -> web.Response:
        """Run one operation; synchronous on purpose, which makes it atomic on the loop."""
        store = self._store
        if operation == wire.CREATE:
            caller_reference, comment = wire.parse_config(body)
            wire.check_comment(comment)
            identity, _ = store.create(caller_reference, comment)
            location = f"{request.scheme}://{request.host}{wire.OAI_PATH}/{identity.id}"
            return wire.xml_response(
                wire.identity_document(identity),
                status=201,
                headers={"Location": location, "ETag": identity.etag},
            )
        if operation == wire.LIST:
            marker = request.query.get("Marker", "")
            max_items = _parse_max_items(request.query.get("MaxItems"))
            page, truncated = store.page(marker, max_items)
            return wire.xml_response(wire.list_document(marker, max_items, page, truncated))
        if identity_id is None:  # pragma: no cover - the router always supplies one
            raise wire.invalid_argument("Missing identity id.")
        if operation == wire.GET:
            identity = store.get(identity_id)
            return wire.xml_response(
                wire.identity_document(identity), headers={"ETag": identity.etag}
            )
        if operation == wire.GET_CONFIG:
            identity = store.get(identity_id)
            return wire.xml_response(
                wire.config_document(identity), headers={"ETag": identity.etag}
            )
        if operation == wire.UPDATE:
            caller_reference, comment = wire.parse_config(body)
            identity = store.update(
                identity_id, request.headers.get("If-Match"), caller_reference, comment
            )
            return wire.xml_response(
                wire.identity_document(identity), headers={"ETag": identity.etag}
            )
        if operation == wire.DELETE:
            store.delete(identity_id, request.headers.get("If-Match"))
            return web.Response(status=204)
        raise AssertionError(f"unrouted operation {operation}")  # pragma: no cover

    def _fault_response(
        self, rule: FaultRule, operation: str, request: web.Request, request_id: str
    ) -> tuple[web.Response, bool]:
        if rule.drop_connection:
            return _drop(request), True
        if rule.malformed_body:
            return wire.xml_response(wire.malformed_document(operation)), False
        code = rule.error_code or "InternalFailure"
        message = rule.message or _FAULT_MESSAGES.get(code) or f"Injected {code} fault."
        error = ApiError(code, message, rule.http_status)
        return wire.error_response(error, request_id), False


@asynccontextmanager
async def running_emulator(**kwargs: Any) -> AsyncIterator[Emulator]:
    """Start an :class:`Emulator` for the duration of the block."""
    emulator = Emulator(**kwargs)
    await emulator.start()
    try:
        yield emulator
    finally:
        await emulator.stop()
