"""Image files on disk: originals by content hash, thumbnails, atomic writes.

Layout of a library folder:
  library.db                     the SQLite database (unless PostgreSQL is used)
  catalog.bin                    its search catalog as last saved (store/catalog.py; a cache, made again if gone)
  originals/ab/<sha256>.<ext>    each original once, named by its content hash
  thumbs/ab/<sha256>.png         its thumbnail (THUMB_SIZE px at most)
  minis/ab/<sha256>.png          its mini thumbnail (MINI_SIZE px at most), what the half-cell cards draw: made
                                 from the thumbnail beside it (store/minis.py makes those an older library lacks)
Temporary files start with TMP_PREFIX and live beside their final name until an
atomic rename; anything still named so is a leftover that `doctor` removes.
"""
from __future__ import annotations

import io
import os
import secrets
from pathlib import Path
from typing import Callable, Iterator, NamedTuple

from PIL import Image, ImageOps

from .errors import StoreError, os_reason

THUMB_SIZE = 256
# The mini thumbnail's long side: what the grid shrinks every thumbnail to before drawing it in half-block cells at
# any card size (widgets.thumbnails.GRID_PIXELS is this). Read in 0.15 ms where the thumbnail took 1.6 ms (its PNG
# decoded, then shrunk), the same pixels: `make_mini` shrinks it as the grid did.
MINI_SIZE = 64
TMP_PREFIX = ".tmp-"

DISK_RESERVE = 512 * 1024  # bytes left free when storing a file: room for the database to commit


def fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


_TMP_LETTERS = "abcdefghijklmnopqrstuvwxyz0123456789_"  # as tempfile's names


def _new_temporary(folder: Path) -> tuple[int, Path]:
    """A new empty file `folder/.tmp-XXXXXXXX`, open for writing.

    Made with mode 0666 so that the kernel applies the user's umask (and the folder's
    default ACL, if any), as for any ordinary tool's file: with umask 002 in a shared
    group folder teammates can read it. (mkstemp's fixed 0600 kept them out.)
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        tmp = folder / (TMP_PREFIX + "".join(secrets.choice(_TMP_LETTERS) for _ in range(8)))
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary file name in {folder}")


def write_atomic(path: Path, write: Callable[[io.BufferedWriter], object], *, replace: bool = True,
                 durable: bool = True, make_folder: bool = True) -> Path:
    """Write through a temporary file in the same folder, then rename it into place.

    With replace=False an existing file is kept and FileExistsError raised (the
    check and the rename are one step: os.link fails if the name exists). The folder is made with its
    parents unless `make_folder` is False (a folder the user named: output_folder decides).
    """
    if make_folder:
        path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _new_temporary(path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        if replace:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)
            tmp.unlink()
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if durable:
        fsync_dir(path.parent)
    return path


def write_bytes_atomic(path: Path, data: bytes, *, replace: bool = True, durable: bool = True,
                       make_folder: bool = True) -> Path:
    return write_atomic(path, lambda handle: handle.write(data), replace=replace, durable=durable,
                        make_folder=make_folder)


def output_folder(folder: Path | str, *, parents: bool = False) -> Path:
    """A folder the user named for files to be written into (export --to, grid --to, the downloads folder),
    made if it is missing, as mkdir makes one: only when its parent exists. A missing parent (a typo, or a
    disk not mounted) is StoreError with one sentence, and nothing is made. `parents`: every missing folder
    is made (the app's own default downloads folder, ~/Downloads/myimages)."""
    folder = Path(folder).expanduser()
    if folder.is_dir():
        return folder
    if folder.exists() or folder.is_symlink():
        raise StoreError(f"Cannot write to {folder}: it is not a folder.")
    parent = folder.parent
    if not parents and not parent.is_dir():
        what = "is not a folder" if parent.exists() else "does not exist"
        raise StoreError(f"Cannot write to {folder}: {parent} {what}; nothing was written (make it first).")
    try:
        folder.mkdir(parents=parents, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"Cannot make the folder {folder}: {exc.strerror or exc}.") from exc
    return folder


def writable_folder(folder: Path | str, *, may_be_missing: bool = False) -> Path:
    """A folder the user chose for the app to write into from now on (the downloads folder), absolute: it must be
    there, be a folder and take a new file (a temporary one is made and removed: the only sure test, root
    included); else StoreError with one sentence. `may_be_missing`: a missing one is taken (the default downloads
    folder, made with its parents at the first download)."""
    text = str(folder).strip()
    if not text:
        raise StoreError("Type the path of a folder.")
    folder = Path(os.path.expanduser(text)).absolute()
    if not folder.exists():
        if may_be_missing:
            return folder
        raise StoreError(f"There is no folder {folder}: make it first, or choose one that is there.")
    if not folder.is_dir():
        raise StoreError(f"{folder} is a file, not a folder.")
    try:
        fd, tmp = _new_temporary(folder)
    except OSError as exc:
        raise StoreError(f"{folder} cannot be written to ({os_reason(exc).lower()}).") from None
    os.close(fd)
    tmp.unlink()
    return folder


def unique_path(folder: Path, stem: str, suffix: str) -> Path:
    """`folder/stem.suffix`, or `stem (2).suffix` and so on when taken."""
    candidate = folder / f"{stem}{suffix}"
    number = 2
    while candidate.exists():
        candidate = folder / f"{stem} ({number}){suffix}"
        number += 1
    return candidate


def write_new_file(folder: Path, stem: str, suffix: str, data: bytes) -> Path:
    """Write `data` under a name that does not exist yet; never overwrites. The folder is there (output_folder)."""
    for _ in range(1000):
        target = unique_path(folder, stem, suffix)
        try:
            return write_bytes_atomic(target, data, replace=False, make_folder=False)
        except FileExistsError:
            continue  # someone took the name between the check and the link
    raise FileExistsError(f"no free file name for {stem}{suffix} in {folder}")


def display_image(image: Image.Image) -> Image.Image:
    """An image in a mode every consumer handles (RGB or RGBA), upright.

    May return the image itself when it is that already: never change the result in place.
    """
    try:
        if image.getexif().get(0x0112, 1) not in (0, 1):  # an EXIF orientation to apply
            image = ImageOps.exif_transpose(image)
    except Exception:  # noqa: BLE001 - a broken orientation tag is ignored
        pass
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        image = image.convert("I").point(lambda v: v * (1 / 256)).convert("L")
    elif image.mode == "F":
        image = image.convert("L")
    has_alpha = image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        image.mode in ("P", "L", "RGB", "1") and "transparency" in image.info
    )
    mode = "RGBA" if has_alpha else "RGB"
    return image if image.mode == mode else image.convert(mode)


