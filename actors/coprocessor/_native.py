"""The native engine: the RV32IM loop of :mod:`._native_kernel` compiled by numba.

Optional: it needs the ``fast`` extra (``pip install stele[fast]``, i.e.
numba).  :func:`native_available` says whether it can run; without numba the
interpreter (the reference) and the Python block JIT serve every request.

The compiled loop runs the plain instructions at native speed and hands each
other instruction -- SYSTEM/CSR, ``ecall`` (syscalls, effects), traps, HTIF
stores, misaligned or unmapped accesses, the memory limit -- to the reference
interpreter, one instruction at a time.  So traps, ``mtval``, CSRs, HTIF,
cycle counts and limits are the interpreter's by construction, and the
differential tests check the rest (final state, trace and witness bit for bit).

Memory is mirrored: the engine keeps the guest pages in one numpy pool of
4 KiB slots and copies back, at every return to Python, the pages it wrote
(through :meth:`Memory.writable`, so copy-on-write snapshots and decoded-code
invalidation keep working).  At that point it also empties ``wpages``: any
later write by Python then replaces the page object first, and the next entry
finds the changed pages by object identity.  A restore (``Memory.epoch``)
reloads the mirror.

Compiled code is cached on disk (numba ``cache=True``; ``NUMBA_CACHE_DIR``
chooses the directory, by default ``__pycache__`` next to this file).
:func:`compile_seconds` reports what the first use cost in this process.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import importlib.util

import numpy as np
from numpy.typing import NDArray

from . import _native_kernel as _k
from ._errors import CoprocessorError, GuestError
from ._witness import K, trace_reference

if TYPE_CHECKING:
    from ._machine import Machine

__all__ = ["NativeEngine", "native_available", "compile_seconds", "NativeUnavailable",
           "DEFAULT_CHUNK"]

_PAGES = 1 << 20
#: cycles per compiled call when the caller does not bound them itself.
DEFAULT_CHUNK = 1 << 22


class NativeUnavailable(CoprocessorError):
    """The native engine was asked for but numba (the ``fast`` extra) is not installed."""

    def __init__(self) -> None:
        super().__init__("the native engine needs numba: pip install 'stele[fast]'")


_kernel: Callable[..., int] | None = None
_compile_seconds: float | None = None


def native_available() -> bool:
    """True if numba can be imported (the native engine can run)."""
    return importlib.util.find_spec("numba") is not None


def compile_seconds() -> float | None:
    """Seconds the first compile (or on-disk cache load) took in this process, if done."""
    return _compile_seconds


def _clock() -> float:
    """Monotonic seconds, only to report the compile cost (not part of any result)."""
    import time

    return time.perf_counter()


def _compiled() -> Callable[..., int]:
    """The compiled kernel (compiled, or loaded from the disk cache, on first use)."""
    global _kernel, _compile_seconds
    if _kernel is not None:
        return _kernel
    try:
        import numba
    except ImportError:
        raise NativeUnavailable() from None
    started = _clock()
    _k._page = numba.njit(cache=True, nogil=True)(_k._page_py)
    kernel: Any = numba.njit(cache=True, nogil=True)(_k.run_kernel)
    # Force compilation now with one tiny call, so its cost is measured here.
    pool = np.zeros((1, 4096), dtype=np.uint8)
    kernel(np.zeros(32, np.int64), np.zeros(8, np.int64), 0, pool, pool.view(np.uint16),
           pool.view(np.uint32), np.full(1, -1, np.int32), np.zeros(1, np.uint8),
           np.zeros(1, np.int32), np.zeros(1, np.uint8), np.zeros((0, 2), np.int64),
           np.zeros((0, K), np.uint32), False)
    _compile_seconds = _clock() - started
    compiled: Callable[..., int] = kernel
    _kernel = compiled
    return compiled


class NativeEngine:
    """The native engine bound to one machine (see the module docstring)."""

    def __init__(self, machine: Machine) -> None:
        self.kernel = _compiled()
        self.m = machine
        self.regs = np.zeros(32, np.int64)
        self.ctl = np.zeros(8, np.int64)
        self.ptab = np.full(_PAGES, -1, np.int32)
        self.nowrite = np.zeros(_PAGES, np.uint8)
        self._alloc(64)
        self.slot_obj: list[bytearray | None] = []
        self.slot_of: dict[int, int] = {}
        self.epoch = -1
        self.known = -1                 # len(mem.pages) at the last return to Python
        self.watched: list[int] = []

    # -- the mirror ----------------------------------------------------------
    def _alloc(self, cap: int) -> None:
        self.pool = np.zeros((cap, 4096), np.uint8)
        self.pool16 = self.pool.view(np.uint16)
        self.pool32 = self.pool.view(np.uint32)
        self.slot_pn = np.zeros(cap, np.int32)
        self.dirty = np.zeros(cap, np.uint8)

    def _grow(self) -> None:
        old, pn, dirty = self.pool, self.slot_pn, self.dirty
        n = old.shape[0]
        self._alloc(2 * n)
        self.pool[:n] = old
        self.slot_pn[:n] = pn
        self.dirty[:n] = dirty

    def _reset(self) -> None:
        used = int(self.ctl[_k.C_SLOTS])
        self.ptab[self.slot_pn[:used]] = -1
        self.ctl[_k.C_SLOTS] = 0
        self.dirty[:] = 0
        self.slot_obj.clear()
        self.slot_of.clear()

    def _put(self, pn: int, pg: bytearray) -> None:
        s = self.slot_of.get(pn)
        if s is None:
            s = int(self.ctl[_k.C_SLOTS])
            if s >= self.pool.shape[0]:
                self._grow()
            self.ctl[_k.C_SLOTS] = s + 1
            self.slot_of[pn] = s
            self.slot_pn[s] = pn
            self.ptab[pn] = s
            self.slot_obj.append(pg)
        else:
            self.slot_obj[s] = pg
        self.pool[s] = np.frombuffer(pg, np.uint8)

    def _sync_in(self) -> None:
        """Bring the mirror and registers up to date with the machine."""
        m = self.m
        mem = m.memory
        pages = mem.pages
        if mem.epoch != self.epoch:
            self._reset()
            self.epoch = mem.epoch
            self.known = -1
        if self.known != len(pages) or mem.wpages:
            objs = self.slot_obj
            for pn, pg in pages.items():
                s = self.slot_of.get(pn)
                if s is None or objs[s] is not pg:
                    self._put(pn, pg)
        else:
            for pn in mem.watched:
                seen = pages.get(pn)
                s = self.slot_of.get(pn)
                if seen is not None and (s is None or self.slot_obj[s] is not seen):
                    self._put(pn, seen)
        watched = sorted(mem.watched)
        if watched != self.watched:
            self.nowrite[self.watched] = 0
            self.nowrite[watched] = 1
            self.watched = watched
        self.regions = np.array(mem.regions, np.int64).reshape(-1, 2)
        ctl = self.ctl
        ctl[_k.C_PAGES] = len(pages)
        ctl[_k.C_LIMIT] = mem.limit >> 12
        ctl[_k.C_PC] = m.pc
        self.regs[:] = m.regs

    def _sync_out(self) -> None:
        """Copy registers, pc and every page written since the last sync back."""
        m = self.m
        mem = m.memory
        m.regs[:] = self.regs.tolist()
        m.pc = int(self.ctl[_k.C_PC])
        used = int(self.ctl[_k.C_SLOTS])
        objs = self.slot_obj
        for s in np.flatnonzero(self.dirty[:used]).tolist():
            pn = int(self.slot_pn[s])
            pg = mem.pages.get(pn)
            if pg is None:                       # allocated by the compiled loop
                pg = bytearray(4096)
                mem.pages[pn] = pg
            else:
                pg = mem.writable(pn)            # copy-on-write, code invalidation
            np.frombuffer(pg, np.uint8)[:] = self.pool[s]
            if s < len(objs):
                objs[s] = pg
            else:
                objs.append(pg)
                self.slot_of[pn] = s
        self.dirty[:used] = 0
        mem.wpages.clear()
        self.known = len(mem.pages)

    # -- running -------------------------------------------------------------
    def _call(self, budget: int, wit: NDArray[np.uint32], witness: bool) -> int:
        while True:
            done = self.kernel(self.regs, self.ctl, budget, self.pool, self.pool16,
                               self.pool32, self.ptab, self.nowrite, self.slot_pn, self.dirty,
                               self.regions, wit, witness)
            if self.ctl[_k.C_STATUS] != _k.GROW:
                return int(done)
            self._grow()
            if done:
                return int(done)

    def advance(self, n: int) -> int:
        """Run up to ``n`` cycles (stops at halt); the contract of :meth:`Machine.advance`."""
        m = self.m
        if m.halted or n <= 0:
            return 0
        start = m.cycle
        done = 0
        empty = np.zeros((0, K), np.uint32)
        self._sync_in()
        synced = False
        try:
            while done < n:
                done += self._call(n - done, empty, False)
                status = self.ctl[_k.C_STATUS]
                if status == _k.BUDGET:
                    break
                if status == _k.GROW:
                    continue
                self._sync_out()
                synced = True
                m.cycle = start + done
                done += m.advance(1)
                if m.halted or done >= n:
                    break
                self._sync_in()
                synced = False
        finally:
            if not synced:
                self._sync_out()
                m.cycle = start + done
        m.cycle = start + done
        return done

    def trace(self, n: int) -> NDArray[np.uint32]:
        """Run up to ``n`` cycles and return their witness rows (``Machine.trace``)."""
        m = self.m
        if m.halted or n <= 0:
            return np.zeros((0, K), np.uint32)
        start = m.cycle
        wit = np.empty((n, K), np.uint32)
        done = 0
        self._sync_in()
        synced = False
        try:
            while done < n:
                done += self._call(n - done, wit[done:], True)
                status = self.ctl[_k.C_STATUS]
                if status == _k.BUDGET:
                    break
                if status == _k.GROW:
                    continue
                self._sync_out()
                synced = True
                m.cycle = start + done
                flat: list[int] = []
                try:
                    trace_reference(m, 1, flat)
                finally:
                    if flat:
                        wit[done] = flat
                        done += 1
                if m.halted or done >= n:
                    break
                self._sync_in()
                synced = False
        except GuestError as exc:
            exc.rows = wit[:done].copy()
            raise
        finally:
            if not synced:
                self._sync_out()
                m.cycle = start + done
        m.cycle = start + done
        return wit[:done]

