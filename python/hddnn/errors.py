"""Typed errors raised by hddnn, C++ and Python alike.

HddnnError
  ConfigError (also ValueError)  invalid spec, topology, problem file or argument
  DataError                      missing or malformed dataset file
  CommError                      transport failure
    PeerLostError                a peer rank died or stopped answering
  CryptoError                    key handling or message authentication failure
  RunFailedError                 a run served nothing: no request offered, or every end device lost

An error raised inside a rank of a distributed run reaches Python as its own class
(`by_name`), with the rank in its message.
"""
from ._core import (CommError, ConfigError, CryptoError, DataError, HddnnError,
                    PeerLostError, RunFailedError)

__all__ = ["HddnnError", "ConfigError", "DataError", "CommError", "PeerLostError", "CryptoError",
           "RunFailedError", "by_name"]


def by_name(name: str) -> type:
    """The hddnn error class called `name` (a rank's error file names it); HddnnError
    for a name this version does not know."""
    cls = globals().get(name)
    return cls if isinstance(cls, type) and issubclass(cls, HddnnError) else HddnnError
