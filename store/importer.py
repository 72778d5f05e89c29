"""Importing image files: find them, read them, refuse bad ones, store the rest.

The expensive part (decode, hash, thumbnail, metadata) runs in a small thread
pool (Pillow releases the GIL while decoding), the database writes in the
caller's thread in batches. A bad file is reported with a reason and skipped;
nothing already in the library changes because of it.
"""
from __future__ import annotations

import hashlib
import io
import os
import re
import threading
import warnings
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterable, Iterator

from PIL import Image, UnidentifiedImageError

from .errors import BadImage, DiskFull, StoreError, os_reason, unreadable_reason
from .duplicates import thumbnail_hashes
from .files import make_thumbnail_and_mini
from .formats import EXTENSIONS, FORMAT_NAMES, FORMATS, OTHER_IMAGE_EXTENSIONS
from .identity import is_library
from .images import is_disk_full
from .library import Library, NewImage
from .metadata import Metadata, parse_chunks, read_chunks
from .records import STORED_MAX, STORED_MIN, DateOutOfRange, to_stored
from .text import plural, printable, quoted

MAX_FILE_BYTES = 512 * 1024 * 1024

# We refuse images past Pillow's pixel limit ourselves, with a clear reason;
# the warning Pillow prints between one and two times the limit is noise.
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)
# A TIFF cut short is refused with its reason ("not an image Pillow can read"); the warning Pillow prints on the way
# landed in the middle of `myimages watch`'s and `import`'s output.
warnings.filterwarnings("ignore", message="Truncated File Read", category=UserWarning)


@dataclass
class ImportOptions:
    """Values given on the command line; each overrides what the file says."""

    prompt: str | None = None
    model: str | None = None
    text_accuracy: str | None = None
    generated_at: datetime | None = None
    collection: str | None = None
    recursive: bool = False
    hidden: bool = False  # with `recursive`: hidden folders met on the way too (.cache, .local; one named is read)


@dataclass
class ImportReport:
    imported: list[tuple[Path, int]] = field(default_factory=list)
    duplicates: list[tuple[Path, int]] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)
    cancelled: bool = False
    # folders inside a folder imported that are left out, with why: a library's (its own files), the downloads folder
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    restored: list[tuple[Path, int]] = field(default_factory=list)  # its picture was in the trash: back now
    # of `duplicates`: images the library only linked (a file in a watched folder), whose copy the import stored:
    # the library's own now (deleting one no longer touches the folder's file)
    kept: set[int] = field(default_factory=set)
    notes: list[tuple[Path, str]] = field(default_factory=list)  # imported, but part of its metadata not read: why
    stopped: str = ""  # why the import stopped before the end (the disk is full): the rest was not tried
    not_tried: int = 0
    other_formats: list[Path] = field(default_factory=list)  # pictures in folders named, in formats not taken
    hidden: list[Path] = field(default_factory=list)  # hidden folders met on the way and left out

    def left_out_lines(self, take_hidden: str = "name it, or add --hidden") -> list[str]:
        """What a folder import left out besides the folders in `skipped`, one line each: pictures in other formats
        and hidden folders (`take_hidden`: how to take them in), counted, the first three named."""
        lines = []
        if self.other_formats:
            names = _first_names([p.name for p in self.other_formats])
            count = len(self.other_formats)
            lines.append(f"{plural(count, 'file')} in other formats {'was' if count == 1 else 'were'} left out "
                         f"({names}): only {FORMAT_NAMES} are imported.")
        if self.hidden:
            names = _first_names([str(p) for p in self.hidden])
            lines.append(f"{plural(len(self.hidden), 'hidden folder', 'was')} left out ({names}), as caches and "
                         f"settings usually are: to import one, {take_hidden}.")
        return lines

    def duplicate_line(self, path: Path, image_id: int) -> str:
        """"duplicate: PATH is already image #7", saying when the import made a linked image the library's own."""
        kept = " (linked from a watched folder; now also kept in the library)" if image_id in self.kept else ""
        return f"duplicate: {printable(str(path))} is already image #{image_id}{kept}"

    def not_applied(self, options: ImportOptions) -> str:
        """One sentence when values given for the files (--prompt, --model, --text-accuracy, --date) were not
        applied to pictures already in the library (duplicates, and those back from the trash: each keeps what it
        has), saying that a --collection was all the same; "" otherwise (NEWUSER7 #25: said nothing)."""
        given = [flag for flag, value in (("--prompt", options.prompt), ("--model", options.model),
                                          ("--text-accuracy", options.text_accuracy), ("--date", options.generated_at))
                 if value is not None]
        ids = sorted({image_id for _, image_id in self.duplicates + self.restored})
        if not given or not ids:
            return ""
        flags = ", ".join(given[:-1]) + (" and " if len(given) > 1 else "") + given[-1]
        which = f"the image that was already in the library (#{ids[0]}), which keeps its own" if len(ids) == 1 else \
            f"the {len(ids):,} images that were already in the library, which keep their own"
        added = f"; {'it was' if len(ids) == 1 else 'they were'} added to {quoted(options.collection)} all the same" \
            if options.collection else ""
        return f"{flags} {'was' if len(given) == 1 else 'were'} not applied to {which}{added}."

    def summary(self) -> str:
        back = f", {len(self.restored):,} restored from the trash" if self.restored else ""
        kept = sum(image_id in self.kept for _, image_id in self.duplicates)
        some = "" if kept == len(self.duplicates) else f"{kept:,} of them "
        also = f" ({some}linked from a watched folder: now also kept in the library)" if kept else ""
        text = (f"{len(self.imported):,} imported{back}, {plural(len(self.duplicates), 'duplicate')}{also}, "
                f"{len(self.failed):,} failed")
        if self.stopped:
            return f"Stopped: {self.stopped.rstrip('.')}. {text}, {self.not_tried:,} not tried"
        return text + (" (cancelled)" if self.cancelled else "")


