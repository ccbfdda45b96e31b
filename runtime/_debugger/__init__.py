"""The time-travel debugger (``stele debug``): deterministic replay of a recorded execution.

:class:`TelReplay` re-runs a TEL execution from its effect journal, halted
at any event; :class:`DebugSession` is the sans-I/O command session over it.
:class:`GuestReplay` puts a RISC-V guest's run at any cycle from
co-processor checkpoints, and :class:`GuestSession` is the same command set
over it.  ``stele._cli._debug`` is the terminal front end.  See
``docs/debugger.md``.
"""

from ._guest import GuestOutcome, GuestReplay
from ._guest_session import GuestSession
from ._replay import Frame, Outcome, State, TelReplay
from ._session import BadCommand, DebugSession, Reply, parse

__all__ = ["Frame", "Outcome", "State", "TelReplay", "BadCommand", "DebugSession", "Reply",
           "parse", "GuestOutcome", "GuestReplay", "GuestSession"]
