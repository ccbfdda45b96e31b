"""Sans-I/O protocol: canonical CBOR, digests, typed messages, frames, connections.

Nothing in this package imports an async library.
"""
