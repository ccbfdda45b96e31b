"""The message registry: registration rules, field validation, every class round-trips."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Annotated, Literal, NewType, Optional, Union

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stele.protocol import (
    DecodeError,
    Digest,
    EncodeError,
    FieldError,
    Message,
    Ping,
    RegistrationError,
    Request,
    decode,
    decode_message,
    encode,
    encode_message,
    message,
    message_class,
    message_from_value,
    registered_messages,
)

from .strategies import cbor_values, import_all_stele_modules, message_strategy

UserId = NewType("UserId", int)


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


@message(65090)
@dataclass(frozen=True, slots=True)
class Leg(Message):
    """A test message: one leg of a transfer."""

    account: str
    amount: int


@message(65091)
@dataclass(frozen=True, slots=True)
class Kitchen(Message):
    """A test message using every supported annotation."""

    n: int
    flag: bool
    name: str
    blob: bytes
    digest: Digest
    maybe: Optional[int]
    maybe_digest: Digest | None
    either: Union[int, str]
    legs: tuple[Leg, ...]
    pair: tuple[int, str]
    items: list[bytes]
    table: dict[str, int]
    by_id: dict[int, Leg]
    color: Color
    level: Level
    mode: Literal["fast", "safe", 3]
    user: UserId
    note: Annotated[str, "free text"]
    payload: object
    body: Message
    inner: Leg | Ping | None = None
    empty: tuple[()] = ()


@message(65092)
@dataclass(frozen=True, slots=True)
class Positive(Message):
    """A test message whose ``__post_init__`` validates."""

    value: int

    def __post_init__(self) -> None:
        if self.value <= 0:
            raise ValueError(f"value must be positive, got {self.value}")


def test_registry_lookup() -> None:
    assert message_class(65090) is Leg
    assert Leg.__stele_tag__ == 65090
    assert Leg.__stele_fields__ == ("account", "amount")
    tags = [c.__stele_tag__ for c in registered_messages()]
    assert tags == sorted(tags) and {1, 2, 3, 65090, 65091, 65092} <= set(tags)


def test_wire_form_is_tag_then_fields() -> None:
    assert decode(encode_message(Leg("a", -5))) == [65090, "a", -5]
    assert decode(encode_message(Request(7, Ping(3)))) == [1, 7, [4, 3]]


def test_duplicate_tag_is_rejected_naming_both_classes() -> None:
    with pytest.raises(RegistrationError, match=r"tag 65090 is already registered to .*Leg; cannot register .*Other"):

        @message(65090)
        @dataclass(frozen=True, slots=True)
        class Other(Message):
            x: int


@pytest.mark.parametrize("tag", [0, -1, 2**16, "5", True])
def test_bad_tags_are_rejected(tag: object) -> None:
    with pytest.raises(RegistrationError, match="message tag"):
        message(tag)  # type: ignore[arg-type]


def test_class_shape_is_enforced() -> None:
    with pytest.raises(RegistrationError, match="must subclass stele.protocol.Message"):

        @message(65093)
        @dataclass(frozen=True, slots=True)
        class NotAMessage:  # type: ignore[type-var]
            x: int

    with pytest.raises(RegistrationError, match="frozen=True"):

        @message(65093)
        @dataclass(slots=True)
        class Mutable(Message):
            x: int

    with pytest.raises(RegistrationError, match="slotted"):

        @message(65093)
        @dataclass(frozen=True)
        class Unslotted(Message):
            x: int

    with pytest.raises(RegistrationError, match="init field"):

        @message(65093)
        @dataclass(frozen=True, slots=True)
        class Computed(Message):
            x: int = field(init=False, default=0)

    with pytest.raises(RegistrationError, match="unsupported message field annotation"):

        @message(65093)
        @dataclass(frozen=True, slots=True)
        class Floaty(Message):
            x: float

    assert 65093 not in {c.__stele_tag__ for c in registered_messages()}


def test_unregistered_instances_do_not_encode_as_messages() -> None:
    @dataclass(frozen=True, slots=True)
    class Loose(Message):
        x: int

    with pytest.raises(EncodeError, match="not a registered message class"):
        encode_message(Loose(1))


def kitchen() -> Kitchen:
    return Kitchen(
        n=-3, flag=True, name="n", blob=b"b", digest=Digest.of(b"d"), maybe=None,
        maybe_digest=Digest.of(b"e", "sha-256"), either="s", legs=(Leg("a", 1), Leg("b", -1)),
        pair=(1, "x"), items=[b"1"], table={"k": 1}, by_id={7: Leg("c", 0)}, color=Color.BLUE,
        level=Level.HIGH, mode=3, user=UserId(5), note="hi", payload={"any": [1, b"2"]},
        body=Ping(9), inner=Leg("z", 2),
    )


def test_every_annotation_round_trips() -> None:
    msg = kitchen()
    assert decode_message(encode_message(msg)) == msg
    assert decode_message(encode_message(msg), Kitchen) == msg


def _kitchen_wire() -> list[object]:
    wire = decode(encode_message(kitchen()))
    assert isinstance(wire, list)
    return wire


FIELDS = Kitchen.__stele_fields__


@pytest.mark.parametrize(
    ("field_name", "bad", "path", "reason"),
    [
        ("n", "3", "Kitchen.n", "expected int, got str '3'"),
        ("n", True, "Kitchen.n", "expected int, got bool True"),
        ("flag", 1, "Kitchen.flag", "expected bool, got int 1"),
        ("digest", b"\x00" * 36, "Kitchen.digest", "unknown multihash code"),
        ("digest", "b2:00", "Kitchen.digest", "expected Digest"),
        ("maybe", "x", "Kitchen.maybe", "expected int"),
        ("either", b"x", "Kitchen.either", "expected int | str, got bytes"),
        ("legs", [[65090, "a", 1], [65090, "b", "x"]], "Kitchen.legs[1].Leg.amount", "expected int"),
        ("legs", [[4, 1]], "Kitchen.legs[0]", "expected Leg, got Ping (tag 4)"),
        ("legs", [[65090, "a"]], "Kitchen.legs[0].Leg", "Leg has 2 fields, got 1"),
        ("pair", [1, "x", 2], "Kitchen.pair", "expected an array of 2 items"),
        ("items", [b"1", 2], "Kitchen.items[1]", "expected bytes"),
        ("table", {"k": "v"}, "Kitchen.table['k']", "expected int"),
        ("table", {1: 1}, "Kitchen.table[1]", "expected str"),
        ("by_id", {7: [65090, "a", None]}, "Kitchen.by_id[7].Leg.amount", "expected int, got NoneType"),
        ("color", "green", "Kitchen.color", "expected a Color value"),
        ("level", 3, "Kitchen.level", "expected a Level value"),
        ("level", True, "Kitchen.level", "expected a Level value"),
        ("mode", "3", "Kitchen.mode", "expected one of"),
        ("user", "u", "Kitchen.user", "expected int"),
        ("body", [999], "Kitchen.body", "unknown message tag 999"),
        ("body", [], "Kitchen.body", "expected a message"),
        ("inner", [65091], "Kitchen.inner", "expected Leg | Ping"),
        ("inner", [4, "x"], "Kitchen.inner.Ping.nonce", "expected int"),
        ("empty", [1], "Kitchen.empty", "expected an array of 0 items"),
    ],
)
def test_field_errors_name_class_field_and_value(field_name: str, bad: object, path: str, reason: str) -> None:
    wire = _kitchen_wire()
    wire[1 + FIELDS.index(field_name)] = bad
    with pytest.raises(FieldError) as info:
        decode_message(encode(wire))
    assert info.value.path == path
    assert reason in info.value.reason, info.value.reason
    assert path in str(info.value)


def test_post_init_rejection_becomes_a_field_error() -> None:
    with pytest.raises(FieldError, match="Positive: ValueError: value must be positive, got 0"):
        decode_message(encode([65092, 0]))


@pytest.mark.parametrize(
    ("value", "reason"),
    [(5, "expected a message"), ([], "expected a message"), (["x"], "expected a message"),
     ([9999], "unknown message tag 9999")],
)
def test_top_level_shape_errors(value: object, reason: str) -> None:
    with pytest.raises(DecodeError, match=reason):
        decode_message(encode(value))


def test_expect_narrows() -> None:
    data = encode_message(Leg("a", 1))
    assert decode_message(data, Leg) == Leg("a", 1)
    with pytest.raises(DecodeError, match="expected Ping, got Leg"):
        decode_message(data, Ping)


@given(st.binary(max_size=100))
def test_random_bytes_never_crash_decode_message(data: bytes) -> None:
    try:
        decode_message(data)
    except DecodeError:
        pass


@given(st.sampled_from(sorted({c.__stele_tag__ for c in registered_messages()})), st.lists(cbor_values, max_size=6))
def test_random_plain_values_never_crash_message_validation(tag: int, fields: list[object]) -> None:
    try:
        msg: Message = message_from_value([tag, *fields])
    except DecodeError:
        return
    assert decode(encode_message(msg)) == [tag, *fields]


_IMPORT_FAILURES = import_all_stele_modules()
ALL_MESSAGES = registered_messages()


def test_all_stele_modules_were_scanned_for_messages() -> None:
    # A module that fails to import hides its messages from the round-trip test below.
    assert _IMPORT_FAILURES == [], "message round-trip did not cover: " + "; ".join(_IMPORT_FAILURES)
    assert Kitchen in ALL_MESSAGES and Request in ALL_MESSAGES


@pytest.mark.parametrize("cls", ALL_MESSAGES, ids=lambda c: f"{c.__stele_tag__}-{c.__qualname__}")
@settings(max_examples=25, suppress_health_check=[HealthCheck.filter_too_much])
@given(data=st.data())
def test_every_registered_message_round_trips(cls: type[Message], data: st.DataObject) -> None:
    msg = data.draw(message_strategy(cls))
    wire = encode_message(msg)
    back = decode_message(wire)
    assert type(back) is cls
    assert back == msg
    assert encode_message(back) == wire


@message(65094)
@dataclass(frozen=True, slots=True)
class Tree(Message):
    """A test message with a forward reference and self-reference (compiled on first use)."""

    label: str
    leaf: LaterLeaf | None
    children: tuple[Tree, ...] = ()


@message(65095)
@dataclass(frozen=True, slots=True)
class LaterLeaf(Message):
    """Defined after :class:`Tree`, which refers to it."""

    weight: int


def test_forward_and_self_references_resolve_on_first_use() -> None:
    tree = Tree("root", None, (Tree("a", LaterLeaf(2)), Tree("b", None, (Tree("c", LaterLeaf(-1)),))))
    assert decode_message(encode_message(tree)) == tree
    with pytest.raises(FieldError) as info:
        decode_message(encode([65094, "r", None, [[65094, "a", [65095, "x"], []]]]))
    assert info.value.path == "Tree.children[0].Tree.leaf.LaterLeaf.weight"


def test_messages_nest_inside_plain_data_and_digest_by_their_encoding() -> None:
    leg = Leg("a", 1)
    assert decode(encode({"legs": [leg]})) == {"legs": [[65090, "a", 1]]}
    assert Digest.of_object(leg) == Digest.of(encode_message(leg))
