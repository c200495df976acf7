#!/usr/bin/env python3
"""Writes OP_COMPRESSED seeds for the wire target (Fuzz/seeds/wire/z-<codec>-<seed>): every frame of
each recorded driver seed wrapped in an OP_COMPRESSED envelope, one file per compressor (snappy's
raw block format as MongoDB uses it, zlib, zstd), so the fuzzer starts with real commands that the
harness must inflate before parsing (WireCompression, as Connection does).

    .venv/bin/python Fuzz/make_compressed_seeds.py

The recorded seeds are the files of Fuzz/seeds/wire whose names are 16 hex digits (capture_seeds.py).
Needs python-snappy and zstd (IntegrationTests/requirements.txt); zlib is in the standard library.
"""
import os
import re
import struct
import zlib

import snappy

try:
    from compression import zstd  # Python 3.14+
except ImportError:
    from backports import zstd

OP_COMPRESSED = 2012
CODECS = {
    "snappy": (1, snappy.compress),
    "zlib": (2, lambda data: zlib.compress(data, 6)),
    "zstd": (3, lambda data: zstd.compress(data)),
}
here = os.path.dirname(os.path.abspath(__file__))
wire = os.path.join(here, "seeds", "wire")


def frames(stream):
    """The complete frames of a recorded stream (a torn tail is dropped)."""
    offset = 0
    while offset + 16 <= len(stream):
        (length,) = struct.unpack_from("<i", stream, offset)
        if length < 16 or offset + length > len(stream):
            break
        yield stream[offset:offset + length]
        offset += length


def compress(frame, codec):
    """`frame` as an OP_COMPRESSED with the same requestID and responseTo."""
    length, request_id, response_to, op_code = struct.unpack_from("<iiii", frame, 0)
    body = frame[16:]
    compressor_id, deflate = CODECS[codec]
    payload = struct.pack("<iiB", op_code, len(body), compressor_id) + deflate(body)
    return struct.pack("<iiii", 16 + len(payload), request_id, response_to, OP_COMPRESSED) + payload


def main():
    written = 0
    recorded = sorted(name for name in os.listdir(wire) if re.fullmatch(r"[0-9a-f]{16}", name))
    for index, name in enumerate(recorded):
        with open(os.path.join(wire, name), "rb") as f:
            stream = f.read()
        # One compressor per recorded seed (rotating), so the three get the same amount of traffic
        # without tripling the seed corpus.
        codec = list(CODECS)[index % len(CODECS)]
        out = b"".join(compress(frame, codec) for frame in frames(stream))
        if not out:
            continue
        with open(os.path.join(wire, f"z-{codec}-{name}"), "wb") as f:
            f.write(out)
        written += 1
    print(f"{written} compressed seeds in {wire}")


if __name__ == "__main__":
    main()
