"""Cluster keys for hddnn's sealed transport.

Every rank of a run loads the same cluster secret; from it the transport derives
per-rank identities and agrees per-link session keys (XChaCha20-Poly1305). The key
file holds one line ``hddnn-cluster-key-v1 <base64>`` and must be readable by its
owner only (mode 0600): a file that group or others can read, or of the wrong
size or format, raises :class:`hddnn.errors.CryptoError` naming the file.
"""
from os import PathLike
from pathlib import Path
from typing import Union

from . import _core

__all__ = ["keygen", "check_key"]


def keygen(path: Union[str, PathLike], overwrite: bool = False) -> Path:
    """Writes a fresh cluster secret to ``path`` with mode 0600 and returns the path.

    Refuses (CryptoError) to replace an existing file unless ``overwrite``."""
    path = Path(path)
    _core.crypto_keygen(str(path), overwrite)
    return path


def check_key(path: Union[str, PathLike]) -> Path:
    """Validates a cluster key file (mode, format, size); returns the path or raises CryptoError."""
    path = Path(path)
    _core.crypto_check_key(str(path))
    return path
