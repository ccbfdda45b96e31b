"""Run-time implementations of the builtins, with their element, hash-block and memory charges.

Each takes the machine `m`, the call's location and the argument values; the
Call node and the builtin's base cost were charged by the caller.
"""

from __future__ import annotations

import hashlib
from typing import Any, Callable

from ._errors import CostLimitExceeded, DepthLimitExceeded, Loc, MemoryLimitExceeded
from ._values import Closure, Some, Value

__all__ = ["Machine", "IMPLS", "charge", "alloc", "apply", "size_of", "out_of_fuel", "fuel_left"]


class Machine:
    """Mutable state of one evaluation: remaining fuel and memory, depth, handler, tallies.

    Fuel may be handed out in slices (a run given a ``check``): ``fuel`` is
    what is left of the current slice, ``reserve`` what is withheld, and
    ``limit`` the fuel handed out so far, so ``limit - fuel`` is always what
    was spent and ``fuel + reserve`` what is left (:func:`fuel_left`).  When
    a slice runs out, :func:`out_of_fuel` calls ``check(c)`` with the cost
    of the step about to be charged (it may raise,
    e.g. at a deadline) and hands out the next slice.
    """

    __slots__ = ("fuel", "limit", "mem", "mem_limit", "room", "max_depth", "handler", "dyn",
                 "per_element", "per_hash_block", "per_effect", "mem_base", "mem_per_item", "running",
                 "reserve", "slice", "check")

    def __init__(self) -> None:
        self.fuel = self.limit = self.mem = self.mem_limit = self.room = self.max_depth = 0
        self.reserve = self.slice = 0
        self.check: Callable[[int], None] | None = None
        self.handler: Any = None
        self.dyn: dict[str, int] = {}
        self.per_element = self.per_hash_block = self.per_effect = 0
        self.mem_base = self.mem_per_item = 0
        self.running = False


def out_of_fuel(m: Machine, c: int, loc: Loc) -> None:
    """A step of cost `c` does not fit the current slice: refill it, or raise the cost error.

    With fuel withheld (``m.reserve``) this is the run's periodic check-in:
    ``m.check(c)`` runs first (it may raise, e.g. a deadline), then the next
    slice (at least `c`) is handed out and the step goes on.  Without reserve
    the run is out of fuel: :class:`CostLimitExceeded`, before the step.
    """
    if m.reserve:
        if m.check is not None:
            m.check(c)
        take = min(m.reserve, max(m.slice, c - m.fuel))
        m.reserve -= take
        m.fuel += take
        m.limit += take
        if m.fuel >= c:
            return
    raise CostLimitExceeded("fuel", m.limit - m.fuel + c, m.limit, loc)


def fuel_left(m: Machine) -> int:
    """Fuel the run has left: the current slice plus what is withheld."""
    return m.fuel + m.reserve


def charge(m: Machine, c: int, kind: str, loc: Loc) -> None:
    """Charge a dynamic cost `c` under breakdown key `kind`, or stop before passing the limit."""
    if m.fuel < c:
        out_of_fuel(m, c, loc)
    if c:
        m.fuel -= c
        m.dyn[kind] = m.dyn.get(kind, 0) + c


def alloc(m: Machine, n: int, loc: Loc) -> None:
    """Account `n` bytes of newly constructed value against the memory limit."""
    if m.mem < n:
        raise MemoryLimitExceeded("memory", m.mem_limit - m.mem + n, m.mem_limit, loc)
    m.mem -= n


def size_of(m: Machine, v: Value) -> int:
    """Memory accounted for a value (deep), per the cost table's mem_base / mem_per_item."""
    tv = type(v)
    if tv is int or tv is bool or v is None:
        return 0
    if tv is str or tv is bytes:
        return m.mem_base + len(v)
    if tv is tuple:
        return m.mem_base + m.mem_per_item * len(v) + sum(size_of(m, x) for x in v)
    if tv is Some:
        return m.mem_base + size_of(m, v.value)
    return m.mem_base


def _elements(v: Value) -> int:
    return len(v) if type(v) is tuple else (len(v) + 7) // 8


def _new_seq(m: Machine, v: Value, loc: Loc) -> Value:
    """Account a new list/string/bytes of the given final value (shallow)."""
    per = m.mem_per_item if type(v) is tuple else 1
    alloc(m, m.mem_base + per * len(v), loc)
    return v


def apply(m: Machine, fv: Closure, args: list[Value], loc: Loc) -> Value:
    """Call a function value from a builtin, under the depth limit."""
    if not m.room:
        raise DepthLimitExceeded("depth", m.max_depth + 1, m.max_depth, loc)
    m.room -= 1
    r = fv.body(fv.captured + args + fv.pad)
    m.room += 1
    return r


def _size(m: Machine, loc: Loc, x: Value) -> Value:
    return len(x)


def _get(m: Machine, loc: Loc, xs: Value, i: Value) -> Value:
    if 0 <= i < len(xs):
        alloc(m, m.mem_base, loc)
        return Some(xs[i])
    return None


def _get_or_else(m: Machine, loc: Loc, o: Value, d: Value) -> Value:
    return d if o is None else o.value


