from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class OriginAccessControlSigningProtocols(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ORIGIN_ACCESS_CONTROL_SIGNING_PROTOCOLS_UNSPECIFIED: _ClassVar[OriginAccessControlSigningProtocols]
    ORIGIN_ACCESS_CONTROL_SIGNING_PROTOCOLS_SIGV4: _ClassVar[OriginAccessControlSigningProtocols]

class OriginAccessControlSigningBehaviors(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ORIGIN_ACCESS_CONTROL_SIGNING_BEHAVIORS_UNSPECIFIED: _ClassVar[OriginAccessControlSigningBehaviors]
    ORIGIN_ACCESS_CONTROL_SIGNING_BEHAVIORS_NEVER: _ClassVar[OriginAccessControlSigningBehaviors]
    ORIGIN_ACCESS_CONTROL_SIGNING_BEHAVIORS_ALWAYS: _ClassVar[OriginAccessControlSigningBehaviors]
    ORIGIN_ACCESS_CONTROL_SIGNING_BEHAVIORS_NO_OVERRIDE: _ClassVar[OriginAccessControlSigningBehaviors]

class OriginAccessControlOriginTypes(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ORIGIN_ACCESS_CONTROL_ORIGIN_TYPES_UNSPECIFIED: _ClassVar[OriginAccessControlOriginTypes]
    ORIGIN_ACCESS_CONTROL_ORIGIN_TYPES_S3: _ClassVar[OriginAccessControlOriginTypes]
    ORIGIN_ACCESS_CONTROL_ORIGIN_TYPES_MEDIASTORE: _ClassVar[OriginAccessControlOriginTypes]
    ORIGIN_ACCESS_CONTROL_ORIGIN_TYPES_MEDIAPACKAGEV2: _ClassVar[OriginAccessControlOriginTypes]
    ORIGIN_ACCESS_CONTROL_ORIGIN_TYPES_LAMBDA: _ClassVar[OriginAccessControlOriginTypes]
ORIGIN_ACCESS_CONTROL_SIGNING_PROTOCOLS_UNSPECIFIED: OriginAccessControlSigningProtocols
ORIGIN_ACCESS_CONTROL_SIGNING_PROTOCOLS_SIGV4: OriginAccessControlSigningProtocols
ORIGIN_ACCESS_CONTROL_SIGNING_BEHAVIORS_UNSPECIFIED: OriginAccessControlSigningBehaviors
ORIGIN_ACCESS_CONTROL_SIGNING_BEHAVIORS_NEVER: OriginAccessControlSigningBehaviors
ORIGIN_ACCESS_CONTROL_SIGNING_BEHAVIORS_ALWAYS: OriginAccessControlSigningBehaviors
ORIGIN_ACCESS_CONTROL_SIGNING_BEHAVIORS_NO_OVERRIDE: OriginAccessControlSigningBehaviors
ORIGIN_ACCESS_CONTROL_ORIGIN_TYPES_UNSPECIFIED: OriginAccessControlOriginTypes
ORIGIN_ACCESS_CONTROL_ORIGIN_TYPES_S3: OriginAccessControlOriginTypes
ORIGIN_ACCESS_CONTROL_ORIGIN_TYPES_MEDIASTORE: OriginAccessControlOriginTypes
ORIGIN_ACCESS_CONTROL_ORIGIN_TYPES_MEDIAPACKAGEV2: OriginAccessControlOriginTypes
ORIGIN_ACCESS_CONTROL_ORIGIN_TYPES_LAMBDA: OriginAccessControlOriginTypes

class OriginAccessControlConfig(_message.Message):
    __slots__ = ("name", "description", "signing_protocol", "signing_behavior", "origin_access_control_origin_type")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    SIGNING_PROTOCOL_FIELD_NUMBER: _ClassVar[int]
    SIGNING_BEHAVIOR_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_ACCESS_CONTROL_ORIGIN_TYPE_FIELD_NUMBER: _ClassVar[int]
    name: str
    description: str
    signing_protocol: OriginAccessControlSigningProtocols
    signing_behavior: OriginAccessControlSigningBehaviors
    origin_access_control_origin_type: OriginAccessControlOriginTypes
    def __init__(self, name: _Optional[str] = ..., description: _Optional[str] = ..., signing_protocol: _Optional[_Union[OriginAccessControlSigningProtocols, str]] = ..., signing_behavior: _Optional[_Union[OriginAccessControlSigningBehaviors, str]] = ..., origin_access_control_origin_type: _Optional[_Union[OriginAccessControlOriginTypes, str]] = ...) -> None: ...

class OriginAccessControl(_message.Message):
    __slots__ = ("id", "origin_access_control_config")
    ID_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_ACCESS_CONTROL_CONFIG_FIELD_NUMBER: _ClassVar[int]
    id: str
    origin_access_control_config: OriginAccessControlConfig
    def __init__(self, id: _Optional[str] = ..., origin_access_control_config: _Optional[_Union[OriginAccessControlConfig, _Mapping]] = ...) -> None: ...

class OriginAccessControlSummary(_message.Message):
    __slots__ = ("id", "description", "name", "signing_protocol", "signing_behavior", "origin_access_control_origin_type")
    ID_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SIGNING_PROTOCOL_FIELD_NUMBER: _ClassVar[int]
    SIGNING_BEHAVIOR_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_ACCESS_CONTROL_ORIGIN_TYPE_FIELD_NUMBER: _ClassVar[int]
    id: str
    description: str
    name: str
    signing_protocol: OriginAccessControlSigningProtocols
    signing_behavior: OriginAccessControlSigningBehaviors
    origin_access_control_origin_type: OriginAccessControlOriginTypes
    def __init__(self, id: _Optional[str] = ..., description: _Optional[str] = ..., name: _Optional[str] = ..., signing_protocol: _Optional[_Union[OriginAccessControlSigningProtocols, str]] = ..., signing_behavior: _Optional[_Union[OriginAccessControlSigningBehaviors, str]] = ..., origin_access_control_origin_type: _Optional[_Union[OriginAccessControlOriginTypes, str]] = ...) -> None: ...

class OriginAccessControlList(_message.Message):
    __slots__ = ("marker", "next_marker", "max_items", "is_truncated", "quantity", "items")
    MARKER_FIELD_NUMBER: _ClassVar[int]
    NEXT_MARKER_FIELD_NUMBER: _ClassVar[int]
    MAX_ITEMS_FIELD_NUMBER: _ClassVar[int]
    IS_TRUNCATED_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    marker: str
    next_marker: str
    max_items: int
    is_truncated: bool
    quantity: int
    items: _containers.RepeatedCompositeFieldContainer[OriginAccessControlSummary]
    def __init__(self, marker: _Optional[str] = ..., next_marker: _Optional[str] = ..., max_items: _Optional[int] = ..., is_truncated: _Optional[bool] = ..., quantity: _Optional[int] = ..., items: _Optional[_Iterable[_Union[OriginAccessControlSummary, _Mapping]]] = ...) -> None: ...

class CreateOriginAccessControlRequest(_message.Message):
    __slots__ = ("origin_access_control_config",)
    ORIGIN_ACCESS_CONTROL_CONFIG_FIELD_NUMBER: _ClassVar[int]
    origin_access_control_config: OriginAccessControlConfig
    def __init__(self, origin_access_control_config: _Optional[_Union[OriginAccessControlConfig, _Mapping]] = ...) -> None: ...

class CreateOriginAccessControlResponse(_message.Message):
    __slots__ = ("origin_access_control", "location", "etag")
    ORIGIN_ACCESS_CONTROL_FIELD_NUMBER: _ClassVar[int]
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    origin_access_control: OriginAccessControl
    location: str
    etag: str
    def __init__(self, origin_access_control: _Optional[_Union[OriginAccessControl, _Mapping]] = ..., location: _Optional[str] = ..., etag: _Optional[str] = ...) -> None: ...

class GetOriginAccessControlRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetOriginAccessControlResponse(_message.Message):
    __slots__ = ("origin_access_control", "etag")
    ORIGIN_ACCESS_CONTROL_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    origin_access_control: OriginAccessControl
    etag: str
    def __init__(self, origin_access_control: _Optional[_Union[OriginAccessControl, _Mapping]] = ..., etag: _Optional[str] = ...) -> None: ...

class GetOriginAccessControlConfigRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetOriginAccessControlConfigResponse(_message.Message):
    __slots__ = ("origin_access_control_config", "etag")
    ORIGIN_ACCESS_CONTROL_CONFIG_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    origin_access_control_config: OriginAccessControlConfig
    etag: str
    def __init__(self, origin_access_control_config: _Optional[_Union[OriginAccessControlConfig, _Mapping]] = ..., etag: _Optional[str] = ...) -> None: ...

class UpdateOriginAccessControlRequest(_message.Message):
    __slots__ = ("origin_access_control_config", "id", "if_match")
    ORIGIN_ACCESS_CONTROL_CONFIG_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    IF_MATCH_FIELD_NUMBER: _ClassVar[int]
    origin_access_control_config: OriginAccessControlConfig
    id: str
    if_match: str
    def __init__(self, origin_access_control_config: _Optional[_Union[OriginAccessControlConfig, _Mapping]] = ..., id: _Optional[str] = ..., if_match: _Optional[str] = ...) -> None: ...

class UpdateOriginAccessControlResponse(_message.Message):
    __slots__ = ("origin_access_control", "etag")
    ORIGIN_ACCESS_CONTROL_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    origin_access_control: OriginAccessControl
    etag: str
    def __init__(self, origin_access_control: _Optional[_Union[OriginAccessControl, _Mapping]] = ..., etag: _Optional[str] = ...) -> None: ...

class DeleteOriginAccessControlRequest(_message.Message):
    __slots__ = ("id", "if_match")
    ID_FIELD_NUMBER: _ClassVar[int]
    IF_MATCH_FIELD_NUMBER: _ClassVar[int]
    id: str
    if_match: str
    def __init__(self, id: _Optional[str] = ..., if_match: _Optional[str] = ...) -> None: ...

class DeleteOriginAccessControlResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListOriginAccessControlsRequest(_message.Message):
    __slots__ = ("marker", "max_items")
    MARKER_FIELD_NUMBER: _ClassVar[int]
    MAX_ITEMS_FIELD_NUMBER: _ClassVar[int]
    marker: str
    max_items: int
    def __init__(self, marker: _Optional[str] = ..., max_items: _Optional[int] = ...) -> None: ...

class ListOriginAccessControlsResponse(_message.Message):
    __slots__ = ("origin_access_control_list",)
    ORIGIN_ACCESS_CONTROL_LIST_FIELD_NUMBER: _ClassVar[int]
    origin_access_control_list: OriginAccessControlList
    def __init__(self, origin_access_control_list: _Optional[_Union[OriginAccessControlList, _Mapping]] = ...) -> None: ...
