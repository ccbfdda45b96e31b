"""The builtin functions and the standard effect prelude: names, versions and signatures.

Builtins are named `name@version` in canonical (hashed) forms, so a future
change to one's semantics or cost gets a new version and never silently
changes the meaning of stored code. Type variables are written `a`, `b`.

==================  ==========================================  =============================
builtin             signature                                   meaning
==================  ==========================================  =============================
size                (List[a] | String | Bytes) -> Int          items / code points / bytes
get                 (List[a], Int) -> Option[a]                 None when out of range
get_or_else         (Option[a], a) -> a
slice               (X, Int, Int) -> X, X = List[a]|String|Bytes  [start, end), clamped
append              (List[a], a) -> List[a]                     add at the end
range               (Int, Int) -> List[Int]                     [start, end)
map                 (List[a], Fn(a) -> b) -> List[b]
filter              (List[a], Fn(a) -> Bool) -> List[a]
fold                (List[a], b, Fn(b, a) -> b) -> b            left fold
exists / forall     (List[a], Fn(a) -> Bool) -> Bool            short-circuit, left to right
blake2b256, sha256  (Bytes) -> Bytes                            32-byte digests
int_to_string       (Int) -> String                             decimal
string_to_int       (String) -> Option[Int]                     decimal, optional '-'
int_to_bytes        (Int) -> Bytes                              8 bytes, big-endian, signed
bytes_to_int        (Bytes) -> Option[Int]                      exactly 8 bytes, else None
string_to_bytes     (String) -> Bytes                           UTF-8
bytes_to_string     (Bytes) -> Option[String]                   None unless valid UTF-8
bytes_to_hex        (Bytes) -> String                           lowercase hex
==================  ==========================================  =============================

Function arguments of builtins may have any effect row; the call performs the
effects of the function it is given. Builtins must be called directly (they
are not first-class values).
"""

from __future__ import annotations

from ._ast import EffectDecl
from ._parser import parse_module

__all__ = ["BUILTINS", "BUILTIN_VERSION", "PRELUDE_SOURCE", "PRELUDE", "builtin_ref"]

#: builtin name -> arity; every builtin is at version BUILTIN_VERSION for now
BUILTINS: dict[str, int] = {
    "size": 1, "get": 2, "get_or_else": 2, "slice": 3, "append": 2, "range": 2,
    "map": 2, "filter": 2, "fold": 3, "exists": 2, "forall": 2,
    "blake2b256": 1, "sha256": 1,
    "int_to_string": 1, "string_to_int": 1, "int_to_bytes": 1, "bytes_to_int": 1,
    "string_to_bytes": 1, "bytes_to_string": 1, "bytes_to_hex": 1,
}
BUILTIN_VERSION = 1


def builtin_ref(name: str) -> str:
    """The canonical `name@version` of a builtin."""
    return f"{name}@{BUILTIN_VERSION}"


#: The standard effects every host is expected to offer (the sandbox grants or denies them).
PRELUDE_SOURCE = """
effect Log   { emit(msg: String) -> Unit }
effect Clock { now() -> Int; sleep(ms: Int) -> Unit }
effect Rand  { int(lo: Int, hi: Int) -> Int; bytes(n: Int) -> Bytes }
effect KV    { get(key: String) -> Option[Bytes]; put(key: String, value: Bytes) -> Unit }
"""

PRELUDE: dict[str, EffectDecl] = parse_module(PRELUDE_SOURCE, "<prelude>").effects
