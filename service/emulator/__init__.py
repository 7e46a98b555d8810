"""A wire-faithful CloudFront emulator with fault injection.

It speaks CloudFront's REST-XML API version 2020-05-31 for the origin access identity
and origin access control operations, so the real botocore/aioboto3 client can be
pointed at it. Routes, documents and error statuses are read from botocore's model.
"""

from service.emulator.app import Emulator
from service.emulator.faults import FaultRule, RequestRecord
from service.emulator.resources import (
    ORIGIN_ACCESS_CONTROL,
    ORIGIN_ACCESS_IDENTITY,
    RESOURCES,
    Identity,
    OriginAccessControl,
    Resource,
)
from service.emulator.sts import (
    CredentialRegistry,
    RoleRule,
    StsEmulator,
    StsRecord,
    TemporaryCredentials,
)

__all__ = [
    "ORIGIN_ACCESS_CONTROL",
    "ORIGIN_ACCESS_IDENTITY",
    "RESOURCES",
    "CredentialRegistry",
    "Emulator",
    "FaultRule",
    "Identity",
    "OriginAccessControl",
    "RequestRecord",
    "Resource",
    "RoleRule",
    "StsEmulator",
    "StsRecord",
    "TemporaryCredentials",
]
