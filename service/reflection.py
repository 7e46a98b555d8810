"""Server reflection under both names clients ask for, describing the google.rpc error details too.

grpcio-reflection serves only ``grpc.reflection.v1alpha``. ``grpc.reflection.v1`` (which
``buf curl`` and newer grpcurl try first) has the same messages and field numbers in another
package, so the one servicer answers under both names; v1's file descriptor is derived from
v1alpha's so that reflection can describe itself under either name.

The details the facade attaches to errors (``google.rpc.ErrorInfo``, ``BadRequest``,
``RetryInfo``, ``QuotaFailure``) and ``google.rpc.Status`` are not imported by any service's
``.proto``, so a client that only follows the services' imports never sees them. Their files
are put in the pool reflection answers from, and checked there at start-up, so that a client
resolving an ``Any`` by its type name (grpcurl does) prints them decoded instead of as bytes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool
from google.rpc import error_details_pb2, status_pb2
from grpc_reflection.v1alpha import reflection, reflection_pb2, reflection_pb2_grpc

V1ALPHA_SERVICE: Final[str] = reflection.SERVICE_NAME
V1_SERVICE: Final = "grpc.reflection.v1.ServerReflection"
V1_FILE: Final = "grpc/reflection/v1/reflection.proto"

#: Every message of these files must be resolvable through reflection.
ERROR_DETAIL_FILES: Final = (error_details_pb2.DESCRIPTOR, status_pb2.DESCRIPTOR)


def enable(server: grpc.aio.Server, service_names: Iterable[str]) -> None:
    """Serve reflection v1 and v1alpha for `service_names` (and for reflection itself)."""
    pool = descriptor_pool.Default()
    _add_v1_descriptor(pool)
    for file in ERROR_DETAIL_FILES:
        for message in file.message_types_by_name.values():
            # A miss here would mean clients see base64 again: fail at start-up, not later.
            pool.FindFileContainingSymbol(message.full_name)
    names = (*dict.fromkeys(service_names), V1_SERVICE, V1ALPHA_SERVICE)
    servicer = reflection.aio.ReflectionServicer(names, pool=pool)  # type: ignore[attr-defined]
    reflection_pb2_grpc.add_ServerReflectionServicer_to_server(servicer, server)
    # v1 on the wire is v1alpha's bytes, so v1alpha's classes decode and encode it.
    v1_method = grpc.stream_stream_rpc_method_handler(
        servicer.ServerReflectionInfo,
        request_deserializer=reflection_pb2.ServerReflectionRequest.FromString,
        response_serializer=reflection_pb2.ServerReflectionResponse.SerializeToString,
    )
    v1 = grpc.method_handlers_generic_handler(V1_SERVICE, {"ServerReflectionInfo": v1_method})
    server.add_generic_rpc_handlers((v1,))


def _add_v1_descriptor(pool: descriptor_pool.DescriptorPool) -> None:
    """Put grpc/reflection/v1/reflection.proto in `pool`, made from the v1alpha file."""
    try:
        pool.FindFileByName(V1_FILE)
        return  # already there (a grpcio-reflection that ships v1, or a second server)
    except KeyError:
        pass
    file = descriptor_pb2.FileDescriptorProto()
    reflection_pb2.DESCRIPTOR.CopyToProto(file)
    old, new = f".{file.package}.", ".grpc.reflection.v1."
    file.name, file.package = V1_FILE, "grpc.reflection.v1"
    # The options of the published v1 file; v1alpha's "deprecated" does not carry over.
    file.options.Clear()
    file.options.java_package = "io.grpc.reflection.v1"
    file.options.java_outer_classname = "ServerReflectionProto"
    file.options.java_multiple_files = True
    file.options.go_package = "google.golang.org/grpc/reflection/grpc_reflection_v1"
    messages = list(file.message_type)
    while messages:
        message = messages.pop()
        messages.extend(message.nested_type)
        for field in message.field:
            if field.type_name.startswith(old):
                field.type_name = new + field.type_name.removeprefix(old)
    for service in file.service:
        for method in service.method:
            method.input_type = new + method.input_type.removeprefix(old)
            method.output_type = new + method.output_type.removeprefix(old)
    pool.AddSerializedFile(file.SerializeToString())
