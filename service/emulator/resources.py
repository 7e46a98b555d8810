"""The resources the emulator serves, each declared as data.

A resource names its six operations and its error codes, and states its own rules
(idempotency key, immutable and unique members, lengths); everything else (paths,
shapes, element names, error statuses) is read from botocore's model, and the one
versioned store in ``store.py`` enforces the rules. A third resource is one more entry.
"""

from __future__ import annotations

import functools
import random
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from service.emulator import model

Kind = Literal["create", "get", "get_config", "update", "delete", "list"]
KINDS: Final[tuple[Kind, ...]] = ("create", "get", "get_config", "update", "delete", "list")

_SNAKE: Final = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def snake_case(name: str) -> str:
    return _SNAKE.sub("_", name).lower()


@dataclass(frozen=True, slots=True)
class Identity:
    """One origin access identity; immutable so snapshots can be shared safely."""

    id: str
    s3_canonical_user_id: str
    caller_reference: str
    comment: str
    etag: str
    in_use: bool = False


@dataclass(frozen=True, slots=True)
class OriginAccessControl:
    """One origin access control; immutable so snapshots can be shared safely."""

    id: str
    name: str
    description: str
    signing_protocol: str
    signing_behavior: str
    origin_access_control_origin_type: str
    etag: str
    in_use: bool = False


def _s3_canonical_user_id(rng: random.Random) -> dict[str, Any]:
    return {"S3CanonicalUserId": f"{rng.getrandbits(384):096x}"}


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: one object per resource
class Resource:
    """One CloudFront resource type and its rules."""

    noun: str  # "origin access identity", for messages
    plural: str
    admin_name: str  # its path under /_emulator/, e.g. GET /_emulator/identities
    admin_item: str  # the JSON key of one of them in admin answers
    operations: Mapping[Kind, str]
    no_such: str
    already_exists: str
    too_many: str
    in_use: str
    view: Callable[..., Any]  # the dataclass identities()/controls() return
    # A member whose value makes a create idempotent: a replay with the same value and
    # the same config as the ORIGINAL request returns the resource; another config conflicts.
    idempotency_key: str | None = None
    immutable: tuple[str, ...] = ()  # changing one on update is IllegalUpdate
    unique: tuple[str, ...] = ()  # no two resources share a value: already_exists
    non_empty: tuple[str, ...] = ()
    max_lengths: Mapping[str, int] = field(default_factory=dict)
    defaults: Mapping[str, Any] = field(default_factory=dict)  # for optional members
    generated: Callable[[random.Random], dict[str, Any]] | None = None  # server-side members

    def operation(self, kind: Kind) -> str:
        return self.operations[kind]

    def check(self) -> None:
        """Raise LookupError where the declaration disagrees with botocore's model.

        Run for every resource at import, so a typo or a renamed shape fails loudly
        instead of surfacing as a wrong answer on some later request.
        """
        missing_kinds = set(KINDS) - set(self.operations)
        if missing_kinds:
            raise LookupError(f"{self.noun}: no operation for {sorted(missing_kinds)}")
        names = set(model.service_model().operation_names)
        for kind, name in self.operations.items():
            if name not in names:
                raise LookupError(f"{self.noun}: {name} ({kind}) is not a CloudFront operation")
        errors: dict[str, Kind] = {
            self.no_such: "get",
            self.already_exists: "create",
            self.too_many: "create",
            self.in_use: "delete",
        }
        for code, kind in errors.items():
            modelled = {shape.name for shape in model.operation(self.operation(kind)).error_shapes}
            if code not in modelled:
                raise LookupError(f"{self.noun}: {code} is not an error of {self.operation(kind)}")
        members = set(self.config_shape.members)
        key = () if self.idempotency_key is None else (self.idempotency_key,)
        declared = (*key, *self.immutable, *self.unique, *self.non_empty)
        for member in (*declared, *self.max_lengths, *self.defaults):
            if member not in members:
                raise LookupError(f"{self.noun}: {member} is not a member of {self.config_member}")

    @functools.cached_property
    def config_member(self) -> str:
        """The create request's payload member, e.g. ``OriginAccessControlConfig``."""
        return _payload(model.operation(self.operation("create")).input_shape)

    @functools.cached_property
    def config_shape(self) -> Any:
        return model.operation(self.operation("create")).input_shape.members[self.config_member]

    @functools.cached_property
    def resource_member(self) -> str:
        return _payload(model.operation(self.operation("get")).output_shape)

    @functools.cached_property
    def resource_shape(self) -> Any:
        shape = model.operation(self.operation("get")).output_shape
        return shape.members[self.resource_member]

    @functools.cached_property
    def list_member(self) -> str:
        return _payload(model.operation(self.operation("list")).output_shape)

    @functools.cached_property
    def summary_shape(self) -> Any:
        shape = model.operation(self.operation("list")).output_shape
        return shape.members[self.list_member].members["Items"].member

    @functools.cached_property
    def item_route(self) -> model.Route:
        return model.Route.of(self.operation("get"))