def _first_names(names: list[str]) -> str:
    shown = [printable(name) for name in names[:3]]
    if len(names) > 3:
        return ", ".join(shown) + f" and {len(names) - 3:,} more"
    return ", ".join(shown[:-1]) + (" and " if len(shown) > 1 else "") + shown[-1]


def parse_date(text: str) -> datetime:
    """An ISO 8601 date or date-time (a trailing Z is accepted)."""
    text = text.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    return datetime.fromisoformat(text)


def check_date(text: str) -> datetime:
    """A generation date given by hand (`import --date`): StoreError, one sentence, when it is no ISO date or
    one the library cannot store."""
    try:
        moment = parse_date(text)
    except ValueError:
        raise StoreError(f'"{text}" is not a date (use ISO 8601, e.g. 2026-03-01 or 2026-03-01T14:30).') from None
    try:
        to_stored(moment)
    except DateOutOfRange:
        raise StoreError(f'The date "{text}" is out of range: give one from {STORED_MIN.date().isoformat()} '
                       f'to {STORED_MAX.date().isoformat()}.') from None
    return moment


def own_files_problem(library: Library, path: Path) -> str:
    """One sentence when `path` is a library's own files (this library's folder or inside it, or another
    library's): its thumbnails, originals and trash, and other accounts' private images, are never imported
    (as `source add` refuses them); "" for any other path."""
    try:
        path, root = path.resolve(), library.root.resolve()
    except (OSError, RuntimeError):
        return ""
    if path == root or root in path.parents:
        where = "the library folder itself" if path == root else f"inside the library folder {root}"
        return f"{path} is {where} (its own files): nothing was imported; import the folder your generator writes to."
    for folder in (path, *path.parents):
        if is_library(folder):
            return (f"{path} is {'' if folder == path else 'inside '}the folder of another library ({folder}): "
                    "nothing was imported; import the folder your generator writes to.")
    return ""


LIBRARY_SKIPPED = "a library's folder (its own files are never imported)"
DOWNLOADS_SKIPPED = "the downloads folder (copies of your images the app wrote: they would come in again as new images)"


