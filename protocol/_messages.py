"""The closed message registry: frozen, slotted, typed classes that round-trip through CBOR.

Defining a message (any package; tags are allocated per area in ranges:
kernel/protocol 1-99, sim 100-199, TEL/store/repository 200-299,
co-processor 300-399, prover 400-499, execution services 500-699; tests and
benchmarks use 65000-65535)::

    from dataclasses import dataclass
    from stele.protocol import Digest, Message, message

    @message(201)
    @dataclass(frozen=True, slots=True)
    class PutObject(Message):
        digest: Digest
        data: bytes
        names: tuple[str, ...] = ()
        parent: Digest | None = None

Wire form: ``[tag, field1, field2, ...]`` in declaration order, encoded with
:func:`~stele.protocol.encode`; a nested message is itself ``[tag, ...]``.
:func:`decode_message` checks every field against its annotation and names
the bad one (``PutObject.names[2]: expected str, got int 7``).

Supported annotations: ``int``, ``bool``, ``str``, ``bytes``, ``None``,
:class:`Digest`, ``X | None`` / ``Optional[X]``, unions (messages in a union
are picked by tag), ``tuple[X, ...]``, ``tuple[X, Y]``, ``list[X]``,
``dict[K, V]``, ``Literal[...]``, ``enum.Enum`` subclasses (by value),
``NewType`` and ``Annotated`` (unwrapped), a registered message class, a
non-registered base class such as :class:`Message` (any registered subclass),
and ``object``/``Any`` (any plain CBOR value, not re-typed).

A message's ``__post_init__`` may validate further; its exceptions become
:class:`FieldError` when decoding.  Registering a tag twice, or a class that
is not a frozen slotted dataclass subclassing :class:`Message`, raises
:class:`RegistrationError` at import time.
"""

from __future__ import annotations

import dataclasses
import enum
import reprlib
import types
import typing
from collections.abc import Callable
from typing import Any, ClassVar, Final, TypeVar, overload

from ._cbor import MAX_DEPTH, MAX_SIZE, decode, encode
from ._digest import Digest
from ._errors import DecodeError, DigestError, EncodeError, FieldError, RegistrationError

__all__ = [
    "Message",
    "message",
    "encode_message",
    "decode_message",
    "message_from_value",
    "registered_messages",
    "message_class",
    "TAG_MAX",
]

TAG_MAX: Final = 0xFFFF
"""Largest allowed message tag (tags are 1..TAG_MAX)."""


class Message:
    """Base class of every protocol message (frozen, slotted dataclasses registered by tag)."""

    __slots__ = ()
    __stele_tag__: ClassVar[int]
    __stele_fields__: ClassVar[tuple[str, ...]]


_M = TypeVar("_M", bound=Message)
_C = TypeVar("_C", bound=type[Message])

_BY_TAG: dict[int, type[Message]] = {}
_TOP: dict[type[Message], Callable[[Any], Any]] = {}  # message_from_value's converters
_DECODERS: dict[type[Message], Callable[[list[Any]], Message]] = {}


def message(tag: int) -> Callable[[_C], _C]:
    """Register a frozen, slotted dataclass subclassing :class:`Message` under ``tag``.

    Apply it above ``@dataclass(frozen=True, slots=True)``.  Tags are unique
    across the whole runtime; a duplicate raises :class:`RegistrationError`
    naming both classes.
    """
    if type(tag) is not int or not 1 <= tag <= TAG_MAX:
        raise RegistrationError(f"message tag {tag!r} is not an int in [1, {TAG_MAX}]")

    def register(cls: _C) -> _C:
        name = f"{cls.__module__}.{cls.__qualname__}"
        checked: Any = cls  # the checks below are for callers that ignore the annotation
        if not (isinstance(checked, type) and issubclass(checked, Message)):
            raise RegistrationError(f"@message({tag}): {name} must subclass stele.protocol.Message")
        params = getattr(checked, "__dataclass_params__", None)
        if params is None or not params.frozen:
            raise RegistrationError(
                f"@message({tag}): {name} must be a @dataclass(frozen=True, slots=True) "
                "(put @message above @dataclass)"
            )
        if "__slots__" not in cls.__dict__:
            raise RegistrationError(f"@message({tag}): {name} must be a slotted dataclass (slots=True)")
        fields = dataclasses.fields(typing.cast(Any, cls))
        for f in fields:
            if not f.init:
                raise RegistrationError(f"@message({tag}): {name}.{f.name} must be an init field")
        old = _BY_TAG.get(tag)
        if old is not None and (old.__module__, old.__qualname__) != (cls.__module__, cls.__qualname__):
            raise RegistrationError(
                f"message tag {tag} is already registered to {old.__module__}.{old.__qualname__}; "
                f"cannot register {name}"
            )
        cls.__stele_tag__ = tag
        cls.__stele_fields__ = tuple(f.name for f in fields)
        _DECODERS.pop(cls, None)
        try:
            _compile(cls)  # fail early on unsupported annotations
        except _Unresolved:
            pass  # a forward reference not yet defined: compile on first decode
        _BY_TAG[tag] = cls
        return cls

    return register


