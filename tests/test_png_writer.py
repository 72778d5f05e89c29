"""The two-thread PNG writer (store/png_writer.py): valid PNGs whose pixels are the picture's, the same bytes on
one thread or two."""
from __future__ import annotations

import io
import random
import struct
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from store import png_writer

REAL = Path(__file__).parent / "fixtures" / "generators" / "comfyui-anima.png"


def chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """The PNG's chunks, each CRC checked."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    found, at = [], 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at:at + 4])
        kind, body = data[at + 4:at + 8], data[at + 8:at + 8 + length]
        (crc,) = struct.unpack(">I", data[at + 8 + length:at + 12 + length])
        assert crc == zlib.crc32(body, zlib.crc32(kind)), kind
        found.append((kind, body))
        at += 12 + length
    return found


def check(picture: Image.Image, executor=None) -> bytes:
    data = png_writer.png_bytes(picture, executor)
    found = chunks(data)
    assert [kind for kind, _ in found] == [b"IHDR", b"IDAT", b"IEND"]
    rows = zlib.decompress(found[1][1])  # checks the stream and its Adler-32
    channels = len(picture.mode)
    assert len(rows) == picture.height * (1 + picture.width * channels)
    with Image.open(io.BytesIO(data)) as back:
        back.load()
        assert back.mode == picture.mode and back.size == picture.size
        assert np.array_equal(np.asarray(back), np.asarray(picture))
    return data


def noise(mode: str, size: tuple[int, int], seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, (size[1], size[0], len(mode)), dtype=np.uint8)
    pixels[: size[1] // 3] = 7  # a flat band too: runs, not only noise
    return Image.fromarray(pixels, mode)


@pytest.mark.parametrize("mode", ["RGB", "RGBA"])
@pytest.mark.parametrize("size", [(1, 1), (3, 1), (1, 5), (200, 300), (333, 517), (1023, 771)])
def test_the_written_png_holds_the_pictures_pixels_on_one_thread_or_two(mode, size):
    picture = noise(mode, size, sum(size))
    with ThreadPoolExecutor(1) as executor:
        assert check(picture, executor) == check(picture)


def test_a_real_cleaned_picture_is_written_in_two_halves_on_two_threads():
    with Image.open(REAL) as source:
        picture = source.convert("RGBA")
    alpha = np.zeros((picture.height, picture.width), np.uint8)
    alpha[200:1000, 500:1300] = 255  # a cut: the rest transparent black
    pixels = np.asarray(picture).copy()
    pixels[..., 3] = alpha
    pixels[alpha == 0] = 0
    picture = Image.fromarray(pixels, "RGBA")
    threads = []

    class Recording(ThreadPoolExecutor):
        def submit(self, fn, /, *args, **kwargs):
            threads.append(fn)
            return super().submit(fn, *args, **kwargs)

    with Recording(1) as executor:
        data = check(picture, executor)
    assert len(threads) == 1  # the second half went to the other thread
    out = io.BytesIO()
    picture.save(out, "PNG", compress_level=1)
    assert len(data) < len(out.getvalue())  # no larger than Pillow's fastest


def test_other_modes_are_refused():
    with pytest.raises(ValueError, match="not L"):
        png_writer.png_bytes(Image.new("L", (4, 4)))


def test_adler32_combine_is_zlibs():
    rng = random.Random(5)
    for _ in range(200):
        first = rng.randbytes(rng.randrange(0, 3000))
        second = rng.randbytes(rng.choice([0, 1, 65520, 65521, 65522, rng.randrange(0, 200_000)]))
        assert png_writer.adler32_combine(zlib.adler32(first), zlib.adler32(second), len(second)) == \
            zlib.adler32(first + second)
    ones = b"\xff" * 300_000  # sums that wrap the modulus many times
    assert png_writer.adler32_combine(zlib.adler32(ones), zlib.adler32(ones), len(ones)) == zlib.adler32(ones * 2)


def test_rows_are_finished_by_the_thread_that_compresses_them():
    # `prepare` finishes each half on its own thread just before it is compressed (the clean's cut); the row above
    # the second half is finished apart, on a copy; the bytes are those of the finished picture
    import threading

    picture = noise("RGBA", (640, 480), 9)
    finished = np.asarray(picture).copy()
    finished[::3] = 0
    calls = []

    def prepare(start, stop, rows):
        calls.append((start, stop, threading.current_thread().name))
        rows[(np.arange(start, stop) % 3 == 0)] = 0

    with ThreadPoolExecutor(1, thread_name_prefix="other") as executor:
        pixels = np.asarray(picture).copy()
        data = png_writer.array_png_bytes(pixels, executor, prepare)
    assert data == png_writer.png_bytes(Image.fromarray(finished, "RGBA"))
    assert np.array_equal(pixels, finished)
    assert sorted((start, stop) for start, stop, _ in calls) == [(0, 240), (239, 240), (240, 480)]
    assert all(name.startswith("other") == (start >= 239) for start, _, name in calls)


def test_the_rows_are_deflated_by_isal_not_zlib(monkeypatch):
    # ISA-L's deflate (isal_zlib) is 4x zlib's on a cleaned real picture (store/png_writer.py): both halves go
    # through it, zlib's compressor is never asked, and the stream is still one that zlib and Pillow read
    from isal import isal_zlib

    made = []
    real = isal_zlib.compressobj

    def counted(*args, **kwargs):
        made.append(args)
        return real(*args, **kwargs)

    def refused(*args, **kwargs):
        raise AssertionError("zlib's compressor used")

    monkeypatch.setattr(isal_zlib, "compressobj", counted)
    monkeypatch.setattr(zlib, "compressobj", refused)
    picture = noise("RGBA", (640, 480), 11)  # 1.2 MB of rows: two halves
    with ThreadPoolExecutor(1) as executor:
        check(picture, executor)
    assert len(made) == 2
