"""Typed sandbox errors: what was denied, under which policy, and why."""

from __future__ import annotations

from ..._errors import SteleError

__all__ = ["SandboxError", "EffectDenied", "PolicyError", "StorageLimitExceeded",
           "OutputLimitExceeded"]


class SandboxError(SteleError):
    """Root of the sandbox's errors."""


class PolicyError(SandboxError):
    """A policy that is malformed (unknown constraint, bad value, duplicate grant)."""


class EffectDenied(SandboxError):
    """An effect the policy does not allow.

    ``effect`` and ``op`` name the call (``KV.put``), ``policy`` the policy
    that denied it, and ``reason`` says why: not granted at all (deny by
    default), the operation not granted, or the constraint that failed.
    """

    def __init__(self, effect: str, op: str, policy: str, reason: str) -> None:
        self.effect = effect
        self.op = op
        self.policy = policy
        self.reason = reason
        super().__init__(f"effect {effect}.{op} denied by policy {policy!r}: {reason}")


class StorageLimitExceeded(SandboxError):
    """A ``KV.put`` that would write more bytes than the execution's storage limit."""

    def __init__(self, needed: int, limit: int) -> None:
        self.needed = needed
        self.limit = limit
        super().__init__(f"storage limit exceeded: KV writes need {needed} bytes, "
                         f"limit {limit}")


class OutputLimitExceeded(SandboxError):
    """Output (effect journal, log lines, guest stdout/stderr) past the execution tree's byte limit.

    ``needed`` is the total the tree would have reached, ``limit`` its
    ``max_output_bytes`` and ``what`` the write that did not fit (it was not
    made: the check comes before the bytes are held anywhere).
    """

    def __init__(self, needed: int, limit: int, what: str) -> None:
        self.needed = needed
        self.limit = limit
        self.what = what
        super().__init__(f"output limit exceeded: {what} would make the execution's output "
                         f"{needed} bytes, limit {limit} (ExecLimits.max_output_bytes)")
