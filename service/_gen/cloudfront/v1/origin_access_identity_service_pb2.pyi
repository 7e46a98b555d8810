from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CloudFrontOriginAccessIdentityConfig(_message.Message):
    __slots__ = ("caller_reference", "comment")
    CALLER_REFERENCE_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    caller_reference: str
    comment: str
    def __init__(self, caller_reference: _Optional[str] = ..., comment: _Optional[str] = ...) -> None: ...

class CloudFrontOriginAccessIdentity(_message.Message):
    __slots__ = ("id", "s3_canonical_user_id", "cloud_front_origin_access_identity_config")
    ID_FIELD_NUMBER: _ClassVar[int]
    S3_CANONICAL_USER_ID_FIELD_NUMBER: _ClassVar[int]
    CLOUD_FRONT_ORIGIN_ACCESS_IDENTITY_CONFIG_FIELD_NUMBER: _ClassVar[int]
    id: str
    s3_canonical_user_id: str
    cloud_front_origin_access_identity_config: CloudFrontOriginAccessIdentityConfig
    def __init__(self, id: _Optional[str] = ..., s3_canonical_user_id: _Optional[str] = ..., cloud_front_origin_access_identity_config: _Optional[_Union[CloudFrontOriginAccessIdentityConfig, _Mapping]] = ...) -> None: ...

class CloudFrontOriginAccessIdentitySummary(_message.Message):
    __slots__ = ("id", "s3_canonical_user_id", "comment")
    ID_FIELD_NUMBER: _ClassVar[int]
    S3_CANONICAL_USER_ID_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    id: str
    s3_canonical_user_id: str
    comment: str
    def __init__(self, id: _Optional[str] = ..., s3_canonical_user_id: _Optional[str] = ..., comment: _Optional[str] = ...) -> None: ...

class CloudFrontOriginAccessIdentityList(_message.Message):
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
    items: _containers.RepeatedCompositeFieldContainer[CloudFrontOriginAccessIdentitySummary]
    def __init__(self, marker: _Optional[str] = ..., next_marker: _Optional[str] = ..., max_items: _Optional[int] = ..., is_truncated: _Optional[bool] = ..., quantity: _Optional[int] = ..., items: _Optional[_Iterable[_Union[CloudFrontOriginAccessIdentitySummary, _Mapping]]] = ...) -> None: ...

class CreateCloudFrontOriginAccessIdentityRequest(_message.Message):
    __slots__ = ("cloud_front_origin_access_identity_config",)
    CLOUD_FRONT_ORIGIN_ACCESS_IDENTITY_CONFIG_FIELD_NUMBER: _ClassVar[int]
    cloud_front_origin_access_identity_config: CloudFrontOriginAccessIdentityConfig
    def __init__(self, cloud_front_origin_access_identity_config: _Optional[_Union[CloudFrontOriginAccessIdentityConfig, _Mapping]] = ...) -> None: ...

class CreateCloudFrontOriginAccessIdentityResponse(_message.Message):
    __slots__ = ("cloud_front_origin_access_identity", "location", "etag")
    CLOUD_FRONT_ORIGIN_ACCESS_IDENTITY_FIELD_NUMBER: _ClassVar[int]
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    cloud_front_origin_access_identity: CloudFrontOriginAccessIdentity
    location: str
    etag: str
    def __init__(self, cloud_front_origin_access_identity: _Optional[_Union[CloudFrontOriginAccessIdentity, _Mapping]] = ..., location: _Optional[str] = ..., etag: _Optional[str] = ...) -> None: ...

class GetCloudFrontOriginAccessIdentityRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetCloudFrontOriginAccessIdentityResponse(_message.Message):
    __slots__ = ("cloud_front_origin_access_identity", "etag")
    CLOUD_FRONT_ORIGIN_ACCESS_IDENTITY_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    cloud_front_origin_access_identity: CloudFrontOriginAccessIdentity
    etag: str
    def __init__(self, cloud_front_origin_access_identity: _Optional[_Union[CloudFrontOriginAccessIdentity, _Mapping]] = ..., etag: _Optional[str] = ...) -> None: ...

class GetCloudFrontOriginAccessIdentityConfigRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetCloudFrontOriginAccessIdentityConfigResponse(_message.Message):
    __slots__ = ("cloud_front_origin_access_identity_config", "etag")
    CLOUD_FRONT_ORIGIN_ACCESS_IDENTITY_CONFIG_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    cloud_front_origin_access_identity_config: CloudFrontOriginAccessIdentityConfig
    etag: str
    def __init__(self, cloud_front_origin_access_identity_config: _Optional[_Union[CloudFrontOriginAccessIdentityConfig, _Mapping]] = ..., etag: _Optional[str] = ...) -> None: ...

class UpdateCloudFrontOriginAccessIdentityRequest(_message.Message):
    __slots__ = ("cloud_front_origin_access_identity_config", "id", "if_match")
    CLOUD_FRONT_ORIGIN_ACCESS_IDENTITY_CONFIG_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    IF_MATCH_FIELD_NUMBER: _ClassVar[int]
    cloud_front_origin_access_identity_config: CloudFrontOriginAccessIdentityConfig
    id: str
    if_match: str
    def __init__(self, cloud_front_origin_access_identity_config: _Optional[_Union[CloudFrontOriginAccessIdentityConfig, _Mapping]] = ..., id: _Optional[str] = ..., if_match: _Optional[str] = ...) -> None: ...

class UpdateCloudFrontOriginAccessIdentityResponse(_message.Message):
    __slots__ = ("cloud_front_origin_access_identity", "etag")
    CLOUD_FRONT_ORIGIN_ACCESS_IDENTITY_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    cloud_front_origin_access_identity: CloudFrontOriginAccessIdentity
    etag: str
    def __init__(self, cloud_front_origin_access_identity: _Optional[_Union[CloudFrontOriginAccessIdentity, _Mapping]] = ..., etag: _Optional[str] = ...) -> None: ...

class DeleteCloudFrontOriginAccessIdentityRequest(_message.Message):
    __slots__ = ("id", "if_match")
    ID_FIELD_NUMBER: _ClassVar[int]
    IF_MATCH_FIELD_NUMBER: _ClassVar[int]
    id: str
    if_match: str
    def __init__(self, id: _Optional[str] = ..., if_match: _Optional[str] = ...) -> None: ...

class DeleteCloudFrontOriginAccessIdentityResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListCloudFrontOriginAccessIdentitiesRequest(_message.Message):
    __slots__ = ("marker", "max_items")
    MARKER_FIELD_NUMBER: _ClassVar[int]
    MAX_ITEMS_FIELD_NUMBER: _ClassVar[int]
    marker: str
    max_items: int
    def __init__(self, marker: _Optional[str] = ..., max_items: _Optional[int] = ...) -> None: ...

class ListCloudFrontOriginAccessIdentitiesResponse(_message.Message):
    __slots__ = ("cloud_front_origin_access_identity_list",)
    CLOUD_FRONT_ORIGIN_ACCESS_IDENTITY_LIST_FIELD_NUMBER: _ClassVar[int]
    cloud_front_origin_access_identity_list: CloudFrontOriginAccessIdentityList
    def __init__(self, cloud_front_origin_access_identity_list: _Optional[_Union[CloudFrontOriginAccessIdentityList, _Mapping]] = ...) -> None: ...
