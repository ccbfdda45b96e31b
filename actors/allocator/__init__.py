"""Hierarchical resource allocators over a resource vector.

The engine (:class:`Allocator`) is a plain deterministic library; policies
(:class:`StaticPolicy`, :class:`FairSharePolicy`) decide fairness.
"""

from ._actor import AllocatorActor as AllocatorActor
from ._actor import allocate as allocate
from ._actor import release as release
from ._actor import resize as resize
from ._allocator import Allocator as Allocator
from ._allocator import Grant as Grant
from ._errors import AllocatorError as AllocatorError
from ._errors import GrantReleased as GrantReleased
from ._errors import InsufficientResources as InsufficientResources
from ._errors import InvalidRequest as InvalidRequest
from ._errors import UsageExceedsGrant as UsageExceedsGrant
from ._policy import AllocationPolicy as AllocationPolicy
from ._policy import FairSharePolicy as FairSharePolicy
from ._policy import PendingRequest as PendingRequest
from ._policy import StaticPolicy as StaticPolicy
from ._messages import Allocate as Allocate
from ._messages import AllocatorStatus as AllocatorStatus
from ._messages import CheckUsage as CheckUsage
from ._messages import Granted as Granted
from ._messages import RecordUsage as RecordUsage
from ._messages import Release as Release
from ._messages import Released as Released
from ._messages import Resize as Resize
from ._messages import Resized as Resized
from ._messages import Status as Status
from ._messages import Subdivide as Subdivide
from ._messages import Subdivided as Subdivided
from ._messages import UsageReport as UsageReport
from ._resources import RESOURCE_KINDS as RESOURCE_KINDS
from ._resources import Resources as Resources

__all__ = [
    "Allocate",
    "AllocatorActor",
    "AllocatorStatus",
    "CheckUsage",
    "Granted",
    "RecordUsage",
    "Release",
    "Released",
    "Resize",
    "Resized",
    "Status",
    "Subdivide",
    "Subdivided",
    "allocate",
    "release",
    "resize",
    "Allocator",
    "AllocationPolicy",
    "AllocatorError",
    "FairSharePolicy",
    "Grant",
    "GrantReleased",
    "InsufficientResources",
    "InvalidRequest",
    "PendingRequest",
    "RESOURCE_KINDS",
    "Resources",
    "StaticPolicy",
    "UsageExceedsGrant",
    "UsageReport",
]
