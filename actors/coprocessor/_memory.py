"""Sparse, paged, copy-on-write guest memory with a configured limit.

Layout of the state (all 4 KiB pages, keyed by page number ``addr >> 12``):

* ``pages``  -- every allocated page; loads read here.
* ``wpages`` -- the subset that may be written in place; stores write here.
  A page is *missing* from ``wpages`` when it is shared with a snapshot
  (copy-on-write), holds decoded code (writes must invalidate decoded
  instructions and compiled blocks), or is watched (the HTIF ``tohost``
  page).  Any store that misses ``wpages`` takes :meth:`Memory.writable`,
  the one slow path that allocates, copies, invalidates and checks limits.

Invariant: a page object that is not in ``wpages`` is never mutated in
place, so snapshots can share page objects, and decoded code stays valid for
as long as its page object is still the one in ``pages``.  The two dicts keep
their identity for the memory's lifetime (the interpreter and compiled blocks
hold direct references).

Pages are allocated on first touch inside a mapped region (ELF segments, the
stack, the heap below the program break); touching any other address is an
access fault, and allocating past ``limit`` bytes is
:class:`~stele.actors.coprocessor.MemoryLimitExceeded`.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

from ._errors import MemoryLimitExceeded

__all__ = ["Memory", "Trap", "PAGE_SIZE", "PAGE_BITS"]

PAGE_BITS = 12
PAGE_SIZE = 1 << PAGE_BITS
_OFF = PAGE_SIZE - 1
MASK = 0xFFFFFFFF
_WIDTH_MASK = {1: 0xFF, 2: 0xFFFF, 4: 0xFFFFFFFF}


class Trap(Exception):
    """Internal signal: a synchronous RISC-V exception (``mcause``, ``mtval``).

    The machine turns it into a guest trap (when ``mtvec`` is set) or a typed
    :class:`~stele.actors.coprocessor.GuestFault`.
    """

    def __init__(self, cause: int, tval: int, detail: str = "") -> None:
        super().__init__(cause, tval, detail)
        self.cause = cause
        self.tval = tval
        self.detail = detail


class Memory:
    """The guest address space: see the module docstring for the invariants."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.pages: dict[int, bytearray] = {}
        self.wpages: dict[int, bytearray] = {}
        #: mapped [start, end) byte ranges (page aligned), kept sorted.
        self.regions: list[tuple[int, int]] = []
        #: code pages -> the page object their decoded instructions came from.
        self.protected: dict[int, bytearray] = {}
        #: pages whose every store goes through the slow path (HTIF tohost).
        self.watched: set[int] = set()
        #: called with a page number when a protected (code) page is written.
        self.on_code_write: Callable[[int], None] = lambda pn: None
        #: bumped whenever the page set is replaced wholesale (:meth:`thaw`), so
        #: engines that mirror the pages (the native engine) know to reload.
        self.epoch = 0
        #: bumped by :meth:`freeze`, which forgets which pages were written in
        #: place (``wpages``): a mirroring engine rescans the pages by identity.
        self.freezes = 0

    # -- regions -----------------------------------------------------------
    def map(self, start: int, end: int) -> tuple[int, int] | None:
        """Map the byte range [start, end) rounded out to whole pages; return the region."""
        start &= ~_OFF
        end = (end + _OFF) & ~_OFF
        if end <= start:
            return None
        self.regions.append((start, end))
        self.regions.sort()
        return (start, end)

    def unmap(self, region: tuple[int, int]) -> None:
        """Remove one region returned by :meth:`map` (allocated pages stay allocated)."""
        if region in self.regions:
            self.regions.remove(region)

    def discard(self, new_end: int, old_end: int) -> None:
        """Free the allocated pages wholly above ``new_end`` and below ``old_end``.

        Used when the heap shrinks from ``old_end`` to ``new_end``: those pages
        go back under the limit and a later touch faults (or, once remapped,
        reads zeros), as on Linux.  Bumps ``epoch`` so engines that mirror
        the pages (the native engine) reload them.
        """
        lo, hi = (new_end + _OFF) >> PAGE_BITS, (old_end + _OFF) >> PAGE_BITS
        gone = [pn for pn in self.pages if lo <= pn < hi]
        for pn in gone:
            del self.pages[pn]
            self.wpages.pop(pn, None)
            if self.protected.pop(pn, None) is not None:
                self.on_code_write(pn)
        if gone:
            self.epoch += 1

    def is_mapped(self, addr: int) -> bool:
        """True if ``addr`` lies in a mapped region."""
        return any(s <= addr < e for s, e in self.regions)

    @property
    def allocated(self) -> int:
        """Bytes of allocated pages (what the limit counts)."""
        return len(self.pages) * PAGE_SIZE

    # -- slow paths --------------------------------------------------------
    def _allocate(self, pn: int, cause: int, fault: int | None = None) -> bytearray:
        addr = pn << PAGE_BITS
        if not self.is_mapped(addr):
            # mtval is the faulting address itself (privileged spec 3.1.16),
            # not the base of its page.
            where = addr if fault is None else fault & MASK
            raise Trap(cause, where, f"address 0x{where:08x} is not mapped")
        if (len(self.pages) + 1) * PAGE_SIZE > self.limit:
            raise MemoryLimitExceeded(self.allocated + PAGE_SIZE, self.limit,
                                      f"page 0x{addr:08x}")
        pg = bytearray(PAGE_SIZE)
        self.pages[pn] = pg
        if pn not in self.watched:
            self.wpages[pn] = pg
        return pg

    def readable(self, pn: int, cause: int = 5, fault: int | None = None) -> bytearray:
        """The page for reading, allocating it on first touch (``cause`` on fault).

        ``fault`` is the byte address reported as mtval if the page is unmapped.
        """
        pg = self.pages.get(pn)
        return self._allocate(pn, cause, fault) if pg is None else pg

    def writable(self, pn: int, fault: int | None = None) -> bytearray:
        """The page for writing: allocate, copy-on-write, invalidate code."""
        pg = self.wpages.get(pn)
        if pg is not None:
            return pg
        old = self.pages.get(pn)
        if old is None:
            return self._allocate(pn, 7, fault)
        pg = bytearray(old)
        self.pages[pn] = pg
        if pn in self.protected:
            del self.protected[pn]
            self.on_code_write(pn)
        if pn not in self.watched:
            self.wpages[pn] = pg
        return pg

    def protect(self, pn: int, fault: int | None = None) -> bytearray:
        """Mark page ``pn`` as holding decoded code and return it (fetch fault if unmapped)."""
        pg = self.readable(pn, 1, fault)
        self.protected[pn] = pg
        self.wpages.pop(pn, None)
        return pg

    def watch(self, addr: int) -> None:
        """Route every store to the page of ``addr`` through the slow path."""
        pn = addr >> PAGE_BITS
        self.watched.add(pn)
        self.wpages.pop(pn, None)

    # -- typed access (slow but general; the hot paths inline their own) ---
    def load(self, addr: int, width: int) -> int:
        """Read an aligned little-endian value of ``width`` bytes (raises Trap)."""
        if addr & (width - 1):
            raise Trap(4, addr, f"{width}-byte load from 0x{addr:08x}")
        pg = self.readable(addr >> PAGE_BITS, 5, addr)
        off = addr & _OFF
        return int.from_bytes(pg[off:off + width], "little")

    def store(self, addr: int, width: int, value: int) -> None:
        """Write an aligned little-endian value of ``width`` bytes (raises Trap)."""
        if addr & (width - 1):
            raise Trap(6, addr, f"{width}-byte store to 0x{addr:08x}")
        pg = self.writable(addr >> PAGE_BITS, addr)
        off = addr & _OFF
        pg[off:off + width] = (value & _WIDTH_MASK[width]).to_bytes(width, "little")

    def peek(self, addr: int, width: int) -> int:
        """Read without faulting or allocating (0 where nothing is allocated)."""
        pg = self.pages.get(addr >> PAGE_BITS)
        if pg is None:
            return 0
        off = addr & _OFF
        return int.from_bytes(pg[off:off + width], "little")

    def read_bytes(self, addr: int, n: int, cause: int = 5) -> bytes:
        """Read ``n`` bytes at ``addr`` (may span pages; faults like loads)."""
        out = bytearray()
        while n > 0:
            addr &= MASK
            off = addr & _OFF
            take = min(n, PAGE_SIZE - off)
            out += self.readable(addr >> PAGE_BITS, cause, addr)[off:off + take]
            addr += take
            n -= take
        return bytes(out)

    def write_bytes(self, addr: int, data: bytes) -> None:
        """Write ``data`` at ``addr`` (may span pages; faults like stores)."""
        pos = 0
        while pos < len(data):
            addr &= MASK
            off = addr & _OFF
            take = min(len(data) - pos, PAGE_SIZE - off)
            self.writable(addr >> PAGE_BITS, addr)[off:off + take] = data[pos:pos + take]
            addr += take
            pos += take

    # -- snapshots ---------------------------------------------------------
    def freeze(self) -> dict[int, bytearray]:
        """Share every page with a snapshot: later writes copy first."""
        self.wpages.clear()
        self.freezes += 1
        return dict(self.pages)

    def thaw(self, pages: dict[int, bytearray], regions: list[tuple[int, int]]) -> None:
        """Adopt snapshot pages (shared, copy-on-write) and regions.

        Decoded code whose page object survives stays valid; the rest is
        invalidated through ``on_code_write``.
        """
        self.epoch += 1
        self.pages.clear()
        self.pages.update(pages)
        self.wpages.clear()
        self.regions = sorted(regions)
        for pn, obj in list(self.protected.items()):
            if self.pages.get(pn) is not obj:
                del self.protected[pn]
                self.on_code_write(pn)


U32 = struct.Struct("<I")
U16 = struct.Struct("<H")
I16 = struct.Struct("<h")
