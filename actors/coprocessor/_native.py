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

Compilation and its on-disk cache.  numba compiles the kernel once, as a C
callable (``numba.cfunc``), and the engine stores the machine code numba
produced (an object file) in the cache directory, keyed by the kernel's
source, the numba and llvmlite versions and the host CPU.  A later process
loads that object file with llvmlite alone -- no ``import numba``, no type
inference, no LLVM optimisation -- which is what makes a warm start cheap.
The cache directory is ``$STELE_NATIVE_CACHE``, else ``$NUMBA_CACHE_DIR``,
else ``~/.cache/stele/native``; an unreadable or corrupt entry is recompiled,
an unwritable directory only costs the compile.  :func:`compile_seconds`
reports what the first use cost in this process (compile or cache load).
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import re
import sys
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import importlib
import importlib.util

import numpy as np
from numpy.typing import NDArray

from . import _native_kernel as _k
from ._errors import CoprocessorError, GuestError
from ._witness import K, trace_reference

if TYPE_CHECKING:
    from ._machine import Machine

__all__ = ["NativeEngine", "native_available", "compile_seconds", "NativeUnavailable",
           "DEFAULT_CHUNK", "cache_dir", "cache_path", "compile_source", "read_cache",
           "write_cache"]

_PAGES = 1 << 20
_NOT_DIRTY = np.uint8(0xFF ^ _k.DIRTY)
_NOT_CODE = np.uint8(0xFF ^ _k.HASCODE)
#: cycles per compiled call when the caller does not bound them itself.
DEFAULT_CHUNK = 1 << 22
_Entry = Callable[..., int]


class NativeUnavailable(CoprocessorError):
    """The native engine was asked for but numba (the ``fast`` extra) is not installed."""

    def __init__(self) -> None:
        super().__init__("the native engine needs numba: pip install 'stele[fast]'")


_entry: _Entry | None = None
_compile_seconds: float | None = None
_loaded_from: str = ""
#: keeps the llvmlite execution engine (which owns the loaded code) alive.
_keep: list[Any] = []


def native_available() -> bool:
    """True if numba can be imported (the native engine can run)."""
    return importlib.util.find_spec("numba") is not None


def compile_seconds() -> float | None:
    """Seconds the first compile (or on-disk cache load) took in this process, if done."""
    return _compile_seconds


def compile_source() -> str:
    """``"compiled"`` or ``"cache"``: how this process got the kernel ('' before first use)."""
    return _loaded_from


def _clock() -> float:
    """Monotonic seconds, only to report the compile cost (not part of any result)."""
    import time

    return time.perf_counter()


def cache_dir() -> Path:
    """Where compiled kernels are kept (see the module docstring)."""
    for var in ("STELE_NATIVE_CACHE", "NUMBA_CACHE_DIR"):
        value = os.environ.get(var)
        if value:
            return Path(value)
    return Path.home() / ".cache" / "stele" / "native"


def _host() -> tuple[str, str, str]:
    llvm: Any = importlib.import_module("llvmlite.binding")

    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    return llvm.get_process_triple(), llvm.get_host_cpu_name(), \
        llvm.get_host_cpu_features().flatten()


def _cache_key(host: tuple[str, str, str]) -> str:
    llvmlite: Any = importlib.import_module("llvmlite")

    h = hashlib.sha256()
    h.update(Path(_k.__file__).read_bytes())
    h.update(Path(__file__).read_bytes())
    from importlib.metadata import version

    h.update(f"{version('numba')}|{llvmlite.__version__}|{'|'.join(host)}".encode())
    return h.hexdigest()[:32]


def cache_path() -> Path:
    """The cache file of the kernel for this source, toolchain and host CPU."""
    return cache_dir() / f"kernel-{_cache_key(_host())}.o"


