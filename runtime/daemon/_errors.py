"""The daemon's family of errors, rooted at :class:`DaemonError`.

Errors raised *by a remote execution* (``EffectDenied``, ``UnknownTarget``,
``CostLimitExceeded``...) are not wrapped: the client re-raises them as the
same classes.  The classes here are about the service itself: who may
connect, whether it has room, what a job id means.
"""

from __future__ import annotations

from stele._errors import SteleError

__all__ = [
    "DaemonError", "AuthError", "Busy", "JobNotFound", "JobFailed", "ConfigError",
    "AddressError", "DaemonUnavailable", "RemoteFailure", "TenantError", "JobCancelled",
    "ProtocolVersionError",
]


class DaemonError(SteleError):
    """Root of every error of :mod:`stele.daemon`."""


class AddressError(DaemonError, ValueError):
    """An address is not ``unix:PATH`` or ``tcp:HOST:PORT``."""


class ConfigError(DaemonError, ValueError):
    """The TOML configuration or a flag has a bad key or value (named in the message)."""


class TenantError(DaemonError, ValueError):
    """A tenant name is invalid, already taken, or unknown; or a quota is malformed."""


class AuthError(DaemonError):
    """The connection's token is missing or wrong; the daemon closes the connection."""


class ProtocolVersionError(AuthError):
    """The client speaks another version of the daemon's messages; the connection is closed.

    ``client`` and ``server`` are the two versions (``DAEMON_PROTOCOL``).
    """

    def __init__(self, client: int, server: int) -> None:
        self.client = client
        self.server = server
        super().__init__(f"the client speaks daemon protocol {client}, this daemon speaks "
                         f"{server}: upgrade the older side")


class Busy(DaemonError):
    """The daemon (or this connection, or this tenant) has no room now; retry after ``retry_after`` s.

    Raised instead of buffering without bound: a full job queue, too many
    requests in flight on one connection, too many connections.
    """

    def __init__(self, what: str, retry_after: float) -> None:
        self.what = what
        self.retry_after = retry_after
        super().__init__(f"busy: {what}; retry after {retry_after:.3f} s")


class JobNotFound(DaemonError, LookupError):
    """No job with this id exists for this tenant (other tenants' jobs are invisible)."""

    def __init__(self, job_id: str) -> None:
        self.job_id = job_id
        super().__init__(f"no job {job_id!r}")


class JobFailed(DaemonError):
    """Raised by :meth:`RemoteRuntime.result` for a job that did not succeed and left no typed error."""


class JobCancelled(DaemonError):
    """The job was cancelled before it completed."""

    def __init__(self, job_id: str) -> None:
        self.job_id = job_id
        super().__init__(f"job {job_id} was cancelled")


class DaemonUnavailable(DaemonError, ConnectionError):
    """The daemon cannot be reached, or it closed the connection."""


class RemoteFailure(DaemonError):
    """A remote error whose class is not a Stele error known to this client.

    ``remote_type`` is the ``module:QualName`` the daemon reported.
    """

    def __init__(self, remote_type: str, message: str) -> None:
        self.remote_type = remote_type
        super().__init__(f"{remote_type}: {message}")
