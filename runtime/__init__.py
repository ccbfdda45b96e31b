"""Stele: a content-addressed, provable, deterministically simulated runtime.

The public surface is re-exported here; implementation lives in private
``_name`` modules.
"""

from __future__ import annotations

from ._errors import SteleError as SteleError
from ._env import Disk as Disk
from ._env import Env as Env
from ._env import EnvRandom as EnvRandom
from ._env import seconds_to_ns as seconds_to_ns
from ._realenv import RealEnv as RealEnv

__version__ = "0.1.0"
