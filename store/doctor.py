"""Finding and repairing what a crash or a hand-edit can leave behind.

For the acting account's records (a doctor run never reports or touches another
account's images, and says only counts about the library as a whole):
- missing thumbnails, made again from the original;
- missing or damaged mini thumbnails (files.MINI_SIZE, what the cards draw), made again from the thumbnail: a
  cache, so neither a fault nor a reason to run doctor again;
- records whose original file is gone: reported, and removed on request.

For the library folder as a whole:
- leftover temporary files from writes that never finished;
- orphan files: originals, thumbnails or minis that no record of any account points to
  (a crash between writing the files and committing the record, or after a
  delete committed).

A file is only ever removed when all of these hold: it lies inside the library's
own `originals/`, `thumbs/` or `minis/` folder (not reached through a link); its name is
one the library itself writes (a content hash, or a temporary name); no record
of any account points to it; and no import is running in any process (the files
lock, see file_lock.py, held exclusively for the whole pass). Anything else
is reported and left alone.
"""
from __future__ import annotations

import io
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from peewee import chunked
from PIL import Image

from .errors import StoreError
from .files import TMP_PREFIX, make_thumbnail
from .formats import STORED_EXTENSIONS
from .library import Library
from .models import Image as ImageRow
from .models import Source as SourceRow
from .sources import _thumbnail as make_linked_thumbnail
from .sources import not_there, own_copies
from .text import plural
from .trash import trash_days

_HASH_FOLDER = re.compile(r"[0-9a-f]{2}")
_ORIGINAL = re.compile(r"([0-9a-f]{64})\.(" + "|".join(STORED_EXTENSIONS) + ")")
_THUMBNAIL = re.compile(r"([0-9a-f]{64})\.png")
_TEMPORARY = re.compile(re.escape(TMP_PREFIX) + r"[a-z0-9_]{8}")


def integrity_of_file(path: Path, most: int = 10) -> list[str]:
    """What SQLite's integrity check says of a database file that cannot be opened as a library (damaged), read
    only: its first `most` lines, or why it could not even look."""
    import sqlite3

    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            rows = connection.execute(f"PRAGMA integrity_check({int(most)})").fetchall()
        finally:
            connection.close()
    except sqlite3.Error as exc:
        return [f"SQLite cannot check it: {exc}"]
    return [str(row[0]) for row in rows]


