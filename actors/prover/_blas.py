"""Keep numpy's BLAS single-threaded around the prover's float64 matrix products.

The commitment's exact modular matrix products (``_commit._matmul_mod``) run
on float64 BLAS.  numpy's bundled OpenBLAS starts its own threads for large
products, and on a machine whose cores are already busy (several provers,
worker processes, other services) those threads spin and wait on each other:
measured here, one ``(64 x 8192) @ (8192 x 148)`` product took 0.5-0.7 s
multi-threaded under load and 0.012-0.03 s single-threaded.  Parallelism in
Stele comes from worker processes, not BLAS threads.

:func:`single_threaded_blas` uses OpenBLAS's ``openblas_set_num_threads_local``
(thread-local, restored on exit), found in the library numpy loaded; if the
symbol is not there (another BLAS), it does nothing.
"""

from __future__ import annotations

import ctypes
import pathlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache

import numpy as np

__all__ = ["single_threaded_blas"]


@lru_cache(maxsize=1)
def _set_local() -> Callable[[int], int] | None:
    libs = pathlib.Path(np.__file__).resolve().parent.parent / "numpy.libs"
    for path in sorted(libs.glob("*openblas*.so*")) if libs.is_dir() else []:
        try:
            lib = ctypes.CDLL(str(path))
            fn = lib.openblas_set_num_threads_local
        except (OSError, AttributeError):
            continue
        fn.argtypes = [ctypes.c_int]
        fn.restype = ctypes.c_int
        setter: Callable[[int], int] = fn
        return setter
    return None


@contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Within the block, BLAS calls from this thread use one thread."""
    fn = _set_local()
    if fn is None:
        yield
        return
    previous = fn(1)
    try:
        yield
    finally:
        fn(previous)
