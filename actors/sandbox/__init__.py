"""The sandbox: deny-by-default effect policies (the handlers come with the executor).

Every TEL ``perform`` and every co-processor effect ``ecall`` is checked
against a :class:`Policy`; a violation is an :class:`EffectDenied` naming
the effect, the policy and the reason.
"""

from ._errors import EffectDenied as EffectDenied
from ._errors import PolicyError as PolicyError
from ._errors import SandboxError as SandboxError
from ._policy import DENY_ALL as DENY_ALL
from ._policy import STANDARD_SIGNATURES as STANDARD_SIGNATURES
from ._policy import Constraint as Constraint
from ._policy import Grant as Grant
from ._policy import IntRange as IntRange
from ._policy import KeyPrefix as KeyPrefix
from ._policy import MaxBytes as MaxBytes
from ._policy import Policy as Policy

__all__ = [
    "Constraint",
    "DENY_ALL",
    "EffectDenied",
    "Grant",
    "IntRange",
    "KeyPrefix",
    "MaxBytes",
    "Policy",
    "PolicyError",
    "STANDARD_SIGNATURES",
    "SandboxError",
]
