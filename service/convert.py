"""Proto <-> botocore conversion, derived once from both schemas instead of written per RPC.

A :class:`Plan` pairs each member of a botocore shape with the proto field of the same name in
snake_case. Building the plans at start-up doubles as a contract check: a member the proto
lacks, or a proto field botocore does not know, fails loudly before the server takes a call.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore import xform_name
from botocore.model import Shape, StructureShape
from google.protobuf import message_factory
from google.protobuf.descriptor import EnumDescriptor, FieldDescriptor
from google.protobuf.message import Message

from service.logs import LOGGER

log = logging.getLogger(LOGGER)

# botocore's snake_case of ETag is e_tag; AWS and every SDK say etag.
_FIELD_NAME_OVERRIDES = {"ETag": "etag"}

BotoDict = dict[str, Any]


def proto_name(member: str) -> str:
    return _FIELD_NAME_OVERRIDES.get(member) or xform_name(member)


@dataclass(frozen=True, slots=True)
class _Member:
    member: str  # botocore member name, e.g. CallerReference
    field: str  # proto field name, e.g. caller_reference
    required: bool
    answered: bool  # an answer without it is not what the model promises
    nested: Plan | None
    repeated: bool
    to_boto: Callable[[Any], Any]
    from_boto: Callable[[Any], Any]


class ContractMismatch(RuntimeError):
    """The proto schema and botocore's model disagree."""


class MissingMembers(ValueError):
    """A botocore result lacks members its shape promises; `paths` names each one."""

    def __init__(self, paths: list[str]) -> None:
        super().__init__(", ".join(paths))
        self.paths = paths


class Plan:
    """How one proto message maps onto one botocore structure shape, in both directions."""

    def __init__(self, message_class: type[Message], shape: StructureShape | None) -> None:
        """`shape` is None for an operation with no output (Delete): the empty message."""
        self.message_class = message_class
        descriptor = message_class.DESCRIPTOR
        fields = descriptor.fields_by_name
        members: list[_Member] = []
        required = set(shape.required_members) if shape is not None else set()
        # An answer also always carries its payload (the resource itself) and the ETag header
        # where the operation has one, though the model does not mark them required.
        answered = set(required)
        if shape is not None and "payload" in shape.serialization:
            answered.add(shape.serialization["payload"])
        for member, member_shape in shape.members.items() if shape is not None else ():
            name = proto_name(member)
            field = fields.get(name)
            if field is None:
                raise ContractMismatch(f"{descriptor.full_name} has no field {name} for {member}")
            if member_shape.serialization == {"location": "header", "name": "ETag"}:
                answered.add(member)
            members.append(
                self._member(member, member_shape, field, member in required, member in answered)
            )
        unknown = set(fields) - {m.field for m in members}
        if unknown:
            raise ContractMismatch(f"{descriptor.full_name} fields unknown to AWS: {unknown}")
        self._members = tuple(members)

    @staticmethod
    def _member(member: str, shape: Shape, field: Any, required: bool, answered: bool) -> _Member:
        repeated = shape.type_name == "list"
        element = shape.member if repeated else shape
        nested = None
        if field.message_type is not None:
            nested = Plan(_message_class(field), element)
        to_boto: Callable[[Any], Any]
        from_boto: Callable[[Any], Any] = _identity
        if field.enum_type is not None:
            to_boto, from_boto = _enum_codec(field, element)
        elif element.type_name == "string":
            # The request member MaxItems is a string in the AWS model but an int32 in the proto.
            to_boto = str
        else:
            to_boto = _identity
        if repeated and nested is None:  # a list of scalars travels as a list, item by item
            to_boto, from_boto = _each(to_boto), _each(from_boto)
        return _Member(member, field.name, required, answered, nested, repeated, to_boto, from_boto)

    def to_boto(self, message: Message) -> BotoDict:
        """Request proto -> botocore params. Proto3 defaults (0, "") mean "not given" unless
        AWS requires the member (an empty Comment is a real value)."""
        params: BotoDict = {}
        for m in self._members:
            value = getattr(message, m.field)
            if m.nested is not None:
                if m.repeated:
                    params[m.member] = [m.nested.to_boto(v) for v in value]
                elif m.required or message.HasField(m.field):
                    params[m.member] = m.nested.to_boto(value)
            elif value or m.required:
                params[m.member] = m.to_boto(value)
        return params

    def from_boto(self, data: BotoDict) -> Message:
        """botocore result -> response proto. Members AWS may leave out stay at their defaults;
        a member the model promises that is missing, at any depth, raises MissingMembers."""
        missing: list[str] = []
        message = self._from_boto(data, "", missing)
        if missing:
            raise MissingMembers(missing)
        return message

    def _from_boto(self, data: BotoDict, path: str, missing: list[str]) -> Message:
        kwargs: dict[str, Any] = {}
        for m in self._members:
            value = data.get(m.member)
            if value is None:
                if m.answered:
                    missing.append(path + m.member)
                continue
            if m.nested is None:
                kwargs[m.field] = m.from_boto(value)
            elif m.repeated:
                kwargs[m.field] = [
                    m.nested._from_boto(v, f"{path}{m.member}[{i}].", missing)
                    for i, v in enumerate(value)
                ]
            else:
                kwargs[m.field] = m.nested._from_boto(value, f"{path}{m.member}.", missing)
        return self.message_class(**kwargs)


