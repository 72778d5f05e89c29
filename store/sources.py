"""Watched source folders: the folders where images are generated, indexed where they are.

A source belongs to one account. In `link` mode (the default) its files stay where
they are: each becomes an image whose record keeps the file's path
(`Image.location`), and only a thumbnail is kept in the library. In `copy` mode its
files are imported into the library as `myimages import` does.

What was seen in a source is kept per file (`SourceFile`: path, size, modification
time, content hash, the image it is, or why it is not one), so that:
- a scan reads only files that are new or changed (size or modification time);
- an image's identity is its content: a file renamed or moved inside the sources
  keeps its record, favorite and collections; the same picture in two places is
  one image;
- a bad file is reported once (its reason is kept) and not read again until it changes;
- a linked file deleted outside drops its image from the gallery, but what it was (its id, dates, favorite,
  collections, derived images) is kept (`LostImage`): if the same content comes back into a source, at its place
  or elsewhere, it is that image again (`_bring_back`, `_restore_lost`). So is a linked image a removed source
  dropped: following its folder again (at a new path once renamed, or the same one with --copy) brings each back.
  What is kept is forgotten after the trash's days (`expire_lost`: doctor, and every full rescan).

A file still being written is never read as an image: a PNG without its IEND chunk,
a JPEG without its end marker, a WebP shorter than its RIFF header says, a GIF without its trailer, an AVIF whose
last box is cut, a TIFF whose directory, values, strips or tiles lie past its end, or an empty
file, is left for the next scan (or the watcher's retry), not rejected: for up to a minute, and an empty
file for a few seconds (then it is a bad file, "empty file", said once, as `source list` says it). A file of no
format whose structure says so (the first bytes of one, or not an image at all) that does not read is read again
likewise until it has not changed for those few seconds, and only then said bad (`is_complete`, `index_file`).
"""
from __future__ import annotations

import fcntl
import hashlib
import io
import json
import os
import shlex
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, ExitStack, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Literal

from peewee import IntegrityError, Value, chunked, fn
from PIL import Image as PILImage, PngImagePlugin

from .database import bulk_writing
from .errors import AlreadyFollowed, BadImage, NotFound, StoreError, os_reason
from .file_lock import held
from .identity import MARKER, is_library
from .formats import EXTENSIONS, FORMATS
from .importer import MAX_FILE_BYTES, ImportOptions, describe, downloads_folder, prepare_bytes
from .library import Library, NewImage, bulk_insert
from .metadata import METADATA_KEYS, parse_chunks, read_chunks
from .models import Account, Collection, Image, ImageCollection, LostImage, Source, SourceFile, TrashFile
from .own_writes import quietly
from .pieces import in_order
from .query import seed_number
from .records import to_local, utc_now
from .text import plural, shell_path, shown_path, storable

LINK, COPY = "link", "copy"
MODES = (LINK, COPY)
GIVE_UP_AFTER = 60.0  # seconds a file may stay incomplete (unchanged) before it is read as it is
LINK_SKIPPED = ("a symbolic link: not followed (deleting an image never goes through a link to a file that may be "
                "outside your sources); add the folder it points to, or copy the file here")
# seconds an empty file, or one that is no format whose structure says whether it is whole (is_complete) and does
# not read, must stay unchanged before it is a bad file (said once), not one being written
SETTLED_AFTER = 5.0
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_TEXT_CHUNK = 16 * 1024 * 1024  # a compressed PNG text chunk is never inflated past this
BATCH = 400
RECORD_AT_ONCE = 5  # batches of linked files a large scan records in one transaction (copies: one, bytes are held)
READ_APART_FROM = 2_000  # changed files from which reader processes read them (they take a moment to start)
FEW_PATHS = BATCH  # a watcher's look at up to this many paths does not wait for a whole scan of their folder
# A quick look at a new source before it is followed (source_caution): at most this many entries, this long
LOOK_ENTRIES = 100_000
LOOK_SECONDS = 1.0
WIDE_OTHERS = 5_000  # files that are not images, seen by the look, from which a folder is more than an output folder

Progress = Callable[[int, int], None]


@dataclass
class SourceRecord:
    id: int
    path: Path
    mode: str
    images: int
    files: int
    bad: list[tuple[str, str]]  # (path inside the source, reason)
    scanned_at: datetime | None  # local time
    watched: bool = False
    missing: bool = False  # the folder is not there (moved, deleted, a disk unmounted: `not_there`): its images kept

    def as_json(self) -> dict:
        return {"path": str(self.path), "mode": self.mode, "images": self.images, "files": self.files,
                "bad": [{"file": shown_path(f), "reason": r} for f, r in self.bad],
                "scanned_at": self.scanned_at.isoformat() if self.scanned_at else None, "watched": self.watched,
                "missing": self.missing}


@dataclass
class ScanReport:
    source: Path
    added: list[int] = field(default_factory=list)  # new images (and those `back`)
    back: int = 0  # of `added`: images whose file had left the sources, back as they were (_bring_back)
    known: int = 0  # files that are images already in the library (another place, or linked again)
    removed: int = 0  # images that left the gallery with their file
    moved: int = 0  # files found at a new place (here) that left another (here or in another source)
    kept: int = 0  # files gone whose image stays: the library's own copy (imported), or another file of it
    in_trash: int = 0  # files of a picture that is in the trash: it stays there (restoring it is the user's call)
    unchanged: int = 0
    # files changed in place (a tagger, an optimiser): their image updated, its favorite and collections kept
    updated: int = 0
    bad: list[tuple[Path, str]] = field(default_factory=list)  # newly found bad files, with the reason
    waiting: list[Path] = field(default_factory=list)  # still being written: read at the next scan
    notes: list[tuple[Path, str]] = field(default_factory=list)  # new images with part of their metadata not read
    cancelled: bool = False
    problem: str = ""  # the folder could not be read (unmounted, removed): nothing was changed for it
    busy: bool = False  # another scan of it was running (an add, another program): nothing read, look again later
    # sources inside this folder that it took in (`_take_in`): (their folder, their images), which keep their ids
    taken_in: list[tuple[str, int]] = field(default_factory=list)
    # files that now hold another picture, whose image left the library (its favorite and collections kept for its
    # return, `_bring_back`): (the file, the image it held, the image it holds now)
    replaced: list[tuple[Path, int, int]] = field(default_factory=list)
    # folders under the source that could not be read (permissions): (the folder, the reason, its images kept)
    unreadable: list[tuple[Path, str, int]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed or self.moved or self.kept or self.bad or self.known or self.in_trash
                    or self.problem or self.taken_in or self.unreadable)

    def as_json(self) -> dict:
        return {"source": str(self.source), "added": self.added, "back": self.back, "known": self.known, "removed": self.removed,
                "moved": self.moved, "kept": self.kept, "in_trash": self.in_trash, "unchanged": self.unchanged, "updated": self.updated,
                "bad": [[str(p), r] for p, r in self.bad], "waiting": [str(p) for p in self.waiting],
                "notes": [[str(p), r] for p, r in self.notes], "cancelled": self.cancelled, "problem": self.problem, "busy": self.busy,
                "taken_in": [[folder, images] for folder, images in self.taken_in],
                "replaced": [[str(p), old, new] for p, old, new in self.replaced],
                "unreadable": [[str(p), reason, images] for p, reason, images in self.unreadable]}

    @classmethod
    def from_json(cls, data: dict) -> "ScanReport":
        return cls(Path(data["source"]), added=list(data["added"]), back=int(data.get("back", 0)),
                   known=int(data["known"]),
                   removed=int(data["removed"]), moved=int(data["moved"]), kept=int(data.get("kept", 0)),
                   in_trash=int(data.get("in_trash", 0)),
                   unchanged=int(data["unchanged"]), updated=int(data.get("updated", 0)), bad=[(Path(p), r) for p, r in data["bad"]],
                   waiting=[Path(p) for p in data["waiting"]],
                   notes=[(Path(p), r) for p, r in data.get("notes", [])], cancelled=bool(data["cancelled"]),
                   problem=str(data["problem"]), busy=bool(data.get("busy", False)),
                   taken_in=[(str(folder), int(images)) for folder, images in data.get("taken_in", [])],
                   replaced=[(Path(p), int(old), int(new)) for p, old, new in data.get("replaced", [])],
                   unreadable=[(Path(p), str(reason), int(images)) for p, reason, images in data.get("unreadable", [])])

    def summary(self) -> str:
        """What the scan found, plainly: only the parts that happened ("Nothing new: 2 images were already in
        the library", not "0 new images, 2 already in the library, 0 unchanged")."""
        if self.problem:
            return self.problem
        taken = "".join(self.took_in()) + "".join(self.replaced_sentences()) + "".join(self.unreadable_sentences())
        text = self._found()
        if taken:  # the images of the folders taken in are not "new", nor counted as "unchanged"
            return taken.rstrip() if text == "No images in the folder" else taken + text
        return text

    def took_in(self) -> list[str]:
        """One sentence per source this folder took in (ending with a space)."""
        return [f"{folder}, followed already, is now part of {self.source}: its {plural(images, 'image')} "
                f"{'keeps its favorite and collections' if images == 1 else 'keep their favorites and collections'}. "
                for folder, images in self.taken_in]

    def replaced_sentences(self) -> list[str]:
        """One sentence per file that now holds another picture (ending with a space)."""
        return [f"{path.name} now holds another picture, #{new}: #{old}, the picture it held, left the library (its "
                "favorite and collections come back with it if its file comes back). " for path, old, new in self.replaced]

    def unreadable_sentences(self) -> list[str]:
        """One sentence per folder of the source that could not be read (ending with a space): its images stay."""
        def kept(images: int) -> str:
            if not images:
                return "nothing in it was read"
            return f"its {plural(images, 'image')} {'stays' if images == 1 else 'stay'} in the library"

        return [f"{folder} cannot be read ({reason.lower()}): {kept(images)}; it is read again once it can be. "
                for folder, reason, images in self.unreadable]

    def _found(self) -> str:
        parts = [text for count, text in (
            (self.back, f"{plural(self.back, 'image')} back ({'its' if self.back == 1 else 'their'} file came back: "
                        f"{'its' if self.back == 1 else 'their'} number, favorite and collections kept)"),
            (self.known, f"{plural(self.known, 'image', 'was')} already in the library"),
            (self.in_trash, f"{plural(self.in_trash, 'image')} in the trash (left there)"),
            (self.updated, f"{plural(self.updated, 'image')} changed in place (updated; favorite and collections "
                           "kept)"),
            (self.removed, f"{self.removed:,} gone"), (self.moved, f"{self.moved:,} moved"),
            (self.kept, f"{plural(self.kept, 'file')} gone ({'its image stays' if self.kept == 1 else 'their images stay'}"
                        " in the library)"),
            (len(self.notes), f"{plural(len(self.notes), 'prompt')} too large: not read"),
            (len(self.bad), f"{len(self.bad):,} skipped"), (len(self.waiting), f"{len(self.waiting):,} still being written"),
            (self.unchanged, f"{self.unchanged:,} unchanged")) if count]
        if len(self.added) > self.back:
            text = ", ".join([plural(len(self.added) - self.back, "new image"), *parts])
        elif parts:
            text = "Nothing new: " + ", ".join(parts)
        else:
            text = "No images in the folder"
        return text + (" (cancelled)" if self.cancelled else "")


# -- is the file complete? ---------------------------------------------------------------------

@dataclass
class PngChunks:
    """What `png_text` reads of a PNG."""

    text: dict[str, str] = field(default_factory=dict)  # its text chunks (the first of each key)
    exif: bytes | None = None  # its eXIf chunk
    animated: bool = False  # it has an acTL chunk


def png_text(data: bytes) -> PngChunks | None:
    """The text chunks (and eXIf, acTL) of a PNG anywhere in the file, without decoding pixels; None if it has
    no IEND yet."""
    chunks = PngChunks()
    pos = 8
    end = len(data)
    while pos + 12 <= end:
        length = int.from_bytes(data[pos:pos + 4], "big")
        kind = data[pos + 4:pos + 8]
        body_end = pos + 8 + length
        if body_end + 4 > end:
            return None
        if kind == b"IEND":
            return chunks
        if kind == b"eXIf":
            chunks.exif = data[pos + 8:body_end]
        elif kind == b"acTL":
            chunks.animated = True
        elif kind in (b"tEXt", b"zTXt", b"iTXt"):
            try:
                key, value = _text_chunk(kind, data[pos + 8:body_end])
                chunks.text.setdefault(key, value)
            except (ValueError, zlib.error, IndexError):
                pass  # a damaged text chunk is no metadata
        pos = body_end + 4
    return None