def downloads_folder(library: Library) -> Path | None:
    """The downloads folder of the program using `library` (`--downloads DIR`, or the app's: Library.downloads),
    else the settings' `downloads`, resolved; None when it is not there yet. Neither a source's scan nor an import
    reads it."""
    from .settings import current

    try:
        return (library.downloads or current().downloads).resolve(strict=True)
    except (OSError, RuntimeError):
        return None


def collect_files(paths: Iterable[Path], recursive: bool, report: ImportReport, hidden: bool = False,
                  downloads: Path | None = None) -> list[Path]:
    """Files to import: those named, and image files inside the folders named (a library's folder or the downloads
    folder, `downloads`, met on the way is skipped, and listed in report.skipped; a hidden folder met on the way,
    unless `hidden`, is left out and listed in report.hidden; pictures in other formats in report.other_formats)."""
    downloads = downloads if recursive else None
    found: list[Path] = []
    seen: set[Path] = set()

    def add(path: Path) -> None:
        try:
            key = path.resolve()
        except (OSError, RuntimeError):
            key = path
        if key not in seen:
            seen.add(key)
            found.append(path)

    for path in paths:
        path = Path(path)
        if path.is_dir():
            entries: Iterator[tuple[Path, list[str]]]
            if recursive:
                def unreadable(error: OSError, top: Path = path) -> None:
                    report.failed.append((Path(error.filename or top), f"cannot read folder: {os_reason(error)}"))

                def libraries_left_out(folder: str, dirs: list[str]) -> bool:
                    for name in list(dirs):
                        inside = Path(folder, name)
                        why = LIBRARY_SKIPPED if is_library(inside) else \
                            DOWNLOADS_SKIPPED if downloads is not None and os.path.realpath(inside) == str(downloads) \
                            else ""
                        if why:
                            dirs.remove(name)
                            report.skipped.append((inside, why))
                        elif name.startswith(".") and not hidden:  # caches, icon themes, settings: never meant
                            dirs.remove(name)
                            report.hidden.append(inside)
                    dirs.sort()
                    return True

                walker = os.walk(path, onerror=unreadable)
                entries = ((Path(folder), sorted(files)) for folder, dirs, files in walker
                           if libraries_left_out(folder, dirs))
            else:
                try:
                    entries = iter([(path, sorted(p.name for p in path.iterdir() if not p.is_dir()))])
                except OSError as exc:
                    report.failed.append((path, f"cannot read folder: {os_reason(exc)}"))
                    continue
            for folder, names in entries:
                for name in names:
                    suffix = Path(name).suffix.lower()
                    if suffix in EXTENSIONS:
                        add(folder / name)
                    elif suffix in OTHER_IMAGE_EXTENSIONS:
                        report.other_formats.append(folder / name)
        elif path.exists() or path.is_symlink():
            add(path)
        else:
            report.failed.append((path, "no such file or folder"))
    return found


@dataclass
class Prepared:
    path: Path
    image: NewImage | None = None
    error: str = ""


