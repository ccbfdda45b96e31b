"""Sans-I/O protocol: canonical CBOR, digests, typed messages, frames, connections.

* :func:`encode` / :func:`decode` -- canonical CBOR (RFC 8949 §4.2.1) and a
  strict decoder for anything hashed or received (:class:`DecodeError` names
  the byte offset).
* :class:`Digest` -- self-describing digests (BLAKE2b-256 by default),
  ``str(d)`` = ``b2:<hex>``, ``d.short()``, :func:`resolve_prefix`.
* :func:`message` -- the closed registry of typed messages.  Define one in
  your own package, in your area's tag range (kernel/protocol 1-99, sim
  100-199, TEL/store/repository 200-299, co-processor 300-399, prover
  400-499, execution services 500-699; tests and benchmarks 65000-65535)::

      @message(201)
      @dataclass(frozen=True, slots=True)
      class PutObject(Message):
          digest: Digest
          data: bytes
          names: tuple[str, ...] = ()

  and send it with :func:`encode_message` / :func:`decode_message` (every
  field is validated by its annotation) or through a :class:`Connection`.
  ``tests/protocol/test_messages.py`` round-trips every registered class with
  hypothesis; register a strategy with ``st.register_type_strategy`` if your
  ``__post_init__`` rejects most random values.
* :class:`FrameDecoder` / :func:`encode_frame` -- 4-byte length-prefixed
  frames with a maximum size.
* :class:`Connection` -- h11-style: ``receive_data(bytes)``, ``next_event()``,
  ``send(msg) -> bytes``, ``request`` / ``reply`` with request ids, and an
  ERROR state after a :class:`RemoteProtocolError`.

Nothing in this package imports an async library, threads or sockets
(``tests/protocol/test_no_async.py`` checks it).
"""

from __future__ import annotations

from ._cbor import DEPTH_CEILING as DEPTH_CEILING
from ._cbor import MAX_DEPTH as MAX_DEPTH
from ._cbor import MAX_SIZE as MAX_SIZE
from ._cbor import check_canonical as check_canonical
from ._cbor import decode as decode
from ._cbor import encode as encode
from ._connection import MAX_PENDING as MAX_PENDING
from ._connection import Connection as Connection
from ._connection import ConnectionClosed as ConnectionClosed
from ._connection import ConnectionState as ConnectionState
from ._connection import Event as Event
from ._core import ErrorReply as ErrorReply
from ._core import Goodbye as Goodbye
from ._core import Ping as Ping
from ._core import Pong as Pong
from ._core import Reply as Reply
from ._core import Request as Request
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
from ._frames import FRAME_HEADER_SIZE as FRAME_HEADER_SIZE
from ._frames import MAX_FRAME_SIZE as MAX_FRAME_SIZE
from ._frames import FrameDecoder as FrameDecoder
from ._frames import encode_frame as encode_frame
from ._messages import TAG_MAX as TAG_MAX
from ._messages import Message as Message
from ._messages import decode_message as decode_message
from ._messages import encode_message as encode_message
from ._messages import message as message
from ._messages import message_class as message_class
from ._messages import message_from_value as message_from_value
from ._messages import registered_messages as registered_messages

__all__ = [
    "ALGORITHMS",
    "DEFAULT_ALGORITHM",
    "DEPTH_CEILING",
    "FRAME_HEADER_SIZE",
    "MAX_DEPTH",
    "MAX_FRAME_SIZE",
    "MAX_PENDING",
    "MAX_SIZE",
    "TAG_MAX",
    "Algorithm",
    "AmbiguousPrefix",
    "Connection",
    "ConnectionClosed",
    "ConnectionState",
    "DecodeError",
    "Digest",
    "DigestError",
    "EncodeError",
    "ErrorReply",
    "Event",
    "FieldError",
    "FrameDecoder",
    "FrameError",
    "Goodbye",
    "LocalProtocolError",
    "Message",
    "Ping",
    "Pong",
    "ProtocolError",
    "RegistrationError",
    "RemoteProtocolError",
    "Reply",
    "Request",
    "UnknownDigest",
    "check_canonical",
    "decode",
    "decode_message",
    "encode",
    "encode_frame",
    "encode_message",
    "message",
    "message_class",
    "message_from_value",
    "registered_messages",
    "resolve_prefix",
]
