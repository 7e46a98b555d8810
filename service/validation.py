"""Local validation: reject a bad request before it costs an AWS call.

Two sources, one rule per field:

* **Derived from botocore's model** (where the model knows): a member in ``required_members``
  must not be empty (a proto enum must not be its ``_UNSPECIFIED`` zero value), walked
  recursively through the operation's input shape; a member with ``shape.enum`` must be one of
  those values.
* **Hand-written** (where the model is silent): lengths and character sets, in :data:`CHECKS`.
  These see only values the caller gave; emptiness is the model's business.

Where the facade deliberately departs from the model, the departure is written down once, in
:data:`MUST_BE_GIVEN` and :data:`MAY_BE_EMPTY`. :func:`check_coverage` proves at start-up that
the rules cover exactly the registered RPCs and that every path resolves, as ``convert.Plan``
does for the conversion. Every failing field becomes one ``google.rpc.BadRequest`` field
violation, in the request's field order, so a caller learns of all its mistakes at once.
"""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, cast

import botocore.session
from botocore.model import OperationNotFoundError, ServiceModel, Shape, StructureShape
from google.protobuf.descriptor import Descriptor, FieldDescriptor, ServiceDescriptor
from google.protobuf.message import Message

from service.aws import data_loader
from service.convert import ContractMismatch, enum_value_name, proto_name

# Real ids vary in length (E2QWRUHAPOMQZL, E74FTE3AJFJ256A): pin the alphabet, bound the length.
_ID = re.compile(r"[A-Z0-9]{1,64}")
# An ETag travels in the If-Match header: printable ASCII only, so nothing can break the header.
_ETAG = re.compile(r"[\x21-\x7e]{1,256}")
# Characters XML 1.0 cannot carry at all.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# A marker is the id of the last item of a page; any printable ASCII is let through to AWS.
_MARKER = re.compile(r"[\x21-\x7e]{1,1024}")
MAX_COMMENT = 128
MAX_CALLER_REFERENCE = 1024
MAX_OAC_NAME = 64  # the CloudFront API reference's limit for OriginAccessControlConfig.Name

Check = Callable[[Any], str | None]
Violation = tuple[str, str]

CARRIAGE_RETURN = r"must not contain carriage returns (\r): XML turns them into \n"
MUST_NOT_BE_EMPTY = "must not be empty"
MUST_BE_SET = "must be set"


class CoverageError(ContractMismatch):
    """The validation rules and the registered services (or botocore's model) disagree."""


# -- hand-written checks: lengths and character sets ---------------------------------------------


def _xml_text(value: str) -> str | None:
    """Text that travels in an XML body must survive it unchanged."""
    if "\r" in value:
        # XML parsers normalise \r and \r\n to \n, and botocore does not send &#13;.
        return CARRIAGE_RETURN
    if _NOT_XML.search(value):
        return "must not contain control characters"
    return None


def _id(value: str) -> str | None:
    if not _ID.fullmatch(value):
        return "must be 1 to 64 characters A-Z and 0-9, like E74FTE3AJFJ256A"
    return None


def _if_match(value: str) -> str | None:
    if not _ETAG.fullmatch(value):
        return "must be the etag returned by a previous call (printable ASCII, at most 256)"
    return None


def _caller_reference(value: str) -> str | None:
    if len(value) > MAX_CALLER_REFERENCE:
        return f"must be at most {MAX_CALLER_REFERENCE} characters"
    return _xml_text(value)


def _comment(value: str) -> str | None:
    if len(value) > MAX_COMMENT:
        return f"must be at most {MAX_COMMENT} characters, got {len(value)}"
    return _xml_text(value)


def _oac_name(value: str) -> str | None:
    if len(value) > MAX_OAC_NAME:
        return f"must be at most {MAX_OAC_NAME} characters, got {len(value)}"
    return _xml_text(value)


def _max_items(value: int) -> str | None:
    return "must not be negative (0 means the default of 100)" if value < 0 else None


def _marker(value: str) -> str | None:
    if not _MARKER.fullmatch(value):
        return "must be the next_marker of a previous page (printable ASCII, at most 1024)"
    return None