@dataclass
class DoctorReport:
    leftovers_removed: list[Path] = field(default_factory=list)
    orphans_removed: list[Path] = field(default_factory=list)
    left_alone: list[Path] = field(default_factory=list)  # files the library did not write
    not_walked: list[Path] = field(default_factory=list)  # originals/ or thumbs/ that are links
    busy: bool = False  # another process was importing: nothing was removed
    read_only: bool = False
    thumbnails_made: list[int] = field(default_factory=list)
    minis_made: list[int] = field(default_factory=list)  # missing or damaged minis made again (not a fault)
    missing_originals: list[int] = field(default_factory=list)
    missing_linked: list[int] = field(default_factory=list)  # linked files not where the record says
    # linked images whose source folder is not there (moved, a disk unmounted), by folder: kept until it is back
    away: dict[str, list[int]] = field(default_factory=dict)
    # imported images an older version pointed at a file of the same picture in a source, now gone: they are
    # the library's own copy again (sources.own_copies)
    adopted: list[int] = field(default_factory=list)
    unreadable: list[int] = field(default_factory=list)
    damaged: list[int] = field(default_factory=list)  # a file that is there but cannot be decoded (cut short…)
    records_removed: list[int] = field(default_factory=list)
    refused_removal: str = ""
    integrity: str = "ok"
    trash_expired: int = 0  # images in the trash longer than trash_days(), erased
    trash_moves: int = 0  # linked files' moves into or out of the trash a kill interrupted, finished
    lost_forgotten: int = 0  # linked pictures gone from their folders for longer than trash_days(): forgotten
    # files no record uses (or temporary ones) younger than doctor's minimum age: an import may be writing them
    recent: list[Path] = field(default_factory=list)
    recent_minutes: int = 10
    erases: int = 0  # files in source folders of images erased for good, whose deletion a kill interrupted

    @property
    def clean(self) -> bool:
        return not (self.leftovers_removed or self.orphans_removed or self.thumbnails_made or self.adopted
                    or self.missing_originals or self.unreadable or self.damaged) and self.integrity == "ok"

    @property
    def needs_user(self) -> bool:
        """The report names something doctor did not put right and the user has to look at (or a part it could
        not do now and asks to be run again for): `myimages doctor` exits 1. Images of a source folder that is not
        there wait for it and need nothing; an `originals/` or `thumbs/` that is a link is a setup, not a fault."""
        return bool(self.integrity != "ok" or (self.missing_originals and not self.records_removed)
                    or self.unreadable or self.damaged or self.missing_linked or self.left_alone
                    or self.busy or self.recent)

    def lines(self) -> list[str]:
        out = [f"database integrity: {self.integrity}"]
        if self.read_only:
            out.append("the library is read-only for you: nothing was changed")
        if self.busy:
            out.append("an import is running in another process: orphan files were left alone "
                       "(run doctor again when it is done)")
        out.append(f"{plural(len(self.leftovers_removed), 'unfinished temporary file')} removed")
        out.append(f"{plural(len(self.orphans_removed), 'orphan file')} removed")
        if self.recent:
            n = len(self.recent)
            out.append(f"{plural(n, 'file')} no record uses {'is' if n == 1 else 'are'} less than "
                       f"{plural(self.recent_minutes, 'minute')} old and {'was' if n == 1 else 'were'} left (an import "
                       "may be writing them): run `myimages doctor` again later")
        if self.left_alone:
            n = len(self.left_alone)
            out.append(f"{plural(n, 'file')} the library did not write {'was' if n == 1 else 'were'} left alone, "
                       f"e.g. {self.left_alone[0]}: move {'it' if n == 1 else 'them'} out of the library's folders "
                       f"(or delete {'it' if n == 1 else 'them'}); doctor never deletes a file it did not write")
        for path in self.not_walked:
            out.append(f"{path} is a link, not a folder of the library: it was not looked into")
        out.append(f"{plural(len(self.thumbnails_made), 'missing thumbnail')} made again")
        if self.minis_made:
            out.append(f"{plural(len(self.minis_made), 'missing or damaged mini thumbnail')} made again")
        if self.trash_expired:
            out.append(f"{self.trash_expired:,} of your images {'was' if self.trash_expired == 1 else 'were'} in the "
                       f"trash for more than {trash_days()} days: erased")
        if self.lost_forgotten:
            n = self.lost_forgotten
            out.append(f"{plural(n, 'linked picture')} gone from {'its' if n == 1 else 'their'} folder for more than "
                       f"{trash_days()} days: forgotten (should {'it' if n == 1 else 'one'} come back, it is a new "
                       "image)")
        if self.trash_moves:
            out.append(f"{plural(self.trash_moves, 'interrupted move')} of files into or out of the trash finished")
        if self.erases:
            out.append(f"{plural(self.erases, 'interrupted deletion')} of files in source folders finished "
                       "(images deleted for good)")
        if self.unreadable:
            n = len(self.unreadable)
            out.append(f"{n:,} of your images' files cannot be read (check {'its' if n == 1 else 'their'} "
                       f"permissions): {_ids(self.unreadable)}")
        if self.damaged:
            n = len(self.damaged)
            out.append(f"{n:,} of your images' files cannot be decoded (damaged, perhaps cut short): "
                       f"{_ids(self.damaged)}; nothing was changed: put the whole file back (a linked one is taken "
                       f"in again when it is written whole) or delete {'it' if n == 1 else 'them'}")
        if self.missing_originals:
            n = len(self.missing_originals)
            if self.records_removed:
                verb = "record removed" if n == 1 else "records removed"
            elif self.refused_removal:
                verb = self.refused_removal
            else:
                verb = f"run `myimages doctor --remove-missing` to drop {'it' if n == 1 else 'them'}"
            out.append(f"{n:,} of your images {'has lost its' if n == 1 else 'have lost their'} file: "
                       f"{_ids(self.missing_originals)} ({verb})")
        else:
            out.append("every one of your images has its file")
        if self.adopted:
            out.append(f"{plural(len(self.adopted), 'imported image')} pointed at a file in a source folder that "
                       f"is gone: {'it shows' if len(self.adopted) == 1 else 'they show'} the library's own copy "
                       f"again: {_ids(self.adopted)}")
        for folder, ids in sorted(self.away.items()):
            n = len(ids)
            out.append(f"{n:,} of your linked images {'is' if n == 1 else 'are'} in {folder}, which is not there "
                       f"(moved, or a disk not mounted): {_ids(ids)}; {'it stays' if n == 1 else 'they stay'} in the "
                       "library until the folder is back (`myimages source list` marks it), nothing to do")
        if self.missing_linked:
            n = len(self.missing_linked)
            out.append(f"{n:,} of your linked images' files {'is not where it was' if n == 1 else 'are not where they were'}: "
                       f"{_ids(self.missing_linked)} (`myimages source scan` follows moves and drops the gone)")
        return out


