"""Images made from other images (a cell cut out of a sheet, a picture with its background removed).

Used by the grid cutter (grid.py), background removal (background.py), the grid editor and the
command line: the source's original opened for display, a derived picture turned into a NewImage
that keeps its source's prompt and settings, and derived images stored in the source's collections.
"""
from __future__ import annotations

import hashlib
import io

from PIL import Image

from .errors import StoreError, unreadable_file
from .files import display_image, make_thumbnail
from .library import Library, NewImage
from .records import ImageRecord


def png_bytes(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=1)  # fast; derived images are small next to their source
    return out.getvalue()


def derived_image(library: Library, source_id: int, picture: Image.Image, derivation: str,
                  thumbnail: bytes | None = None, data: bytes | None = None,
                  record: ImageRecord | None = None) -> NewImage:
    """A NewImage made from a picture cut or cleaned out of image `source_id`. It is the same generation:
    it keeps its source's generation date (said to be the original's: params["_date_from"] = "original"),
    so `date:` and newest-first put it beside its source, and its source's file name (a `file:` search finds
    both; no made-up "-clean.png" name, and info shows no "Imported from" for it: it was not imported).
    `data`: the picture's `png_bytes`, when made already; `record`: image `source_id`'s, when read already."""
    record = library.get(source_id) if record is None else record
    data = png_bytes(picture) if data is None else data
    params = dict(record.params)
    params["_date_from"] = "original"
    return NewImage(
        sha256=hashlib.sha256(data).hexdigest(), ext="png", data=data,
        thumbnail=thumbnail or make_thumbnail(picture),
        width=picture.width, height=picture.height, prompt=record.prompt,
        negative_prompt=record.negative_prompt, model=record.model, text_accuracy=record.text_accuracy,
        generated_at=record.generated_at, params=params, source_name=record.source_name,
        parent_id=record.id, derivation=derivation,
    )


def add_derived(library: Library, source_id: int, items: list[NewImage]) -> list[tuple[int, bool]]:
    """Store derived images, in the source's collections; (id, created) for each, created False
    when the same picture was already in the library (made before, or an identical item)."""
    try:
        return library.add_images(items, library.collection_ids_of(source_id))
    except OSError as exc:
        raise StoreError(f"Cannot write to the library: {exc.strerror or exc}.") from exc


def open_original(library: Library, image_id: int, record: ImageRecord | None = None) -> Image.Image:
    """Image `image_id`'s original, ready to show or cut (oriented, in a displayable mode); `record`: its record,
    when read already."""
    record = library.get(image_id) if record is None else record
    try:
        with Image.open(record.path) as source:
            source.load()
            return display_image(source)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:  # gone, or not a picture
        raise unreadable_file(image_id, record.path, exc) from exc


def require_may_save_from(library: Library, image_id: int) -> None:
    """Raise (one sentence) unless images cut or cleaned out of image `image_id` may be saved to the library:
    the user may change the library, and the image is the acting account's (another's public one is read only)."""
    library.require_writable()
    library.require_own(image_id)
