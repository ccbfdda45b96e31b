"""Hierarchical resource allocators over a resource vector.

The engine (:class:`Allocator`) is a plain deterministic library; policies
(:class:`StaticPolicy`, :class:`FairSharePolicy`) decide fairness.
"""

from ._allocator import Allocator as Allocator
from ._allocator import Grant as Grant
from ._allocator import UsageReport as UsageReport
from ._errors import AllocatorError as AllocatorError
from ._errors import GrantReleased as GrantReleased
from ._errors import InsufficientResources as InsufficientResources
from ._errors import InvalidRequest as InvalidRequest
from ._errors import UsageExceedsGrant as UsageExceedsGrant
from ._policy import AllocationPolicy as AllocationPolicy
from ._policy import FairSharePolicy as FairSharePolicy
from ._policy import PendingRequest as PendingRequest
from ._policy import StaticPolicy as StaticPolicy
from ._resources import RESOURCE_KINDS as RESOURCE_KINDS
from ._resources import Resources as Resources

__all__ = [
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