def _ids(ids: list[int]) -> str:
    more = "" if len(ids) <= 20 else f" and {len(ids) - 20:,} more"
    return ", ".join(f"#{i}" for i in ids[:20]) + more


def check(library: Library, *, min_age: float = 600.0, remove_missing: bool = False) -> DoctorReport:
    with library.bound():  # the models use this library's database
        return _check(library, min_age, remove_missing)


def _check(library: Library, min_age: float, remove_missing: bool) -> DoctorReport:
    report = DoctorReport(read_only=library.read_only)
    if not library.uses_postgres:
        rows = library.db.execute_sql("PRAGMA integrity_check").fetchall()
        report.integrity = ", ".join(r[0] for r in rows[:5])
    if not library.read_only:
        report.trash_moves = library.finish_trash_moves()
        report.erases = library.finish_erases()
        report.trash_expired = library.expire_trash()
        report.lost_forgotten = library.expire_lost()
    _check_own_records(library, report)
    if remove_missing and report.missing_originals and not library.read_only:
        _remove_missing(library, report)
    if library.read_only:
        return report
    with library.files_lock.removing(wait=False) as held:
        if not held:
            report.busy = True
            return report
        _remove_orphans(library, report, min_age)
    return report


def _check_own_records(library: Library, report: DoctorReport) -> None:
    query = (ImageRow.select(ImageRow.id, ImageRow.sha256, ImageRow.ext, ImageRow.location)
             .where(ImageRow.owner == library.account.id).order_by(ImageRow.id).tuples())
    folders = [(str(path), mounted) for (path, mounted) in SourceRow.select(SourceRow.path, SourceRow.mounted)
               .where(SourceRow.owner == library.account.id).tuples()]
    for image_id, sha256, ext, location in query.iterator():
        if location:  # a linked file in a source folder: its thumbnail is made when needed
            if not os.path.exists(location):
                away = next((f for f, mounted in folders if location.startswith(f.rstrip("/") + "/")
                             and not_there(f, mounted)), None)
                if not library.read_only and own_copies(library, [(image_id, sha256, ext)]):
                    report.adopted.append(image_id)  # an imported image an older version pointed at a twin
                elif away is not None:  # a scan changes nothing for a folder that is not there: they are kept
                    report.away.setdefault(away, []).append(image_id)
                else:
                    report.missing_linked.append(image_id)
            elif not library.read_only and not library.files.thumbnail_path(sha256).exists():
                # its thumbnail is made here as the watcher would; one that cannot be is a file that cannot be
                # decoded (a scan that read its header only took it in: the app showed "(no picture)")
                if make_linked_thumbnail(library, sha256, location):
                    report.thumbnails_made.append(image_id)
                else:
                    (report.damaged if os.access(location, os.R_OK) else report.unreadable).append(image_id)
            elif not library.read_only:
                _check_mini(library, report, image_id, sha256)
            continue
        original = library.files.original_path(sha256, ext)
        if not original.exists():
            report.missing_originals.append(image_id)
            continue
        thumb = library.files.thumbnail_path(sha256)
        if library.read_only:
            continue
        if thumb.exists():
            _check_mini(library, report, image_id, sha256)
            continue
        try:
            data = original.read_bytes()
        except OSError:
            report.unreadable.append(image_id)
            continue
        try:
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                library.files.put_thumbnail(sha256, make_thumbnail(image))  # and its mini
            report.thumbnails_made.append(image_id)
        except OSError as exc:
            if isinstance(exc, (PermissionError, FileNotFoundError)) or exc.errno is not None:
                raise StoreError(f"Cannot write the thumbnail {thumb}: {exc.strerror or exc}.") from exc
            report.damaged.append(image_id)  # Pillow cannot decode it
        except Exception:  # noqa: BLE001 - a damaged original is reported, never removed
            report.damaged.append(image_id)


