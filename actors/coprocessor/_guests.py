"""The example guest programs (``examples/guests/``) and their inputs.

The guests are freestanding RV32IM C programs (SHA-256, a merge sort, a
matrix product and a Brainfuck interpreter) used by the tests, the benchmark
and the CLI.  Their ELFs are committed, so nothing here needs a cross
compiler.  Every guest takes a *size* that scales its work: small sizes for
tests, :data:`BENCH_SIZES` for >= 10M instructions.
"""

from __future__ import annotations

from pathlib import Path

from ._stream_errors import StreamError

__all__ = ["GUESTS", "BENCH_SIZES", "GUESTS_DIR", "guest_elf", "guest_input", "bf_program"]

#: The guest programs, in benchmark order.
GUESTS: tuple[str, ...] = ("sha256", "sort", "matmul", "bf")

#: Sizes at which each guest runs at least 10M instructions (measured:
#: sha256 ~82 instructions per byte, sort ~18 per element per merge level,
#: matmul ~9.7 per multiply-add, bf ~15 per BF operation).
BENCH_SIZES: dict[str, int] = {"sha256": 131_072, "sort": 40_000, "matmul": 108, "bf": 128}

#: Where the sources, the Makefile and the committed ELFs live.
GUESTS_DIR: Path = Path(__file__).resolve().parents[2] / "examples" / "guests"

_HELLO = (
    "++++++++[>++++[>++>+++>+++>+<<<<-]>+>+>->>+[<]<-]"
    ">>.>---.+++++++..+++.>>.<-.<.+++.------.--------.>>+.>++."
)


def _check(name: str) -> None:
    if name not in GUESTS:
        raise StreamError(f"guest name {name!r} is not one of {', '.join(GUESTS)}")


def guest_elf(name: str) -> Path:
    """The committed ELF of guest ``name`` (``examples/guests/bin/NAME.elf``)."""
    _check(name)
    return GUESTS_DIR / "bin" / f"{name}.elf"


def bf_program(n: int) -> bytes:
    """A Brainfuck program: "Hello World!" then an ``n`` x 20 x 20 loop nest.

    It prints two cells the nest computed (mod 256) and a newline; its
    work grows linearly with ``n``.
    """
    nest = ">>>" + "+" * n + "[>" + "+" * 20 + "[>" + "+" * 20 + "[>+>+++<<-]<-]<-]"
    return (_HELLO + nest + ">>>.>.[-]++++++++++.").encode()


def guest_input(name: str, size: int) -> bytes:
    """The deterministic input for guest ``name`` at work ``size``.

    sha256 hashes ``size`` bytes; sort sorts ``size`` words; matmul multiplies
    two ``size`` x ``size`` matrices; bf runs :func:`bf_program` ``(size)``.
    """
    _check(name)
    if size < 1:
        raise StreamError(f"guest input size {size} is below the minimum 1")
    if name == "sha256":
        return bytes((i * 131 + (i >> 8) * 7 + 1) & 0xFF for i in range(size))
    if name == "sort":
        return f"{size} 12345\n".encode()
    if name == "matmul":
        if size > 512:
            raise StreamError(f"matmul size {size} exceeds the guest's limit 512")
        return f"{size} 4242\n".encode()
    return bf_program(size)