_OAI_CONFIG = "cloud_front_origin_access_identity_config"
_OAI_CONFIG_CHECKS: Mapping[str, Check] = {
    f"{_OAI_CONFIG}.caller_reference": _caller_reference,
    f"{_OAI_CONFIG}.comment": _comment,
}
_OAC_CONFIG = "origin_access_control_config"
# AWS documents no length limit for Description: only its characters are checked.
_OAC_CONFIG_CHECKS: Mapping[str, Check] = {
    f"{_OAC_CONFIG}.name": _oac_name,
    f"{_OAC_CONFIG}.description": _xml_text,
}
_ID_CHECKS: Mapping[str, Check] = {"id": _id}
_WRITE_CHECKS: Mapping[str, Check] = {"id": _id, "if_match": _if_match}
_LIST_CHECKS: Mapping[str, Check] = {"marker": _marker, "max_items": _max_items}

#: RPC name -> {proto field path: check of a given value}. Every RPC of every registered service
#: has an entry, even one with no hand-written check (check_coverage insists).
CHECKS: Mapping[str, Mapping[str, Check]] = {
    "CreateCloudFrontOriginAccessIdentity": _OAI_CONFIG_CHECKS,
    "GetCloudFrontOriginAccessIdentity": _ID_CHECKS,
    "GetCloudFrontOriginAccessIdentityConfig": _ID_CHECKS,
    "UpdateCloudFrontOriginAccessIdentity": {**_WRITE_CHECKS, **_OAI_CONFIG_CHECKS},
    "DeleteCloudFrontOriginAccessIdentity": _WRITE_CHECKS,
    "ListCloudFrontOriginAccessIdentities": _LIST_CHECKS,
    "CreateOriginAccessControl": _OAC_CONFIG_CHECKS,
    "GetOriginAccessControl": _ID_CHECKS,
    "GetOriginAccessControlConfig": _ID_CHECKS,
    "UpdateOriginAccessControl": {**_WRITE_CHECKS, **_OAC_CONFIG_CHECKS},
    "DeleteOriginAccessControl": _WRITE_CHECKS,
    "ListOriginAccessControls": _LIST_CHECKS,
}

# -- the deliberate departures from the model, all in one place ----------------------------------

_ETAG_NEEDED = "must not be empty: pass the etag of your last read"

#: (RPC, path) -> violation when empty, for members the model leaves optional but the facade
#: requires: every write names the version it replaces (optimistic concurrency), so a write
#: without If-Match is refused here rather than by AWS with InvalidIfMatchVersion.
MUST_BE_GIVEN: Mapping[tuple[str, str], str] = {
    ("UpdateCloudFrontOriginAccessIdentity", "if_match"): _ETAG_NEEDED,
    ("DeleteCloudFrontOriginAccessIdentity", "if_match"): _ETAG_NEEDED,
    ("UpdateOriginAccessControl", "if_match"): _ETAG_NEEDED,
    ("DeleteOriginAccessControl", "if_match"): _ETAG_NEEDED,
}

#: (RPC, path) -> why: members the model requires whose empty value is a real value. The
#: convert plan still sends them (it sends every required member).
MAY_BE_EMPTY: Mapping[tuple[str, str], str] = {
    (
        "CreateCloudFrontOriginAccessIdentity",
        f"{_OAI_CONFIG}.comment",
    ): "an empty comment is a comment AWS accepts",
    (
        "UpdateCloudFrontOriginAccessIdentity",
        f"{_OAI_CONFIG}.comment",
    ): "an empty comment is a comment AWS accepts",
}


@dataclass(frozen=True, slots=True)
class Rules:
    """Everything hand-written about validation; the rest comes from the model."""

    checks: Mapping[str, Mapping[str, Check]]
    must_be_given: Mapping[tuple[str, str], str]
    may_be_empty: Mapping[tuple[str, str], str]


RULES = Rules(CHECKS, MUST_BE_GIVEN, MAY_BE_EMPTY)

# -- compiling the rules of one RPC against its request descriptor -------------------------------


@dataclass(frozen=True, slots=True)
class FieldRule:
    """What one field of one request must satisfy."""

    path: str  # proto field path, e.g. origin_access_control_config.name; "[]" = each element
    required: str | None  # the violation when the field is empty, None if empty is fine
    checks: tuple[Check, ...]  # run in order on a given value; the first problem is reported

    # Reads the value of a plain path fast (violations() is on every call's path); None for a
    # path with "[]", which fans out.
    get: Callable[[Message], Any] | None = None

    def values(self, message: Message) -> list[tuple[str, Any]]:
        """(concrete path, value) pairs of this field in `message`."""
        if self.get is not None:
            return [(self.path, self.get(message))]
        return _fan_out(message, self.path)


