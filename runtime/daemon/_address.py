"""Daemon addresses: ``unix:PATH`` and ``tcp:HOST:PORT`` (``tcp:[::1]:PORT`` for IPv6)."""

from __future__ import annotations

from dataclasses import dataclass

from ._errors import AddressError

__all__ = ["Address", "parse_address"]


@dataclass(frozen=True, slots=True)
class Address:
    """A parsed address: ``kind`` is ``"unix"`` (``path``) or ``"tcp"`` (``host``, ``port``)."""

    kind: str
    path: str = ""
    host: str = ""
    port: int = 0

    def __str__(self) -> str:
        if self.kind == "unix":
            return f"unix:{self.path}"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"tcp:{host}:{self.port}"


def parse_address(text: str) -> Address:
    """Parse ``unix:PATH`` or ``tcp:HOST:PORT``; :class:`AddressError` names what is wrong."""
    kind, sep, rest = text.partition(":")
    if not sep or kind not in ("unix", "tcp"):
        raise AddressError(f"address {text!r} must be unix:PATH or tcp:HOST:PORT")
    if kind == "unix":
        if not rest:
            raise AddressError(f"address {text!r}: the socket path is empty")
        if len(rest.encode()) > 107:
            raise AddressError(f"address {text!r}: a Unix socket path is at most 107 bytes")
        return Address("unix", path=rest)
    host, sep, port_text = rest.rpartition(":")
    if not sep or not host:
        raise AddressError(f"address {text!r}: expected tcp:HOST:PORT")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        port = int(port_text)
    except ValueError:
        raise AddressError(f"address {text!r}: port {port_text!r} is not an integer") from None
    if not 0 <= port <= 65535:
        raise AddressError(f"address {text!r}: port {port} is outside [0, 65535]")
    return Address("tcp", host=host, port=port)
