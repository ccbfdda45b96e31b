"""The repository messages of daemon protocol 3: round trips, hardened decoding, scratch stores."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stele.daemon._fetch import write_scratch
from stele.daemon._messages import ExecOutcome, StoredNamesReply
from stele.actors.repository._messages import (DependencyInfo, HistoryReply, NameChange,
                                               NamesReply, ShowReply)
from stele.daemon._repo_messages import (ClosureEntry, DeleteRequest, DependentRow,
                                         DependentsList, DependentsRequest, FetchReply,
                                         FetchRequest, HistoryRequest, NamesRequest,
                                         RenameRequest, ResumeRequest, ShowOutcome, ShowRequest,
                                         WireObject)
from stele.protocol import DecodeError, Digest, Message, decode_message, encode_message

digests = st.binary(max_size=16).map(Digest.of)
names = st.text(max_size=12)
name_tuples = st.lists(names, max_size=3).map(tuple)
deps = st.builds(DependencyInfo, digests, names, names, name_tuples)
objects = st.builds(WireObject, names, st.binary(max_size=40),
                    st.lists(digests, max_size=2).map(tuple), st.none() | st.binary(max_size=8))
changes = st.builds(NameChange, names, st.none() | digests, st.none() | digests,
                    st.integers(0, 2**63 - 1), names)

MESSAGES = st.one_of(
    st.builds(ShowRequest, names, st.booleans()),
    st.builds(ShowOutcome, st.builds(ShowReply, digests, names, name_tuples, st.text(max_size=60),
                                     st.lists(deps, max_size=3).map(tuple)),
              st.none() | st.lists(st.builds(ClosureEntry, digests, names, name_tuples),
                                   max_size=3).map(tuple)),
    st.builds(NamesRequest, st.none() | names),
    st.builds(NamesReply, st.lists(st.tuples(names, digests), max_size=4).map(tuple)),
    st.builds(HistoryRequest, names),
    st.builds(HistoryReply, st.lists(changes, max_size=3).map(tuple)),
    st.builds(DependentsRequest, names, st.booleans()),
    st.builds(DependentsList, digests, st.lists(st.builds(
        DependentRow, digests, st.integers(0, 100), name_tuples), max_size=3).map(tuple)),
    st.builds(RenameRequest, names, names, st.booleans()),
    st.builds(DeleteRequest, names),
    st.builds(FetchRequest, name_tuples, name_tuples),
    st.builds(FetchReply, st.lists(objects, max_size=3).map(tuple),
              st.lists(st.tuples(names, digests), max_size=3).map(tuple)),
    st.builds(ResumeRequest, names),
    st.builds(StoredNamesReply, st.dictionaries(names, digests, max_size=3), name_tuples),
)


@settings(max_examples=200, deadline=None)
@given(MESSAGES)
def test_repository_messages_round_trip_canonically(msg: Message) -> None:
    data = encode_message(msg)
    back = decode_message(data, type(msg))
    assert back == msg and encode_message(back) == data


@settings(max_examples=100, deadline=None)
@given(MESSAGES, st.data())
def test_every_truncation_is_refused_typed(msg: Message, data: st.DataObject) -> None:
    wire = encode_message(msg)
    cut = data.draw(st.integers(0, len(wire) - 1))
    with pytest.raises(DecodeError):
        decode_message(wire[:cut])


@pytest.mark.parametrize("good, index, value, field", [
    (ShowRequest("f", True), 1, 3, "target"),
    (DependentRow(Digest.of(b"x"), 2, ()), 2, "deep", "depth"),
    (WireObject("k", b"p", ()), 2, "text", "payload"),
    (FetchRequest(("a",), ()), 1, 5, "targets"),
    (NameChange("n", None, None, 1, ""), 2, "b2:zz", "previous"),
    (RenameRequest("a", "b", False), 3, 1, "force"),
])
def test_ill_typed_fields_are_refused_naming_the_field(good: Message, index: int, value: object,
                                                      field: str) -> None:
    from stele.protocol import decode, encode

    raw = decode(encode_message(good))
    assert isinstance(raw, list)
    raw[index] = value
    with pytest.raises(DecodeError, match=field):
        decode_message(encode(raw), type(good))


def test_exec_outcome_keeps_the_breakdown_order_across_the_wire() -> None:
    from stele.actors.allocator import Resources
    from stele.actors.executor import ExecResult
    from stele.daemon._wire import outcome_of, result_of

    d = Digest.of(b"x")
    r = ExecResult("t", d, "tel", 1, Resources(), 3, {"Var": 1, "Binary": 1, "Call": 1}, d, 0,
                   False, None, b"", b"", (), 0, ())
    back = result_of(decode_message(encode_message(outcome_of(r)), ExecOutcome))
    assert list(back.breakdown) == ["Var", "Binary", "Call"]


def test_a_scratch_store_recomputes_digests_and_keeps_names(tmp_path: Path) -> None:
    from stele.store import Repository

    payload = b"\x01\x02"
    reply = FetchReply((WireObject("blob.x", payload, ()),), (("thing", Digest.of(payload)),))
    path = str(tmp_path / "s.sqlite")
    write_scratch(path, reply)
    with Repository(path, clock=lambda: 0) as repo:
        assert repo.lookup("thing") == Digest.of(payload)
        assert repo.get("thing").payload == payload


_SEGMENT = st.text("abcxyz_", min_size=1, max_size=4)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["alice", "bob"]),
                          st.lists(_SEGMENT, min_size=1, max_size=3).map(".".join),
                          st.integers(0, 3)), max_size=12))
def test_a_tenant_view_lists_exactly_its_own_names(
        tmp_path_factory: pytest.TempPathFactory, bindings: list[tuple[str, str, int]]) -> None:
    import stele
    from stele.daemon._repo_view import RepoView
    from stele.store import Repository

    path = str(tmp_path_factory.mktemp("view") / "store.sqlite")
    expected: dict[str, dict[str, Digest]] = {"alice": {}, "bob": {}}
    with Repository(path, clock=lambda: 0) as repo:
        for tenant, name, blob in bindings:
            digest = repo.put_blob(bytes([blob]), kind="blob.test",
                                   name=f"tenant.{tenant}.{name}")
            expected[tenant][name] = digest
    view = RepoView(path, stele.RealEnv())
    try:
        for tenant, mine in expected.items():
            assert dict(view.names(tenant, None).names) == mine
            assert list(view.names(tenant, None).names) == sorted(mine.items())
            for name, digest in mine.items():
                names = view._view(tenant).objects.names_of(digest)
                assert name in names and all(n in mine for n in names)
    finally:
        view.close()