@functools.cache
def cloudfront_model() -> ServiceModel:
    """botocore's CloudFront model, the authority for required members and enums."""
    session = botocore.session.get_session()
    # The client's loader: one parsed copy of the model in the process, not two (~4 MB each).
    session.register_component("data_loader", data_loader(session.get_config_variable("data_path")))
    return session.get_service_model("cloudfront")


def _enum_check(field: FieldDescriptor, shape: Shape) -> Check | None:
    """Membership in ``shape.enum``: for a proto enum via its UPPER_SNAKE value names."""
    allowed_values: list[str] = list(getattr(shape, "enum", None) or ())
    if not allowed_values:
        if field.enum_type is not None:
            raise CoverageError(f"{field.full_name} is a proto enum, but {shape.name} has none")
        return None
    if field.enum_type is None:
        allowed = frozenset(allowed_values)
        listed = ", ".join(allowed_values)

        def check_string(value: str) -> str | None:
            return None if value in allowed else f"must be one of {listed}"

        return check_string
    enum = field.enum_type
    try:
        by_aws = {enum_value_name(enum, value): value for value in allowed_values}
    except ContractMismatch as error:  # the naming rule's own check: a start-up failure here
        raise CoverageError(str(error)) from None
    offered = {v.name: v for v in enum.values if v.number != 0}
    unknown_to_aws = sorted(set(offered) - set(by_aws))
    if unknown_to_aws:
        raise CoverageError(f"{enum.full_name} offers values {shape.name} lacks: {unknown_to_aws}")
    numbers = frozenset(value.number for value in offered.values())
    names = ", ".join(offered[name].name for name in by_aws if name in offered)

    def check_enum(value: int) -> str | None:
        return None if value in numbers else f"must be one of {names}"

    return check_enum


def _derive(
    rpc: str, descriptor: Descriptor, shape: StructureShape, prefix: str = ""
) -> list[tuple[FieldDescriptor, str, bool, Shape]]:
    """(field, path, model-required, member shape) for every leaf, in the request's order."""
    fields = descriptor.fields_by_name
    members: dict[str, tuple[str, Shape]] = {}
    for member, member_shape in shape.members.items():
        name = proto_name(member)
        if name not in fields:
            raise CoverageError(f"{rpc}: {descriptor.full_name} has no field {name} for {member}")
        members[name] = (member, member_shape)
    required = set(shape.required_members)
    found: list[tuple[FieldDescriptor, str, bool, Shape]] = []
    for field in descriptor.fields:
        if field.name not in members:
            continue  # a proto field AWS does not know: convert.Plan refuses it
        member, member_shape = members[field.name]
        path = f"{prefix}{field.name}"
        if field.is_repeated:
            path, member_shape = f"{path}[]", getattr(member_shape, "member", member_shape)
        if field.message_type is not None and isinstance(member_shape, StructureShape):
            found += _derive(rpc, field.message_type, member_shape, f"{path}.")
        else:
            found.append((field, path, member in required, member_shape))
    return found


def _empty_violation(field: FieldDescriptor, path: str, model_required: bool) -> str | None:
    # Repeated fields, numbers and booleans have no "empty": 0, false and [] are real values.
    if not model_required or path.endswith("[]"):
        return None
    if field.enum_type is not None:
        return MUST_BE_SET
    if field.type in (FieldDescriptor.TYPE_STRING, FieldDescriptor.TYPE_BYTES):
        return MUST_NOT_BE_EMPTY
    return None