def _inflate(data: bytes) -> bytes:
    inflater = zlib.decompressobj()
    out = inflater.decompress(data, MAX_TEXT_CHUNK)
    if inflater.unconsumed_tail:
        raise ValueError("text chunk too large")
    return out


def _text_chunk(kind: bytes, body: bytes) -> tuple[str, str]:
    key, _, rest = body.partition(b"\0")
    name = key.decode("latin-1")
    if kind == b"tEXt":
        return name, rest.decode("latin-1")
    if kind == b"zTXt":
        return name, _inflate(rest[1:]).decode("latin-1")
    compressed, rest = rest[0], rest[2:]
    language, _, rest = rest.partition(b"\0")
    translated, _, text = rest.partition(b"\0")
    if compressed:
        text = _inflate(text)
    return name, PngImagePlugin.iTXt(text.decode("utf-8", "replace"), language.decode("latin-1", "replace"),
                                     translated.decode("utf-8", "replace"))


def is_complete(data: bytes) -> bool | None:
    """Whether the file holds a whole image (its writer has finished), judged from its structure; None when its
    structure cannot say (no format it knows): then only reading it can."""
    if data.startswith(PNG_SIGNATURE):
        return png_text(data) is not None
    if data.startswith(b"\xff\xd8"):
        return data.rstrip(b"\0\r\n\t ").endswith(b"\xff\xd9")
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return len(data) >= 8 + int.from_bytes(data[4:8], "little")
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return data.rstrip(b"\0").endswith(b";")  # its trailer
    if data[4:8] == b"ftyp":  # AVIF (and its kin): whole boxes, up to the end of the file
        return _whole_boxes(data)
    if data[:4] in TIFF_SIGNATURES:
        return _whole_tiff(data)
    return None if data else False  # no format it can judge (yet: a few bytes of one): whole if it reads


TIFF_SIGNATURES = (b"II*\0", b"MM\0*", b"II+\0", b"MM\0+")  # little- and big-endian; TIFF and BigTIFF
TIFF_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8, 17: 8,
                   18: 8}  # bytes of one value of each field type
TIFF_PARTS = ((273, 279), (324, 325))  # (strip offsets, strip byte counts), (tile offsets, tile byte counts)
TIFF_POINTERS = (330, 34665, 34853)  # fields that point at other directories: SubIFDs, Exif, GPS
MAX_TIFF_DIRECTORIES = 10_000


def _whole_tiff(data: bytes) -> bool:
    """Whether a TIFF (or BigTIFF) is whole: each directory of its chain, every value and other directory they point
    to, and every strip and tile lie inside the data. Its parts may be anywhere (Pillow writes the first directory
    first, libtiff last, its offset in the header once written), so its end says nothing."""
    order: Literal["little", "big"] = "little" if data[:2] == b"II" else "big"
    big = data[2:4] in (b"+\0", b"\0+")
    word, count_size, entry_size = (8, 8, 20) if big else (4, 2, 12)
    end = len(data)

    def number(at: int, size: int) -> int:
        return int.from_bytes(data[at:at + size], order)

    if end < 2 * word:
        return False
    at = number(word, word)  # the first directory (0 until libtiff has written it)
    seen: set[int] = set()
    while at:
        if at in seen or len(seen) >= MAX_TIFF_DIRECTORIES:
            return True  # a loop: not a file being written; read it (refused with the reason)
        seen.add(at)
        if at + count_size > end:
            return False
        entries = at + count_size
        after = entries + number(at, count_size) * entry_size
        if after + word > end:
            return False
        parts: dict[int, list[int]] = {}
        for entry in range(entries, after, entry_size):
            tag, kind, count = number(entry, 2), number(entry + 2, 2), number(entry + 4, word)
            size = TIFF_TYPE_SIZES.get(kind, 0) * count
            place = entry + 4 + word
            if size > word:  # the values are elsewhere: at this offset
                place = number(place, word)
                if place + size > end:
                    return False
            if kind in (3, 4, 13, 16, 18) and (tag in TIFF_POINTERS or any(tag in pair for pair in TIFF_PARTS)):
                width = TIFF_TYPE_SIZES[kind]
                parts[tag] = [number(place + i * width, width) for i in range(count)]
        for offsets, sizes in TIFF_PARTS:
            if any(start + size > end for start, size in zip(parts.get(offsets, ()), parts.get(sizes, ()))):
                return False
        if any(pointer + count_size > end for tag in TIFF_POINTERS for pointer in parts.get(tag, ())):
            return False
        at = number(after, word)
    return bool(seen)


def _whole_boxes(data: bytes) -> bool:
    """Whether an ISO media file (AVIF) is whole: its top-level boxes, each its size long, end where the data does."""
    at = 0
    while at + 8 <= len(data):
        size = int.from_bytes(data[at:at + 4], "big")
        if size == 1:  # a 64-bit size after the type
            if at + 16 > len(data):
                return False
            size = int.from_bytes(data[at + 8:at + 16], "big")
        elif size == 0:  # to the end of the file
            return True
        if size < 8:
            return True  # not boxes after all: read it, refused with the reason
        at += size
    return at == len(data)


class _PngText:
    """What read_chunks needs of a PNG besides its pixels, read from its chunks alone: Pillow need not even open
    it (or, opened, decode it: it decodes the whole image to find text or EXIF after the image data)."""

    def __init__(self, chunks: PngChunks, info: dict | None = None) -> None:
        self._exif = chunks.exif
        self.text = chunks.text
        self.info = {} if info is None else info  # an opened image's

    def getexif(self) -> PILImage.Exif:
        exif = PILImage.Exif()
        if self._exif:
            exif.load(self._exif)
        return exif


def _too_many_pixels(width: int, height: int) -> bool:
    """Past Pillow's limit (a decompression bomb); none when the limit is turned off."""
    limit = PILImage.MAX_IMAGE_PIXELS
    return limit is not None and width * height > limit


# -- reading one file --------------------------------------------------------------------------

@dataclass
class Seen:
    relpath: str  # as on disk (a name that is not UTF-8 with its bytes as lone surrogates: models.PathField)
    size: int
    mtime_ns: int


def _seen(relpath: str, size: int, mtime_ns: int) -> Seen:
    return Seen(relpath, size, mtime_ns)


@dataclass
class Indexed:
    seen: Seen
    where: str  # the file's path; a Path only when asked (reader processes send 100,000s of these)
    image: NewImage | None = None
    error: str = ""
    incomplete: bool = False
    image_id: int | None = None  # once stored

    @property
    def path(self) -> Path:
        return Path(self.where)


def index_file(path: Path, seen: Seen, mode: str) -> Indexed:
    """Read one file of a source: a NewImage (linked, or with its data for copying), an error, or incomplete."""
    result = Indexed(seen, str(path))
    if path.is_symlink():
        result.error = LINK_SKIPPED
        return result
    try:
        with open(path, "rb") as handle:  # the walk has seen it is a file: one open, one read
            data = handle.read(MAX_FILE_BYTES + 1)
    except PermissionError:
        result.error = "permission denied"
        return result
    except OSError as exc:
        result.error = f"cannot read file: {exc.strerror or exc}"
        return result
    if len(data) > MAX_FILE_BYTES:
        result.error = f"file too large (over {MAX_FILE_BYTES // (1024 * 1024)} MB)"
        return result
    waited = time.time() - seen.mtime_ns / 1e9  # how long it has not changed
    png = png_text(data) if data.startswith(PNG_SIGNATURE) else None
    complete = True if png is not None else is_complete(data)
    if complete is False and waited < (SETTLED_AFTER if not data else GIVE_UP_AFTER):
        result.incomplete = True
        return result
    try:
        if mode == COPY:
            new, meta, chunks = prepare_bytes(data, path.name)
        else:
            if not complete:  # cut short and left so (a generator or a copy that died), or a structure it cannot
                prepare_bytes(data, path.name)  # judge: its pixels decoded, as `import` does (skipped with why)
            new, meta, chunks = _read_png(data, path, png) if png is not None else _read_linked(data, path)
    except BadImage as exc:
        if complete is None and waited < SETTLED_AFTER:  # perhaps the first bytes of a file being written: it is
            result.incomplete = True  # read again, and said bad only once it has stopped changing
            return result
        result.error = str(exc)
        return result
    result.image = describe(new, meta, chunks, path, ImportOptions())
    if mode == LINK:
        result.image.location = result.where
    return result


def _read_linked(data: bytes, path: Path):
    """What the library needs of a linked file: header and metadata, no pixels decoded (most files)."""
    try:
        image = PILImage.open(io.BytesIO(data))
    except Exception:  # noqa: BLE001 - Pillow's own reasons, said by prepare_bytes
        return prepare_bytes(data, path.name)  # raises BadImage with the reason
    with image:
        if image.format not in FORMATS or _too_many_pixels(*image.size):  # (an animation: its first frame)
            return prepare_bytes(data, path.name)  # raises BadImage with the reason
        # decodes pixels only to look for hidden (stealth) metadata
        if image.format == "PNG":
            chunks = read_chunks(_PngText(png_text(data) or PngChunks(), image.info), pixels=image)
        else:
            chunks = read_chunks(image)
        meta = parse_chunks(chunks)
        width, height = image.size
        if image.format == "JPEG" and image.getexif().get(0x0112, 1) in (5, 6, 7, 8):
            width, height = height, width  # shown upright
        new = NewImage(sha256=hashlib.sha256(data).hexdigest(), ext=FORMATS[image.format], data=b"",
                       thumbnail=b"", width=width, height=height, source_name=path.name, file_size=len(data))
    return new, meta, chunks


def _read_png(data: bytes, path: Path, png: PngChunks):
    """A whole PNG with metadata in its text chunks: size from its header, metadata from its chunks.
    Anything else (no such metadata: perhaps hidden in the pixels; animated; odd) goes through Pillow."""
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    if data[12:16] != b"IHDR" or png.animated or width * height <= 0 or _too_many_pixels(width, height) \
            or not any(key in png.text for key in METADATA_KEYS):
        return _read_linked(data, path)
    chunks = read_chunks(_PngText(png))
    new = NewImage(sha256=hashlib.sha256(data).hexdigest(), ext="png", data=b"", thumbnail=b"", width=width,
                   height=height, source_name=path.name, file_size=len(data))
    return new, parse_chunks(chunks), chunks


# -- walking a folder --------------------------------------------------------------------------

def walk(root: Path, only: Iterable[Path] | None = None, skip: Iterable[Path] = (),
         unreadable: dict[str, str] | None = None) -> tuple[dict[str, Seen], set[str]]:
    """Image files under `root` (or just the paths in `only`): {relative path: Seen}, and the
    relative paths in `only` that are no longer there. Links and hidden names are not followed (a link with an
    image's name is listed, to be skipped with its reason, LINK_SKIPPED), nor
    the folders in `skip` (the library's own, in a source that holds it) or any other library's folder.
    A folder under `root` that cannot be read (permissions) goes in `unreadable` ({its path: the reason}): what it
    holds is neither seen nor gone. `root` itself unreadable raises OSError."""
    seen: dict[str, Seen] = {}
    gone: set[str] = set()
    skipped = frozenset(str(p) for p in skip)
    if only is not None:
        for path in only:
            try:
                relpath = path.relative_to(root).as_posix()
            except ValueError:
                continue
            try:
                if _in_skipped(root, path, skipped):
                    continue
                info = path.lstat()
            except PermissionError as exc:  # in a folder that cannot be read now (or is it): not gone
                if unreadable is None:
                    raise
                unreadable.setdefault(str(Path(exc.filename).parent if exc.filename else path.parent),
                                      exc.strerror or str(exc))
                continue
            except OSError:
                gone.add(relpath)
                continue
            if _is_image_name(path.name) and (path.is_symlink() or path.is_file()):  # a link: skipped, said
                seen[relpath] = _seen(relpath, info.st_size, info.st_mtime_ns)
            elif path.is_dir() and not path.is_symlink():  # a folder moved in: everything under it
                try:
                    for sub in _walk_all(path, skipped, unreadable):
                        found = sub.seen(root)
                        seen[found.relpath] = found
                except OSError as exc:  # the folder itself cannot be read (its mode changed): not gone
                    if unreadable is None:
                        raise
                    unreadable.setdefault(str(path), exc.strerror or str(exc))
            elif not path.is_dir():
                gone.add(relpath)
        return seen, gone
    prefix = len(str(root).rstrip("/")) + 1
    for entry in _walk_all(root, skipped, unreadable):
        found = _seen(entry.path[prefix:], entry.size, entry.mtime_ns)
        seen[found.relpath] = found
    return seen, gone