def prepare_bytes(data: bytes, name: str) -> tuple[NewImage, Metadata, dict]:
    """Check and read one image's bytes; BadImage with a reason when it cannot be imported."""
    if not data:
        raise BadImage("empty file")
    try:
        image = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise BadImage("not an image Pillow can read") from None
    except Image.DecompressionBombError as exc:  # over twice the limit: Pillow does not even open it
        pixels = re.search(r"\((\d+) pixels\)", str(exc))  # its size, said as the case below says it, not Pillow's
        size = f"{int(pixels.group(1)):,} pixels" if pixels else "its size"  # words ("decompression bomb DOS attack")
        raise BadImage(f"image too large: {size} is over the limit of {Image.MAX_IMAGE_PIXELS:,}") from None
    except Exception as exc:  # noqa: BLE001 - truncated headers and other damage
        raise BadImage(unreadable_reason(exc)) from None
    with image:
        if image.format not in FORMATS:
            raise BadImage(f"unsupported format {image.format} ({FORMAT_NAMES} can be imported)")
        width, height = image.size
        if Image.MAX_IMAGE_PIXELS and width * height > Image.MAX_IMAGE_PIXELS:
            raise BadImage(
                f"image too large: {width}x{height} pixels is over the limit of {Image.MAX_IMAGE_PIXELS:,}"
            )
        try:  # the first frame of an animation (or page of a TIFF): what the library shows of it
            image.load()
        except Exception as exc:  # noqa: BLE001 - truncated or corrupt data
            raise BadImage(unreadable_reason(exc)) from None
        chunks = read_chunks(image)  # after load(): PNG text after the image data counts too
        meta = parse_chunks(chunks)
        try:
            thumbnail = make_thumbnail_and_mini(image)
        except Exception as exc:  # noqa: BLE001
            raise BadImage(f"cannot make a thumbnail ({exc})") from None
        ext = FORMATS[image.format]
        if image.format == "JPEG":
            from PIL import ImageOps  # orientation matters for the size shown
            try:
                width, height = ImageOps.exif_transpose(image).size
            except Exception:  # noqa: BLE001
                pass
        # from the thumbnail's picture in memory (the image itself when small: while it is open), not its PNG
        hashes = thumbnail_hashes(thumbnail.picture, width, height)
    new = NewImage(
        sha256=hashlib.sha256(data).hexdigest(),
        ext=ext,
        data=data,
        thumbnail=thumbnail.png,
        mini=thumbnail.mini,
        width=width,
        height=height,
        source_name=name,
        phash=hashes[0] if hashes else None,
        dhash=hashes[1] if hashes else None,
    )
    return new, meta, chunks


def _file_date(meta: Metadata, chunks: dict, path: Path) -> tuple[datetime | None, str]:
    """The generation date the file gives (or else its modified time), and which of the two it is. A date
    the library cannot store (records.STORED_MIN..STORED_MAX: EXIF's 9999:12:31 placeholder) counts as none."""
    for text in (meta.generated_at, chunks.get("Creation Time", ""), chunks.get("date:create", "")):
        if text:
            try:
                return to_stored(parse_date(text)), "file"
            except ValueError:  # DateOutOfRange too
                pass
    try:
        return to_stored(datetime.fromtimestamp(path.stat().st_mtime)), "modified"
    except (OSError, ValueError, OverflowError):
        return None, "modified"


def read_file(path: Path) -> bytes:
    """A file's bytes, or BadImage with the reason it cannot be read."""
    try:
        if not path.is_file():
            raise BadImage("not a regular file")
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise BadImage(f"file too large ({size // (1024 * 1024)} MB)")
        return path.read_bytes()
    except PermissionError:
        raise BadImage("permission denied") from None
    except OSError as exc:
        raise BadImage(f"cannot read file: {exc.strerror or exc}") from None


def describe(new: NewImage, meta: Metadata, chunks: dict, path: Path, options: ImportOptions) -> NewImage:
    """Fill in what the file says (and what the options override) about an image."""
    new.prompt = options.prompt if options.prompt is not None else meta.prompt
    new.negative_prompt = meta.negative_prompt
    new.model = options.model if options.model is not None else meta.model
    new.text_accuracy = options.text_accuracy if options.text_accuracy is not None else meta.text_accuracy
    new.params = dict(meta.params)
    if meta.source:
        new.params.setdefault("_format", meta.source)
    if meta.note and options.prompt is None:
        new.params["_note"] = meta.note  # info shows it where the prompt would be
    given = [key for key in ("prompt", "model", "text_accuracy") if getattr(options, key) is not None]
    if given:
        new.params["_given"] = given  # typed on the command line: `myimages reparse` leaves these alone
    if options.generated_at:  # checked by check_date before the import
        new.generated_at, new.params["_date_from"] = to_stored(options.generated_at), "given"
    else:
        new.generated_at, new.params["_date_from"] = _file_date(meta, chunks, path)
    return new


