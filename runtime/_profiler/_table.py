"""The top-N table ``stele profile`` prints: self and total weight per function."""

from __future__ import annotations

from ._model import Profile

__all__ = ["top_table"]


def top_table(profile: Profile, n: int, wall: Profile | None = None) -> str:
    """The ``n`` functions with the largest self weight, as aligned text (with wall ms if given)."""
    total = profile.total() or 1
    rows = profile.functions()[:n]
    wall_self = {r.name: r.self_weight for r in wall.functions()} if wall is not None else {}
    unit = profile.unit
    head = f"{'self ' + unit:>14} {'self%':>6} {'total ' + unit:>14} {'total%':>6} {'calls':>9}"
    if wall is not None:
        head += f" {'self ms':>9}"
    lines = [head + "  function"]
    for r in rows:
        line = (f"{r.self_weight:>14} {100 * r.self_weight / total:>5.1f}% "
                f"{r.total_weight:>14} {100 * r.total_weight / total:>5.1f}% {r.calls:>9}")
        if wall is not None:
            line += f" {wall_self.get(r.name, 0) / 1e6:>9.3f}"
        lines.append(line + "  " + r.name)
    return "\n".join(lines)