@dataclass
class _Entry:
    path: str
    size: int
    mtime_ns: int

    def relpath_from(self, root: Path) -> str:
        prefix = str(root).rstrip("/") + "/"
        return self.path[len(prefix):] if self.path.startswith(prefix) else Path(self.path).relative_to(root).as_posix()

    def seen(self, root: Path) -> Seen:
        return _seen(self.relpath_from(root), self.size, self.mtime_ns)


def _is_file(path: Path) -> bool:
    """Whether `path` is a file; False when it cannot be told (in a folder that cannot be read)."""
    try:
        return path.is_file()
    except OSError:
        return False


def _is_image_name(name: str) -> bool:
    return not name.startswith(".") and os.path.splitext(name)[1].lower() in EXTENSIONS


def _in_skipped(root: Path, path: Path, skipped: frozenset[str]) -> bool:
    """Whether the full walk would leave `path` out: a hidden name on the way from `root`, a skipped
    folder, or a library's folder (a watcher's events come from everywhere under the source)."""
    relative = path.relative_to(root)
    if any(part.startswith(".") for part in relative.parts):
        return True
    folder = root
    for part in relative.parts:
        folder = folder / part
        if str(folder) in skipped or (folder / MARKER).is_file() and is_library(folder):
            return True
    return False


def _walk_all(root: Path, skipped: frozenset[str] = frozenset(),
              unreadable: dict[str, str] | None = None) -> Iterator[_Entry]:
    stack = [str(root)]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as listing:
                entries = list(listing)
            if folder != str(root) and any(e.name == MARKER for e in entries) and is_library(Path(folder)):
                continue  # another library's own files (its originals and thumbnails) are no source's images
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                try:
                    if entry.is_dir(follow_symlinks=False):
                        if entry.path not in skipped:
                            stack.append(entry.path)
                    elif (entry.is_file(follow_symlinks=False) or entry.is_symlink()) and _is_image_name(entry.name):
                        info = entry.stat(follow_symlinks=False)  # a link's own: it is skipped, and said once
                        yield _Entry(entry.path, info.st_size, info.st_mtime_ns)
                except PermissionError as exc:  # listed, not searchable: what it holds is not gone
                    if unreadable is not None:
                        unreadable.setdefault(folder, exc.strerror or str(exc))
                except OSError:
                    continue
        except OSError as exc:
            if folder == str(root):
                raise
            if unreadable is not None and isinstance(exc, PermissionError):
                unreadable.setdefault(folder, exc.strerror or str(exc))
            continue  # an unreadable sub-folder: the rest is still followed


# -- the API (Library delegates here) ------------------------------------------------------------

def _check_folder(library: Library, folder: Path | str) -> Path:
    path = Path(folder).expanduser()
    if storable(str(path)) != str(path):
        raise StoreError(f"The folder name {storable(str(path))} is not UTF-8: rename it to add it as a source.")
    try:
        path = path.resolve(strict=True)
    except (OSError, RuntimeError):  # the whole path: a relative or ~ one names where it was looked for
        raise StoreError(f"No folder {path.absolute()}.") from None
    if not path.is_dir():
        raise StoreError(f"{path} is not a folder.")
    if not os.access(path, os.R_OK | os.X_OK):
        raise StoreError(f"You may not read the folder {path}.")
    root = library.root.resolve()
    if path == root:
        raise StoreError(f"{path} is the library folder itself: pick the folder your generator writes to.")
    if root in path.parents:
        raise StoreError(f"{path} is inside the library folder {root} (its own files): pick the folder your "
                         "generator writes to.")
    for folder in (path, *path.parents):
        if (folder / MARKER).is_file() and is_library(folder):
            raise StoreError(f"{path} is {'' if folder == path else 'inside '}the folder of another library "
                             f"({folder}): pick the folder your generator writes to.")
    downloads = downloads_folder(library)
    if downloads is not None and (path == downloads or downloads in path.parents):
        raise StoreError(f"{path} is {'' if path == downloads else 'inside '}the downloads folder ({downloads}), "
                         "where the app writes copies of your images: they would come back as new images; pick "
                         "the folder your generator writes to.")
    return path


def _skipped_folders(library: Library, row: Source | None = None) -> tuple[Path, ...]:
    """Folders a source's scan never reads: the library's own, the downloads folder (copies of the library's
    images: downloaded or exported, they would come back as new images), and the account's sources inside `row`'s
    folder (theirs to read, until it takes them in: `_take_in`)."""
    downloads = downloads_folder(library)
    inner = tuple(Path(other.path) for other in _inner_sources(library, Path(row.path))) if row is not None else ()
    return (library.root.resolve(),) + ((downloads,) if downloads is not None else ()) + inner


def source_caution(library: Library, path: Path, importing: bool = False) -> str:
    """Why following the folder `check_new_source` accepted may be far more than meant, in one sentence
    to ask about ('' for an ordinary folder): the filesystem's root, the home folder or one holding it,
    a folder holding the library (whose own files are skipped), the top of a mounted disk, or a folder that
    a quick look (`look_at`: at most LOOK_ENTRIES entries or LOOK_SECONDS) finds holding another mounted disk
    or far more than pictures: WIDE_OTHERS files that are not images, over twice the images seen. A
    generator's output folder holds pictures (and perhaps a text file each); a data disk, a projects or
    documents folder holds mostly other files, and every picture in it (icons, textures, screenshots) would join.
    The look may take up to LOOK_SECONDS: call it off the UI thread. `importing`: for `import -r` (NEWUSER7 #32),
    which copies what it finds, and skips a library's folder in it without a word needed."""
    try:
        home: Path | None = Path.home().resolve()
    except (RuntimeError, KeyError, OSError):  # no home folder to be found (no HOME, no passwd entry)
        home = None
    root = library.root.resolve()
    join = "would be copied into your library" if importing else "would join your library"
    everything = f"every image in it and in all its folders {join}"
    if path == Path(path.anchor):
        return f"{path} is the root of the filesystem: every image on this computer you may read {join}."
    if home is not None and path == home:
        return f"{path} is your home folder: {everything}."
    if home is not None and path in home.parents:
        return f"{path} holds your home folder ({home}): {everything}."
    if path in root.parents and not importing:
        return f"{path} holds the library folder {root} (its files are skipped): {everything}."
    if os.path.ismount(path):
        return f"{path} is the top of a mounted disk: {everything}."
    look = look_at(path)
    if look.mount:
        return f"{path} holds another mounted disk ({look.mount}): {everything}."
    if look.others >= WIDE_OTHERS and look.others > 2 * look.images:
        seen = f"{look.others:,} files that are not images and {plural(look.images, 'image')}"
        return (f"{path} looks like far more than a generator's output folder: a quick look found {seen}"
                f"{'' if look.finished else ' before it stopped'}: {everything}.")
    return ""


@dataclass
class Look:
    """What `look_at` saw of a folder."""

    images: int = 0  # files an image by name (as the scan takes them)
    others: int = 0  # other files
    mount: str = ""  # a folder in it on another file system (a mounted disk), the first one seen
    finished: bool = True  # the whole folder was seen (not stopped by the bounds)


def look_at(root: Path, entries: int | None = None, seconds: float | None = None) -> Look:
    """A bounded look at a folder, as the scan would walk it (hidden names left out, links not followed):
    how many image files and other files, and whether a mounted disk is under it. It stops at `entries`
    entries or after `seconds` (LOOK_ENTRIES, LOOK_SECONDS), and as soon as the folder is plainly wide."""
    limit = LOOK_ENTRIES if entries is None else entries
    deadline = time.monotonic() + (LOOK_SECONDS if seconds is None else seconds)
    look = Look()
    try:
        device = root.stat().st_dev
    except OSError:
        return look
    stack, count = [str(root)], 0

    def enough() -> bool:
        return look.others >= WIDE_OTHERS and look.others > 2 * look.images or count >= limit \
            or time.monotonic() > deadline

    while stack:
        try:
            with os.scandir(stack.pop()) as listing:
                for entry in listing:
                    count += 1
                    if count % 1024 == 0 and enough():
                        look.finished = False
                        return look
                    if entry.name.startswith("."):
                        continue
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            if entry.stat(follow_symlinks=False).st_dev != device:
                                look.mount = entry.path
                                return look
                            stack.append(entry.path)
                        elif _is_image_name(entry.name):
                            look.images += 1
                        else:
                            look.others += 1
                    except OSError:
                        continue
        except OSError:
            continue  # an unreadable sub-folder: the scan leaves it too
        if stack and enough():
            look.finished = False
            return look
    return look


def _own_sources(library: Library):
    return Source.select().where(Source.owner == library.account.id).order_by(Source.path)


def _inner_sources(library: Library, folder: Path) -> list[Source]:
    """The account's sources inside `folder` (not it): those following it takes in."""
    return [row for row in _own_sources(library) if folder in Path(row.path).parents]


def _deepest(roots: Iterable[tuple[Path, Any]], path: Path) -> Any:
    """Of (folder, value) pairs, the value of the innermost folder holding `path` (None when none does): while a
    source is being added that takes in the ones inside it, a file there is still theirs."""
    best: tuple[int, Any] | None = None
    for root, value in roots:
        if (path == root or root in path.parents) and (best is None or len(root.parts) > best[0]):
            best = (len(root.parts), value)
    return None if best is None else best[1]


def taken_in(library: Library, folder: Path) -> list[Path]:
    """The account's sources that following `folder` takes in (check_new_source accepted it)."""
    return [Path(row.path) for row in _inner_sources(library, folder)]


def source_holding(library: Library, folder: Path) -> Path | None:
    """The account's source folder that `folder` is (or is inside of), None when none: files written there
    (an export) would be taken in as new images, unless it is the downloads folder, which scans skip."""
    try:
        folder = folder.expanduser().resolve()
    except (OSError, RuntimeError):
        return None
    downloads = downloads_folder(library)
    if downloads is not None and (folder == downloads or downloads in folder.parents):
        return None
    for row in _own_sources(library):
        root = Path(row.path)
        if folder == root or root in folder.parents:
            return root
    return None


def find_source(library: Library, folder: Path | str) -> Source:
    wanted = Path(folder).expanduser()
    candidates = {str(wanted.absolute())}
    try:
        candidates.add(str(wanted.resolve()))
    except (OSError, RuntimeError):
        pass
    row = Source.get_or_none((Source.owner == library.account.id) & Source.path.in_(list(candidates)))
    if row is None:
        raise NotFound(f"{folder} is not one of your sources (see `myimages source list`).")
    return row


def check_new_source(library: Library, folder: Path | str, mode: str | None = None) -> Path:
    """The folder `add_source` would follow (resolved), or StoreError with the one sentence why not
    (AlreadyFollowed: a source of the account holds it, nothing to do). A folder holding sources of the account
    takes them in (`_take_in`), unless they are followed in another `mode` (None: not checked), not there now,
    or the top of a mounted disk. Quick (a few stats and one small query): a dialog checks with it before the
    scan starts."""
    library.require_writable()
    path = _check_folder(library, folder)
    for other in _own_sources(library):
        there = Path(other.path)
        if there == path:  # nothing to do, as for a folder inside it (`source add` exits 0 for both: NEWUSER12 F10)
            raise AlreadyFollowed(f"{path} is already one of your sources: its images are in your library and new "
                                  "ones come in as they are written; nothing changed.")
        if there in path.parents:
            raise AlreadyFollowed(f"{path} is inside {there}, which you follow already: its images are in your "
                                  "library and new ones come in as they are written; nothing changed.")
        if path in there.parents:
            _check_take_in(other, path, mode)
    return path


def _typed(path: Path) -> str:
    """A path as typed in a shell command: quoted when it must be; a name not UTF-8 in the $'…' form."""
    text = shell_path(str(path))
    return text if text != str(path) else shlex.quote(text)


def _check_take_in(inner: Source, path: Path, mode: str | None) -> None:
    """Whether following `path` may take in the source `inner` inside it; StoreError with what to do if not."""
    there = Path(inner.path)
    if mode is not None and mode != inner.mode:
        if inner.mode == COPY:
            raise StoreError(f"{path} holds {there}, whose images you follow by copying them into the library: add "
                             f"{path} copying too (--copy, or the Copy box) to take it in, or remove {there} first "
                             "(its copied images stay).")
        raise StoreError(f"{path} holds {there}, whose images you follow where they are (linked): add {path} linked "
                         "too (without --copy, or the Copy box) to take it in with its favorites and collections.")
    if inner.mounted:
        raise StoreError(f"{path} holds {there}, the top of a disk you follow on its own so that its images stay "
                         f"while it is not mounted: keep it so, and add the other folders of {path} one by one.")
    if not_there(inner.path, inner.mounted):  # renamed or moved (NEWUSER8 #15: the way out was not said)
        raise StoreError(f"{path} holds {there}, which you follow but which is not there now. Renamed or moved it? "
                         f"Stop following it (myimages source remove {_typed(there)} --yes, or "
                         f"Remove in the sources dialog, w), then add {path}: its images found in it come back with "
                         "their favorites and collections. Its disk not mounted? Add it once it is back.")