def prepare_file(path: Path, options: ImportOptions) -> Prepared:
    try:
        new, meta, chunks = prepare_bytes(read_file(path), path.name)
    except BadImage as exc:
        return Prepared(path, error=str(exc))
    return Prepared(path, image=describe(new, meta, chunks, path, options))


Progress = Callable[[int, int, Path], None]


def import_files(
    library: Library,
    paths: Iterable[Path | str],
    options: ImportOptions | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | Callable[[], bool] | None = None,
    workers: int | None = None,
    batch: int = 32,
) -> ImportReport:
    """Import files and folders. `progress(done, total, path)` is called after each file. StoreError, and
    nothing imported, when a path is a library's own files (own_files_problem)."""
    options = options or ImportOptions()
    report = ImportReport()
    given = [Path(p) for p in paths]
    for path in given:
        problem = own_files_problem(library, path)
        if problem:
            raise StoreError(problem)
    files = collect_files(given, options.recursive, report, options.hidden,
                          downloads_folder(library) if options.recursive else None)
    collection_ids = [library.ensure_collection(options.collection).id] if options.collection else []
    total = len(files)
    is_cancelled = (cancel.is_set if isinstance(cancel, threading.Event) else cancel) or (lambda: False)
    workers = workers or min(2, os.cpu_count() or 1)
    pending: list[Prepared] = []
    done = 0

    def flush() -> None:
        items = [p for p in pending if p.image is not None]
        pending.clear()
        if not items:
            return
        failed: list[tuple[int, str]] = []
        restored: list[int] = []
        kept: list[int] = []
        try:
            results = library.add_images([p.image for p in items if p.image is not None], collection_ids,
                                         failed=failed, restored=restored, kept=kept)
        except DiskFull as exc:  # the next batches cannot fit either: stop, and say it once
            report.stopped, report.not_tried = str(exc), report.not_tried + len(items)
            return
        except StoreError as exc:  # the database cannot take them (locked): none is imported
            report.failed.extend((p.path, str(exc)) for p in items)
            return
        refused = dict(failed)  # a file that did not fit on the disk: the others are imported
        full = [i for i, reason in failed if is_disk_full(reason)]
        if full:  # this file and the rest of the batch did not fit: stop there
            report.stopped = refused[full[0]]
            report.not_tried += len(full)
        report.failed.extend((items[i].path, reason) for i, reason in failed if not is_disk_full(reason))
        stored = [p for i, p in enumerate(items) if i not in refused]
        back = set(restored)
        report.kept.update(kept)
        for prepared, (image_id, created) in zip(stored, results):
            if image_id in back:  # the first file of the picture brought it back; another is a duplicate
                back.discard(image_id)
                report.restored.append((prepared.path, image_id))
            else:
                (report.imported if created else report.duplicates).append((prepared.path, image_id))
            note = (prepared.image.params or {}).get("_note") if created and prepared.image is not None else None
            if note:
                report.notes.append((prepared.path, str(note)))

    def ordered() -> Iterator[Prepared]:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="import") as pool:
            queue: list[Future] = []
            source = iter(files)
            exhausted = False
            while True:
                while not exhausted and len(queue) < workers * 3:
                    try:
                        path = next(source)
                    except StopIteration:
                        exhausted = True
                        break
                    queue.append(pool.submit(prepare_file, path, options))
                if not queue:
                    return
                wait(queue[:1], return_when=FIRST_COMPLETED)
                yield queue.pop(0).result()
                if is_cancelled():
                    for future in queue:
                        future.cancel()
                    return

    for prepared in ordered():
        if prepared.error:
            report.failed.append((prepared.path, prepared.error))
        else:
            pending.append(prepared)
        done += 1
        if len(pending) >= batch:
            flush()
        if progress:
            progress(done, total, prepared.path)
        if report.stopped:
            break
        if is_cancelled():
            report.cancelled = done < total
            break
    if not report.stopped:
        flush()
    if report.stopped:
        report.not_tried += total - done
    return report