def _build() -> tuple[Any, bytes, str]:
    """Compile the kernel with numba: (the cfunc, its object code, its symbol name)."""
    # numba's own annotations do not cover cfunc/intrinsic internals: use it untyped.
    numba: Any = importlib.import_module("numba")
    types, carray = numba.types, numba.carray
    intrinsic: Any = importlib.import_module("numba.extending").intrinsic

    def unsigned(instruction: str) -> Any:
        """An intrinsic for one LLVM ``udiv``/``urem`` on int64 (no zero check: callers guard)."""
        def typer(typingctx: Any, a: Any, b: Any) -> Any:
            def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
                return getattr(builder, instruction)(args[0], args[1])
            return types.int64(types.int64, types.int64), codegen
        typer.__name__ = f"stele_{instruction}"
        return intrinsic(typer)

    _k._udiv = unsigned("udiv")
    _k._urem = unsigned("urem")
    kernel = numba.njit(nogil=True, no_cpython_wrapper=True, no_cfunc_wrapper=True)(_k.run_kernel)
    p = types.CPointer
    i64, u8, u32, i32 = types.int64, types.uint8, types.uint32, types.int32
    sig = types.int64(p(i64), p(u32), p(i64), p(u8), p(i32), p(u8), p(u32), i64, i64)

    def entry(state: Any, pool32: Any, dec: Any, flags: Any, ptab: Any, nowrite: Any,
              wit: Any, wrows: int, cap: int) -> int:
        return kernel(carray(state, _k.STATE_SIZE),  # type: ignore[no-any-return]
                      carray(pool32, (cap, 1024)), carray(dec, (cap, 1024)),
                      carray(flags, cap), carray(ptab, _PAGES), carray(nowrite, _PAGES),
                      carray(wit, (wrows, K)))

    cf = numba.cfunc(sig, nogil=True)(entry)
    lib = cf._library
    return cf, bytes(lib._get_compiled_object()), str(cf.native_name)


