"""The servicer: for every RPC of every service in :data:`service.resources.SERVICES`,
validate -> call AWS -> convert. Nothing else lives here.

One generic :class:`Servicer` per service is built from its descriptor: each RPC is paired with
the botocore operation of the same name, and its conversion plans are derived (and checked)
from both schemas at start-up.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf.message import Message

from service import errors, validation
from service.aws import CloudFrontClient
from service.call import NO_ANSWER, Upstream, abort, current_call, upstream
from service.convert import MissingMembers, Plan
from service.resources import SERVICES, Resource

# The first service's name, kept for callers that predate SERVICES.
SERVICE_NAME = SERVICES[0].full_name


@dataclass(frozen=True, slots=True)
class Route:
    operation: str
    request_class: type[Message]
    response_class: type[Message]
    request: Plan
    response: Plan
    status: int  # the HTTP status of a success, as the model says (201 for a Create)


def build_routes(resource: Resource, aws: CloudFrontClient) -> dict[str, Route]:
    """Pair each RPC with the AWS operation of the same name, checking both schemas agree."""
    routes: dict[str, Route] = {}
    for method in resource.descriptor.methods:
        model = aws.service_model.operation_model(method.name)
        request_class = getattr(resource.messages, method.input_type.name)
        response_class = getattr(resource.messages, method.output_type.name)
        routes[method.name] = Route(
            operation=method.name,
            request_class=request_class,
            response_class=response_class,
            request=Plan(request_class, model.input_shape),
            response=Plan(response_class, model.output_shape),
            status=int(model.http.get("responseCode", 200)),
        )
    return routes


def _checked(route: Route, result: dict[str, Any], answer: Upstream) -> Message:
    """The response, if the answer is what the model promises; else UnexpectedAnswer."""
    if answer.http_status != route.status:
        raise errors.UnexpectedAnswer(
            route.operation, f"HTTP status {answer.http_status}, not {route.status}", answer
        )
    try:
        return route.response.from_boto(result)
    except MissingMembers as missing:
        raise errors.UnexpectedAnswer(route.operation, f"no {missing}", answer) from None


# Members that name what a Create asked for. An ALREADY_EXISTS carries them back, so a caller
# whose earlier answer was lost can find what exists (OAC has no CallerReference idempotency).
_IDENTIFYING = {"Name": "name", "CallerReference": "callerReference"}


def _identifying(params: dict[str, Any]) -> dict[str, str]:
    found: dict[str, str] = {}
    for value in params.values():
        if isinstance(value, dict):
            found.update(
                {key: str(value[member]) for member, key in _IDENTIFYING.items() if member in value}
            )
    return found


# The AWS call must end a little before the caller's deadline, so that the caller gets the
# facade's DEADLINE_EXCEEDED with its ErrorInfo rather than losing the race to gRPC's own.
DEADLINE_MARGIN = 0.05


def _aws_budget(remaining: float | None) -> float | None:
    if remaining is None:
        return None
    return max(remaining - DEADLINE_MARGIN, 0.0)


class Servicer:
    """Serves every RPC of one gRPC service, generically, from its routes."""

    def __init__(self, resource: Resource, aws: CloudFrontClient) -> None:
        self.resource = resource
        self._aws = aws
        self._routes = build_routes(resource, aws)

    def handler(self) -> grpc.GenericRpcHandler[Any, Any]:
        """The service's handlers, for ``server.add_generic_rpc_handlers``."""
        handlers = {
            rpc: grpc.unary_unary_rpc_method_handler(
                self._behavior(rpc),
                request_deserializer=route.request_class.FromString,
                response_serializer=route.response_class.SerializeToString,
            )
            for rpc, route in self._routes.items()
        }
        return grpc.method_handlers_generic_handler(self.resource.full_name, handlers)

    def _behavior(self, rpc: str) -> Any:
        async def behavior(
            request: Message, context: grpc.aio.ServicerContext[Any, Any]
        ) -> Message:
            return await self.invoke(rpc, request, context)

        behavior.__name__ = rpc
        return behavior

    async def invoke(
        self, rpc: str, request: Message, context: grpc.aio.ServicerContext[Any, Any]
    ) -> Message:
        problems = validation.violations(rpc, request)
        if problems:
            await abort(context, errors.invalid_argument(problems))
        route = self._routes[rpc]
        state = current_call.get()
        state.aws_operation = route.operation
        params = route.request.to_boto(request)
        try:
            result = await self._aws.call(
                route.operation, params, _aws_budget(context.time_remaining())
            )
            answer = upstream(result)
            state.record(answer)
            response = _checked(route, result, answer)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            mapped = errors.map_exception(error)
            if mapped is None:
                raise  # unexpected: the interceptor logs the traceback and answers INTERNAL
            if mapped.upstream is not NO_ANSWER:
                state.record(mapped.upstream)
            state.aws_code = mapped.aws_code
            if mapped.code is grpc.StatusCode.ALREADY_EXISTS:
                mapped = errors.with_metadata(mapped, _identifying(params))
            await abort(context, mapped)
        context.set_trailing_metadata(state.trailers())
        return response


def servicers(aws: CloudFrontClient) -> list[Servicer]:
    """One servicer per service in SERVICES; the validation rules must cover exactly their RPCs
    (checked here, at start-up, so a mismatch never reaches a caller)."""
    validation.check_coverage([resource.descriptor for resource in SERVICES])
    return [Servicer(resource, aws) for resource in SERVICES]