def add_source(library: Library, folder: Path | str, mode: str = LINK, progress: Progress | None = None,
               cancel: Callable[[], bool] | None = None, forget_if_cancelled: bool = False,
               forgetting: Callable[[], None] | None = None) -> ScanReport:
    """Follow a folder and scan it. `forget_if_cancelled`: a cancelled add follows nothing (what it read leaves
    the library again, copies excepted), decided while no other scan of the folder can run; `forgetting()` is
    called as that begins (a child process tells its parent, which then lets it finish)."""
    if mode not in MODES:
        raise StoreError(f"A source's mode is {' or '.join(MODES)}.")
    path = check_new_source(library, folder, mode)
    with library.db.atomic():
        row = Source.create(owner=library.account.id, path=str(path), mode=mode, added_at=utc_now(),
                            mounted=os.path.ismount(path))
    with _scanning(library, row):
        # the sources inside it are not read by this scan (their files are theirs until it takes them in, after)
        scan = _scan_source(library, row, None, progress, cancel)
        if forget_if_cancelled and cancel is not None and cancel():  # asked, even if it read all in time
            if forgetting is not None:
                forgetting()
            _remove(library, row)  # within the same hold: no other scan of it slips in before it is gone
            return scan.report
        if not scan.report.cancelled and not scan.report.problem:
            _take_in(library, row, scan, cancel)
    return _settle(library, [scan])[0]


def _take_in(library: Library, row: Source, scan: _Scan, cancel: Callable[[], bool] | None = None) -> None:
    """The account's sources inside `row`'s folder become part of it (after a whole scan of it, which left their
    folders to them): in one transaction their file records move to it, their paths made relative to its folder,
    and they go. Their images are not read again: they keep their ids, favorites, collections, dates and history
    (the trash finds their files by their whole paths). Then what changed in those folders since they were read
    last is read (as the watcher's look at a folder does)."""
    inner = [other for other in _inner_sources(library, Path(row.path))]
    if not inner:
        return
    root = Path(row.path)
    with ExitStack() as holds:
        for other in inner:  # a scan of one running now (the watcher's, another program's) ends first
            holds.enter_context(_scanning(library, other))
        inner = [other for other in inner if Source.select().where(Source.id == other.id).exists()]
        taken: list[tuple[str, int]] = []
        with library.db.atomic():
            for other in inner:
                images = (SourceFile.select(fn.COUNT(fn.DISTINCT(SourceFile.image)))
                          .where(SourceFile.source == other.id, SourceFile.image.is_null(False)).scalar()) or 0
                _rebase(row, other, Path(other.path).relative_to(root).as_posix() + "/")
                taken.append((other.path, images))
    scan.report.taken_in += taken
    if taken:
        more = _scan_source(library, row, [Path(folder) for folder, _images in taken], None, cancel)
        scan.absorb(more)


def _rebase(row: Source, other: Source, prefix: str) -> None:
    """`other`'s file records made `row`'s (`prefix` before their paths), and `other` gone (in a transaction)."""
    moved = SourceFile.select(Value(prefix).concat(SourceFile.relpath)).where(SourceFile.source == other.id)
    # a file of it the outer source recorded too (a look at a few paths while both were followed): one record
    SourceFile.delete().where(SourceFile.source == row.id, SourceFile.relpath.in_(moved)).execute()
    SourceFile.update(source=row.id, relpath=Value(prefix).concat(SourceFile.relpath)).where(
        SourceFile.source == other.id).execute()
    Source.delete().where(Source.id == other.id).execute()


LOOK_FOR_FILES = 20  # recorded files looked for in a mount point with no disk mounted (`_holds_its_files`)


def _holds_its_files(row: Source, root: Path) -> bool:
    """Some of the files the source has records of are in the folder (a few looked for): the empty mount point an
    unmounted disk leaves holds none of them (a program writing into it meanwhile makes new files, not these)."""
    relpaths = (SourceFile.select(SourceFile.relpath).where(SourceFile.source == row.id, SourceFile.error == "")
                .order_by(SourceFile.id).limit(LOOK_FOR_FILES).tuples())
    return any(os.path.isfile(root / relpath) for (relpath,) in relpaths)


def not_there(path: Path | str, mounted: bool) -> bool:
    """The source folder is not there: gone (moved, deleted, on a disk not mounted), or it is the top of a
    mounted disk (`Source.mounted`: an external disk, a share) and none is mounted there now. The empty folder
    an unmounted disk leaves is not read as a folder whose files were all deleted: its images are kept, as for
    a folder that is gone."""
    return not os.path.isdir(path) or (mounted and not os.path.ismount(path))


def list_sources(library: Library) -> list[SourceRecord]:
    out = []
    watched = is_watched(library)
    for row in _own_sources(library):
        files = SourceFile.select().where(SourceFile.source == row.id)
        images = (files.select(fn.COUNT(fn.DISTINCT(SourceFile.image)))
                  .where(SourceFile.source == row.id, SourceFile.image.is_null(False)).scalar())
        bad = [(f.relpath, f.error) for f in files.where(SourceFile.error != "").order_by(SourceFile.relpath)]
        out.append(SourceRecord(row.id, Path(row.path), row.mode, images or 0, files.count(), bad,
                                to_local(row.scanned_at) if row.scanned_at else None, watched,
                                # a mount point holding its files with no disk mounted: a plain folder now (the next
                                # scan, which the watcher makes when it sees it there, clears the flag)
                                missing=not_there(row.path, row.mounted)
                                and not (os.path.isdir(row.path) and _holds_its_files(row, Path(row.path)))))
    return out


def remove_source(library: Library, folder: Path | str) -> int:
    """Stop following a folder and drop its linked images' records (files on disk are never touched). What each
    dropped image was (id, dates, favorite, collections) is kept as for a file that left its folder (`LostImage`):
    following a folder with the same pictures again (the folder renamed, or the same one to copy it) brings it
    back as it was."""
    library.require_writable()
    row = find_source(library, folder)
    with _scanning(library, row):  # a scan of it running now (the watcher's, another program's) ends first
        return _remove(library, row)


def forget_add(library: Library, folder: Path | str, taking_in: Iterable[Path | str] = ()) -> bool:
    """After an add was cancelled (or its process killed): the folder is not a source, unless it took in the
    sources `taking_in` (`taken_in`, asked before the add) already, in which case forgetting it would drop their
    images: it stays followed. Returns whether it is not a source now."""
    try:
        row = find_source(library, folder)
    except NotFound:
        return True  # cancelled before it was recorded, or forgotten by the add itself
    wanted = [str(path) for path in taking_in]
    if wanted and not (Source.select().where(Source.owner == library.account.id, Source.path.in_(wanted))
                       .exists()):
        return False  # they are part of it now (one transaction took them all in)
    with _scanning(library, row):
        if Source.select().where(Source.id == row.id).exists():
            _remove(library, row, keep_lost=False)  # the sources inside it (not taken in) keep their images
    return True


def _remove(library: Library, row: Source, keep_lost: bool = True) -> int:
    """Forget a source (its scanning lock held): its records, then its linked images no other source has (what
    they were kept in LostImage, unless `keep_lost` is off: an add cancelled, whose images were new)."""
    image_ids = {i for (i,) in SourceFile.select(SourceFile.image)
                 .where(SourceFile.source == row.id, SourceFile.image.is_null(False)).tuples()}
    with library.db.atomic():
        SourceFile.delete().where(SourceFile.source == row.id).execute()
        Source.delete().where(Source.id == row.id).execute()
    return len(_drop_unlinked(library, image_ids, keep_lost=keep_lost))


def scan_all(library: Library, progress: Progress | None = None,
             cancel: Callable[[], bool] | None = None) -> list[ScanReport]:
    """Every source of the account scanned whole (`source scan`, the app's rescan at start); then what it kept of
    pictures gone from their folders for longer than the trash keeps a deleted image is forgotten (`expire_lost`)."""
    reports = scan_many(library, [(row, None) for row in _own_sources(library)], progress=progress, cancel=cancel)
    if not (cancel and cancel()):
        expire_lost(library)
    return reports


def expire_lost(library: Library, days: int | None = None) -> int:
    """Forget what was kept of this account's linked images whose file left its folder (`LostImage`: their id,
    favorite, collections, to be that image again should the picture come back) once they have been gone for more
    than `days` (default: the trash's days, MYIMAGES_TRASH_DAYS or trash_days, 30). A picture deleted outside the
    app is remembered as long as one deleted in it can be restored; without an end the rows grew with every file a
    generator wrote again or a user deleted, for good. Returns how many were forgotten."""
    from .trash import trash_days

    if library.read_only:
        return 0
    before = utc_now() - timedelta(days=trash_days() if days is None else days)
    return LostImage.delete().where(LostImage.owner == library.account.id, LostImage.lost_at < before).execute()


def scan_many(library: Library, todo: list[tuple[Source, list[Path] | None]], progress: Progress | None = None,
              cancel: Callable[[], bool] | None = None, wait: bool = True) -> list[ScanReport]:
    """Several sources scanned (each whole, or just some paths), then what went settled for all of them at
    once: a file moved from one source to another keeps its image, whichever folder is looked at first.

    One scan of a source at a time, across processes. With `wait` off, a source another scan holds is not
    waited for: its report is `busy` (the watcher looks again later instead of stopping for the others).
    A source removed meanwhile (by another program, or a cancelled add) is not read: its report is empty."""
    library.require_writable()
    scans = []
    for row, only in todo:
        # a few paths (a watcher's events) are read at once, even while a whole scan of their folder runs (the
        # app's rescan at start, in a child process): waiting for it held a new file back for seconds, and
        # reading a few files twice costs little (the second finds them known). More, or a whole folder:
        # waited for, or with `wait` off not read now (`busy`).
        few = only is not None and len(only) <= FEW_PATHS
        with _scanning(library, row, wait=wait and not few) as mine:
            if not mine and not few:
                scans.append(_Scan(ScanReport(Path(row.path), busy=True, waiting=list(only or []))))
            elif not Source.select().where(Source.id == row.id).exists():
                scans.append(_Scan(ScanReport(Path(row.path))))  # removed meanwhile: nothing to read
            else:
                try:
                    scan = _scan_source(library, row, only, progress, cancel)
                    if only is None and not scan.report.cancelled and not scan.report.problem:
                        _take_in(library, row, scan, cancel)  # an add that took in sources, stopped before it did
                    scans.append(scan)
                except IntegrityError:  # its records refused: gone while a few paths were read unlocked
                    if Source.select().where(Source.id == row.id).exists():
                        raise
                    scans.append(_Scan(ScanReport(Path(row.path))))
    return _settle(library, scans)


def scan_folder(library: Library, folder: Path | str, progress: Progress | None = None,
                cancel: Callable[[], bool] | None = None, wait: bool = True) -> ScanReport:
    return scan_many(library, [(find_source(library, folder), None)], progress=progress, cancel=cancel,
                     wait=wait)[0]


def source_of(library: Library, path: Path) -> Source | None:
    """The account's source a path lies in (the watcher's events), or None: the innermost, while a folder being
    added has not taken in the sources inside it yet."""
    return _deepest(((Path(row.path), row) for row in _own_sources(library)), path)


def scan_source(library: Library, row: Source, only: Iterable[Path] | None = None,
                progress: Progress | None = None, cancel: Callable[[], bool] | None = None) -> ScanReport:
    """Bring the records up to date with the folder: read what is new or changed, drop what is gone.

    With `only`, just those paths are looked at (the watcher's events); else the whole folder.
    One scan of a source at a time, across processes: a second one waits, then reads only
    what the first did not (the app's watcher notices a folder being added from its dialog,
    `myimages source scan` runs beside `myimages watch`). A look at a few paths (FEW_PATHS) does not wait.
    """
    return scan_many(library, [(row, None if only is None else list(only))], progress=progress, cancel=cancel)[0]