def _payload(structure: Any) -> str:
    member = model.payload_member(structure)
    if member is None:  # pragma: no cover - a contract mismatch, found at import
        raise LookupError(f"{structure.name} has no payload member")
    return member


ORIGIN_ACCESS_IDENTITY: Final = Resource(
    noun="origin access identity",
    plural="origin access identities",
    admin_name="identities",
    admin_item="identity",
    operations={
        "create": "CreateCloudFrontOriginAccessIdentity",
        "get": "GetCloudFrontOriginAccessIdentity",
        "get_config": "GetCloudFrontOriginAccessIdentityConfig",
        "update": "UpdateCloudFrontOriginAccessIdentity",
        "delete": "DeleteCloudFrontOriginAccessIdentity",
        "list": "ListCloudFrontOriginAccessIdentities",
    },
    no_such="NoSuchCloudFrontOriginAccessIdentity",
    already_exists="CloudFrontOriginAccessIdentityAlreadyExists",
    too_many="TooManyCloudFrontOriginAccessIdentities",
    in_use="CloudFrontOriginAccessIdentityInUse",
    view=Identity,
    idempotency_key="CallerReference",
    immutable=("CallerReference",),
    non_empty=("CallerReference",),
    max_lengths={"Comment": 128},
    generated=_s3_canonical_user_id,
)

ORIGIN_ACCESS_CONTROL: Final = Resource(
    noun="origin access control",
    plural="origin access controls",
    admin_name="origin-access-controls",
    admin_item="origin_access_control",
    operations={
        "create": "CreateOriginAccessControl",
        "get": "GetOriginAccessControl",
        "get_config": "GetOriginAccessControlConfig",
        "update": "UpdateOriginAccessControl",
        "delete": "DeleteOriginAccessControl",
        "list": "ListOriginAccessControls",
    },
    no_such="NoSuchOriginAccessControl",
    already_exists="OriginAccessControlAlreadyExists",
    too_many="TooManyOriginAccessControls",
    in_use="OriginAccessControlInUse",
    view=OriginAccessControl,
    unique=("Name",),
    non_empty=("Name",),
    max_lengths={"Name": 64},
    # The summary requires a Description; one created without it reads back empty.
    defaults={"Description": ""},
)

RESOURCES: Final = (ORIGIN_ACCESS_IDENTITY, ORIGIN_ACCESS_CONTROL)
for _resource in RESOURCES:
    _resource.check()

# Operation name -> (resource, kind), for routing and fault rules.
OPERATIONS: Final[Mapping[str, tuple[Resource, Kind]]] = {
    resource.operation(kind): (resource, kind) for resource in RESOURCES for kind in KINDS
}


def has_output_document(operation_name: str) -> bool:
    """Whether a success of the operation carries a body (Delete answers 204, empty)."""
    return model.payload_member(model.operation(operation_name).output_shape) is not None