def compile_rules(
    rpc: str, request: Descriptor, model: ServiceModel, rules: Rules = RULES
) -> tuple[FieldRule, ...]:
    """The field rules of one RPC: derived from the model, plus the hand-written ones.

    Raises :class:`CoverageError` if a hand-written path or a departure does not resolve in
    `request`, or if a departure is not one (the model already says the same).
    """
    if rpc not in rules.checks:
        raise CoverageError(f"validation has no rules for {rpc}")
    try:
        input_shape = model.operation_model(rpc).input_shape
    except OperationNotFoundError:
        raise CoverageError(f"{rpc} is not an operation of botocore's CloudFront model") from None
    leaves = _derive(rpc, request, input_shape) if input_shape is not None else []
    by_path = {path: (field, required, shape) for field, path, required, shape in leaves}
    for kind, table in (("check", rules.checks[rpc]), ("departure", _departures(rpc, rules))):
        for path in table:
            if path not in by_path:
                raise CoverageError(
                    f"validation {kind} for {rpc} names {path!r}, which is not a"
                    f" scalar field of {request.full_name} known to AWS"
                )
    compiled: list[FieldRule] = []
    for path, (field, model_required, shape) in by_path.items():
        required = _empty_violation(field, path, model_required)
        if (rpc, path) in rules.may_be_empty:
            if required is None:
                raise CoverageError(
                    f"{rpc} {path}: MAY_BE_EMPTY, but the model does not require it"
                )
            required = None
        if (rpc, path) in rules.must_be_given:
            if required is not None:
                raise CoverageError(f"{rpc} {path}: MUST_BE_GIVEN, but the model requires it")
            required = rules.must_be_given[rpc, path]
        checks = [check for check in (_enum_check(field, shape),) if check is not None]
        hand = rules.checks[rpc].get(path)
        if hand is not None:
            checks.append(hand)
        if required is not None or checks:
            get = None if "[]" in path else operator.attrgetter(path)
            compiled.append(FieldRule(path, required, tuple(checks), get))
    return tuple(compiled)


def _departures(rpc: str, rules: Rules) -> list[str]:
    return [path for (name, path) in (*rules.must_be_given, *rules.may_be_empty) if name == rpc]


def check_coverage(
    services: Iterable[ServiceDescriptor], rules: Rules = RULES, model: ServiceModel | None = None
) -> None:
    """Fail loudly unless the rules fit the services exactly; call once at start-up.

    `services` are the protobuf ServiceDescriptors the server registers (for example
    ``origin_access_control_service_pb2.DESCRIPTOR.services_by_name[...]``). Raises
    :class:`CoverageError` naming the first problem if an RPC of a service has no rules, a rule
    names an RPC no service has, an RPC name appears in two services, a field path does not
    resolve in the RPC's request descriptor, or a departure from the model is not one. `model`
    defaults to botocore's CloudFront model (loaded once and kept). No other side effect.
    """
    model = model if model is not None else cloudfront_model()
    requests: dict[str, Descriptor] = {}
    for service in services:
        for method in service.methods:
            if method.name in requests:
                raise CoverageError(f"RPC {method.name} is in two registered services")
            requests[method.name] = method.input_type
    named = set(rules.checks) | {rpc for rpc, _ in (*rules.must_be_given, *rules.may_be_empty)}
    missing = sorted(set(requests) - set(rules.checks))
    if missing:
        raise CoverageError(f"validation has no rules for RPCs {missing}")
    extra = sorted(named - set(requests))
    if extra:
        raise CoverageError(f"validation has rules for RPCs no registered service has: {extra}")
    for rpc, request in requests.items():
        compile_rules(rpc, request, model, rules)


# -- checking a request ---------------------------------------------------------------------------

# RPC -> its compiled rules, filled on first use: violations() is on every call's path.
_compiled: dict[str, tuple[FieldRule, ...]] = {}


def _rules_for(rpc: str, request: Message) -> tuple[FieldRule, ...]:
    rules = _compiled.get(rpc)
    if rules is None:
        descriptor = cast(Descriptor, request.DESCRIPTOR)  # the stubs' union of two classes
        rules = _compiled[rpc] = compile_rules(rpc, descriptor, cloudfront_model())
    return rules


def _fan_out(message: Message, path: str) -> list[tuple[str, Any]]:
    """(concrete path, value) for a path with "[]" segments, one pair per element."""
    found: list[tuple[str, Any]] = [("", message)]
    for part in path.split("."):
        name = part.removesuffix("[]")
        step: list[tuple[str, Any]] = []
        for at, value in found:
            got = getattr(value, name)
            where = f"{at}.{name}" if at else name
            if part.endswith("[]"):
                step += [(f"{where}[{i}]", item) for i, item in enumerate(got)]
            else:
                step.append((where, got))
        found = step
    return found


def violations(rpc: str, request: Message) -> list[Violation]:
    """Every field the request gets wrong, as (field path, description), at most one each."""
    found: list[Violation] = []
    for rule in _rules_for(rpc, request):
        for path, value in rule.values(request):
            problem = _problem(rule, value)
            if problem is not None:
                found.append((path, problem))
    return found


def _problem(rule: FieldRule, value: Any) -> str | None:
    if not value:  # proto3's default: "", 0, the _UNSPECIFIED enum value
        return rule.required
    for check in rule.checks:
        problem = check(value)
        if problem is not None:
            return problem
    return None
