"""The sandbox: deny-by-default effect policies and the standard effects' handlers.

Every TEL ``perform`` and every co-processor effect ``ecall`` is checked
against a :class:`Policy`; a violation is an :class:`EffectDenied` naming
the effect, the policy and the reason.
"""

from ._durable import DurableError as DurableError
from ._durable import DurableMismatch as DurableMismatch
from ._durable import ReplayDiverged as ReplayDiverged
from ._durable import UnknownExecution as UnknownExecution
from ._errors import EffectDenied as EffectDenied
from ._handlers import BadEffectRequest as BadEffectRequest
from ._handlers import DeterministicRandom as DeterministicRandom
from ._handlers import EffectSession as EffectSession
from ._handlers import ExecCallback as ExecCallback
from ._handlers import Journal as Journal
from ._handlers import KVStore as KVStore
from ._handlers import WAITING as WAITING
from ._handlers import LogSink as LogSink
from ._handlers import parse_guest_request as parse_guest_request
from ._values import UnencodableValue as UnencodableValue
from ._values import value_from_cbor as value_from_cbor
from ._values import value_to_cbor as value_to_cbor
from ._errors import OutputLimitExceeded as OutputLimitExceeded
from ._errors import PolicyError as PolicyError
from ._errors import SandboxError as SandboxError
from ._errors import StorageLimitExceeded as StorageLimitExceeded
from ._policy import DENY_ALL as DENY_ALL
from ._policy import STANDARD_SIGNATURES as STANDARD_SIGNATURES
from ._policy import Constraint as Constraint
from ._policy import Grant as Grant
from ._policy import IntRange as IntRange
from ._policy import KeyPrefix as KeyPrefix
from ._policy import MaxBytes as MaxBytes
from ._policy import Policy as Policy

__all__ = [
    "BadEffectRequest",
    "DurableError",
    "DurableMismatch",
    "ReplayDiverged",
    "UnknownExecution",
    "DeterministicRandom",
    "EffectSession",
    "ExecCallback",
    "Journal",
    "KVStore",
    "LogSink",
    "UnencodableValue",
    "WAITING",
    "parse_guest_request",
    "value_from_cbor",
    "value_to_cbor",
    "Constraint",
    "DENY_ALL",
    "EffectDenied",
    "Grant",
    "IntRange",
    "KeyPrefix",
    "MaxBytes",
    "OutputLimitExceeded",
    "Policy",
    "PolicyError",
    "STANDARD_SIGNATURES",
    "SandboxError",
    "StorageLimitExceeded",
]
