"""Sans-I/O protocol: canonical CBOR, digests, typed messages, frames, connections.

Nothing in this package imports an async library (h11's bytes-in, events-out
design); ``tests/protocol/test_no_async.py`` checks it.
"""

from __future__ import annotations

from ._cbor import DEPTH_CEILING as DEPTH_CEILING
from ._cbor import MAX_DEPTH as MAX_DEPTH
from ._cbor import MAX_SIZE as MAX_SIZE
from ._cbor import check_canonical as check_canonical
from ._cbor import decode as decode
from ._cbor import encode as encode
from ._digest import ALGORITHMS as ALGORITHMS
from ._digest import DEFAULT_ALGORITHM as DEFAULT_ALGORITHM
from ._digest import Algorithm as Algorithm
from ._digest import Digest as Digest
from ._digest import resolve_prefix as resolve_prefix
from ._errors import AmbiguousPrefix as AmbiguousPrefix
from ._errors import DecodeError as DecodeError
from ._errors import DigestError as DigestError
from ._errors import EncodeError as EncodeError
from ._errors import FieldError as FieldError
from ._errors import FrameError as FrameError
from ._errors import LocalProtocolError as LocalProtocolError
from ._errors import ProtocolError as ProtocolError
from ._errors import RegistrationError as RegistrationError
from ._errors import RemoteProtocolError as RemoteProtocolError
from ._errors import UnknownDigest as UnknownDigest

__all__ = [
    "ALGORITHMS",
    "DEFAULT_ALGORITHM",
    "DEPTH_CEILING",
    "MAX_DEPTH",
    "MAX_SIZE",
    "Algorithm",
    "AmbiguousPrefix",
    "DecodeError",
    "Digest",
    "DigestError",
    "EncodeError",
    "FieldError",
    "FrameError",
    "LocalProtocolError",
    "ProtocolError",
    "RegistrationError",
    "RemoteProtocolError",
    "UnknownDigest",
    "check_canonical",
    "decode",
    "encode",
    "resolve_prefix",
]
