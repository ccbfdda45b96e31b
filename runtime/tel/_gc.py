"""A pause of the cyclic garbage collector around allocation-heavy, cycle-free work."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["gc_paused"]


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a file is parsed (or checked and hashed).

    Those phases allocate tens of thousands of long-lived, acyclic objects
    (tokens, syntax nodes, canonical forms), and the collector's
    young-generation passes over them cost a quarter to a half of the work,
    more the bigger the process heap.  Nothing is freed later than it would be
    otherwise: reference counting is unaffected, and cycles are collected once
    the collector resumes.  Only a caller that found it enabled re-enables it,
    so nested and concurrent callers (threads of ``run_blocking``) cannot leave
    it disabled.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
