"""Exporting images as PNG files that carry their prompt and settings.

A PNG original keeps its bytes: our text chunks are spliced in before the image
data, so nothing is re-encoded. JPEG and WebP originals are converted to PNG.
The `myimages` chunk holds everything this app needs to restore the record on
re-import; a `parameters` chunk (Automatic1111 style) is added for other tools
when the file has none.
"""
from __future__ import annotations

import io
import re
import struct
import unicodedata
import zlib
from pathlib import Path
from typing import Iterable

from PIL import Image

from .errors import StoreError, unreadable_file
from .files import display_image, output_folder, write_new_file
from .library import Library
from .metadata import OWN_KEY, build_a1111_text, build_own_chunk
from .query import param
from .records import ImageRecord, recorded

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SLUG_LENGTH = 60


def slug(text: str, length: int = SLUG_LENGTH) -> str:
    """A file-name-safe, lower-case ASCII slug: never a path, never empty."""
    text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    text = text[:length].rstrip("-")
    return text or "image"


def export_name(record: ImageRecord) -> str:
    return f"{record.id}-{slug(record.prompt)}"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _itxt(keyword: str, text: str) -> bytes:
    return _chunk(b"iTXt", keyword.encode("latin-1") + b"\x00\x00\x00\x00\x00" + text.encode("utf-8"))


def _png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    if not data.startswith(PNG_SIGNATURE):
        raise ValueError("not a PNG")
    chunks, pos = [], len(PNG_SIGNATURE)
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        end = pos + 12 + length
        if end > len(data):
            raise ValueError("truncated PNG")
        chunks.append((kind, data[pos:end]))
        pos = end
        if kind == b"IEND":
            break
    return chunks


def _png_size(chunks: list[tuple[bytes, bytes]]) -> tuple[int, int] | None:
    """Width and height from a PNG's header: the picture written (a grid item's, not its sheet's)."""
    for kind, raw in chunks:
        if kind == b"IHDR" and len(raw) >= 16:
            width, height = struct.unpack(">II", raw[8:16])
            return width, height
    return None


def _text_keyword(kind: bytes, raw: bytes) -> str:
    if kind not in (b"tEXt", b"iTXt", b"zTXt"):
        return ""
    body = raw[8:-4]
    return body.split(b"\x00", 1)[0].decode("latin-1", "replace")


A1111_FORMATS = ("a1111", "civitai")  # params read from an A1111-style infotext: every pair is a setting
SETTINGS_WRITTEN = {"steps", "sampler", "cfg scale", "seed", "size", "model"}  # those settings_text() writes


def infotext(record: ImageRecord) -> str:
    """A whole image's `parameters` as A1111 writes them, and what the prompt dialog's Copy settings copies:
    `settings_text` (its generation size as the file records it, not the picture's pixels: an upscale's or a crop's
    differ; NEWUSER12 F6), then, for a file that came with an A1111 infotext, every other pair it had (Clip skip,
    Hires upscale, Model hash, Denoising strength…), as A1111's PNG Info and "Send to txt2img" read them."""
    if record.params.get("_format") not in A1111_FORMATS:
        return record.settings_text()
    return record.settings_text(others=[(key, str(value)) for key, value in record.params.items()
                                        if not key.startswith("_") and key.lower() not in SETTINGS_WRITTEN
                                        and value not in (None, "")])


def png_with_metadata(record: ImageRecord) -> bytes:
    """The PNG bytes of an image with its prompt and settings written in."""
    try:
        data = record.path.read_bytes()
        return with_metadata(record, data, is_png=record.ext == "png", export_of=record.sha256)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:  # gone, not allowed, not a picture
        raise unreadable_file(record.id, record.path, exc) from exc


def with_metadata(record: ImageRecord, data: bytes, *, is_png: bool = True, export_of: str = "") -> bytes:
    """Picture bytes (a PNG, or another format converted to one) with `record`'s prompt and settings written in:
    an image's own file, or a part cut out of it (the grid editor's items). `export_of`: the content hash of the
    image the bytes are a copy of (a whole image exported), which its chunk records: imported again, the copy is
    known as one (duplicates keep the original, NEWUSER7 #28)."""
    own = _itxt(
        OWN_KEY,
        build_own_chunk(record.prompt, record.negative_prompt, record.model, record.text_accuracy,
                        record.generated_at.isoformat(), record.params, export_of=export_of),
    )
    try:
        chunks = _png_chunks(data) if is_png else None
    except ValueError:
        chunks = None
    if chunks is None:
        with Image.open(io.BytesIO(data)) as image:
            out = io.BytesIO()
            display_image(image).save(out, "PNG")
        chunks = _png_chunks(out.getvalue())
    keywords = {_text_keyword(kind, raw) for kind, raw in chunks}
    extra = [own]
    if "parameters" not in keywords:
        extra.append(_itxt("parameters", infotext(record) if export_of else build_a1111_text(
            record.prompt, record.negative_prompt, record.model, recorded(record.text_accuracy),
            steps=param(record.params, "steps"), sampler=param(record.params, "sampler"),
            seed=param(record.params, "seed"), size=_png_size(chunks))))  # a grid item: its own size
    parts = [PNG_SIGNATURE]
    inserted = False
    for kind, raw in chunks:
        if _text_keyword(kind, raw) == OWN_KEY:
            continue  # replaced by the current record
        if kind == b"IDAT" and not inserted:
            parts.extend(extra)
            inserted = True
        parts.append(raw)
    return b"".join(parts)


def export_images(library: Library, image_ids: Iterable[int], folder: Path, *, parents: bool = False) -> list[Path]:
    """Write each image as `ID-slug.png` into folder, never overwriting a file. The folder is made if its parent
    exists (or with its parents: the default downloads folder); else StoreError and nothing is written."""
    records = [library.get(i) for i in image_ids]
    folder = output_folder(folder, parents=parents)
    written = []
    for record in records:
        data = png_with_metadata(record)
        try:
            written.append(write_new_file(folder, export_name(record), ".png", data))
        except OSError as exc:
            raise StoreError(f"Cannot write to {folder}: {exc.strerror or exc}.") from exc
    return written