def _thumbnail_picture(image: Image.Image) -> Image.Image:
    """A small copy (at most THUMB_SIZE px on its long side), what the thumbnail's PNG holds."""
    picture = display_image(image)
    scale = min(1.0, THUMB_SIZE / max(picture.size))
    size = (max(1, round(picture.width * scale)), max(1, round(picture.height * scale)))
    # reducing_gap=1: reduce() by a whole factor first, then Lanczos for the rest (4x faster than 3.0)
    return picture.resize(size, Image.Resampling.LANCZOS, reducing_gap=1.0) if scale < 1 else picture


def _png(picture: Image.Image) -> bytes:
    out = io.BytesIO()
    picture.save(out, "PNG", compress_level=1)
    return out.getvalue()


def make_thumbnail(image: Image.Image) -> bytes:
    """PNG bytes of a small copy (at most THUMB_SIZE px on its long side)."""
    return _png(_thumbnail_picture(image))


class Thumbnail(NamedTuple):
    """An import's thumbnail, made once: what thumbs/ and minis/ keep, and its picture in memory."""

    png: bytes
    mini: bytes  # shrunk from `picture` (the same pixels as from `png`, which is lossless), not from `png` decoded
    # the thumbnail's pixels (perhaps the image given itself, when small: used while that is open), from which the
    # import makes the perceptual hashes (duplicates.thumbnail_hashes), not from `png` decoded again
    picture: Image.Image


def make_thumbnail_and_mini(image: Image.Image) -> Thumbnail:
    """The thumbnail's PNG bytes and its mini's, the mini shrunk from the thumbnail's picture still in memory (the
    same pixels as from its PNG, which is lossless), not from the PNG decoded again: an import's thumbnail, once."""
    thumb = _thumbnail_picture(image)
    return Thumbnail(_png(thumb), make_mini(thumb), thumb)


