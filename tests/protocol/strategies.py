"""Hypothesis strategies shared by the protocol tests."""

from __future__ import annotations

from hypothesis import strategies as st

INT_MIN = -(2**64)
INT_MAX = 2**64 - 1

cbor_ints = st.one_of(
    st.integers(-1000, 1000),
    st.sampled_from([23, 24, 255, 256, 65535, 65536, 2**32 - 1, 2**32, INT_MAX, -24, -25, INT_MIN]),
    st.integers(INT_MIN, INT_MAX),
)
cbor_keys = st.one_of(cbor_ints, st.text(max_size=8), st.binary(max_size=8))
cbor_scalars = st.one_of(
    st.none(), st.booleans(), cbor_ints, st.binary(max_size=40), st.text(max_size=40)
)
cbor_values = st.recursive(
    cbor_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=6),
        st.dictionaries(cbor_keys, inner, max_size=6),
    ),
    max_leaves=30,
)
"""Plain values in Stele's CBOR data model (lists, not tuples: that is what decode returns)."""