def registered_messages() -> tuple[type[Message], ...]:
    """Every registered message class, by tag (only those whose modules are imported)."""
    return tuple(_BY_TAG[t] for t in sorted(_BY_TAG))


def message_class(tag: int) -> type[Message]:
    """The class registered under ``tag`` (``KeyError`` if none)."""
    return _BY_TAG[tag]


def encode_message(msg: Message) -> bytes:
    """Canonical CBOR of a registered message: ``[tag, *fields]``."""
    cls = type(msg)
    if _BY_TAG.get(getattr(cls, "__stele_tag__", -1)) is not cls:
        raise EncodeError(f"{cls.__qualname__} is not a registered message class")
    return encode(msg)


@overload
def decode_message(
    data: bytes, *, max_depth: int = MAX_DEPTH, max_size: int = MAX_SIZE
) -> Message: ...
@overload
def decode_message(
    data: bytes, expect: type[_M], *, max_depth: int = MAX_DEPTH, max_size: int = MAX_SIZE
) -> _M: ...
def decode_message(
    data: bytes,
    expect: type[Message] = Message,
    *,
    max_depth: int = MAX_DEPTH,
    max_size: int = MAX_SIZE,
) -> Message:
    """Strictly decode one message and validate every field against its annotation.

    ``expect`` narrows the accepted classes (a class or base class).  Raises
    :class:`DecodeError` for bad CBOR and :class:`FieldError` (a subclass)
    naming the class and field for a bad value.
    """
    return message_from_value(decode(data, max_depth=max_depth, max_size=max_size), expect)


def message_from_value(value: object, expect: type[_M] = Message) -> _M:  # type: ignore[assignment]
    """Build a message from its decoded plain form ``[tag, *fields]``, validating every field."""
    conv = _TOP.get(expect)
    if conv is None:
        conv = _TOP[expect] = _message_conv(expect)
    try:
        return conv(value)  # type: ignore[no-any-return]
    except _Bad as bad:
        if bad.path:
            raise FieldError(bad.path.lstrip("."), bad.reason) from None
        raise DecodeError(bad.reason) from None


class _Unresolved(RegistrationError):
    """A message annotation names something that is not defined (yet)."""


class _Bad(Exception):
    """Internal: a value does not match; ``path`` is built while unwinding."""

    def __init__(self, reason: str, path: str = "") -> None:
        self.reason = reason
        self.path = path


_short = reprlib.Repr()
_short.maxstring = 40
_short.maxother = 40
_short.maxlist = 4
_short.maxdict = 4


def _desc(v: object) -> str:
    return f"{type(v).__name__} {_short.repr(v)}"


Conv = Callable[[Any], Any]


def _exact(t: type) -> Conv:
    name = t.__name__

    def conv(v: Any) -> Any:
        if type(v) is t:
            return v
        raise _Bad(f"expected {name}, got {_desc(v)}")

    return conv


def _none(v: Any) -> Any:
    if v is None:
        return v
    raise _Bad(f"expected None, got {_desc(v)}")


def _anything(v: Any) -> Any:
    return v


def _digest(v: Any) -> Any:
    if type(v) is not bytes:
        raise _Bad(f"expected Digest (multihash bytes), got {_desc(v)}")
    try:
        return Digest.from_binary(v)
    except DigestError as exc:
        raise _Bad(str(exc)) from None


def _optional(inner: Conv) -> Conv:
    def conv(v: Any) -> Any:
        return None if v is None else inner(v)

    return conv


def _union(options: list[Any]) -> Conv:
    convs = [_conv(o) for o in options]
    by_tag: dict[int, Conv] = {}
    for o, c in zip(options, convs):
        if isinstance(o, type) and issubclass(o, Message):
            for t, cls in _BY_TAG.items():
                if issubclass(cls, o):
                    by_tag.setdefault(t, c)
    names = " | ".join(_name(o) for o in options)

    def conv(v: Any) -> Any:
        if by_tag and type(v) is list and v and type(v[0]) is int and v[0] in by_tag:
            return by_tag[v[0]](v)
        for c in convs:
            try:
                return c(v)
            except _Bad:
                continue
        raise _Bad(f"expected {names}, got {_desc(v)}")

    return conv


def _name(hint: Any) -> str:
    return getattr(hint, "__qualname__", None) or repr(hint)


def _list_of(inner: Conv, make: Callable[[list[Any]], Any]) -> Conv:
    def conv(v: Any) -> Any:
        if type(v) is not list:
            raise _Bad(f"expected an array, got {_desc(v)}")
        out = []
        i = 0
        try:
            for item in v:
                out.append(inner(item))
                i += 1
        except _Bad as bad:
            raise _Bad(bad.reason, f"[{i}]{bad.path}") from None
        return make(out)

    return conv


def _fixed_tuple(inners: list[Conv]) -> Conv:
    n = len(inners)

    def conv(v: Any) -> Any:
        if type(v) is not list or len(v) != n:
            raise _Bad(f"expected an array of {n} items, got {_desc(v)}")
        out = []
        for i, (c, item) in enumerate(zip(inners, v)):
            try:
                out.append(c(item))
            except _Bad as bad:
                raise _Bad(bad.reason, f"[{i}]{bad.path}") from None
        return tuple(out)

    return conv