def _check_mini(library: Library, report: DoctorReport, image_id: int, sha256: str) -> None:
    """An image with a thumbnail: its mini made again from it if it is missing or cannot be decoded."""
    try:
        with Image.open(library.files.mini_path(sha256)) as mini:
            mini.load()
        return
    except Exception:  # noqa: BLE001 - missing, cut short, not a picture: made again
        pass
    try:
        made = library.files.make_mini(sha256)
    except OSError as exc:
        raise StoreError(f"Cannot write the mini thumbnail {library.files.mini_path(sha256)}: "
                         f"{exc.strerror or exc}.") from exc
    if made:  # (a thumbnail that cannot be read: the card shows the original's, or nothing, as before)
        report.minis_made.append(image_id)


def _remove_missing(library: Library, report: DoctorReport) -> None:
    total = ImageRow.select().where(ImageRow.owner == library.account.id).count()
    if len(report.missing_originals) == total and total > 1:
        report.refused_removal = ("not removed: every one of your images has lost its file, which looks like "
                                  "the wrong library folder; delete them with `myimages delete` if they really are gone")
        return
    library.delete(report.missing_originals)  # their thumbnails go too, where no other record uses them
    report.records_removed = list(report.missing_originals)


def _library_folders(library: Library, report: DoctorReport) -> Iterator[tuple[str, Path]]:
    """("originals" | "thumbs" | "minis", the folder) for each of the library's own folders that is a real folder."""
    files = library.files
    for kind, top in (("originals", files.originals), ("thumbs", files.thumbs), ("minis", files.minis)):
        if top.is_symlink():
            report.not_walked.append(top)
        elif top.is_dir():
            yield kind, top


def _remove_orphans(library: Library, report: DoctorReport, min_age: float) -> None:
    now = time.time()
    for kind, top in _library_folders(library, report):
        pattern = _ORIGINAL if kind == "originals" else _THUMBNAIL
        for folder, _dirs, names in os.walk(top):  # never follows links
            here = Path(folder)
            ours = here.parent == top and _HASH_FOLDER.fullmatch(here.name) is not None
            candidates: dict[str, list[Path]] = {}
            young: dict[str, list[Path]] = {}  # an import may be writing them: left, and said
            for name in names:
                path = here / name
                if not ours or path.is_symlink():
                    report.left_alone.append(path)
                    continue
                recent = _age(path, now) < min_age
                if _TEMPORARY.fullmatch(name):
                    if recent:
                        report.recent.append(path)
                    else:
                        path.unlink(missing_ok=True)
                        report.leftovers_removed.append(path)
                    continue
                match = pattern.fullmatch(name)
                if match is None or not match.group(1).startswith(here.name):
                    report.left_alone.append(path)
                    continue
                (young if recent else candidates).setdefault(match.group(1), []).append(path)
            for path in _unreferenced(candidates, kind):
                path.unlink(missing_ok=True)
                report.orphans_removed.append(path)
            report.recent.extend(_unreferenced(young, kind))
    report.recent_minutes = max(1, round(min_age / 60))


def _age(path: Path, now: float) -> float:
    try:
        return now - path.lstat().st_mtime
    except OSError:
        return 0.0


def _unreferenced(candidates: dict[str, list[Path]], kind: str) -> list[Path]:
    """The files no record of any account points to (an original must also have the record's type)."""
    known: dict[str, set[str]] = {}
    for chunk in chunked(list(candidates), 500):
        for sha256, ext in ImageRow.select(ImageRow.sha256, ImageRow.ext).where(ImageRow.sha256.in_(chunk)).tuples():
            known.setdefault(sha256, set()).add(ext)
    orphans = []
    for sha256, paths in candidates.items():
        for path in paths:
            if sha256 not in known or (kind == "originals" and path.suffix[1:] not in known[sha256]):
                orphans.append(path)
    return orphans