def _scanning(library: Library, row: Source, wait: bool = True) -> AbstractContextManager[bool]:
    """Held while a source is scanned or removed; yields False when `wait` is off and another holds it.
    No lock to be had (a read-only folder, or taken and not waited for): scanning is still safe, only
    wasteful."""
    return held(library.root / f".scanning-{row.id}.lock", wait)


@dataclass
class _Scan:
    """One source's scan, before what went is settled (`_settle`): the images concerned."""

    report: ScanReport
    found: set[int] = field(default_factory=set)  # images already in the library, found at a file read now
    gone: set[int] = field(default_factory=set)  # images of files gone from the folder
    lost: set[int] = field(default_factory=set)  # images whose file here now holds another picture
    replaced: dict[int, tuple[Path, int]] = field(default_factory=dict)  # of `lost`: (the file, the image it holds)

    def absorb(self, other: "_Scan") -> None:
        """Another scan of the same source (its folders taken in, read after it) counted in this one."""
        self.found |= other.found
        self.gone |= other.gone
        self.lost |= other.lost
        self.replaced.update(other.replaced)
        mine, theirs = self.report, other.report
        for name in ("back", "known", "removed", "moved", "kept", "in_trash", "unchanged", "updated"):
            setattr(mine, name, getattr(mine, name) + getattr(theirs, name))
        for name in ("added", "bad", "waiting", "notes"):
            getattr(mine, name).extend(getattr(theirs, name))
        mine.cancelled = mine.cancelled or theirs.cancelled


def _settle(library: Library, scans: list[_Scan]) -> list[ScanReport]:
    """Images left with no file leave the gallery (favorite and collections kept for their return); a file
    gone from one folder whose image was found elsewhere in these scans moved (counted where it arrived)."""
    dropped = set(_drop_unlinked(library, set().union(*(s.gone | s.lost for s in scans)), keep_lost=True))
    gone = set().union(*(s.gone for s in scans))
    in_trash = _trashed_among(list(gone))  # a linked image trashed: its file went with it (into the trash)
    moved = set().union(*(s.found for s in scans)) & gone - dropped
    said: set[int] = set()
    for scan in scans:
        report = scan.report
        arrived = scan.found & moved
        report.moved = len(arrived)
        report.known = max(0, report.known - len(arrived))
        removed = (scan.gone | scan.lost) & dropped - said
        said |= removed
        report.removed += len(removed)
        report.kept = len(scan.gone - dropped - moved - in_trash)
        report.replaced = [(path, old, new) for old, (path, new) in sorted(scan.replaced.items()) if old in dropped]
    return [scan.report for scan in scans]


def _scan_source(library: Library, row: Source, only: Iterable[Path] | None, progress: Progress | None,
                 cancel: Callable[[], bool] | None) -> _Scan:
    root = Path(row.path)
    report = ScanReport(root)
    scan = _Scan(report)
    if only is not None:
        only = [Path(p) for p in only]
        if any(p == root for p in only):
            only = None  # the folder itself changed (made again, moved back): look at all of it
    is_cancelled = cancel or (lambda: False)
    if row.mounted and os.path.isdir(root) and not os.path.ismount(root):
        if not _holds_its_files(row, root):
            report.problem = (f"No disk is mounted on the source folder {root} now (an external disk or a share "
                              "was): nothing changed for it; it is read again once the disk is back.")
            return scan
        # no disk is mounted there, yet the folder holds the source's own files (the disk's files copied to it, a
        # share made a plain folder): it is an ordinary folder now, read as one (and said gone when it goes)
        Source.update(mounted=False).where(Source.id == row.id).execute()
    unreadable: dict[str, str] = {}  # folders under it that cannot be read: their files are not gone
    try:
        seen, gone = walk(root, only, skip=_skipped_folders(library, row), unreadable=unreadable)
    except OSError as exc:  # gone or unmounted: nothing is dropped for it, it is said
        report.problem = f"Cannot read the source folder {root}: {exc.strerror or exc}; nothing changed for it."
        return scan
    if not row.mounted and os.path.ismount(root):  # a disk mounted on it since it was added
        Source.update(mounted=True).where(Source.id == row.id).execute()
    query = (SourceFile.select(SourceFile.id, SourceFile.relpath, SourceFile.size, SourceFile.mtime_ns,
                               SourceFile.image.alias("image_id"), SourceFile.error)
             .where(SourceFile.source == row.id).namedtuples())  # light rows: a rescan reads them all
    if only is None:
        known = {f.relpath: f for f in query.iterator()}
    else:
        known = {}
        for part in chunked(list(seen) + list(gone), 500):
            known.update((f.relpath, f) for f in query.where(SourceFile.relpath.in_(part)))
        for folder in {p.relative_to(root).as_posix() for p in only if p != root and not _is_file(p)}:
            # a folder moved or deleted: the files recorded under it ("/" sorts just before "0")
            known.update((f.relpath, f) for f in query.where(SourceFile.relpath >= folder + "/",
                                                             SourceFile.relpath < folder + "0"))
    changed = [s for rel, s in seen.items()
               if rel not in known or (known[rel].size, known[rel].mtime_ns) != (s.size, s.mtime_ns)]
    report.unchanged = len(seen) - len(changed)
    held = {Path(folder).relative_to(root).as_posix(): reason for folder, reason in unreadable.items()
            if Path(folder) != root and root in Path(folder).parents}

    def under(rel: str, folder: str) -> bool:
        return rel == folder or rel.startswith(folder + "/")

    removed = [f for rel, f in known.items() if rel not in seen and not any(under(rel, folder) for folder in held)]
    report.unreadable = [(root / folder, reason, sum(1 for rel, f in known.items()
                                                      if under(rel, folder) and f.image_id is not None))
                         for folder, reason in sorted(held.items())]
    total = len(changed)
    done = read = 0
    if progress and total:  # the count from the start: the first batch read took seconds to show any
        progress(0, total)

    def batch_read(count: int) -> None:
        nonlocal read
        read += count
        if progress:
            progress(read, total)

    # an open catalog takes the batches in together, not after each (own_writes.py)
    large = total >= READ_APART_FROM
    with quietly(library.db), bulk_writing(library.db) if large else nullcontext():
        for results in _together(_read_files(root, changed, row.mode),
                                 RECORD_AT_ONCE if large and row.mode == LINK else 1, is_cancelled, batch_read):
            _record_batch(library, row, results, known, scan)
            done += len(results)
            if is_cancelled():
                report.cancelled = done < total
                break
    if not report.cancelled and removed:
        scan.gone = _forget_files(library, removed)
    if only is None and not report.cancelled:
        with library.db.atomic():
            Source.update(scanned_at=utc_now()).where(Source.id == row.id).execute()
    return scan


def _together(batches: Iterator[list[Indexed]], count: int, is_cancelled: Callable[[], bool],
              batch_read: Callable[[int], None]) -> Iterator[list[Indexed]]:
    """The batches read, `count` at a time (fewer once cancelled): recorded in one transaction, each page of the
    indexes they change is written once for all (100,000 linked files: 25.5 s of processor where one batch at a
    time took 31.9). `batch_read(files)` as each batch comes (the progress shown)."""
    together: list[Indexed] = []
    try:
        for n, batch in enumerate(batches, 1):
            together += batch
            batch_read(len(batch))
            if n % count == 0 or is_cancelled():
                yield together
                together = []
        if together:
            yield together
    finally:
        close = getattr(batches, "close", None)
        if close is not None:
            close()  # a cancel: the reader processes stop now


def _read_files(root: Path, files: list[Seen], mode: str) -> Iterator[list[Indexed]]:
    """The files read, a batch at a time (the bytes of files to copy are held per batch only).

    Many are read by reader processes while this one records (store/read_child.py); a few
    here, by two threads."""
    parts = list(chunked(files, BATCH))
    if len(files) >= READ_APART_FROM:
        from .read_child import read_apart

        yield from read_apart(root, parts, mode)
        return
    with ThreadPoolExecutor(max_workers=min(2, os.cpu_count() or 1), thread_name_prefix="index") as pool:
        for part in parts:
            yield list(pool.map(index_file, [root / f.relpath for f in part], part, [mode] * len(part)))


def read_batch(root: str, files: list[Seen], mode: str) -> list[Indexed]:
    """One batch of files read (by a reader process)."""
    folder = Path(root)
    return [index_file(folder / f.relpath, f, mode) for f in files]


def _record_batch(library: Library, row: Source, results: list[Indexed], known: dict[str, SourceFile],
                  scan: _Scan) -> None:
    """Store one batch of read files; images found again and those that lost a file here (its content
    changed) are noted in `scan`.

    Linked images commit with the file records that make them the source's: a scan killed half-way (a
    cancelled add's child) never leaves an image no source holds, which removing the source could not find.
    Copies are the library's own either way; their files are written outside the database's write lock."""
    # before the write transaction (SQLite's holds the write lock from its start): a file rewritten at its own place
    # is decoded to tell whether it holds another picture, which a tagger's pass over thousands of files would hold it
    # for seconds
    other = _other_pictures(library, [(r, r.image) for r in results if r.image is not None], known)
    with library.db.atomic() if row.mode == LINK else nullcontext():
        _record(library, row, results, known, scan, other)


def _record(library: Library, row: Source, results: list[Indexed], known: dict[str, SourceFile],
            scan: _Scan, other: set[int]) -> None:
    report = scan.report
    ready = [(r, r.image) for r in results if r.image is not None]
    report.waiting.extend(r.path for r in results if r.incomplete)
    ids: list[tuple[int, bool]] = []
    in_place = _changed_in_place(library, ready, known, other)
    if in_place:
        _update_in_place(library, in_place)
        report.updated += len(in_place)
        ready = [pair for pair in ready if pair[0].image_id is None]
    if ready:
        failed: list[tuple[int, str]] = []
        # a picture the user put in the trash stays there: a file of it appearing in a folder is no "undo"
        _bring_back(library, [image for _, image in ready])  # a picture that left and came back: as it was
        ids = library.add_images([image for _, image in ready], failed=failed, restore_trashed=False)
        refused = dict(failed)
        for i, reason in failed:
            ready[i][0].error, ready[i][0].image = reason, None
        stored = [pair for i, pair in enumerate(ready) if i not in refused]
        new_hashes, linked_again = [], []  # linked files found again: perhaps moved
        trashed = _trashed_among([image_id for image_id, created in ids if not created])
        places = _locations([image_id for image_id, created in ids if not created])
        for (result, image), (image_id, created) in zip(stored, ids):
            result.image_id = image_id
            if created:
                report.added.append(image_id)
                report.back += image.keep_id == image_id
                new_hashes.append(image.sha256)
                note = (image.params or {}).get("_note")
                if note:
                    report.notes.append((Path(shown_path(result.where)), str(note)))
            elif image_id in trashed:
                report.in_trash += 1
            else:
                if places.get(image_id) == result.where:
                    # the image's own file at its own place: put back from the trash (restore moves it, then
                    # records it; a scan in between read it), not a copy of an image "already in the library"
                    report.unchanged += 1
                else:
                    report.known += 1
                scan.found.add(image_id)
                if image.location:
                    linked_again.append(result)
        _restore_lost(library, new_hashes)
        _relink_moved(library, linked_again)
    rows = []
    for result in results:
        if result.incomplete:
            continue
        previous = known.get(result.seen.relpath)
        if previous is not None and previous.image_id and previous.image_id != result.image_id:
            scan.lost.add(previous.image_id)
            if result.image_id:
                scan.replaced[previous.image_id] = (Path(shown_path(result.where)), result.image_id)
        if result.error and (previous is None or previous.error != result.error):
            report.bad.append((Path(shown_path(result.where)), result.error))  # a name not UTF-8: with U+FFFD
        rows.append({"source": row.id, "relpath": result.seen.relpath, "size": result.seen.size,
                     "mtime_ns": result.seen.mtime_ns, "sha256": result.image.sha256 if result.image else "",
                     "image": result.image_id, "error": result.error})
    with library.db.atomic():
        bulk_insert(library.db, SourceFile, rows, conflict=("source", "relpath"))


def _rewritten(ready: list[tuple[Indexed, NewImage]], known: dict[str, Any]) -> dict[int, tuple[Indexed, NewImage]]:
    """The linked files read again at a place where an image's file was: {that image: (the file, what it is now)}."""
    candidates = {}
    for result, image in ready:
        previous = known.get(result.seen.relpath)
        if image.location and previous is not None and previous.image_id:
            candidates[previous.image_id] = (result, image)
    return candidates


