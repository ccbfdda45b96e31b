"""Which implementation the prover's hot loops use: numba kernels or the numpy reference.

numba is optional (the ``fast`` extra).  The backend is chosen once, at
import, from ``$STELE_PROVER_KERNELS``:

* ``auto`` (or unset): ``numba`` when numba imports, else ``numpy``;
* ``numpy``: always the numpy reference code;
* ``numba``: numba, and an :class:`~._errors.InvalidParameters` error if it
  is not installed.

Both backends compute the same field values exactly (every kernel is tested
against its numpy reference), so proofs are byte-identical whichever runs.
:func:`use_backend` switches it for a block (the tests compare the two).
The numba kernels themselves live in modules that import numba at the top
(``_kernels_jit`` here, ``stele.actors.zkvm._fast_jit``); they are imported
only once the numba backend is in use.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.util import find_spec

from ._errors import InvalidParameters

__all__ = ["ENV_VAR", "BACKENDS", "backend", "numba_available", "use_backend"]

ENV_VAR = "STELE_PROVER_KERNELS"
BACKENDS = ("numpy", "numba")


def numba_available() -> bool:
    """Whether numba (the ``fast`` extra) can be imported."""
    return find_spec("numba") is not None


def _choose(value: str) -> str:
    want = value.strip().lower() or "auto"
    if want not in ("auto", *BACKENDS):
        raise InvalidParameters(ENV_VAR, value, "auto, numpy or numba")
    if want == "auto":
        return "numba" if numba_available() else "numpy"
    if want == "numba" and not numba_available():
        raise InvalidParameters(ENV_VAR, value, "numba installed (pip install 'stele[fast]')")
    return want


_state = {"backend": _choose(os.environ.get(ENV_VAR, "auto"))}


def backend() -> str:
    """The backend in use: ``"numba"`` or ``"numpy"``."""
    return _state["backend"]


@contextmanager
def use_backend(name: str) -> Iterator[None]:
    """Within the block, use backend ``name`` (``numpy``, ``numba`` or ``auto``); not thread-safe."""
    previous = _state["backend"]
    _state["backend"] = _choose(name)
    try:
        yield
    finally:
        _state["backend"] = previous
