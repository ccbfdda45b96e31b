"""The long-running execution daemon: ``stele serve``, its clients, tenants and durable jobs.

* :func:`connect` -- ``async with stele.connect("unix:PATH" | "tcp:HOST:PORT", token=...)
  as rt`` gives a :class:`RemoteRuntime` with the embedded runtime's methods
  (``store``, ``store_blob``, ``resolve``, ``execute``, ``stats``), jobs
  (``submit``, ``status``, ``wait``, ``cancel``) and the repository as the
  tenant sees it (``show``, ``names``, ``history``, ``dependents``,
  ``rename``, ``delete``, ``fetch``, ``resume``: :class:`ShowOutcome`,
  :class:`DependentsList`, :class:`FetchReply`); remote typed errors are
  raised as the same classes.
* :func:`serve` / :class:`DaemonConfig` / :func:`load_config` -- the server
  behind ``stele serve`` (``docs/daemon.md``).
* :class:`TenantStore`, :class:`Quota` -- tenants and the hashes of their tokens.
"""

from __future__ import annotations

from ._address import Address as Address
from ._address import parse_address as parse_address
from ._client import RemoteRuntime as RemoteRuntime
from ._client import connect as connect
from ._config import DaemonConfig as DaemonConfig
from ._config import load_config as load_config
from ._errors import AddressError as AddressError
from ._errors import AuthError as AuthError
from ._errors import Busy as Busy
from ._errors import ConfigError as ConfigError
from ._errors import DaemonError as DaemonError
from ._errors import DaemonUnavailable as DaemonUnavailable
from ._errors import JobCancelled as JobCancelled
from ._errors import JobFailed as JobFailed
from ._errors import JobNotFound as JobNotFound
from ._errors import ProtocolVersionError as ProtocolVersionError
from ._errors import RemoteFailure as RemoteFailure
from ._errors import TenantError as TenantError
from ._messages import DAEMON_PROTOCOL as DAEMON_PROTOCOL
from ._messages import JOB_STATES as JOB_STATES
from ._messages import JobInfo as JobInfo
from ._messages import ServerStatus as ServerStatus
from ._messages import TenantUsage as TenantUsage
from ._repo_messages import ClosureEntry as ClosureEntry
from ._repo_messages import DependentRow as DependentRow
from ._repo_messages import DependentsList as DependentsList
from ._repo_messages import FetchReply as FetchReply
from ._repo_messages import ShowOutcome as ShowOutcome
from ._repo_messages import WireObject as WireObject
from ._server import BadRequest as BadRequest
from ._server import serve as serve
from ._tenants import Quota as Quota
from ._tenants import Tenant as Tenant
from ._tenants import TenantStore as TenantStore
from ._tenants import parse_quota as parse_quota

__all__ = [
    "Address", "AddressError", "AuthError", "BadRequest", "Busy", "ClosureEntry", "ConfigError",
    "DAEMON_PROTOCOL", "DaemonConfig", "DaemonError", "DaemonUnavailable", "DependentRow",
    "DependentsList", "FetchReply", "JOB_STATES", "JobCancelled", "JobFailed", "JobInfo",
    "JobNotFound", "ProtocolVersionError", "Quota", "RemoteFailure", "RemoteRuntime",
    "ServerStatus", "ShowOutcome", "Tenant",
    "TenantError", "TenantStore", "TenantUsage", "WireObject", "connect", "load_config", "parse_address",
    "parse_quota", "serve",
]
