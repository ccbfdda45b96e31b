"""Deterministic simulation: one seed reproduces a whole run of the runtime."""
