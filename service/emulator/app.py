"""The emulator server: CloudFront request handling and lifecycle."""

from __future__ import annotations

import logging
import random
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from types import TracebackType
from typing import Any, Final

from aiohttp import web

from service.emulator import admin, model, wire
from service.emulator.faults import FaultInjector, FaultRule, RequestRecord
from service.emulator.model import ApiError
from service.emulator.parking import Parking, Stopped
from service.emulator.resources import (
    OPERATIONS,
    ORIGIN_ACCESS_CONTROL,
    ORIGIN_ACCESS_IDENTITY,
    RESOURCES,
    Identity,
    Kind,
    OriginAccessControl,
    Resource,
)
from service.emulator.sigv4 import Authenticator, access_key_of
from service.emulator.store import Record, VersionedStore, prepared
from service.emulator.sts import CredentialRegistry, StsEmulator

logger = logging.getLogger(__name__)

# Each aiohttp request runs in its own task, hence its own context.
_request_id: ContextVar[str] = ContextVar("cloudfront_emulator_request_id")
_DEFAULT_MAX_ITEMS: Final = 100
_DIGITS: Final = re.compile(r"[0-9]+")
# Only a safety net: stop() wakes requests parked on latency or a hold, so they end at once.
_SHUTDOWN_TIMEOUT: Final = 1.0

_FAULT_MESSAGES: Final = {
    "Throttling": "Rate exceeded",
    "ServiceUnavailable": "The service is unavailable. Please try again later.",
    "InternalError": "We encountered an internal error. Please try again.",
    "AccessDenied": "Access denied.",
}

# Every served operation's route, from its requestUri and method in the model.
_ROUTES: Final = tuple(model.Route.of(name) for name in OPERATIONS)


def _route(method: str, path: str) -> tuple[model.Route | None, dict[str, str], bool]:
    """Map a raw (still percent-encoded) path to (route, uri labels, path is known)."""
    known = False
    for route in _ROUTES:
        labels = route.match(path)
        if labels is None:
            continue
        if route.method == method:
            return route, labels, True
        known = True
    return None, {}, known


def _parse_max_items(raw: str | None) -> int:
    if raw is None:
        return _DEFAULT_MAX_ITEMS
    if not _DIGITS.fullmatch(raw):
        raise wire.invalid_argument(f"MaxItems must be a non-negative integer, got {raw!r}.")
    return int(raw)


def _params(
    operation: str, labels: Mapping[str, str], request: web.Request, body: bytes
) -> dict[str, Any]:
    """The operation's input members, read from where its input shape says they travel."""
    shape = model.operation(operation).input_shape
    params: dict[str, Any] = {}
    sources: dict[str, Mapping[str, str]] = {
        "uri": labels,
        "header": request.headers,
        "querystring": request.query,
    }
    for key, member in shape.members.items():
        source = sources.get(member.serialization.get("location", ""))
        if source is not None:
            value = source.get(model.element_name(key, member))
            if value is not None:
                params[key] = value
    payload = model.payload_member(shape)
    if payload is not None:
        member = shape.members[payload]
        params[payload] = wire.decode(member, model.element_name(payload, member), body)
    return params


def _resource_document(resource: Resource, record: Record) -> dict[str, Any]:
    # Keyed by member name; the encoder writes only the members the shape has.
    return {"Id": record.id, resource.config_member: record.config, **record.generated}


def _summary(record: Record) -> dict[str, Any]:
    return {"Id": record.id, **record.generated, **record.config}


def _drop(request: web.BaseRequest) -> web.Response:
    transport = request.transport
    if transport is not None:
        transport.close()
    # aiohttp's attempt to write this to the closed transport fails quietly.
    return web.Response(status=599)


