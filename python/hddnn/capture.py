"""Frames written by the `capture` tamper test hook (`run(..., tamper=["capture@RANK"])`):
every frame a rank sent, as it went on the wire (docs/transport.md's wire format).

The file is a sequence of records: a little-endian u32 length, then that many bytes of
frame: the 25-byte header (magic "hD", version, type, flags, source, destination,
sequence, payload_length) followed by the body (ciphertext and tag when sealed).
"""
import struct
from typing import List, NamedTuple

from .errors import DataError

HEADER = struct.Struct("<2sBBBIIQI")
MAGIC = b"hD"
FLAG_SEALED = 0x01
# MessageType values (cpp/hddnn/wire/message.hpp): part of the wire format.
MESSAGE_TYPES = {1: "hello", 2: "work", 3: "answer", 4: "heartbeat", 5: "plan", 6: "membership",
                 7: "stop", 8: "report"}


class Frame(NamedTuple):
    type: str
    source: int
    destination: int
    sequence: int
    sealed: bool
    body: bytes  # what followed the header (a truncated frame keeps what is left)


def read_capture(path: str) -> List[Frame]:
    """The frames of a capture file, in the order they were sent; DataError when the
    file is not one."""
    with open(path, "rb") as f:
        data = f.read()
    frames, offset = [], 0
    while offset < len(data):
        if offset + 4 > len(data):
            raise DataError(f"{path}: record length cut short at byte {offset}")
        (length,) = struct.unpack_from("<I", data, offset)
        frame = data[offset + 4:offset + 4 + length]
        if len(frame) != length or length < HEADER.size:
            raise DataError(f"{path}: frame at byte {offset} is {len(frame)} bytes, expected {length} >= {HEADER.size}")
        frames.append(_parse(frame, path, offset))
        offset += 4 + length
    return frames


def _parse(frame: bytes, path: str, offset: int) -> Frame:
    magic, _version, kind, flags, source, destination, sequence, _length = HEADER.unpack_from(frame)
    if magic != MAGIC or kind not in MESSAGE_TYPES:
        raise DataError(f"{path}: frame at byte {offset} has no hddnn header (magic {magic!r}, type {kind})")
    return Frame(MESSAGE_TYPES[kind], source, destination, sequence, bool(flags & FLAG_SEALED),
                 frame[HEADER.size:])