def _slice(m: Machine, loc: Loc, x: Value, a: Value, b: Value) -> Value:
    n = len(x)
    a, b = min(max(a, 0), n), min(max(b, 0), n)
    if b < a:
        b = a
    charge(m, m.per_element * (b - a if type(x) is tuple else (b - a + 7) // 8), "elements", loc)
    return _new_seq(m, x[a:b], loc)


def _append(m: Machine, loc: Loc, xs: Value, x: Value) -> Value:
    charge(m, m.per_element * (len(xs) + 1), "elements", loc)
    alloc(m, m.mem_base + m.mem_per_item * (len(xs) + 1), loc)
    return xs + (x,)


def _range(m: Machine, loc: Loc, a: Value, b: Value) -> Value:
    n = max(0, b - a)
    charge(m, m.per_element * n, "elements", loc)
    alloc(m, m.mem_base + m.mem_per_item * n, loc)
    return tuple(range(a, b))


def _map(m: Machine, loc: Loc, xs: Value, fv: Value) -> Value:
    out = []
    for x in xs:
        charge(m, m.per_element, "elements", loc)
        out.append(apply(m, fv, [x], loc))
    return _new_seq(m, tuple(out), loc)


def _filter(m: Machine, loc: Loc, xs: Value, fv: Value) -> Value:
    out = []
    for x in xs:
        charge(m, m.per_element, "elements", loc)
        if apply(m, fv, [x], loc):
            out.append(x)
    return _new_seq(m, tuple(out), loc)


def _fold(m: Machine, loc: Loc, xs: Value, acc: Value, fv: Value) -> Value:
    for x in xs:
        charge(m, m.per_element, "elements", loc)
        acc = apply(m, fv, [acc, x], loc)
    return acc


def _exists(m: Machine, loc: Loc, xs: Value, fv: Value) -> Value:
    for x in xs:
        charge(m, m.per_element, "elements", loc)
        if apply(m, fv, [x], loc):
            return True
    return False


def _forall(m: Machine, loc: Loc, xs: Value, fv: Value) -> Value:
    for x in xs:
        charge(m, m.per_element, "elements", loc)
        if not apply(m, fv, [x], loc):
            return False
    return True


def _hasher(name: str) -> Callable[[Machine, Loc, Value], Value]:
    def run(m: Machine, loc: Loc, b: Value) -> Value:
        charge(m, m.per_hash_block * max(1, (len(b) + 63) // 64), "hash_blocks", loc)
        alloc(m, m.mem_base + 32, loc)
        if name == "blake2b256":
            return hashlib.blake2b(b, digest_size=32).digest()
        return hashlib.sha256(b).digest()
    return run


def _int_to_string(m: Machine, loc: Loc, x: Value) -> Value:
    return _new_seq(m, str(x), loc)


def _string_to_int(m: Machine, loc: Loc, s: Value) -> Value:
    charge(m, m.per_element * _elements(s), "elements", loc)
    digits = s[1:] if s.startswith("-") else s
    if not (0 < len(digits) <= 19 and digits.isascii() and digits.isdigit()):
        return None
    v = int(s)
    if not -(2**63) <= v < 2**63:
        return None
    alloc(m, m.mem_base, loc)
    return Some(v)


def _int_to_bytes(m: Machine, loc: Loc, x: Value) -> Value:
    return _new_seq(m, int(x).to_bytes(8, "big", signed=True), loc)


def _bytes_to_int(m: Machine, loc: Loc, b: Value) -> Value:
    if len(b) != 8:
        return None
    alloc(m, m.mem_base, loc)
    return Some(int.from_bytes(b, "big", signed=True))


def _string_to_bytes(m: Machine, loc: Loc, s: Value) -> Value:
    charge(m, m.per_element * _elements(s), "elements", loc)
    return _new_seq(m, s.encode("utf-8"), loc)


def _bytes_to_string(m: Machine, loc: Loc, b: Value) -> Value:
    charge(m, m.per_element * _elements(b), "elements", loc)
    try:
        s = b.decode("utf-8")
    except UnicodeDecodeError:
        return None
    _new_seq(m, s, loc)
    alloc(m, m.mem_base, loc)
    return Some(s)


def _bytes_to_hex(m: Machine, loc: Loc, b: Value) -> Value:
    charge(m, m.per_element * _elements(b) * 2, "elements", loc)
    return _new_seq(m, b.hex(), loc)


#: builtin name -> implementation (m, loc, *args) -> value
IMPLS: dict[str, Callable[..., Value]] = {
    "size": _size, "get": _get, "get_or_else": _get_or_else, "slice": _slice,
    "append": _append, "range": _range, "map": _map, "filter": _filter, "fold": _fold,
    "exists": _exists, "forall": _forall, "blake2b256": _hasher("blake2b256"),
    "sha256": _hasher("sha256"), "int_to_string": _int_to_string,
    "string_to_int": _string_to_int, "int_to_bytes": _int_to_bytes,
    "bytes_to_int": _bytes_to_int, "string_to_bytes": _string_to_bytes,
    "bytes_to_string": _bytes_to_string, "bytes_to_hex": _bytes_to_hex,
}
