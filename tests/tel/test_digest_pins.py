"""Pinned digests: concrete values that any optimisation of parse/check/hash/store must keep.

The other hash tests check properties (rename invariance, dependency sensitivity,
process independence); these pin the actual digests of the examples and of
everything `Repository.prepare` writes (objects, dependencies, names, source
annotations), so a faster lexer, parser, hasher or encoder cannot silently
change a content address.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from stele.protocol import Digest, encode
from stele.store import Repository
from stele.tel import check_module, hash_module, parse_module

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

PINNED = {
    'fib': {   'fib': 'b2:c671291ab16f89d053d0964043793ad317bbb356a425ef7a7e8533cfee6a91e8',
               'fib_fast': 'b2:f46e299c64cb23d937843d5a7e753f0c6bf74836e27dd6ae26b13dd9d8109b2f'},
    'ledger': {   'balance': 'b2:6349976b6aa9e52df6c04c7ae7ba0d03095a9a2fe074671fb5a0ea0d99b67d4b',
                  'demo': 'b2:327b3a64b54376e0ae80dc11bd189083ae0246b824f37bd53181f9256e699393',
                  'mint': 'b2:99c2dd9c2af37695e503c431303da62759a985a6e4f2c42a92f73d3754a77e3c',
                  'set_balance': 'b2:668de0379fdeb927e34a5f07c4f20133ad94093c869529fe1702b72b2bf7c350',
                  'total': 'b2:8050272a199d4286ddddb0170a01de69386f6a74788e92390afa3bf6da1d2bed',
                  'transfer': 'b2:e20365698fd23d70ba8f37b82c74685bb73e8b2fa05b3194ee71a5971f52d203'},
    'merkle': {   'leaf_hash': 'b2:182e2795df2193ffc69f57d9c930730ccc6a3e33283481c0f7373d5c1d74b528',
                  'merkle_root': 'b2:5faf70c11da9e23337d38acc235fcb54eb600c2cab8b58ae2584632499ce8931',
                  'next_level': 'b2:ecce661ea1966a4ba4b68aea0081be3f0c0989bb9e1ed2cc5fa51b7768cb3114',
                  'node_hash': 'b2:ac547d71634126183212ede21b11f1c097eac073a6a6fd3b40ace8900747130c',
                  'reduce_levels': 'b2:8825cd942c57d782038ccacabfa2c5ca07672c0d18578cf1e2178504a0aa6c5a'},
    'parity': {   'is_even': 'b2:a1b85cac807b4d3a899a1e5bf20079207aad01c5802c71ef29998a0a6787fca7',
                  'is_odd': 'b2:3db180b68001cd1ca10ee204b7930b8a22890bf6838258ad2095f403097166e8'},
    'sum_squares': {   'sum_squares': 'b2:3e6ee815d7446a2de0b30a0b1a1bb86dbb1b84287b8dcde3392013fae2580c9e',
                       'sum_squares_to': 'b2:7f5e8b4f34f4e9d91265a249c9e9642ae87ad62d4e2624e61192018ec5e86efd'},
    'timer': {   'run_steps': 'b2:d9ba858ddf354eb92eca2ccc318719ec3c614636e0903a72793e1fddf980b8fb',
                 'wait_until': 'b2:c0f0994bc24a65ed2dfac6b2cf4fcb32cc82a88b4dc1e71b9e015ec707d04b93',
                 'workflow': 'b2:8e0bed271af86a4e325804b3fa9c52c086626619d18e5800335ddddfe7b4c5d0'}}

MISC = 'def lits(s: String) -> (String, Bytes, Bool, Option[Int], Unit) =\n  let t: String = "a\\tb\\n\\"q\\" \\u{e9}\\\\" ++ s in\n  (t, x"00ff10", !(1 != 2) && true, Some(-3 % 2), ())\n\ndef pick(p: (Int, Int)) -> Int = let f = fn (a: Int, b: Int) => a * b - a / 1 in f(p.0, p.1)\n\ndef opt(o: Option[Int]) -> Int = match o { Some(v) => v, None => 0 - 1 }\n'

MISC_PINNED = {'lits': 'b2:177d92eaf610ec609b95c30018afcc9b43023d43b19234a0f53f9de0fd30d973',
 'opt': 'b2:668270fc4fa4bc997c335d3e6493b2e29730e07aaa5069d6662d3ad368e059b0',
 'pick': 'b2:32f6be346ea564568bc568235b374386585c289d8181e345a7c71434d117242d'}

PREPARE_PINNED = 'b2:c0e8b7c6ec794cef717acfb9401081b131dec797a80036a23f652db768ffeaaa'


def _digests(source: str, file: str) -> dict[str, str]:
    module = parse_module(source, file)
    check_module(module, source)
    return {n: str(d) for n, d in hash_module(module).digests.items()}


@pytest.mark.parametrize("example", sorted(PINNED))
def test_example_digests_are_pinned(example: str) -> None:
    source = (EXAMPLES / f"{example}.tel").read_text()
    assert _digests(source, f"{example}.tel") == PINNED[example]


def test_literals_escapes_lambdas_tuples_and_match_are_pinned() -> None:
    assert _digests(MISC, "misc.tel") == MISC_PINNED


def _bench_source(n: int) -> str:
    lines = ["def d0(x: Int) -> Int = x\n"]
    for i in range(1, n):
        lines.append(f"def d{i}(x: Int) -> Int = x + {i} + d{i - 1}(x) + d{i // 2}(x)\n")
    return "".join(lines)


def test_everything_the_repository_writes_is_pinned() -> None:
    with Repository(None, clock=lambda: 0) as repo:
        objects, bindings, meta = repo.prepare(_bench_source(40) + MISC, filename="b.tel")
    written = [[[o.kind, o.payload, sorted(o.deps)] for o in objects], bindings, meta]
    assert str(Digest.of(encode(written))) == PREPARE_PINNED
