"""``stele serve`` configuration: a TOML file (``--config``), with flags overriding it.

::

    root = "/var/lib/stele"                 # the store directory (store.sqlite)
    listen = ["unix:/run/stele/stele.sock", "tcp:127.0.0.1:7420"]
    json_logs = true
    grace_seconds = 30.0                    # SIGTERM: time to finish in-flight work
    workers = 4                             # job workers (0: jobs are kept, none is run)
    metrics = "tcp:127.0.0.1:9464"          # opt-in Prometheus /metrics (default: off)
    trace = "/var/log/stele/trace.json"     # opt-in Perfetto trace, written at shutdown

    [limits]
    max_connections = 1024
    max_inflight = 256                      # requests in flight per connection
    max_frame_size = 16777216               # bytes; a bigger frame closes the connection
    max_queue = 10000                       # jobs queued or running, all tenants
    auth_timeout = 10.0                     # seconds to send Hello after connecting
    retry_after = 0.05                      # the Busy hint, seconds
    slots = 64                              # the root allocator (per-tenant grants are carved from it)

    [tenant_defaults]                       # a tenant's quota where its own is 0
    slots = 16
    queue = 1000
    inflight = 1024
    fuel = 0                                # 0: no per-tenant fuel cap

Every key is checked: an unknown key or a value of the wrong type is a
:class:`ConfigError` naming the file, the key and what was expected.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, fields, replace
from typing import Any

from ._address import parse_address
from ._errors import AddressError, ConfigError

__all__ = ["DaemonConfig", "load_config", "SOCKET_NAME"]

SOCKET_NAME = "stele.sock"


@dataclass(frozen=True, slots=True)
class DaemonConfig:
    """Everything ``stele serve`` can be told (see the module docstring for the TOML form)."""

    root: str = ".stele"
    listen: tuple[str, ...] = ()
    json_logs: bool = False
    grace_seconds: float = 30.0
    workers: int = 4
    max_connections: int = 1024
    max_inflight: int = 256
    max_frame_size: int = 16 * 1024 * 1024
    max_queue: int = 10_000
    auth_timeout: float = 10.0
    retry_after: float = 0.05
    slots: int = 64
    tenant_slots: int = 16
    tenant_queue: int = 1000
    tenant_inflight: int = 1024
    tenant_fuel: int = 0
    metrics: str | None = None
    trace: str | None = None

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if f.type in ("int", "float") and (isinstance(v, bool) or not isinstance(
                    v, (int, float)) or v < 0):
                raise ConfigError(f"{f.name} = {v!r}: expected a number >= 0")
        for name in ("max_connections", "max_inflight", "slots", "max_frame_size"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} = {getattr(self, name)!r}: must be >= 1")
        for address in self.listen:
            try:
                parse_address(address)
            except AddressError as exc:
                raise ConfigError(f"listen: {exc}") from None
        if self.metrics is not None:
            try:
                kind = parse_address(self.metrics).kind
            except AddressError as exc:
                raise ConfigError(f"metrics: {exc}") from None
            if kind != "tcp":
                raise ConfigError(f"metrics = {self.metrics!r}: the /metrics endpoint listens "
                                  "on tcp:HOST:PORT")

        if self.trace is not None:
            folder = os.path.dirname(os.path.abspath(self.trace))
            if not os.path.isdir(folder):
                raise ConfigError(f"trace = {self.trace!r}: the folder {folder!r} does not exist")

    @property
    def store_dir(self) -> str:
        """The root directory (holds ``store.sqlite`` and the default socket)."""
        return self.root

    @property
    def addresses(self) -> tuple[str, ...]:
        """The listen addresses (default: ``unix:ROOT/stele.sock``)."""
        if self.listen:
            return self.listen
        return (f"unix:{os.path.join(self.root, SOCKET_NAME)}",)

    def with_flags(self, **flags: Any) -> DaemonConfig:
        """A copy with every flag that is not ``None`` applied (flags override the file)."""
        given = {k: v for k, v in flags.items() if v is not None}
        try:
            return replace(self, **given)
        except TypeError as exc:
            raise ConfigError(str(exc)) from None


_SECTIONS: dict[str, dict[str, str]] = {
    "": {"root": "root", "listen": "listen", "json_logs": "json_logs",
         "grace_seconds": "grace_seconds", "workers": "workers", "metrics": "metrics",
         "trace": "trace"},
    "limits": {"max_connections": "max_connections", "max_inflight": "max_inflight",
               "max_frame_size": "max_frame_size", "max_queue": "max_queue",
               "auth_timeout": "auth_timeout", "retry_after": "retry_after", "slots": "slots"},
    "tenant_defaults": {"slots": "tenant_slots", "queue": "tenant_queue",
                        "inflight": "tenant_inflight", "fuel": "tenant_fuel"},
}
_TYPES = {f.name: f.type for f in fields(DaemonConfig)}


def _check(path: str, key: str, name: str, value: Any) -> Any:
    kind = _TYPES[name]
    if kind == "bool":
        ok = isinstance(value, bool)
    elif kind == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif kind == "float":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif kind == "tuple[str, ...]":
        if isinstance(value, str):
            value = [value]
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
        value = tuple(value) if ok else value
    else:  # str, str | None
        ok = isinstance(value, str)
    if not ok:
        raise ConfigError(f"{path}: {key} = {value!r}: expected {kind.replace(' | None', '')}")
    return value


def load_config(path: str) -> DaemonConfig:
    """Read a TOML configuration file (:class:`ConfigError` for any bad key or value)."""
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except OSError as exc:
        raise ConfigError(f"cannot read config {path!r}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config {path!r} is not valid TOML: {exc}") from None
    values: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            section = _SECTIONS.get(key)
            if section is None or key == "":
                raise ConfigError(f"{path}: unknown section [{key}] "
                                  f"(known: {', '.join(s for s in _SECTIONS if s)})")
            for sub, inner in value.items():
                if sub not in section:
                    raise ConfigError(f"{path}: unknown key {key}.{sub} "
                                      f"(known: {', '.join(section)})")
                values[section[sub]] = _check(path, f"{key}.{sub}", section[sub], inner)
        elif key in _SECTIONS[""]:
            values[key] = _check(path, key, key, value)
        else:
            raise ConfigError(f"{path}: unknown key {key!r} (known: {', '.join(_SECTIONS[''])}, "
                              "[limits], [tenant_defaults])")
    if "root" in values and not os.path.isabs(values["root"]):
        values["root"] = os.path.join(os.path.dirname(os.path.abspath(path)), values["root"])
    return DaemonConfig(**values)
