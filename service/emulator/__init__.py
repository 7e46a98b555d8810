"""A wire-faithful CloudFront origin access identity emulator with fault injection.

It speaks CloudFront's REST-XML API version 2020-05-31 for the six origin access
identity operations, so the real botocore/aioboto3 client can be pointed at it.
"""

from service.emulator.app import Emulator, running_emulator
from service.emulator.faults import FaultRule, RequestRecord
from service.emulator.store import Identity

__all__ = ["Emulator", "FaultRule", "Identity", "RequestRecord", "running_emulator"]
