"""hddnn: heterogeneous distributed multi-exit neural networks on MPI.

torch is imported before the C++ module: returning tensors from _core needs
torch's Python types registered first.
"""
import atexit
import importlib

importlib.import_module("torch")  # must precede _core

from . import _core
from . import errors
from . import datasets
from .network import Network
from . import mapping
from .launch import run
from .errors import (CommError, ConfigError, CryptoError, DataError, HddnnError,
                     PeerLostError)

__version__ = _core.__version__

# MPI initialised by hddnn is finalised by hddnn (skipped after a peer failure).
atexit.register(_core.mpi_finalize)

__all__ = ["datasets", "mapping", "errors", "run", "Network", "HddnnError", "ConfigError", "DataError", "CommError",
           "PeerLostError", "CryptoError", "__version__"]
