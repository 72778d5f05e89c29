"""A PNG writer for 8-bit RGB and RGBA pictures whose compression runs on two threads at once.

Pillow's PNG encoder works on one thread and tries four filters on every row before it compresses it: at
1824x1248 (a cleaned real generated picture) that is 93 ms, a third of a clean. Here every row gets the same
filter, Up (the row minus the one above: one numpy subtraction), and the rows are cut in two halves that are
compressed at the same time, each on its own thread (the compressor lets go of the GIL), as pigz does: the first
half ends with a sync flush (its last block is not the final one and ends on a byte), the second is a deflate
stream of its own that ends the whole, so the two written one after the other are one valid zlib stream; its
Adler-32 is the two halves' combined. The deflate is ISA-L's (`isal.isal_zlib`, zlib's API on Intel's ISA-L, a
dependency), level 1: on that picture's cleaned rows 9.1 ms and 1.14 MB against zlib's 35 ms and 1.09 MB (zlib's
RLE strategy, level 1, the fastest zlib form found); its Adler-32 and CRC-32 are 5-10x zlib's too.
The result is an ordinary lossless PNG; the same picture always gives the same bytes.
"""
from __future__ import annotations

import struct
from concurrent.futures import Executor
from typing import Callable

import numpy as np
from isal import isal_zlib
from PIL import Image

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOUR_TYPES = {"RGB": (2, 3), "RGBA": (6, 4)}  # mode: (PNG colour type, bytes per pixel)
_UP = 2  # the PNG filter type written before every row
_ZLIB_HEADER = b"\x78\x01"  # deflate, 32 KB window, "fastest" (a hint only)
_ADLER_BASE = 65521
# Below this many bytes of rows a picture is compressed on one thread: a second costs more than it saves.
TWO_THREADS_FROM = 1 << 18


def adler32_combine(first: int, second: int, second_length: int) -> int:
    """The Adler-32 of two pieces of data one after the other, from each piece's Adler-32 and the second's
    length (zlib's `adler32_combine`, which neither Python's zlib nor isal_zlib offers)."""
    remainder = second_length % _ADLER_BASE
    low = (first & 0xFFFF) + (second & 0xFFFF) + _ADLER_BASE - 1
    high = (remainder * (first & 0xFFFF)) % _ADLER_BASE
    high += (first >> 16) + (second >> 16) + _ADLER_BASE - remainder
    return (low % _ADLER_BASE) | ((high % _ADLER_BASE) << 16)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", isal_zlib.crc32(data, isal_zlib.crc32(kind)))


def _compressed_rows(rows: np.ndarray, above: np.ndarray | None, last: bool) -> tuple[bytes, int, int]:
    """The rows Up-filtered (`above`: the row before them, None at the top) and deflated: (the deflate data,
    the filtered rows' Adler-32, their length). The data ends the stream when `last`, else it ends on a byte
    with more to follow."""
    height, stride = rows.shape
    filtered = np.empty((height, stride + 1), np.uint8)
    filtered[:, 0] = _UP
    np.subtract(rows[1:], rows[:-1], out=filtered[1:, 1:])
    if above is None:
        filtered[0, 1:] = rows[0]  # the row above the first is taken as zeros
    else:
        np.subtract(rows[0], above, out=filtered[0, 1:])
    data = filtered.data.cast("B")
    compressor = isal_zlib.compressobj(1, isal_zlib.DEFLATED, -15, 9)  # raw deflate: the zlib frame is written here
    out = compressor.compress(data) + compressor.flush(isal_zlib.Z_FINISH if last else isal_zlib.Z_SYNC_FLUSH)
    return out, isal_zlib.adler32(data), len(data)


def png_bytes(picture: Image.Image, executor: Executor | None = None) -> bytes:
    """The picture (mode RGB or RGBA) as PNG bytes. A picture of `TWO_THREADS_FROM` bytes of rows or more is
    compressed in two halves: the second by `executor` (a thread) while this thread does the first, when given;
    the bytes are the same either way."""
    if picture.mode not in _COLOUR_TYPES:
        raise ValueError(f"only RGB and RGBA pictures are written here, not {picture.mode}")
    return array_png_bytes(np.asarray(picture), executor)


Prepare = Callable[[int, int, np.ndarray], None]


def array_png_bytes(pixels: np.ndarray, executor: Executor | None = None, prepare: Prepare | None = None) -> bytes:
    """`png_bytes` of a picture's pixels (height x width x 3 or 4, uint8). `prepare(start, stop, rows)`, when
    given, finishes rows start..stop (`pixels[start:stop]`, changed in place) on the thread that compresses them,
    just before; the row above the second half is finished apart, on a copy. It must give the same row whatever
    part of it is finished already."""
    height, width, channels = pixels.shape
    colour_type = {3: 2, 4: 6}[channels]
    rows = pixels.reshape(height, width * channels)
    split = height // 2 if rows.nbytes >= TWO_THREADS_FROM and height >= 2 else height

    def half(start: int, stop: int, above: np.ndarray | None) -> tuple[bytes, int, int]:
        if prepare is not None:
            prepare(start, stop, pixels[start:stop])
            if above is not None:
                prepare(start - 1, start, above)
        flat_above = None if above is None else above.reshape(width * channels)
        return _compressed_rows(rows[start:stop], flat_above, stop == height)

    if split < height:
        above = pixels[split - 1:split].copy()  # before either half changes it
        if executor is None:
            tail, tail_adler, tail_length = half(split, height, above)
            head, head_adler, _ = half(0, split, None)
        else:
            second = executor.submit(half, split, height, above)
            try:
                head, head_adler, _ = half(0, split, None)
            finally:
                tail, tail_adler, tail_length = second.result()  # never left running, whatever happened here
        adler = adler32_combine(head_adler, tail_adler, tail_length)
        stream = b"".join((_ZLIB_HEADER, head, tail, struct.pack(">I", adler)))
    else:
        body, adler, _ = half(0, height, None)
        stream = b"".join((_ZLIB_HEADER, body, struct.pack(">I", adler)))
    header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    return b"".join((_SIGNATURE, _chunk(b"IHDR", header), _chunk(b"IDAT", stream), _chunk(b"IEND", b"")))
