"""Merkle tree: paths verify, every tampering is caught, leaves and nodes are separated."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from stele.actors.prover._errors import InvalidParameters
from stele.actors.prover._merkle import (
    DIGEST_SIZE,
    MerkleTree,
    hash_columns,
    hash_leaf,
    hash_node,
    leaf_hasher,
    merkle_root_from_path,
)


def _leaves(n: int, salt: int = 0) -> list[bytes]:
    return [hash_leaf(f"leaf {salt} {i}".encode()) for i in range(n)]


@given(st.integers(0, 8), st.data())
def test_every_path_verifies(log_n: int, data: st.DataObject) -> None:
    n = 1 << log_n
    tree = MerkleTree(_leaves(n))
    assert tree.num_leaves == n and tree.depth == log_n
    index = data.draw(st.integers(0, n - 1))
    path = tree.path(index)
    assert len(path) == log_n * DIGEST_SIZE
    assert merkle_root_from_path(tree.leaf(index), index, path) == tree.root


@given(st.integers(1, 7), st.data())
def test_tampered_path_leaf_or_index_is_caught(log_n: int, data: st.DataObject) -> None:
    n = 1 << log_n
    tree = MerkleTree(_leaves(n))
    index = data.draw(st.integers(0, n - 1))
    path = bytearray(tree.path(index))
    leaf = tree.leaf(index)
    bit = data.draw(st.integers(0, len(path) * 8 - 1))
    path[bit // 8] ^= 1 << (bit % 8)
    assert merkle_root_from_path(leaf, index, bytes(path)) != tree.root
    other = data.draw(st.integers(0, n - 1).filter(lambda i: i != index))
    assert merkle_root_from_path(leaf, other, tree.path(index)) != tree.root
    assert merkle_root_from_path(hash_leaf(b"forged"), index, tree.path(index)) != tree.root


def test_single_leaf_tree_root_is_the_leaf() -> None:
    leaf = hash_leaf(b"only")
    tree = MerkleTree([leaf])
    assert tree.root == leaf and tree.path(0) == b""


def test_leaf_and_node_hashes_are_domain_separated() -> None:
    a, b = hash_leaf(b"a"), hash_leaf(b"b")
    # An inner node's preimage is not a leaf's preimage with the same digest.
    assert hash_node(a, b) != hash_leaf(a + b)
    plain = hashlib.blake2b(a + b, digest_size=32).digest()
    assert hash_node(a, b) != plain


def test_incremental_leaf_hash_equals_one_shot() -> None:
    data = bytes(range(256)) * 5
    h = leaf_hasher()
    for i in range(0, len(data), 37):
        h.update(data[i : i + 37])
    assert h.digest() == hash_leaf(data)


def test_hash_columns_hashes_little_endian_columns() -> None:
    m = np.arange(12, dtype=np.uint32).reshape(3, 4)
    packed = hash_columns(m)
    assert len(packed) == 4 * DIGEST_SIZE
    col1 = np.array([1, 5, 9], dtype="<u4").tobytes()
    assert packed[DIGEST_SIZE : 2 * DIGEST_SIZE] == hash_leaf(col1)


@pytest.mark.parametrize("count", [0, 3, 6])
def test_non_power_of_two_leaf_count_is_rejected(count: int) -> None:
    with pytest.raises(InvalidParameters, match="num_leaves"):
        MerkleTree(_leaves(count) if count else b"")


def test_out_of_range_index_is_rejected() -> None:
    tree = MerkleTree(_leaves(4))
    with pytest.raises(InvalidParameters, match="index"):
        tree.path(4)
    with pytest.raises(InvalidParameters, match="index"):
        tree.leaf(-1)
