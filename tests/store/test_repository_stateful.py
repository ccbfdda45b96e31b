"""A stateful model of the repository: stores, imports, moves and removals of names.

The model keeps, per name, the value its definition computes and the chain of
digests it was bound to.  Invariants after every step: `names()` equals the
model's bindings, each name's history replays to its current binding, every
stored definition (named or not) loads and computes the value it computed
when it was stored -- references are pinned by digest, whatever happened to
the names since.
"""

from __future__ import annotations

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule

from stele.protocol import Digest

from ._helpers import repo

NAMES = ["a", "b", "c", "ns.d", "ns.e"]


class RepositoryMachine(RuleBasedStateMachine):
    defs = Bundle("defs")

    def __init__(self) -> None:
        super().__init__()
        self.repo = repo()
        self.bound: dict[str, Digest] = {}
        self.chain: dict[str, list[Digest | None]] = {}
        self.value: dict[Digest, int] = {}

    def _bind(self, name: str, digest: Digest | None) -> None:
        if self.bound.get(name) == digest:
            return
        self.chain.setdefault(name, []).append(digest)
        if digest is None:
            self.bound.pop(name, None)
        else:
            self.bound[name] = digest

    @rule(target=defs, name=st.sampled_from(NAMES), k=st.integers(-50, 50))
    def store_constant(self, name: str, k: int) -> Digest:
        ns, _, short = name.rpartition(".")
        digest = self.repo.store(f"def {short}() -> Int = {k}\n", namespace=ns)[name]
        self._bind(name, digest)
        self.value[digest] = k
        return digest

    @rule(target=defs, name=st.sampled_from(NAMES), uses=st.lists(st.sampled_from(NAMES), min_size=1,
                                                                  max_size=3, unique=True),
          k=st.integers(-5, 5))
    def store_user(self, name: str, uses: list[str], k: int) -> Digest:
        available = [u for u in uses if u in self.bound and u != name]
        ns, _, short = name.rpartition(".")
        imports = "".join(f"#use i{j} = {u}\n" for j, u in enumerate(available))
        body = " + ".join([str(k)] + [f"i{j}()" for j in range(len(available))])
        digest = self.repo.store(f"{imports}def {short}() -> Int = {body}\n", namespace=ns)[name]
        self._bind(name, digest)
        self.value[digest] = k + sum(self.value[self.bound[u]] for u in available)
        return digest

    @rule(name=st.sampled_from(NAMES), digest=defs)
    def move(self, name: str, digest: Digest) -> None:
        self.repo.set_name(name, digest, author="mover")
        self._bind(name, digest)

    @rule(name=st.sampled_from(NAMES))
    def remove(self, name: str) -> None:
        if name in self.bound:
            self.repo.remove_name(name)
            self._bind(name, None)

    @invariant()
    def names_match_the_model(self) -> None:
        assert dict(self.repo.names()) == self.bound

    @invariant()
    def history_replays_to_the_binding(self) -> None:
        for name, chain in self.chain.items():
            events = self.repo.history(name)
            assert [e.digest for e in events] == chain
            assert [e.previous for e in events] == [None] + chain[:-1]

    @invariant()
    def every_definition_keeps_its_meaning(self) -> None:
        for digest, value in self.value.items():
            loaded = self.repo.load(digest)
            assert loaded.program().call(loaded.entry).value == value


RepositoryMachine.TestCase.settings = settings(max_examples=30, stateful_step_count=15,
                                               deadline=None)
TestRepositoryMachine = RepositoryMachine.TestCase