def enum_value_name(enum: EnumDescriptor, aws_value: str) -> str:
    """The proto value name of an AWS enum value, the one naming rule (validation uses it too):
    the prefix of the enum's zero value PREFIX_UNSPECIFIED, then the AWS value in UPPER_SNAKE
    (no-override -> PREFIX_NO_OVERRIDE)."""
    zero = enum.values_by_number.get(0)
    if zero is None or not zero.name.endswith("_UNSPECIFIED"):
        raise ContractMismatch(f"{enum.full_name}: the zero value must be ..._UNSPECIFIED")
    prefix = zero.name.removesuffix("UNSPECIFIED")
    return prefix + re.sub(r"[^A-Z0-9]", "_", aws_value.upper())


def _enum_codec(field: Any, shape: Shape) -> tuple[Callable[[Any], Any], Callable[[Any], Any]]:
    """Proto enum number <-> AWS string, derived from both schemas and checked both ways."""
    enum = field.enum_type
    aws_values: list[str] = list(getattr(shape, "enum", None) or [])
    if not aws_values:
        raise ContractMismatch(f"{field.full_name} is an enum but AWS's {shape.name} is not")
    by_name = {enum_value_name(enum, v): v for v in aws_values}
    to_aws: dict[int, str] = {}
    for value in enum.values:
        if value.number == 0:
            continue  # _UNSPECIFIED: refused by validation, never sent
        if value.name not in by_name:
            raise ContractMismatch(f"{value.full_name} is not a value of AWS's {shape.name}")
        to_aws[value.number] = by_name[value.name]
    from_aws = {aws: number for number, aws in to_aws.items()}
    reported: set[str] = set()

    def to_boto(number: int) -> str:
        return to_aws[number]

    def from_boto(aws: str) -> int:
        number = from_aws.get(aws)
        if number is None:
            # A value AWS added after this schema: the call still succeeds, as _UNSPECIFIED.
            if aws not in reported:
                reported.add(aws)
                log.warning(
                    "AWS returned an enum value the schema does not know",
                    extra={"fields": {"enum": enum.full_name, "value": aws}},
                )
            return 0
        return number

    return to_boto, from_boto


def _each(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def each(values: Any) -> list[Any]:
        return [convert(v) for v in values]

    return each


def _identity(value: Any) -> Any:
    return value


def _message_class(field: FieldDescriptor) -> type[Message]:
    if field.message_type is None:
        raise ContractMismatch(f"{field.full_name} is not a message field")
    return message_factory.GetMessageClass(field.message_type)