class Emulator:
    """CloudFront's origin access identity and control APIs on a local port, with faults.

    ``sts=True`` also serves STS (``POST /``) and the container credentials endpoint
    (``emulator.sts.container_path``) on the same port; configure them through
    ``emulator.sts``. CloudFront accepts the temporary credentials they issue whether or
    not STS is served. ``clock`` is the wall clock those credentials expire by.
    """

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
        sts: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if account_limit < 0:
            raise ValueError("account_limit must be non-negative")
        if request_log_limit is not None and request_log_limit < 1:
            raise ValueError("request_log_limit must be positive or None")
        self.host = host
        self.port = port
        self._seed = seed
        self._request_log_limit = request_log_limit
        self.credentials = CredentialRegistry(clock)
        self._auth = Authenticator(credentials, session_token, registry=self.credentials)
        self._parking = Parking()
        self.sts_enabled = sts
        self.sts = StsEmulator(
            self.credentials,
            credentials,
            session_token,
            request_log_limit=request_log_limit,
            request_id=_request_id.get,
            parking=self._parking,
        )
        self._account_limit = account_limit
        self._stores = self._new_stores()
        self._faults = FaultInjector(self._new_rng("faults"))
        self.request_log: list[RequestRecord] = []
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None

    def _new_rng(self, purpose: str) -> random.Random:
        # Separate streams so fault dice do not shift when more ids are drawn.
        return random.Random(None if self._seed is None else f"{purpose}:{self._seed}")

    def _new_stores(self) -> dict[Resource, VersionedStore]:
        # The identity stream keeps its historical name so seeded ids stay as they were.
        return {
            resource: VersionedStore(
                resource,
                self._account_limit,
                self._new_rng("ids" if resource is ORIGIN_ACCESS_IDENTITY else resource.admin_name),
            )
            for resource in RESOURCES
        }

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
        if self.sts_enabled:
            # Before the admin catch-all, which would shadow the container endpoint.
            self.sts.add_routes(app)
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
        """The most resources of each type (identities, controls) the account may hold."""
        return self._account_limit

    @account_limit.setter
    def account_limit(self, value: int) -> None:
        if value < 0:
            raise ValueError("account_limit must be non-negative")
        self._account_limit = value
        for store in self._stores.values():
            store.account_limit = value

    def add_fault(self, rule: FaultRule) -> None:
        """Append a rule; earlier rules take precedence."""
        self._faults.add(rule)

    def clear_faults(self) -> None:
        self._faults.clear()

    def faults(self) -> list[tuple[FaultRule, int | None]]:
        """Active rules with their remaining uses (None = unlimited)."""
        return self._faults.rules()

    def mark_in_use(
        self, resource_id: str, in_use: bool = True, *, resource: Resource | None = None
    ) -> Any:
        """Flag a resource as used by a distribution; raises KeyError if unknown.

        Without ``resource`` the id is looked up among identities, then controls.
        Returns the resource's snapshot (an :class:`Identity`, an :class:`OriginAccessControl`).
        """
        for candidate in (resource,) if resource is not None else RESOURCES:
            store = self._stores[candidate]
            try:
                return store.set_in_use(resource_id, in_use).view(candidate)
            except KeyError:
                continue
        raise KeyError(resource_id)

    def resources(self, resource: Resource) -> list[Any]:
        """A snapshot of every stored resource of one type, ordered by Id."""
        return [record.view(resource) for record in self._stores[resource].snapshot()]

    def identities(self) -> list[Identity]:
        """A snapshot of all origin access identities, ordered by Id."""
        return self.resources(ORIGIN_ACCESS_IDENTITY)

    def controls(self) -> list[OriginAccessControl]:
        """A snapshot of all origin access controls, ordered by Id."""
        return self.resources(ORIGIN_ACCESS_CONTROL)

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
        """Forget all resources, faults and logged requests, and reseed."""
        self._stores = self._new_stores()
        self._faults = FaultInjector(self._new_rng("faults"))
        self.request_log.clear()
        self.sts.clear_request_log()

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
            access_key=access_key_of(headers),
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
        route, labels, known_path = _route(request.method, path)
        operation = None if route is None else route.operation
        record.operation = operation
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            raise ApiError("RequestEntityTooLarge", "The request body is too large.", 413) from None
        self._auth.check(request.method, request.raw_path, request.headers, body)
        if route is None or operation is None:
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
            response = self._operation(route, labels, request, body)
        except ApiError as error:
            response = wire.error_response(error, request_id)
        if rule is not None and rule.after_commit:
            if rule.latency:
                await self._parking.sleep(rule.latency)
            if rule.has_outcome:
                return self._fault_response(rule, operation, request, request_id)
        return response, False

    def _operation(
        self, route: model.Route, labels: Mapping[str, str], request: web.Request, body: bytes
    ) -> web.Response:
        """Run one operation; synchronous on purpose, which makes it atomic on the loop."""
        resource, kind = OPERATIONS[route.operation]
        params = _params(route.operation, labels, request, body)
        output = _HANDLERS[kind](self._stores[resource], params, request)
        return wire.response(route.operation, output, status=route.response_code)

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


# -- the six kinds of operation, the same for every resource ------------------------------

Output = dict[str, Any]


def _create(store: VersionedStore, params: Mapping[str, Any], request: web.Request) -> Output:
    resource = store.resource
    record = store.create(prepared(resource, params[resource.config_member]))
    path = resource.item_route.path({"Id": record.id})
    return {
        resource.resource_member: _resource_document(resource, record),
        "Location": f"{request.scheme}://{request.host}{path}",
        "ETag": record.etag,
    }


def _get(store: VersionedStore, params: Mapping[str, Any], request: web.Request) -> Output:
    record = store.get(params["Id"])
    return {
        store.resource.resource_member: _resource_document(store.resource, record),
        "ETag": record.etag,
    }


def _get_config(store: VersionedStore, params: Mapping[str, Any], request: web.Request) -> Output:
    record = store.get(params["Id"])
    return {store.resource.config_member: record.config, "ETag": record.etag}


def _update(store: VersionedStore, params: Mapping[str, Any], request: web.Request) -> Output:
    resource = store.resource
    config = prepared(resource, params[resource.config_member])
    record = store.update(params["Id"], params.get("IfMatch"), config)
    return {resource.resource_member: _resource_document(resource, record), "ETag": record.etag}


def _delete(store: VersionedStore, params: Mapping[str, Any], request: web.Request) -> Output:
    store.delete(params["Id"], params.get("IfMatch"))
    return {}


def _list(store: VersionedStore, params: Mapping[str, Any], request: web.Request) -> Output:
    marker = params.get("Marker", "")
    max_items = _parse_max_items(params.get("MaxItems"))
    page, truncated = store.page(marker, max_items)
    listing = {
        "Marker": marker,
        "NextMarker": page[-1].id if truncated and page else None,
        "MaxItems": max_items,
        "IsTruncated": truncated,
        "Quantity": len(page),
        "Items": [_summary(record) for record in page],
    }
    return {store.resource.list_member: listing}


_Handler = Callable[[VersionedStore, Mapping[str, Any], web.Request], Output]
_HANDLERS: Final[Mapping[Kind, _Handler]] = {
    "create": _create,
    "get": _get,
    "get_config": _get_config,
    "update": _update,
    "delete": _delete,
    "list": _list,
}