def make_mini(thumbnail: bytes | Image.Image) -> bytes:
    """PNG bytes of a thumbnail's mini (at most MINI_SIZE px on its long side), shrunk from the thumbnail (its PNG
    bytes, or it read) exactly as the grid shrank thumbnails before drawing them (widgets.thumbnails.load_picture):
    a card shows the same pixels from either."""
    if isinstance(thumbnail, bytes):
        with Image.open(io.BytesIO(thumbnail)) as source:
            picture = source.copy()
    else:
        picture = thumbnail.copy()
    if picture.mode not in ("RGB", "RGBA"):
        picture = picture.convert("RGBA" if "transparency" in picture.info or "A" in picture.mode else "RGB")
    picture.thumbnail((MINI_SIZE, MINI_SIZE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    picture.save(out, "PNG", compress_level=1)
    return out.getvalue()


def mini_or_none(thumbnail: bytes) -> bytes | None:
    """`make_mini`, or None when the thumbnail's bytes are not a picture Pillow reads: the mini is the card's
    shortcut, never a reason to refuse an image; the card then draws the thumbnail (doctor makes the mini)."""
    try:
        return make_mini(thumbnail)
    except (OSError, ValueError, Image.DecompressionBombError):
        return None


class FileStore:
    """Where a library's files live, and the only code that writes them."""

    def __init__(self, root: Path):
        self.root = root
        self.originals = root / "originals"
        self.thumbs = root / "thumbs"
        self.minis = root / "minis"
        # Each file is synced to disk before its record commits. Bulk generators
        # (the demo) switch this off and sync once at the end.
        self.durable = True

    def original_path(self, sha256: str, ext: str) -> Path:
        return Path(f"{self.originals}/{sha256[:2]}/{sha256}.{ext}")  # one parse, not two joins: 120 per page

    def thumbnail_path(self, sha256: str) -> Path:
        return Path(f"{self.thumbs}/{sha256[:2]}/{sha256}.png")

    def mini_path(self, sha256: str) -> Path:
        return Path(f"{self.minis}/{sha256[:2]}/{sha256}.png")

    def put_thumbnail(self, sha256: str, thumbnail: bytes, durable: bool | None = None) -> None:
        """Write an image's thumbnail (replacing one there) and its mini (synced unless `durable` is False, or, left
        out, as the store's files are)."""
        durable = self.durable if durable is None else durable
        mini = mini_or_none(thumbnail)
        write_bytes_atomic(self.thumbnail_path(sha256), thumbnail, durable=durable)
        if mini is not None:
            write_bytes_atomic(self.mini_path(sha256), mini, durable=durable)

    def make_mini(self, sha256: str) -> bool:
        """Write an image's mini again from its thumbnail; False if the thumbnail cannot be read (none made)."""
        try:
            with Image.open(self.thumbnail_path(sha256)) as source:
                source.load()
                data = make_mini(source)
        except (OSError, ValueError, Image.DecompressionBombError):
            return False
        write_bytes_atomic(self.mini_path(sha256), data, durable=self.durable)
        return True

    def store(self, sha256: str, ext: str, data: bytes, thumbnail: bytes, mini: bytes | None = None) -> bool:
        """Put an original, its thumbnail and its mini in place (content-addressed: kept if present). `mini`: made
        already (`make_thumbnail_and_mini`), else made here from the thumbnail's bytes.

        Returns whether anything was written (False: both were there already).
        """
        wrote = False
        original = self.original_path(sha256, ext)
        if not (original.exists() and original.stat().st_size == len(data)):
            write_bytes_atomic(original, data, durable=self.durable)
            wrote = True
        thumb = self.thumbnail_path(sha256)
        if not thumb.exists():
            write_bytes_atomic(thumb, thumbnail, durable=self.durable)
            wrote = True
        mini_path = self.mini_path(sha256)
        if not mini_path.exists():  # (made from the thumbnail given: the one kept is the same picture)
            mini_data = mini if mini is not None else mini_or_none(thumbnail)
            if mini_data is not None:
                write_bytes_atomic(mini_path, mini_data, durable=self.durable)
                wrote = True
        return wrote

    def remove(self, sha256: str, ext: str) -> None:
        """Remove an image's files; one that cannot be removed is left to `doctor`."""
        for path in (self.original_path(sha256, ext), self.thumbnail_path(sha256), self.mini_path(sha256)):
            try:
                path.unlink()
            except OSError:
                pass

    def walk(self) -> Iterator[Path]:
        for top in (self.originals, self.thumbs, self.minis):
            if top.is_dir():
                for folder, _dirs, files in os.walk(top):
                    for name in files:
                        yield Path(folder) / name
