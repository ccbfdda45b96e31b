"""Test support for TEL: the well-typed program generator and its coverage tally.

Public so the simulator can reuse it: `programs()` is a hypothesis strategy,
`seeded_programs()` a faster strategy over seeds, and
`generate(splitmix_chooser(seed))` the same generator driven by a seed.
"""

from ._gen import ALL_EFFECT_OPS as ALL_EFFECT_OPS
from ._gen import SWARM_PROFILES as SWARM_PROFILES
from ._gen import Coverage as Coverage
from ._gen import GenProgram as GenProgram
from ._gen import Weights as Weights
from ._gen import coverage_of as coverage_of
from ._gen import generate as generate
from ._gen import programs as programs
from ._gen import seeded_programs as seeded_programs
from ._gen import splitmix_chooser as splitmix_chooser

__all__ = [
    "ALL_EFFECT_OPS", "SWARM_PROFILES", "Coverage", "GenProgram", "Weights", "coverage_of",
    "generate", "programs", "seeded_programs", "splitmix_chooser",
]
