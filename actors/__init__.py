"""One package per actor: its engine (a plain library) and its handler."""
