"""A small JSON-schema (draft-06 subset) validator for the vendored speedscope schema.

``jsonschema`` is not a dependency of Stele; the schema uses only ``type``,
``enum``, ``required``, ``properties``, ``items``, ``anyOf`` and local
``$ref``, which this checks exactly (it raises on any other keyword, so the
subset cannot silently grow).  Beyond the schema, :func:`speedscope_errors`
checks what speedscope itself relies on: frame indices in range, one weight
per sample, and ``endValue`` the sum of the weights.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SCHEMA = json.loads((Path(__file__).parent / "speedscope_schema.json").read_text())
_KNOWN = {"type", "enum", "required", "properties", "items", "anyOf", "$ref", "comment",
          "definitions"}
_TYPES = {"object": dict, "array": list, "string": str}


def _type_ok(value: Any, t: str) -> bool:
    if t == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, _TYPES[t])


def errors(value: Any, schema: dict[str, Any] = SCHEMA, where: str = "$") -> list[str]:
    """Every violation of ``schema`` by ``value`` (empty: valid)."""
    unknown = set(schema) - _KNOWN
    if unknown:
        raise ValueError(f"schema keyword(s) not supported: {sorted(unknown)}")
    if "$ref" in schema:
        name = schema["$ref"].removeprefix("#/definitions/")
        return errors(value, SCHEMA["definitions"][name], where)
    out: list[str] = []
    if "type" in schema and not _type_ok(value, schema["type"]):
        return [f"{where}: not of type {schema['type']}"]
    if "enum" in schema and value not in schema["enum"]:
        out.append(f"{where}: {value!r} not in {schema['enum']}")
    if "anyOf" in schema and all(errors(value, s, where) for s in schema["anyOf"]):
        out.append(f"{where}: matches none of anyOf")
    if isinstance(value, dict):
        for key in schema.get("required", []):
            if key not in value:
                out.append(f"{where}: missing required {key!r}")
        for key, sub in schema.get("properties", {}).items():
            if key in value:
                out += errors(value[key], sub, f"{where}.{key}")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            out += errors(item, schema["items"], f"{where}[{i}]")
    return out


def speedscope_errors(doc: Any) -> list[str]:
    """Schema violations plus speedscope's own consistency rules."""
    out = errors(doc)
    if out:
        return out
    nframes = len(doc["shared"]["frames"])
    for i, p in enumerate(doc["profiles"]):
        if p["type"] != "sampled":
            continue
        if len(p["samples"]) != len(p["weights"]):
            out.append(f"profiles[{i}]: {len(p['samples'])} samples, {len(p['weights'])} weights")
        if any(not 0 <= f < nframes for s in p["samples"] for f in s):
            out.append(f"profiles[{i}]: a frame index out of range")
        if p["endValue"] - p["startValue"] != sum(p["weights"]):
            out.append(f"profiles[{i}]: endValue is not the sum of the weights")
    return out
