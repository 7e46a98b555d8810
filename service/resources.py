"""The CloudFront resources the facade serves: one gRPC service each, named here once.

This list drives everything per service: the servicer and its routes (each RPC paired with the
AWS operation of the same name), the health entries and the reflection names. A new resource
is its proto, one line here, its validation rules and (for tests) its emulator support.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

from google.protobuf.descriptor import ServiceDescriptor

from service._gen.cloudfront.v1 import origin_access_control_service_pb2 as oac_pb
from service._gen.cloudfront.v1 import origin_access_identity_service_pb2 as oai_pb


@dataclass(frozen=True, slots=True)
class Resource:
    """One gRPC service and the generated module that holds its messages."""

    messages: ModuleType
    service: str  # the service's name in its proto file

    @property
    def descriptor(self) -> ServiceDescriptor:
        return self.messages.DESCRIPTOR.services_by_name[self.service]  # type: ignore[no-any-return]

    @property
    def full_name(self) -> str:
        return self.descriptor.full_name


SERVICES: tuple[Resource, ...] = (
    Resource(oai_pb, "OriginAccessIdentityService"),
    Resource(oac_pb, "OriginAccessControlService"),
)

SERVICE_NAMES: tuple[str, ...] = tuple(resource.full_name for resource in SERVICES)