def _other_pictures(library: Library, ready: list[tuple[Indexed, NewImage]], known: dict[str, Any]) -> set[int]:
    """The images whose file, rewritten at its own place, now holds another picture (`_another_picture`)."""
    candidates = _rewritten(ready, known)
    if not candidates:
        return set()
    rows = Image.select(Image.id, Image.location, Image.sha256, Image.width, Image.height, Image.params,
                        Image.prompt).where(Image.id.in_(list(candidates)), Image.owner == library.account.id,
                                            Image.trashed_at.is_null())
    return {row.id for row in rows if row.location == candidates[row.id][0].where  # its own place
            and row.sha256 != candidates[row.id][1].sha256  # not the same bytes (a file touched)
            and _another_picture(library, row, row.location, candidates[row.id][1])}


def _changed_in_place(library: Library, ready: list[tuple[Indexed, NewImage]],
                      known: dict[str, Any], other: set[int]) -> list[tuple[Indexed, NewImage]]:
    """The linked files rewritten at their own place (same name, new content: a tagger adding a chunk, a lossless
    optimiser) whose image has no other file and whose new content is no image of the library yet: each is still
    its image (its id, favorite and collections), updated rather than made a new one while the old one is lost.

    Unless the file now holds another picture (a name a generator uses again: latest.png, a counter started over,
    `other`, from `_other_pictures`): that is a new image, and the one it held leaves the library as a deleted file's
    does (its favorite and collections kept for its return); the scan says so (`ScanReport.replaced`)."""
    candidates = _rewritten(ready, known)
    if not candidates:
        return []
    ids = list(candidates)
    own = {i for i, location in Image.select(Image.id, Image.location)
           .where(Image.id.in_(ids), Image.owner == library.account.id, Image.trashed_at.is_null()).tuples()
           if location == candidates[i][0].where}
    files: dict[int, int] = {}
    for (image_id,) in SourceFile.select(SourceFile.image).where(SourceFile.image.in_(ids)).tuples():
        files[image_id] = files.get(image_id, 0) + 1
    hashes = [image.sha256 for _result, image in candidates.values()]
    taken = set(library.ids_by_hash(hashes)) | {h for h in hashes if hashes.count(h) > 1}
    out = []
    for image_id, (result, image) in candidates.items():
        if image_id in own and files.get(image_id, 0) <= 1 and image.sha256 not in taken and image_id not in other:
            result.image_id = image_id
            out.append((result, image))
    return out


def _another_picture(library: Library, old: Any, where: str, image: NewImage) -> bool:
    """Whether a file rewritten at its own place holds another picture than its image's (`old`, its row).

    By their pixels when the library has the old picture's thumbnail (a tagger's or an optimiser's rewrite is the same
    picture; by the rules duplicates go by, `duplicates.same_picture`); else, the old pixels gone with its file, by
    what the generator recorded: another size or another seed is another picture (a tagger or a metadata editor
    changes neither); without a seed on both sides, another prompt."""
    from .duplicates import same_picture

    try:
        before = library.files.thumbnail_path(old.sha256).read_bytes()
    except OSError:
        before = None
    if before is not None:
        _thumbnail(library, image.sha256, where)  # made now, as the watcher would make it (the grid shows it)
        try:
            after = library.files.thumbnail_path(image.sha256).read_bytes()
        except OSError:
            after = None  # not readable as a picture: its metadata tells
        if after is not None:
            return not same_picture(before, after, (old.width, old.height), (image.width, image.height))
    if (old.width, old.height) != (image.width, image.height):
        return True
    try:
        params = json.loads(old.params or "{}")
    except ValueError:
        params = {}
    seeds = seed_number(params if isinstance(params, dict) else {}), seed_number(image.params or {})
    if None not in seeds:
        return seeds[0] != seeds[1]
    prompts = (old.prompt or "").strip(), (image.prompt or "").strip()
    return all(prompts) and prompts[0] != prompts[1]


def _update_in_place(library: Library, changed: list[tuple[Indexed, NewImage]]) -> None:
    """The images of files changed in place take their new content and metadata; their date, favorite, collections
    and what was given by hand stay (perceptual hashes, batch key and thumbnail are made again for the new content)."""
    with library.db.atomic():
        for result, image in changed:
            row = Image.get_by_id(result.image_id)
            try:
                old = json.loads(row.params or "{}")
            except ValueError:
                old = {}
            old = old if isinstance(old, dict) else {}
            given = old["_given"] if isinstance(old.get("_given"), list) else []
            params = dict(image.params or {})
            params.update({k: v for k, v in old.items()  # its date's origin; what the new content says of itself
                           if k.startswith("_") and k not in ("_format", "_note")})
            fields = {name: getattr(image, name) for name in ("prompt", "negative_prompt", "model", "text_accuracy")
                      if name not in given}
            Image.update(sha256=image.sha256, ext=image.ext, width=image.width, height=image.height,
                         file_size=image.file_size, params=json.dumps(params, ensure_ascii=False, default=str),
                         phash="", dhash="", batch=None, **fields).where(Image.id == result.image_id).execute()


def _locations(image_ids: list[int]) -> dict[int, str]:
    """The recorded file of each linked image among these (a copied one has none)."""
    out: dict[int, str] = {}
    for part in chunked(sorted(set(image_ids)), 500):
        out.update(Image.select(Image.id, Image.location).where(Image.id.in_(part), Image.location != "").tuples())
    return out


def _trashed_among(image_ids: list[int]) -> set[int]:
    out: set[int] = set()
    for part in chunked(sorted(set(image_ids)), 500):
        out.update(i for (i,) in Image.select(Image.id).where(Image.id.in_(part), Image.trashed_at.is_null(False))
                   .tuples())
    return out


def _relink_moved(library: Library, results: list[Indexed]) -> None:
    """An image whose recorded file is gone but that is found again elsewhere points to its new place."""
    by_id = {r.image_id: r for r in results}
    if not by_id:
        return
    rows = Image.select(Image.id, Image.location).where(Image.id.in_(list(by_id)), Image.location != "")
    with library.db.atomic():
        for image in rows:
            if not os.path.exists(image.location):
                Image.update(location=by_id[image.id].where).where(Image.id == image.id).execute()


def _lost_record(image: Any) -> str:
    """What a linked image dropped from the library (its file gone) was, besides its favorite and collections, for
    `_bring_back`: its id, dates, parent and derived images."""
    children = [i for (i,) in Image.select(Image.id).where(Image.parent == image.id).tuples()]
    return json.dumps({"id": image.id, "imported_at": image.imported_at.isoformat(),
                       "generated_at": image.generated_at.isoformat(), "parent": image.parent_id,
                       "derivation": image.derivation, "children": children})


def _read_record(entry: Any) -> dict:
    try:
        record = json.loads(entry.record or "{}")
    except ValueError:
        return {}
    return record if isinstance(record, dict) and isinstance(record.get("id"), int) else {}


def _bring_back(library: Library, images: list[NewImage]) -> None:
    """The pictures among these (about to be added) that were images of the library until their file left its
    folder (moved out, written again by its generator, deleted and put back): each is that image again, with
    its id, import and generation dates, parent and derivation (its favorite, collections and derived images
    come back with `_restore_lost`). Unless that id is in use (another account's rows never reuse one: never)."""
    wanted = [image.sha256 for image in images]  # a linked file, or a copying source's (the folder copied now)
    if not wanted or not LostImage.select().where(LostImage.owner == library.account.id).exists():
        return
    records: dict[str, dict] = {}
    for part in chunked(sorted(set(wanted)), 500):
        for entry in LostImage.select().where(LostImage.owner == library.account.id, LostImage.sha256.in_(part),
                                              LostImage.record != ""):
            record = _read_record(entry)
            if record:
                records[entry.sha256] = record
    if not records:
        return
    ids = [record["id"] for record in records.values()]
    taken = {i for (i,) in Image.select(Image.id).where(Image.id.in_(ids)).tuples()}
    parents = [record["parent"] for record in records.values() if isinstance(record.get("parent"), int)]
    own = {i for (i,) in Image.select(Image.id).where(Image.id.in_(parents), Image.owner == library.account.id)
           .tuples()} if parents else set()
    for image in images:
        was = records.get(image.sha256)
        if was is None or was["id"] in taken:
            continue
        taken.add(was["id"])  # the same picture twice in a batch: the first is it
        image.keep_id = was["id"]
        image.imported_at = _when(was.get("imported_at"))
        image.generated_at = _when(was.get("generated_at")) or image.generated_at
        if was.get("parent") in own:
            image.parent_id, image.derivation = was["parent"], str(was.get("derivation") or "")