def _dict_of(kconv: Conv, vconv: Conv) -> Conv:
    def conv(v: Any) -> Any:
        if type(v) is not dict:
            raise _Bad(f"expected a map, got {_desc(v)}")
        out = {}
        for k, item in v.items():
            try:
                out[kconv(k)] = vconv(item)
            except _Bad as bad:
                raise _Bad(bad.reason, f"[{k!r}]{bad.path}") from None
        return out

    return conv


def _literal(values: tuple[Any, ...]) -> Conv:
    allowed = [(type(x), x) for x in values]

    def conv(v: Any) -> Any:
        if (type(v), v) in allowed:
            return v
        raise _Bad(f"expected one of {list(values)!r}, got {_desc(v)}")

    return conv


def _enum(cls: type[enum.Enum]) -> Conv:
    def conv(v: Any) -> Any:
        try:
            member = cls(v)
        except (ValueError, TypeError):
            member = None
        if member is None or type(member.value) is not type(v):
            raise _Bad(f"expected a {cls.__qualname__} value, got {_desc(v)}")
        return member

    return conv


def _message_conv(cls: type[Message]) -> Conv:
    registered = _BY_TAG.get(getattr(cls, "__stele_tag__", -1)) is cls
    exact_tag = cls.__stele_tag__ if registered else None

    def conv(v: Any) -> Any:
        if type(v) is not list or not v or type(v[0]) is not int:
            raise _Bad(f"expected a message [tag, ...], got {_desc(v)}")
        tag = v[0]
        if tag == exact_tag:
            target = cls
        else:
            found = _BY_TAG.get(tag)
            if found is None:
                raise _Bad(f"unknown message tag {tag}")
            if not issubclass(found, cls):
                raise _Bad(f"expected {cls.__qualname__}, got {found.__qualname__} (tag {tag})")
            target = found
        decoder = _DECODERS.get(target) or _compile(target)
        return decoder(v)

    return conv


def _compile(cls: type[Message]) -> Callable[[list[Any]], Message]:
    """Build (and cache) the validating decoder of one registered class."""
    try:
        hints = typing.get_type_hints(cls, include_extras=True)
    except NameError as exc:
        raise _Unresolved(f"{cls.__qualname__} has an unresolvable annotation: {exc}") from None
    names = cls.__stele_fields__
    convs = [_conv(hints[n]) for n in names]
    count = len(names)
    qual = cls.__qualname__

    def decode_fields(v: list[Any]) -> Message:
        if len(v) != count + 1:
            raise _Bad(f"{qual} has {count} fields, got {len(v) - 1}", f".{qual}")
        values = []
        i = 0
        try:
            for c in convs:
                i += 1
                values.append(c(v[i]))
        except _Bad as bad:
            raise _Bad(bad.reason, f".{qual}.{names[i - 1]}{bad.path}") from None
        try:
            return cls(*values)
        except Exception as exc:  # a __post_init__ check rejected the values
            raise _Bad(f"{type(exc).__name__}: {exc}", f".{qual}") from None

    _DECODERS[cls] = decode_fields
    return decode_fields


_SIMPLE: Final[dict[Any, Conv]] = {
    int: _exact(int),
    bool: _exact(bool),
    str: _exact(str),
    bytes: _exact(bytes),
    type(None): _none,
    None: _none,
    Digest: _digest,
    object: _anything,
    Any: _anything,
}


def _conv(hint: Any) -> Conv:
    """The validating converter for one annotation (RegistrationError if unsupported)."""
    try:
        simple = _SIMPLE.get(hint)
    except TypeError:  # an unhashable annotation object
        simple = None
    if simple is not None:
        return simple
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is typing.Annotated:
        return _conv(args[0])
    if isinstance(hint, typing.NewType):
        return _conv(hint.__supertype__)
    if origin is typing.Union or origin is types.UnionType:
        rest = [a for a in args if a is not type(None)]
        if len(rest) < len(args):
            inner = _conv(rest[0]) if len(rest) == 1 else _union(rest)
            return _optional(inner)
        return _union(list(args))
    if origin is typing.Literal:
        return _literal(args)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return _list_of(_conv(args[0]), tuple)
        if args == ((),):
            return _fixed_tuple([])
        return _fixed_tuple([_conv(a) for a in args])
    if origin is list:
        return _list_of(_conv(args[0]) if args else _anything, _identity)
    if origin is dict:
        k, v = args if args else (Any, Any)
        return _dict_of(_conv(k), _conv(v))
    if hint is tuple:
        return _list_of(_anything, tuple)
    if hint is list:
        return _list_of(_anything, _identity)
    if hint is dict:
        return _dict_of(_anything, _anything)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return _enum(hint)
    if isinstance(hint, type) and issubclass(hint, Message):
        return _message_conv(hint)
    raise RegistrationError(f"unsupported message field annotation {hint!r}")


def _identity(v: list[Any]) -> list[Any]:
    return v
