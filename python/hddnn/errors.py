"""Typed errors raised by hddnn, C++ and Python alike.

HddnnError
  ConfigError (also ValueError)  invalid spec, topology, problem file or argument
  DataError                      missing or malformed dataset file
  CommError                      transport failure
    PeerLostError                a peer rank died or stopped answering
  CryptoError                    key handling or message authentication failure
"""
from ._core import (CommError, ConfigError, CryptoError, DataError, HddnnError,
                    PeerLostError)

__all__ = ["HddnnError", "ConfigError", "DataError", "CommError", "PeerLostError", "CryptoError"]
