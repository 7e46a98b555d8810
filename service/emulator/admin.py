"""JSON admin API under /_emulator/, mirroring the Emulator's Python controls.

These routes need no authentication and are not written to the request log.
"""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING, Any, Final

from aiohttp import web

from service.emulator.faults import FaultRule
from service.emulator.resources import RESOURCES, Resource

if TYPE_CHECKING:
    from service.emulator.app import Emulator

PREFIX: Final = "/_emulator"


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def _json_object(request: web.Request, *, required: bool) -> dict[str, Any]:
    raw = await request.read()
    if not raw.strip():
        if required:
            raise ValueError("a JSON object body is required")
        return {}
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError("the body must be a JSON object")
    return data


def add_routes(app: web.Application, emulator: Emulator) -> None:
    async def health(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def add_fault(request: web.Request) -> web.Response:
        try:
            rule = FaultRule.from_json(await _json_object(request, required=True))
        except (ValueError, TypeError) as exc:
            return _error(400, str(exc))
        emulator.add_fault(rule)
        return web.json_response({"rule": rule.to_json()}, status=201)

    async def list_faults(request: web.Request) -> web.Response:
        faults = [{**rule.to_json(), "remaining": left} for rule, left in emulator.faults()]
        return web.json_response({"faults": faults})

    async def clear_faults(request: web.Request) -> web.Response:
        cleared = len(emulator.faults())
        emulator.clear_faults()
        return web.json_response({"cleared": cleared})

    async def list_requests(request: web.Request) -> web.Response:
        records = [record.to_json() for record in emulator.request_log]
        return web.json_response({"requests": records})

    async def clear_requests(request: web.Request) -> web.Response:
        cleared = len(emulator.request_log)
        emulator.clear_request_log()
        return web.json_response({"cleared": cleared})

    def resource_routes(resource: Resource) -> None:
        async def list_resources(request: web.Request) -> web.Response:
            items = [dataclasses.asdict(item) for item in emulator.resources(resource)]
            return web.json_response({resource.admin_name.replace("-", "_"): items})

        async def set_in_use(request: web.Request) -> web.Response:
            resource_id = request.match_info["id"]
            try:
                data = await _json_object(request, required=False)
            except ValueError as exc:
                return _error(400, str(exc))
            in_use = data.get("in_use", True)
            if not isinstance(in_use, bool) or set(data) - {"in_use"}:
                return _error(400, 'expected {"in_use": true|false}')
            try:
                item = emulator.mark_in_use(resource_id, in_use, resource=resource)
            except KeyError:
                return _error(404, f"no {resource.noun} {resource_id}")
            return web.json_response({resource.admin_item: dataclasses.asdict(item)})

        app.router.add_get(f"{PREFIX}/{resource.admin_name}", list_resources)
        app.router.add_post(f"{PREFIX}/{resource.admin_name}/{{id}}/in-use", set_in_use)

    async def held(request: web.Request) -> web.Response:
        # ?at_least=N long-polls until N requests are held, for tests outside the process.
        raw = request.query.get("at_least")
        if raw is not None:
            if not raw.isdigit():
                return _error(400, "at_least must be a non-negative integer")
            try:
                await emulator.wait_held(int(raw))
            except RuntimeError as exc:
                return _error(503, str(exc))
        return web.json_response({"held": emulator.held})

    async def release(request: web.Request) -> web.Response:
        return web.json_response({"released": emulator.release_held()})

    async def reset(request: web.Request) -> web.Response:
        emulator.reset()
        return web.json_response({"reset": True})

    async def sts_state(request: web.Request) -> web.Response:
        return web.json_response(emulator.sts.state())

    async def sts_configure(request: web.Request) -> web.Response:
        try:
            emulator.sts.configure(await _json_object(request, required=True))
        except ValueError as exc:
            return _error(400, str(exc))
        return web.json_response(emulator.sts.state())

    async def sts_requests(request: web.Request) -> web.Response:
        records = [dataclasses.asdict(record) for record in emulator.sts.request_log]
        return web.json_response({"requests": records})

    async def not_found(request: web.Request) -> web.Response:
        return _error(404, f"no admin route {request.method} {request.path}")

    router = app.router
    router.add_get(f"{PREFIX}/health", health)
    router.add_post(f"{PREFIX}/faults", add_fault)
    router.add_get(f"{PREFIX}/faults", list_faults)
    router.add_delete(f"{PREFIX}/faults", clear_faults)
    router.add_get(f"{PREFIX}/requests", list_requests)
    router.add_delete(f"{PREFIX}/requests", clear_requests)
    for resource in RESOURCES:
        resource_routes(resource)
    router.add_get(f"{PREFIX}/held", held)
    router.add_post(f"{PREFIX}/release", release)
    router.add_post(f"{PREFIX}/reset", reset)
    router.add_get(f"{PREFIX}/sts", sts_state)
    router.add_post(f"{PREFIX}/sts", sts_configure)
    router.add_get(f"{PREFIX}/sts/requests", sts_requests)
    # Keeps unknown admin paths (or methods) out of the CloudFront catch-all.
    router.add_route("*", f"{PREFIX}/{{tail:.*}}", not_found)
