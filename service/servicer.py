"""The servicer: for every RPC, validate -> call AWS -> convert. Nothing else lives here."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf.message import Message

from service import errors, validation
from service._gen.cloudfront.v1 import origin_access_identity_service_pb2 as pb
from service._gen.cloudfront.v1 import origin_access_identity_service_pb2_grpc as pb_grpc
from service.aws import CloudFrontClient
from service.call import NO_ANSWER, Upstream, abort, current_call, upstream
from service.convert import MissingMembers, Plan

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["OriginAccessIdentityService"].full_name


@dataclass(frozen=True, slots=True)
class Route:
    operation: str
    request: Plan
    response: Plan
    status: int  # the HTTP status of a success, as the model says (201 for a Create)


def build_routes(aws: CloudFrontClient) -> dict[str, Route]:
    """Pair each RPC with the AWS operation of the same name, checking both schemas agree."""
    routes: dict[str, Route] = {}
    service = pb.DESCRIPTOR.services_by_name["OriginAccessIdentityService"]
    for method in service.methods:
        model = aws.service_model.operation_model(method.name)
        request_class = getattr(pb, method.input_type.name)
        response_class = getattr(pb, method.output_type.name)
        routes[method.name] = Route(
            operation=method.name,
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


Handler = Callable[[Any, Any, grpc.aio.ServicerContext[Any, Any]], Awaitable[Message]]


def _rpc(name: str) -> Handler:
    async def handle(
        self: OriginAccessIdentityServicer,
        request: Message,
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> Message:
        return await self.invoke(name, request, context)

    handle.__name__ = name
    return handle


class OriginAccessIdentityServicer(pb_grpc.OriginAccessIdentityServiceServicer):
    def __init__(self, aws: CloudFrontClient) -> None:
        self._aws = aws
        self._routes = build_routes(aws)

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

    CreateCloudFrontOriginAccessIdentity = _rpc("CreateCloudFrontOriginAccessIdentity")
    GetCloudFrontOriginAccessIdentity = _rpc("GetCloudFrontOriginAccessIdentity")
    GetCloudFrontOriginAccessIdentityConfig = _rpc("GetCloudFrontOriginAccessIdentityConfig")
    UpdateCloudFrontOriginAccessIdentity = _rpc("UpdateCloudFrontOriginAccessIdentity")
    DeleteCloudFrontOriginAccessIdentity = _rpc("DeleteCloudFrontOriginAccessIdentity")
    ListCloudFrontOriginAccessIdentities = _rpc("ListCloudFrontOriginAccessIdentities")
