"""A binary Merkle tree over BLAKE2b-256, with domain-separated leaves and nodes.

The polynomial commitment builds one tree over the columns of its encoded
matrix.  Leaves and inner nodes are hashed under different BLAKE2b
personalisations (``stele/mt-leaf`` and ``stele/mt-node``), so a leaf can
never be passed off as an inner node or the reverse (the classic
second-preimage attack on unprefixed Merkle trees).

A leaf's hash covers the whole column, ``leaf = H_leaf(column bytes)``.
:func:`leaf_hasher` returns a fresh incremental hash object with that
personalisation, so a committer can feed a column in row by row and obtain the
very same digest as hashing the column at once (see ``_commit.py``).

Authentication paths are the sibling hashes from the leaf up to (not
including) the root.  The number of leaves is always a power of two.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from ._errors import InvalidParameters

__all__ = [
    "DIGEST_SIZE",
    "MerkleTree",
    "hash_columns",
    "hash_leaf",
    "hash_node",
    "leaf_hasher",
    "merkle_root_from_path",
]

DIGEST_SIZE = 32
_LEAF_PERSON = b"stele/mt-leaf"
_NODE_PERSON = b"stele/mt-node"


def leaf_hasher() -> "hashlib.blake2b":
    """A fresh incremental leaf hash; ``update`` it with column bytes in order."""
    return hashlib.blake2b(digest_size=DIGEST_SIZE, person=_LEAF_PERSON)


def hash_leaf(data: bytes) -> bytes:
    """The leaf hash of ``data`` (a whole column's bytes)."""
    return hashlib.blake2b(data, digest_size=DIGEST_SIZE, person=_LEAF_PERSON).digest()


def hash_node(left: bytes, right: bytes) -> bytes:
    """The inner-node hash of two children."""
    return hashlib.blake2b(
        left + right, digest_size=DIGEST_SIZE, person=_NODE_PERSON
    ).digest()


def _hash_layer(layer: bytes) -> bytes:
    """Hash consecutive 64-byte pairs of a layer into the next layer up."""
    out = bytearray()
    blake = hashlib.blake2b
    for i in range(0, len(layer), 2 * DIGEST_SIZE):
        out += blake(
            layer[i : i + 2 * DIGEST_SIZE], digest_size=DIGEST_SIZE, person=_NODE_PERSON
        ).digest()
    return bytes(out)


class MerkleTree:
    """A complete binary Merkle tree, kept whole so that any leaf can be opened.

    Memory is ``2 * num_leaves * 32`` bytes.  Layers are stored as packed
    bytes, leaves first.
    """

    __slots__ = ("_layers",)

    def __init__(self, leaf_hashes: Sequence[bytes] | bytes) -> None:
        packed = leaf_hashes if isinstance(leaf_hashes, bytes) else b"".join(leaf_hashes)
        if len(packed) % DIGEST_SIZE:
            raise InvalidParameters(
                "leaf_hashes", len(packed), f"total length must be a multiple of {DIGEST_SIZE}"
            )
        count = len(packed) // DIGEST_SIZE
        if count == 0 or count & (count - 1):
            raise InvalidParameters("num_leaves", count, "must be a power of two >= 1")
        layers = [packed]
        while len(layers[-1]) > DIGEST_SIZE:
            layers.append(_hash_layer(layers[-1]))
        self._layers = layers

    @property
    def num_leaves(self) -> int:
        """How many leaves the tree has (a power of two)."""
        return len(self._layers[0]) // DIGEST_SIZE

    @property
    def depth(self) -> int:
        """The number of sibling hashes in an authentication path."""
        return len(self._layers) - 1

    @property
    def root(self) -> bytes:
        """The 32-byte root digest."""
        return self._layers[-1]

    def leaf(self, index: int) -> bytes:
        """The hash stored at leaf ``index``."""
        self._check_index(index)
        return self._layers[0][index * DIGEST_SIZE : (index + 1) * DIGEST_SIZE]

    def path(self, index: int) -> bytes:
        """The authentication path of leaf ``index``: packed sibling hashes, bottom up."""
        self._check_index(index)
        out = bytearray()
        for layer in self._layers[:-1]:
            sibling = index ^ 1
            out += layer[sibling * DIGEST_SIZE : (sibling + 1) * DIGEST_SIZE]
            index >>= 1
        return bytes(out)

    def _check_index(self, index: int) -> None:
        if not 0 <= index < self.num_leaves:
            raise InvalidParameters("index", index, f"must be in [0, {self.num_leaves})")


def merkle_root_from_path(leaf_hash: bytes, index: int, path: bytes) -> bytes:
    """Recompute the root from a leaf hash, its index and its packed path.

    The caller compares the result with the committed root; the path's length
    fixes the depth, so callers must check it against the expected depth.
    """
    node = leaf_hash
    for level in range(len(path) // DIGEST_SIZE):
        sibling = path[level * DIGEST_SIZE : (level + 1) * DIGEST_SIZE]
        node = hash_node(sibling, node) if (index >> level) & 1 else hash_node(node, sibling)
    return node


def hash_columns(matrix: NDArray[np.uint32]) -> bytes:
    """Packed leaf hashes of every column of a (rows, cols) little-endian uint32 matrix."""
    columns = np.ascontiguousarray(matrix.T.astype("<u4", copy=False))
    raw = columns.tobytes()
    stride = columns.shape[1] * 4
    out = bytearray()
    for j in range(columns.shape[0]):
        out += hash_leaf(raw[j * stride : (j + 1) * stride])
    return bytes(out)