def _when(text: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(text) if isinstance(text, str) else None
    except ValueError:
        return None


def _restore_lost(library: Library, hashes: list[str]) -> None:
    """Favorites, collections and derived images of images whose content comes back into a source."""
    if not hashes or not LostImage.select().where(LostImage.owner == library.account.id).exists():
        return
    lost = list(LostImage.select().where(LostImage.owner == library.account.id, LostImage.sha256.in_(hashes)))
    if not lost:
        return
    own_collections = {c for (c,) in Collection.select(Collection.id)
                       .where(Collection.owner == library.account.id).tuples()}
    ids = library.ids_by_hash([entry.sha256 for entry in lost])
    with library.db.atomic():
        for entry in lost:
            image_id = ids.get(entry.sha256)
            if image_id is None:
                continue
            if entry.favorite:
                Image.update(favorite=True).where(Image.id == image_id).execute()
            try:
                collections = [int(c) for c in json.loads(entry.collections)]
            except (ValueError, TypeError):
                collections = []
            links = [{"image": image_id, "collection": c} for c in collections if c in own_collections]
            if links:
                ImageCollection.insert_many(links).on_conflict_ignore().execute()
            children = [c for c in _read_record(entry).get("children", []) if isinstance(c, int)]
            if children and _read_record(entry)["id"] == image_id:  # it came back as itself: its derived images too
                Image.update(parent=image_id).where(Image.id.in_(children), Image.parent.is_null(),
                                                    Image.owner == library.account.id).execute()
            LostImage.delete().where(LostImage.owner == entry.owner, LostImage.sha256 == entry.sha256).execute()


def _forget_files(library: Library, removed: list) -> set[int]:
    """Files gone from the folder: their rows go; returns the images they were."""
    images = {f.image_id for f in removed if f.image_id}
    with library.db.atomic():
        for part in chunked([f.id for f in removed], 500):
            SourceFile.delete().where(SourceFile.id.in_(part)).execute()
    return images


def _drop_unlinked(library: Library, image_ids: set[int], keep_lost: bool) -> list[int]:
    """Linked images left with no file in any source leave the gallery (their favorite and
    collections kept in LostImage when `keep_lost`); a moved one points to a file it still has.
    Returns the images dropped."""
    if not image_ids:
        return []
    dropped: list[int] = []
    for part in chunked(sorted(image_ids), 500):
        rows = list(Image.select(Image.id, Image.sha256, Image.ext, Image.location, Image.favorite,
                                 Image.imported_at, Image.generated_at, Image.parent, Image.derivation)
                    .where(Image.id.in_(part), Image.owner == library.account.id,
                           Image.trashed_at.is_null()))  # a trashed one's file is in the trash folder (trash.py)
        remaining: dict[int, str] = {}
        for image_id, relpath, folder in (SourceFile.select(SourceFile.image, SourceFile.relpath, Source.path)
                                          .join(Source).where(SourceFile.image.in_(part)).tuples()):
            remaining.setdefault(image_id, str(Path(folder) / relpath))
        with library.db.atomic():
            for image in rows:
                if image.id in remaining:
                    if image.location and image.location != remaining[image.id] \
                            and not os.path.exists(image.location):
                        Image.update(location=remaining[image.id]).where(Image.id == image.id).execute()
                    continue
                if not image.location:
                    continue  # the library has its own copy (copy mode, or imported too)
                if own_copies(library, [(image.id, image.sha256, image.ext)]):
                    continue  # pointed at a file by an older version, but the library's own copy is there
                if keep_lost:
                    collections = [c for (c,) in ImageCollection.select(ImageCollection.collection)
                                   .where(ImageCollection.image == image.id).tuples()]
                    # kept for every image (not only favorites and those in collections): should the same picture
                    # come back into a source, it is this image again (_bring_back), with its id
                    kept = {"favorite": image.favorite, "collections": json.dumps(collections), "lost_at": utc_now(),
                            "record": _lost_record(image)}
                    LostImage.insert(owner=library.account.id, sha256=image.sha256, **kept).on_conflict(
                        conflict_target=[LostImage.owner, LostImage.sha256],
                        update={getattr(LostImage, k): v for k, v in kept.items()}).execute()
                dropped.append(image.id)
    if dropped:
        library.forget(dropped)
    return dropped


def own_copies(library: Library, rows: Iterable[tuple[int, str, str]]) -> set[int]:
    """Of these linked images (id, sha256, ext), those whose picture the library holds a copy of in originals/:
    they are the library's own again (location ""), and no file in a source is theirs to move or delete.

    Versions before this one took a file of the same picture in a watched folder for an imported image's
    own file (trashing moved it, restoring pointed the image at it): such a record points into a source
    while its imported copy is still there. Never losing that copy comes before following the file."""
    adopted = {image_id for image_id, sha256, ext in rows if library.files.original_path(sha256, ext).is_file()}
    with library.db.atomic():
        for part in chunked(sorted(adopted), 500):
            Image.update(location="").where(Image.id.in_(part)).execute()
    return adopted


def linked_only(library: Library, image_ids: Iterable[int]) -> list[int]:
    """The linked images among these: those whose picture is a file in a source and nowhere else. An imported
    image (the library's own copy) is not one, even when the same picture is also a file in a watched folder."""
    out: list[int] = []
    for part in chunked(sorted(set(image_ids)), 500):
        rows = list(Image.select(Image.id, Image.sha256, Image.ext)
                    .where(Image.id.in_(part), Image.location != "").tuples())
        adopted = own_copies(library, rows)
        out += [image_id for image_id, _sha, _ext in rows if image_id not in adopted]
    return out


def twin_files(library: Library, image_ids: Iterable[int]) -> list[int]:
    """Files in link-mode sources that are the same picture as these imported or trashed images (SourceFile
    ids): the user's files, which go on being there when the image is erased (see `leave_twins`). A trashed
    linked image's own file is in the library's trash folder; a file of it in a folder came there since."""
    out: list[int] = []
    for part in chunked(sorted(set(image_ids)), 500):
        out += [i for (i,) in SourceFile.select(SourceFile.id).join(Source).switch(SourceFile).join(Image)
                .where(SourceFile.image.in_(part), (Image.location == "") | Image.trashed_at.is_null(False),
                       Source.mode == LINK).tuples()]
    return out


def others_folders(library: Library) -> list[Path]:
    """The folders other accounts follow (any mode). A file in one of them is also theirs: its image in their
    library (or their copy's source) leaves with it, so this account never moves it into the trash or deletes it
    (new-user test 10: bob's `delete --permanent` of his image of a file both followed deleted the file, and
    alice's image of it left her library; never delete what you cannot prove is yours)."""
    return [Path(path) for (path,) in Source.select(Source.path).where(Source.owner != library.account.id).tuples()]


def shared_note(library: Library, folder: Path) -> str:
    """One sentence when another account follows this folder, a folder holding it or one inside it: what that means
    for this account's deletes (`linked_paths`' shared files: since 05d304e they leave such files in place); '' when none does.
    `source add` said nothing of it, and the deletes then surprised (new-user test 10, note)."""
    folder = Path(folder)
    overlapping: dict[str, list[Path]] = {}
    for name, path in (Source.select(Account.name, Source.path).join(Account)
                       .where(Source.owner != library.account.id).order_by(Account.name, Source.path).tuples()):
        path = Path(path)
        if path == folder or path in folder.parents or folder in path.parents:
            overlapping.setdefault(name, []).append(path)
    if not overlapping:
        return ""
    names = list(overlapping)
    who = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    paths = sorted({p for ps in overlapping.values() for p in ps})
    places = ["this folder" if p == folder else f"{shown_path(str(p))}, {'which holds it' if p in folder.parents else 'inside it'}"
              for p in paths[:3]]
    where = ("; ".join(places) if len(places) > 1 and any("," in p for p in places) else ", ".join(places)) + (
        ", …" if len(paths) > 3 else "")
    return (f"{'Account' if len(names) == 1 else 'Accounts'} {who} follow{'s' if len(names) == 1 else ''} {where}: "
            "the files there are theirs as well, so deleting your images of them (to the trash or for good) leaves "
            "those files where they are, and their images keep them.")


def in_others_folder(path: Path, theirs: list[Path]) -> bool:
    return any(path == folder or folder in path.parents for folder in theirs)


def leave_twins(library: Library, files: list[int], reason: str | None = None) -> None:
    """Files whose image (an imported one) was erased: they stay in their folder, untouched, and are said once
    in `source list`; one that changes later is read again like any new file. `reason`: what `source list`
    says (TWIN_LEFT unless given)."""
    with library.db.atomic():
        for part in chunked(files, 500):
            SourceFile.update(image=None, error=reason or TWIN_LEFT).where(SourceFile.id.in_(part)).execute()


TWIN_LEFT = ("the same picture was deleted from the library for good (its copy in the library, or the file "
             "in the library's trash, was erased); this file was left here")
SHARED_LEFT = ("its image was deleted from the library for good; this file was left here, as another account "
               "follows its folder too")


def linked_paths(library: Library, image_ids: Iterable[int],
                 shared: list[int] | None = None) -> dict[int, list[tuple[Path, int, int]]]:
    """For linked images: every file in a link-mode source that is this image, with the size and
    modification time it had when read (proof that the file there now is the same). An imported image has
    none (linked_only). A file in a folder another account follows too is not this account's to move or delete
    (`others_folders`): it is left out, and its SourceFile id added to `shared` when given (an erase leaves it in
    place, `leave_twins`), from the same one look at the files."""
    out: dict[int, list[tuple[Path, int, int]]] = {}
    ids = linked_only(library, image_ids)
    theirs = others_folders(library) if ids else []
    for part in chunked(ids, 500):
        query = (SourceFile.select(SourceFile.id, SourceFile.image, SourceFile.relpath, SourceFile.size,
                                   SourceFile.mtime_ns, Source.path)
                 .join(Source).where(SourceFile.image.in_(part), Source.mode == LINK).tuples())
        for file_id, image_id, relpath, size, mtime_ns, folder in query:
            path = Path(folder) / relpath
            if not in_others_folder(path, theirs):
                out.setdefault(image_id, []).append((path, size, mtime_ns))
            elif shared is not None:
                shared.append(file_id)
    return out


def other_files(library: Library, record: Any) -> list[Path]:
    """An image's files in link-mode sources besides its own (`record.path`): the same picture in other places, one
    image (`info` lists them: "Also at"); an imported image's are the files of its picture in the watched folders."""
    query = (SourceFile.select(SourceFile.relpath, Source.path).join(Source)
             .where(SourceFile.image == record.id, Source.mode == LINK).tuples())
    paths = sorted({Path(folder) / relpath for relpath, folder in query})
    return [path for path in paths if path != record.path]


def missing_linked(library: Library) -> list[int]:
    """The account's linked images whose file is not where the record says (for doctor)."""
    query = (Image.select(Image.id, Image.location)
             .where(Image.owner == library.account.id, Image.location != "").order_by(Image.id).tuples())
    return [image_id for image_id, location in query.iterator() if not os.path.exists(location)]


def make_thumbnails(library: Library, cancel: Callable[[], bool] | None = None, limit: int | None = None) -> int:
    """Give linked images without one a thumbnail in the library, newest first; returns how many were made."""
    is_cancelled = cancel or (lambda: False)
    made = 0
    query = (Image.select(Image.sha256, Image.location)
             .where(Image.owner == library.account.id, Image.location != "")
             .order_by(Image.generated_at.desc(), Image.id.desc()).tuples())
    for sha256, location in query.iterator():
        if is_cancelled() or (limit is not None and made >= limit):
            break
        made += _thumbnail(library, sha256, location)
    return made


def _thumbnail(library: Library, sha256: str, location: str) -> bool:
    """A linked image's thumbnail made in the library unless it has one; whether one was made."""
    from .files import make_thumbnail

    thumb = library.files.thumbnail_path(sha256)
    if thumb.exists():
        return False
    try:
        with PILImage.open(location) as image:
            image.draft("RGB", (512, 512))
            image.load()
            data = make_thumbnail(image)
        library.files.put_thumbnail(sha256, data, durable=False)  # and its mini
        return True
    except Exception:  # noqa: BLE001 - a file that cannot be read keeps showing itself (or nothing)
        return False


class ThumbnailWalk:
    """Thumbnails of linked images made a few at a time in the background (the watcher, between its looks at
    the folders), newest first. A walk goes once over the account's linked images, each step on from where the
    last stopped; the next walk, once images were added, looks only at those (higher ids). Walking from the
    newest every time instead read every record and asked the disk for every thumbnail (4 s of processor for
    100,000 images) a few times a second, all the time the app was open."""

    LOOK_AT = 400  # images a step looks at, at most (about 15 ms)

    def __init__(self) -> None:
        self.above = 0  # images with an id up to this have been looked at by a finished walk
        self.upto: int | None = None  # the highest id when this walk began; None: no walk under way
        self.after: tuple | None = None  # (generated_at, id) of the last image this walk looked at

    def step(self, library: Library, limit: int = 20, cancel: Callable[[], bool] | None = None) -> int:
        """Up to `limit` thumbnails made, at most LOOK_AT images looked at; how many were made."""
        if self.upto is None:  # between walks: another only for images added since
            newest = Image.select(fn.MAX(Image.id)).where(Image.owner == library.account.id).scalar() or 0
            if newest <= self.above:
                return 0
            self.upto, self.after = newest, None
        query = Image.select(Image.id, Image.generated_at, Image.sha256, Image.location).where(
            Image.owner == library.account.id, Image.location != "", Image.id > self.above, Image.id <= self.upto)
        if self.after is not None:
            date, last = self.after
            query = query.where((Image.generated_at < date) | ((Image.generated_at == date) & (Image.id < last)))
        rows = list(query.order_by(Image.generated_at.desc(), Image.id.desc()).limit(self.LOOK_AT).tuples())
        made = 0
        for image_id, date, sha256, location in rows:
            if made >= limit or (cancel is not None and cancel()):
                return made
            self.after = (date, image_id)
            made += _thumbnail(library, sha256, location)
        if len(rows) < self.LOOK_AT:  # the walk is over
            self.above, self.upto = self.upto, None
        return made


# -- who is watching -------------------------------------------------------------------------------

def _watch_lock_path(library: Library) -> Path:
    return library.root / f".watching-{library.account.id}.lock"


class WatchMark:
    """Held (shared) by every process that follows the account's sources: `source list` tells from it."""

    def __init__(self, library: Library) -> None:
        self.fd: int | None = None
        try:
            self.fd = os.open(_watch_lock_path(library), os.O_RDWR | os.O_CREAT, 0o666)
            fcntl.flock(self.fd, fcntl.LOCK_SH)
        except OSError:
            self.release()

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def is_watched(library: Library) -> bool:
    try:
        fd = os.open(_watch_lock_path(library), os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)



ERASING = "being deleted by My Images"  # an erased linked image's file not deleted yet (finish_erases after a kill)


def _places(library: Library, linked: dict[int, list[tuple[Path, int, int]]]) -> dict[Path, tuple[int, str]]:
    """Where each of these files is recorded: its source's id and its path in that source."""
    roots = [(Path(row.path), row.id) for row in _own_sources(library)]  # one query for the batch (not source_of's)
    places: dict[Path, tuple[int, str]] = {}
    for files in linked.values():
        for path, _, _ in files:
            found = _deepest(((root, (root, source_id)) for root, source_id in roots), path)
            if found is not None and found[0] != path:
                places[path] = (found[1], path.relative_to(found[0]).as_posix())
    return places


def mark_erasing(library: Library, linked: dict[int, list[tuple[Path, int, int]]]) -> None:
    """In the transaction that erases linked images: their files (`linked_paths`) are to be deleted.
    The mark outlives the image rows (their `image` goes NULL), so a delete a kill stops is finished later,
    never left as files no image is and a scan calls unchanged (NEWUSER6 #3)."""
    for source_id, relpath in _places(library, linked).values():
        SourceFile.update(error=ERASING).where(SourceFile.source == source_id, SourceFile.relpath == relpath).execute()


def delete_linked_files(library: Library, linked: dict[int, list[tuple[Path, int, int]]]) -> list[str]:
    """Delete the source files of deleted linked images (their records are gone already, their files
    marked ERASING by mark_erasing in the same transaction).

    Only a file that is still the one read (same size and modification time) is
    deleted; each one left is kept as a bad file of its source (so it is not
    taken in again) and said in the result. The record of a file deleted (or gone) goes.
    """
    problems: list[str] = []
    places = _places(library, linked)
    done: list[tuple[int, str]] = []
    left: list[tuple[int, str, str]] = []
    for files in linked.values():
        for path, size, mtime_ns in files:
            where = places.get(path)
            try:
                info = path.lstat()
                if (info.st_size, info.st_mtime_ns) != (size, mtime_ns):
                    reason = "it changed since it was read"
                else:
                    path.unlink()
                    done += [where] if where else []
                    continue
            except FileNotFoundError:
                done += [where] if where else []
                continue
            except OSError as exc:
                reason = os_reason(exc)
            problems.append(f"the file {path} was not deleted: {reason}")
            if where is not None:
                left.append((*where, f"deleted in My Images but not from the disk: {reason}"))
    with library.db.atomic():
        for source_id, relpath in done:
            SourceFile.delete().where(SourceFile.source == source_id, SourceFile.relpath == relpath,
                                      SourceFile.image.is_null()).execute()
        for source_id, relpath, error in left:
            SourceFile.update(error=error).where(SourceFile.source == source_id,
                                                 SourceFile.relpath == relpath).execute()
    return problems


def finish_erases(library: Library) -> int:
    """Deletions of erased linked images' files that a kill interrupted, done now (on opening, and by doctor);
    returns how many files were still there. A file changed since it was read is left, and said in the
    source's skipped files."""
    rows = (SourceFile.select(SourceFile.relpath, SourceFile.size, SourceFile.mtime_ns, Source.path)
            .join(Source).where(SourceFile.error == ERASING, SourceFile.image.is_null(),
                                Source.owner == library.account.id).tuples())
    linked: dict[int, list[tuple[Path, int, int]]] = {}
    for n, (relpath, size, mtime_ns, folder) in enumerate(rows):
        linked[n] = [(Path(folder) / relpath, size, mtime_ns)]
    there = sum(1 for files in linked.values() if os.path.lexists(files[0][0]))  # the rest went before the kill
    if linked:
        delete_linked_files(library, linked)
    return there


def removal_drops(library: Library, row: Source) -> int:
    """The images removing the source drops (as remove_source does, without changing anything): linked
    ones, not in the trash, that no other source has a file of."""
    return Image.select(fn.COUNT(Image.id)).where(Image.id.in_(_drops(library, row))).scalar() or 0


def _drops(library: Library, row: Source) -> Any:
    """The ids removal_drops counts, as a sub-query."""
    here = SourceFile.select(SourceFile.image).where(SourceFile.source == row.id, SourceFile.image.is_null(False))
    elsewhere = SourceFile.select(SourceFile.image).where(SourceFile.source != row.id,
                                                          SourceFile.image.is_null(False))
    return Image.select(Image.id).where(Image.id.in_(here), Image.id.not_in(elsewhere),
                                        Image.owner == library.account.id, Image.location != "",
                                        Image.trashed_at.is_null())


FIRST_FILES = 3  # files named in a question or summary before "and N more"


@dataclass(frozen=True)
class SourceFiles:
    """The files of watched folders that deleting some images takes with them: one image can be several files
    (the same picture in several places is one image), and every one of them goes, or the image would come back
    at the next scan. `trashed`: how many of them are in the library's trash already (their images were
    deleted before); `images`: how many of the images have at least one; `first`: the first few paths."""
    count: int = 0
    images: int = 0
    trashed: int = 0
    first: tuple[str, ...] = ()
    # files that cannot be reached now (their folder unmounted or moved, or the file gone): not counted above, they
    # stay where they are, and only the records go; `away`: the first few of their source folders that are not there
    absent: int = 0
    away: tuple[str, ...] = ()

    def named(self) -> str:
        """"a, b, c and 4 more"."""
        from .text import printable

        more = self.count - len(self.first)
        return ", ".join(printable(p) for p in self.first) + (f" and {more:,} more" if more > 0 else "")

    def sentence(self, count: int, erase: bool) -> str:
        """What happens to them, for a question about deleting `count` images ("" when nothing happens)."""
        reached = self._reached(count, erase)
        return f"{reached} {self.unreached(count, erase)}" if reached and self.absent else \
            reached or self.unreached(count, erase)

    def unreached(self, count: int, erase: bool) -> str:
        """What happens to the files that cannot be reached: nothing ("" when there are none)."""
        if not self.absent:
            return ""
        from .text import printable

        one = self.absent == 1
        start = "Its file" if one and count == 1 else plural(self.absent, "file")
        if self.away:
            more = f" and {len(self.away) - 1:,} more" if len(self.away) > 1 else ""
            why = (f"its source folder {printable(self.away[0])}{more} is not there (moved, or a disk not mounted)"
                   if one else f"the source folder {printable(self.away[0])}{more} is not there (moved, or a disk "
                   "not mounted)")
        else:
            why = "it is not where it was" if one else "they are not where they were"
        record = "only the record is erased" if erase else "only the record goes to the trash"
        return f"{start} cannot be reached: {why}. {record[0].upper()}{record[1:]}; the file{'' if one else 's'} " \
               f"{'stays' if one else 'stay'} where {'it is' if one else 'they are'}."

    def _reached(self, count: int, erase: bool) -> str:
        if not self.count:
            return ""
        n = self.count
        if erase and self.trashed == n:
            start = "Its file from your source folder" if n == 1 and count == 1 else \
                f"Its {n:,} files from your source folders (the same picture in each)" if count == 1 else \
                f"{plural(n, 'file')} from your source folders"
            return f"{start}, in the library's trash since {'the image was' if count == 1 else 'the images were'} deleted, {'is' if n == 1 else 'are'} " \
                   f"erased too: {self.named()}."
        verb = ("is deleted too" if n == 1 else "are deleted too") if erase else \
            ("moves into the library's trash" if n == 1 else "move into the library's trash")
        if count == 1:
            start = "Its file in your source folder" if n == 1 else \
                f"Its {n:,} files in your source folders (the same picture in each)"
        else:
            start = f"{plural(n, 'file')} in your source folders (of {plural(self.images, 'image')})"
        kept = f" ({self.trashed:,} of them in the library's trash already)" if erase and self.trashed else ""
        return f"{start}{kept} {verb}: {self.named()}."


def source_files(library: Library, image_ids: Iterable[int], first: int = FIRST_FILES) -> SourceFiles:
    """The files in watched folders that deleting these images (to the trash, or for good) takes: every file of
    a link-mode source that is a linked image among them, and, for those in the trash, the files moved into it
    from their folders. Changes nothing (an imported image whose picture is also in a folder has none)."""
    count = trashed = absent = 0
    images: set[int] = set()
    paths: list[str] = []
    away: set[str] = set()
    theirs = others_folders(library)
    # (in order a piece at a time: a million sorted at once held the UI thread's interpreter lock, issue 11)
    for part in chunked(in_order(list(image_ids), unique=True), 500):
        rows = list(SourceFile.select(SourceFile.image, SourceFile.relpath, Source.path, Image.sha256, Image.ext,
                                      Source.mounted)
                    .join(Source).switch(SourceFile).join(Image)
                    .where(SourceFile.image.in_(part), Source.mode == LINK, Image.location != "",
                           Image.trashed_at.is_null(), library._mine()).tuples())
        adopted = {image_id for image_id, _r, _f, sha256, ext, _m in rows
                   if library.files.original_path(sha256, ext).is_file()}
        for image_id, relpath, folder, _sha, _ext, mounted in rows:
            if image_id in adopted or in_others_folder(Path(folder) / relpath, theirs):
                continue  # the library's own copy; a file another account follows too (linked_paths)
            if not os.path.lexists(Path(folder) / relpath):  # trash and delete leave it: only its record goes
                absent += 1
                if not_there(folder, mounted):
                    away.add(folder)
            else:
                count += 1
                images.add(image_id)
                paths.append(str(Path(folder) / relpath))
        for image_id, original in (TrashFile.select(TrashFile.image, TrashFile.original).join(Image)
                                   .where(TrashFile.image.in_(part), Image.trashed_at.is_null(False),
                                          library._mine()).tuples()):
            count += 1
            trashed += 1
            images.add(image_id)
            paths.append(original)
        paths = sorted(paths)[:first]  # only the first few are named
    return SourceFiles(count, len(images), trashed, tuple(paths), absent, tuple(sorted(away)))


@dataclass(frozen=True)
class SourceRemoval:
    """What removing a source does to its images: `drops` leave the library; the others stay, and why: the
    library has its own copy (a copying source, an import), another source holds them too, or they are in the
    trash (kept until restored or erased)."""
    drops: int
    own_copy: int = 0
    elsewhere: int = 0
    trashed: int = 0
    favorites: int = 0  # of `drops`: favorites, and images in a collection (their names, the first few)
    collected: int = 0
    collections: tuple[str, ...] = ()
    more_collections: int = 0

    def curation(self) -> str:
        """"2 of them are favorites, 4 are in the collection Keepers." ("" when none is either)."""
        parts = []
        if self.favorites:
            parts.append("it is a favorite" if self.drops == 1 else
                         f"{self.favorites:,} of them {'is a favorite' if self.favorites == 1 else 'are favorites'}")
        if self.collected:
            names = ", ".join(self.collections) + (f" and {self.more_collections:,} more" if self.more_collections
                                                   else "")
            where = f"the collection{'' if len(self.collections) + self.more_collections == 1 else 's'} {names}"
            if self.drops == 1:
                parts.append(f"{'' if parts else 'it is '}in {where}")
            else:
                who = f"{self.collected:,}{'' if parts else ' of them'}"
                parts.append(f"{who} {'is' if self.collected == 1 else 'are'} in {where}")
        text = (" and " if self.drops == 1 else ", ").join(parts)
        return f"{text[:1].upper()}{text[1:]}." if text else ""

    def stay(self) -> str:
        """"3 stay: the library has its own copy of 2, another source holds 1." ("" when none stays)."""
        reasons = [text for n, text in ((self.own_copy, f"the library has its own copy of {self.own_copy:,}"),
                                        (self.elsewhere, f"another source holds {self.elsewhere:,}"),
                                        (self.trashed, f"{self.trashed:,} {'is' if self.trashed == 1 else 'are'} in "
                                                       "the trash (a restore keeps "
                                                       f"{'it' if self.trashed == 1 else 'them'} as the library's own)")) if n]
        total = self.own_copy + self.elsewhere + self.trashed
        return f"{total:,} {'stays' if total == 1 else 'stay'}: {', '.join(reasons)}." if total else ""


def removal(library: Library, row: Source) -> SourceRemoval:
    """removal_drops, with how many of the source's other images stay and why (to say in the question)."""
    here = SourceFile.select(SourceFile.image).where(SourceFile.source == row.id, SourceFile.image.is_null(False))
    elsewhere = SourceFile.select(SourceFile.image).where(SourceFile.source != row.id,
                                                          SourceFile.image.is_null(False))
    mine = Image.select(fn.COUNT(Image.id)).where(Image.id.in_(here), Image.owner == library.account.id)
    # deleted images whose file went from this folder into the library's trash (no file of theirs is here now)
    top = str(row.path).rstrip("/") + "/"
    moved_out = TrashFile.select(TrashFile.image).where(fn.SUBSTR(TrashFile.original, 1, len(top)) == top)
    drops = _drops(library, row)
    collected = ImageCollection.select(ImageCollection.image).where(ImageCollection.image.in_(drops))
    names = [name for (name,) in Collection.select(Collection.name).join(ImageCollection)
             .where(ImageCollection.image.in_(drops)).distinct().order_by(Collection.name).limit(FIRST_FILES + 1)
             .tuples()]
    counted = len(names) if len(names) <= FIRST_FILES else (
        Collection.select(fn.COUNT(fn.DISTINCT(ImageCollection.collection))).join(ImageCollection)
        .where(ImageCollection.image.in_(drops)).scalar() or 0)
    return SourceRemoval(
        favorites=Image.select(fn.COUNT(Image.id)).where(Image.id.in_(drops), Image.favorite == True)  # noqa: E712
        .scalar() or 0,
        collected=Image.select(fn.COUNT(Image.id)).where(Image.id.in_(drops), Image.id.in_(collected)).scalar() or 0,
        collections=tuple(names[:FIRST_FILES]), more_collections=max(0, counted - FIRST_FILES),
        drops=removal_drops(library, row),
        own_copy=mine.where(Image.location == "", Image.trashed_at.is_null()).scalar() or 0,
        elsewhere=mine.where(Image.location != "", Image.trashed_at.is_null(), Image.id.in_(elsewhere)).scalar() or 0,
        trashed=Image.select(fn.COUNT(Image.id)).where(
            Image.owner == library.account.id, Image.trashed_at.is_null(False),
            Image.id.in_(here) | Image.id.in_(moved_out)).scalar() or 0)