def write_cache(path: Path, name: str, obj: bytes) -> None:
    """Store object code ``obj`` (entry symbol ``name``) at ``path``, atomically.

    The first line is ``name`` and the SHA-256 of ``obj``; an unwritable
    directory only costs the compile next time.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(f"{name} {hashlib.sha256(obj).hexdigest()}\n".encode() + obj)
        os.replace(tmp, path)
    except OSError:
        pass


def read_cache(path: Path) -> tuple[str, bytes] | None:
    """(entry symbol, object code) from ``path``; None if missing, truncated or damaged.

    The digest is checked before LLVM sees the bytes, so a damaged file is
    recompiled rather than loaded.
    """
    try:
        blob = path.read_bytes()
    except OSError:
        return None
    head, sep, obj = blob.partition(b"\n")
    parts = head.split(b" ")
    if not sep or len(parts) != 2 or hashlib.sha256(obj).hexdigest().encode() != parts[1]:
        return None
    try:
        return parts[0].decode("ascii"), obj
    except UnicodeDecodeError:
        return None


def _load(obj: bytes, name: str) -> int:
    """Load object code with llvmlite alone; the address of ``name``."""
    llvm: Any = importlib.import_module("llvmlite.binding")

    target = llvm.Target.from_triple(llvm.get_process_triple())
    tm = target.create_target_machine(cpu=llvm.get_host_cpu_name(),
                                      features=llvm.get_host_cpu_features().flatten(),
                                      codemodel="jitdefault")
    engine = llvm.create_mcjit_compiler(llvm.parse_assembly(""), tm)
    # The object's error paths name numba's runtime helpers (exception
    # raising, GIL, NRT), which are not loaded without numba.  The kernel never
    # raises, so they are unreachable; bind them to a stub that stops the
    # process with a message rather than jumping to address 0.
    for ref in sorted(set(re.findall(rb"\x00((?:numba|NRT)_\w+)\x00", obj))):
        sym = ref.decode()
        if llvm.address_of_symbol(sym) is None:
            llvm.add_symbol(sym, _unreachable_address())
    engine.add_object_file(llvm.ObjectFileRef.from_data(obj))
    engine.finalize_object()
    addr = int(engine.get_function_address(name))
    if not addr:
        raise OSError(f"symbol {name} not in the cached object")
    _keep.append(engine)
    return addr


def _unreachable() -> None:
    sys.stderr.write("stele: the native engine reached a numba runtime helper, which the "
                     "cached kernel cannot use; delete the cache directory and rerun\n")
    sys.stderr.flush()
    os.abort()


_STUB: list[Any] = []


def _unreachable_address() -> int:
    if not _STUB:
        _STUB.append(ctypes.CFUNCTYPE(None)(_unreachable))
    return int(ctypes.cast(_STUB[0], ctypes.c_void_p).value or 0)


def _ctypes_entry(addr: int) -> _Entry:
    proto = ctypes.CFUNCTYPE(ctypes.c_int64, *([ctypes.c_void_p] * 7), ctypes.c_int64,
                             ctypes.c_int64)
    fn: _Entry = proto(addr)
    _keep.append(fn)
    return fn


def _compiled() -> _Entry:
    """The compiled entry point (compiled, or loaded from the disk cache, on first use)."""
    global _entry, _compile_seconds, _loaded_from
    if _entry is not None:
        return _entry
    if not native_available():
        raise NativeUnavailable()
    started = _clock()
    path = cache_path()
    entry: _Entry | None = None
    cached = read_cache(path)
    if cached is not None:
        try:
            entry = _ctypes_entry(_load(cached[1], cached[0]))
            _loaded_from = "cache"
        except (OSError, ValueError, RuntimeError):
            entry = None
    if entry is None:
        cf, obj, sym = _build()
        _keep.append(cf)
        entry = _ctypes_entry(cf.address)
        _loaded_from = "compiled"
        write_cache(path, sym, obj)
    _compile_seconds = _clock() - started
    _entry = entry
    return entry


class NativeEngine:
    """The native engine bound to one machine (see the module docstring)."""

    def __init__(self, machine: Machine) -> None:
        self.kernel = _compiled()
        # A weak reference: the machine owns the engine, and a cycle would keep
        # the engine's ~6 MB of tables alive until a full garbage collection.
        self._machine = weakref.ref(machine)
        self.state = np.zeros(_k.STATE_SIZE, np.int64)     # registers, then the ctl words
        self.ptab = np.zeros(_PAGES, np.int32)      # slot + 1; zeros: untouched memory
        self.nowrite = np.zeros(_PAGES, np.uint8)
        self._alloc(64)
        self.used = 0                   # pool slots in use
        self.fresh = 0                  # pages allocated here, not yet in memory.pages
        self.slot_obj: list[bytearray] = []
        self.slot_of: dict[int, int] = {}
        self.epoch = -1
        self.known = -1                 # len(mem.pages) at the last return to Python
        self.freezes = -1               # mem.freezes at the last full rescan
        self.watched: list[int] = []
        #: returns to Python, by status (a figure for ``--stats`` and the bench).
        self.exits = {"slow": 0, "page": 0, "decode": 0}

    @property
    def m(self) -> Machine:
        """The machine this engine runs (it owns the engine)."""
        machine = self._machine()
        if machine is None:
            raise CoprocessorError("the native engine outlived its machine")
        return machine

    # -- the mirror ----------------------------------------------------------
    def _alloc(self, cap: int) -> None:
        self.pool = np.zeros((cap, 4096), np.uint8)
        self.pool32 = self.pool.view(np.uint32)
        self.slot_pn = np.zeros(cap, np.int32)
        self.flags = np.zeros(cap, np.uint8)
        self.dec = np.zeros((cap, 1024), np.int64)
        self._args = (self.state.ctypes.data, self.pool.ctypes.data, self.dec.ctypes.data,
                      self.flags.ctypes.data, self.ptab.ctypes.data, self.nowrite.ctypes.data)

    def _grow(self) -> None:
        old, pn, flags, dec = self.pool, self.slot_pn, self.flags, self.dec
        n = old.shape[0]
        self._alloc(2 * n)
        self.pool[:n] = old
        self.slot_pn[:n] = pn
        self.flags[:n] = flags
        self.dec[:n] = dec

    def _slot(self, pn: int) -> int:
        """A new slot for page ``pn`` (zeroed, nothing decoded)."""
        s = self.used
        if s >= self.pool.shape[0]:
            self._grow()
        self.used = s + 1
        self.slot_pn[s] = pn
        self.ptab[pn] = s + 1
        if self.flags[s] & _k.HASCODE:
            self.dec[s] = 0
        self.flags[s] = 0
        return s

    def _reset(self) -> None:
        used = self.used
        self.ptab[self.slot_pn[:used]] = 0
        self.used = 0
        self.fresh = 0
        self.flags[:used] &= _NOT_DIRTY
        self.slot_obj.clear()
        self.slot_of.clear()

    def _put(self, pn: int, pg: bytearray) -> None:
        s = self.slot_of.get(pn)
        if s is None:
            s = self._slot(pn)
            self.slot_of[pn] = s
            self.slot_obj.append(pg)
        else:
            self.slot_obj[s] = pg
            if self.flags[s] & _k.HASCODE:       # new bytes: forget the decoded words
                self.dec[s] = 0
                self.flags[s] &= _NOT_CODE
        self.pool[s] = np.frombuffer(pg, np.uint8)

    def _allocate(self, pn: int) -> bool:
        """First touch of page ``pn`` by the loop: allocate it as the interpreter would.

        False when the interpreter must take the instruction instead (the page
        is not mapped, or allocating it would pass the memory limit).
        """
        mem = self.m.memory
        if not mem.is_mapped(pn << 12) or (len(mem.pages) + self.fresh + 1) * 4096 > mem.limit:
            return False
        s = self._slot(pn)
        self.pool[s] = 0
        self.flags[s] = _k.DIRTY
        self.fresh += 1
        return True

    def _sync_in(self) -> None:
        """Bring the mirror and registers up to date with the machine."""
        m = self.m
        mem = m.memory
        pages = mem.pages
        if mem.epoch != self.epoch:
            self._reset()
            self.epoch = mem.epoch
            self.known = -1
        # a page Python replaced since the last return (a syscall's write) is in
        # wpages -- unless a snapshot froze the pages since, which empties it
        if self.known != len(pages) or mem.wpages or mem.freezes != self.freezes:
            self.freezes = mem.freezes
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
        if len(mem.watched) != len(self.watched) or not mem.watched.issuperset(self.watched):
            watched = sorted(mem.watched)
            self.nowrite[self.watched] = 0
            self.nowrite[watched] = 1
            self.watched = watched
        self.state[:32] = m.regs
        self.state[_k.C_PC] = m.pc

    def _sync_out(self) -> None:
        """Copy registers, pc and every page written since the last sync back."""
        m = self.m
        mem = m.memory
        state = self.state
        m.regs[:] = state[:32].tolist()
        m.pc = int(state[_k.C_PC])
        used = self.used
        objs = self.slot_obj
        flags = self.flags[:used]
        for s in np.flatnonzero(flags & _k.DIRTY).tolist():
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
        flags &= _NOT_DIRTY
        self.fresh = 0
        mem.wpages.clear()
        self.known = len(mem.pages)

    # -- running -------------------------------------------------------------
    def _run(self, budget: int, wit: NDArray[np.uint32] | None, at: int) -> int:
        """Run the loop for up to ``budget`` cycles, writing witness rows from ``wit[at]``.

        Handles first-touch pages and decoding itself; returns the cycles run,
        with ``ctl[C_STATUS]`` BUDGET or SLOW (the interpreter's turn).
        """
        ctl = self.state
        ctl[_k.C_WITNESS] = 0 if wit is None else 1
        base = 0 if wit is None else wit.ctypes.data
        rows = 0 if wit is None else wit.shape[0]
        exits = self.exits
        done = 0
        while True:
            ctl[_k.C_BUDGET] = budget - done
            left = rows - at - done if rows else 0
            done += self.kernel(*self._args, base + (at + done) * (4 * K), left,
                                self.pool.shape[0])
            status = ctl[_k.C_STATUS]
            if status == _k.BUDGET:
                return done
            if status == _k.DECODE:
                exits["decode"] += 1
                s = int(self.ptab[int(ctl[_k.C_PC]) >> 12]) - 1
                self.dec[s] = _k.decode_page(self.pool32[s])
                self.flags[s] |= _k.HASCODE
            elif status == _k.PAGE:
                exits["page"] += 1
                if not self._allocate(int(ctl[_k.C_PAGE])):
                    ctl[_k.C_STATUS] = _k.SLOW
                    exits["slow"] += 1
                    return done
            else:
                exits["slow"] += 1
                return done

    def advance(self, n: int) -> int:
        """Run up to ``n`` cycles (stops at halt); the contract of :meth:`Machine.advance`."""
        m = self.m
        if m.halted or n <= 0:
            return 0
        start = m.cycle
        done = 0
        self._sync_in()
        synced = False
        try:
            while done < n:
                done += self._run(n - done, None, 0)
                if self.state[_k.C_STATUS] == _k.BUDGET:
                    break
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
                done += self._run(n - done, wit, done)
                if self.state[_k.C_STATUS] == _k.BUDGET:
                    break
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
