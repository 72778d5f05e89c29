"""The trash (issue 16): a deleted image is kept, hidden, for TRASH_DAYS, and can be restored exactly.

Trashing an image sets its `trashed_at`; nothing else about it changes (favorite,
collections, dates, id: a restored image is back where it was). Restoring duplicates that a
merge trashed also takes back what they gave the kept image (duplicates.unmerge). Every query that shows,
counts or searches images leaves trashed ones out (library.py's SQL and the catalog).

A linked image (a file in a watched source folder, see sources.py) has its file moved
into the library's `trash/` folder and back on restore. The database is the truth and the
files follow it: the transaction that trashes (or restores) an image also records where
its files go (`TrashFile`), and only then are they moved (a hard link and an unlink on one
file system, never overwriting; a copy, fsync and unlink across file systems). A kill in
between leaves a record that says what is left to do, and `finish_moves` (run when a
library opens for writing, and by `doctor`) does it. Erasing (delete forever, empty, expiry)
goes through the library's ordinary delete: rows first, then files under the files lock.
"""
from __future__ import annotations

import errno
import filecmp
import os
import re
import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Iterator

from peewee import chunked

from .duplicates import unmerge
from .errors import StoreError
from .files import TMP_PREFIX, fsync_dir, write_bytes_atomic
from .models import Image, Source, SourceFile, TrashFile
from .records import ImageRecord, to_local, utc_now
from .text import plural, printable

if TYPE_CHECKING:
    from .library import Library

from .settings import TRASH_DAYS as TRASH_DAYS  # noqa: E402 - trashed images older than this are erased
TRASH_FOLDER = "trash"
_TRASH_NAME = re.compile(r"\d+-\d+-.+")
Renamed = dict[int, list[tuple[Path, Path]]]  # image id -> (old path, the new name its file went back under; the old
# path again: the same bytes were there, the image is that file)


def trash_days() -> int:
    """MYIMAGES_TRASH_DAYS, else `trash_days` in the settings file, else 30."""
    from .settings import current

    return current().trash_days


@dataclass(frozen=True)
class TrashedImage:
    record: ImageRecord
    trashed_at: datetime  # local, aware
    expires_at: datetime  # local, aware: erased then (when the app starts, or doctor runs, after it)
    restore_to: str = ""  # the source folder its file goes back into; "": the library's own copy (imported)


def _link(source: Path, target: Path, make_folder: bool) -> None:
    """The first half of a move: the file under its new name too (a hard link on one file system, else a copy
    fsynced and linked into place), never replacing a file. A target that is already the source is left as it is."""
    if make_folder:
        target.parent.mkdir(parents=True, exist_ok=True)
    elif not target.parent.is_dir():
        raise FileNotFoundError(errno.ENOENT, "folder not there", str(target.parent))
    try:
        os.link(source, target)
    except FileExistsError:
        if not os.path.samefile(source, target):
            raise
    except OSError as exc:
        if exc.errno not in (errno.EXDEV, errno.EPERM, errno.ENOTSUP, errno.EMLINK):
            raise
        tmp = target.parent / (TMP_PREFIX + "trash-" + target.name[:40])
        shutil.copy2(source, tmp)
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.link(tmp, target)  # fails if the name was taken meanwhile: nothing replaced
        tmp.unlink()


def _move_all(moves: list[tuple[Path, Path]], make_folder: bool = True) -> list[OSError | None]:
    """Move files without ever replacing one; returns each move's error (None: moved).

    Every new name is made durable (one fsync per folder) before any old name goes, then the old names'
    folders are synced: a batch costs a few fsyncs, not three a file (400 linked files took 9 s one by one).
    Without `make_folder` (back into a source folder) a missing target folder is FileNotFoundError: a folder
    that is gone (a disk not mounted) is never made again, where a file would hide under the mount point.
    Safe to repeat after a kill: a target that is already the source is only unlinked from its old name.
    """
    errors: list[OSError | None] = []
    for source, target in moves:
        try:
            _link(source, target, make_folder)
            errors.append(None)
        except OSError as exc:
            errors.append(exc)
    linked = [move for move, error in zip(moves, errors) if error is None]
    for folder in dict.fromkeys(target.parent for _, target in linked):
        fsync_dir(folder)
    for source, _ in linked:
        source.unlink(missing_ok=True)
    for folder in dict.fromkeys(source.parent for source, _ in linked):
        fsync_dir(folder)
    return errors


def _move(source: Path, target: Path, make_folder: bool = True) -> None:
    """Move one file (see _move_all); raises its error."""
    error = _move_all([(source, target)], make_folder)[0]
    if error is not None:
        raise error


def _free_name(path: Path, taken: set[Path] | None = None) -> Path:
    """The path, or "name (restored N).ext" beside it when another file took its place meanwhile (or a move
    of the same batch is about to: `taken`)."""
    taken = taken or set()
    if not os.path.lexists(path) and path not in taken:
        return path
    for n in range(1, 1000):
        candidate = path.with_name(f"{path.stem} (restored{'' if n == 1 else f' {n}'}){path.suffix}")
        if not os.path.lexists(candidate) and candidate not in taken:
            return candidate
    raise FileExistsError(errno.EEXIST, f"no free name for {path}")


def trash(library: "Library", image_ids: Iterable[int], then: Callable[[], object] | None = None) -> list[int]:
    """Move the account's images to the trash; returns their ids (NotFound for one that is not its own).
    `then` runs inside the transaction that trashes them (a duplicates merge records itself there)."""
    from . import sources

    ids = library._own_ids(image_ids)
    now = utc_now()
    plans: list[dict] = []
    locations: dict[int, str] = {}
    for image_id, files in sources.linked_paths(library, ids).items():
        for n, (path, size, mtime_ns) in enumerate(files):
            try:
                info = path.lstat()
            except OSError:
                continue
            if (info.st_size, info.st_mtime_ns) != (size, mtime_ns):
                continue  # not the file that was read: it is not this image any more, it stays
            relative = f"{TRASH_FOLDER}/{image_id}-{n}-{path.name}"
            plans.append({"image": image_id, "original": str(path), "trashed": relative, "moved": False})
            locations.setdefault(image_id, str(library.root / relative))
    with library.db.atomic():
        for chunk in chunked(ids, 500):
            Image.update(trashed_at=now).where(library._mine(), Image.id.in_(chunk)).execute()
        for chunk in chunked(plans, 500):
            TrashFile.insert_many(chunk).execute()
        for image_id, location in locations.items():
            Image.update(location=location).where(Image.id == image_id).execute()
        if then is not None:
            then()
    if plans:
        _finish(library, [image_id for image_id in locations])
    return ids


def restore(library: "Library", image_ids: Iterable[int],
            adopted: dict[int, str] | None = None, renamed: Renamed | None = None) -> list[int]:
    """Bring trashed images back as they were (files of linked ones back into their folders).

    A linked image whose folder is no longer a source (removed while it was in the trash) is not put back there,
    where nothing would follow it: the library keeps its picture as its own copy (an imported image), and the
    trash's file goes. Those are added to `adopted` ({image id: the folder its file was in}). A file whose old
    name another file took meanwhile goes back beside it under a new name: added to `renamed`
    ({image id: [(old path, new path)]}, said by renamed_sentence)."""
    from . import sources

    ids = library._own_ids(image_ids, trashed=True)
    files = list(TrashFile.select().where(TrashFile.image.in_(ids)).order_by(TrashFile.id)) if ids else []
    unfollowed = _unfollowed(library, files)
    roots = {Path(row.path): row for row in Source.select().where(Source.owner == library.account.id)}
    gone: dict[int, Path] = {}  # the source folder is not there: refused
    moved: dict[int, tuple[Path, Path]] = {}  # only a folder inside a source that is there: (that folder, source)
    for row in files:
        parent = Path(row.original).parent
        if row.image_id in unfollowed or parent.is_dir():
            continue
        root = sources._deepest(((path, path) for path in roots), parent)
        if root is None or sources.not_there(str(root), roots[root].mounted):
            gone.setdefault(row.image_id, root or parent)
        else:
            moved.setdefault(row.image_id, (parent, root))
    if gone:  # never made again (a disk not mounted: the file would hide under the mount point)
        image_id, folder = next(iter(gone.items()))
        others = f" (and {plural(len(gone) - 1, 'other image')} whose folder is gone)" if len(gone) > 1 else ""
        raise StoreError(f"#{image_id}{others} cannot go back: its source folder {folder} is not there (moved, "
                         "or a disk not mounted); nothing was restored. Bring the folder back, then restore.")
    # a folder inside a source renamed or moved away (the source is there): not made again under its old name,
    # where nothing of the user's is now; the picture is the library's own copy, as for a source no longer followed
    for image_id, (folder, root) in moved.items():
        if image_id not in unfollowed:
            held = next((library.root / row.trashed for row in files if row.image_id == image_id
                         and os.path.isfile(library.root / row.trashed)), None)
            unfollowed[image_id] = (FolderGone(str(folder), str(root)), held)
    kept = {image_id: folder for image_id, (folder, held) in unfollowed.items() if _keep_as_own(library, image_id, held)}
    files = [row for row in files if row.image_id not in kept]
    back: dict[int, str] = {}
    for row in files:
        back.setdefault(row.image_id, row.original)
    with library.db.atomic():
        for chunk in chunked(ids, 500):
            Image.update(trashed_at=None).where(library._mine(), Image.id.in_(chunk)).execute()
        for image_id, original in back.items():
            Image.update(location=original).where(Image.id == image_id).execute()
        for chunk in chunked(sorted(kept), 500):  # the library's own now; their trash files go after the commit
            Image.update(location="").where(Image.id.in_(chunk)).execute()
            TrashFile.delete().where(TrashFile.image.in_(chunk)).execute()
        # one whose picture the library got a copy of meanwhile (a copying source, an import) is its own now
        sources.own_copies(library, Image.select(Image.id, Image.sha256, Image.ext)
                           .where(Image.id.in_(list(back))).tuples() if back else [])
        unmerge(ids)  # duplicates merged into a kept image take back what they gave it
    if files:
        _finish(library, list(back), renamed)
    for image_id in kept:  # the picture is in originals/ now, and the records say so
        held = unfollowed[image_id][1]
        if held is not None:
            with library.files_lock.removing():
                held.unlink(missing_ok=True)
    if adopted is not None:
        adopted.update(kept)
    return ids


def _unfollowed(library: "Library", files: list[TrashFile]) -> dict[int, tuple[str, Path | None]]:
    """The images among these trash files whose every file was in a folder that no source of the account
    follows now: {image id: (that folder, the file that holds the picture now: in the trash, or None)}."""
    roots = [Path(p) for (p,) in Source.select(Source.path).where(Source.owner == library.account.id).tuples()]
    by_image: dict[int, list[TrashFile]] = {}
    for row in files:
        by_image.setdefault(row.image_id, []).append(row)
    out: dict[int, tuple[str, Path | None]] = {}
    for image_id, rows in by_image.items():
        if any(root == Path(row.original).parent or root in Path(row.original).parents
               for row in rows for root in roots):
            continue
        held = next((library.root / row.trashed for row in rows if os.path.isfile(library.root / row.trashed)), None)
        out[image_id] = (str(Path(rows[0].original).parent), held)
    return out


def _keep_as_own(library: "Library", image_id: int, held: Path | None) -> bool:
    """The picture of a trashed linked image copied into the library's originals (a hard link when it can be: the
    trash folder is in the library), synced, before the restore that makes it the library's own commits."""
    if held is None:
        return False
    row = Image.get_or_none(Image.id == image_id)
    if row is None:
        return False
    from .sources import _thumbnail

    target = library.files.original_path(row.sha256, row.ext)
    if not (target.is_file() and target.stat().st_size == held.stat().st_size):
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(held, target)
            fsync_dir(target.parent)
        except FileExistsError:
            if not target.is_file():
                return False
        except OSError:
            write_bytes_atomic(target, held.read_bytes())
    _thumbnail(library, row.sha256, str(target))  # an imported image has one (a linked one's is made when needed)
    return True


_BATCH = 200  # file moves made durable together, and recorded in one transaction


def _finish(library: "Library", image_ids: list[int] | None = None, renamed: Renamed | None = None) -> int:
    """Do the file moves the records ask for (all that are pending, or those of these images)."""
    query = (TrashFile.select(TrashFile.id, TrashFile.image, TrashFile.original, TrashFile.trashed, TrashFile.moved,
                              Image.trashed_at, Image.location, Image.sha256).join(Image))
    if image_ids is not None:
        query = query.where(TrashFile.image.in_(image_ids))
    else:
        query = query.where((TrashFile.moved == False) | Image.trashed_at.is_null())  # noqa: E712
    rows = list(query.tuples())
    done = 0
    first_error: OSError | None = None
    for batch in chunked(rows, _BATCH):
        for finish, wanted in ((_finish_into, True), (_finish_back, False)):
            part = [row for row in batch if (row[5] is not None) == wanted]
            if part:
                count, error = finish(library, part, renamed)
                done += count
                first_error = first_error or error
    if first_error is not None:
        raise first_error
    return done


def _finish_into(library: "Library", rows: list[tuple], _renamed: Renamed | None = None) -> tuple[int, OSError | None]:
    """Files of trashed images into the trash folder; the moves are recorded once they are durable."""
    moves: list[tuple[Path, Path]] = []
    movers: list[int] = []
    settled: list[int] = []  # nothing to move (its file is gone, or not the one read): recorded as done
    for row_id, _image, original, relative, moved, _trashed_at, _location, _sha in rows:
        if moved:
            continue
        trashed, original = library.root / relative, Path(original)
        if os.path.lexists(original) and (not os.path.lexists(trashed) or os.path.samefile(original, trashed)):
            moves.append((original, trashed))
            movers.append(row_id)
        else:
            settled.append(row_id)
    errors = _move_all(moves)
    settled += [row_id for row_id, error in zip(movers, errors) if error is None]
    with library.db.atomic():
        for chunk in chunked(settled, 500):
            TrashFile.update(moved=True).where(TrashFile.id.in_(chunk)).execute()
    return len(settled), next((error for error in errors if error is not None), None)


def _same_bytes(original: Path, trashed: Path) -> bool:
    """Whether the file now at a restored file's old name is a copy of it, byte for byte (a regular file, not a
    link: the user's own copy put back, or the generator's same picture written again)."""
    try:
        return original.is_file() and not original.is_symlink() and \
            original.stat().st_size == trashed.stat().st_size and filecmp.cmp(original, trashed, shallow=False)
    except OSError:
        return False


def _finish_back(library: "Library", rows: list[tuple], renamed: Renamed | None = None) -> tuple[int, OSError | None]:
    """Files of restored images back to their folders (beside their old name, if another file took it).

    When the file at the old name is the very same bytes (written back meanwhile), no second file is made: the image
    is that file again, and its copy in the trash goes once that is recorded (NEWUSER8 #16: a byte-identical
    "a (restored).png" was put beside it); `renamed` gets (old path, old path) for it."""
    moves: list[tuple[Path, Path]] = []
    movers: list[tuple] = []
    settled: list[int] = []  # its trash file is gone: nothing to move back, the record goes
    identical: list[tuple] = []  # its old name holds the same bytes: linked to that file, the trash's copy goes
    taken: set[Path] = set()
    for row in rows:
        trashed, original = library.root / row[3], Path(row[2])
        if not os.path.lexists(trashed):
            settled.append(row[0])
            continue
        same = os.path.lexists(original) and os.path.samefile(trashed, original)
        if not same and original not in taken and _same_bytes(original, trashed):
            identical.append(row)
            taken.add(original)
            continue
        target = original if same else _free_name(original, taken)
        taken.add(target)
        moves.append((trashed, target))
        movers.append(row)
    errors = _move_all(moves, make_folder=False)
    error = None
    sources = list(Source.select().where(Source.owner == library.account.id))
    with library.db.atomic():
        for (row_id, image_id, original, _rel, _moved, _at, location, sha256), (_, target), problem in zip(
                movers, moves, errors):
            if isinstance(problem, FileNotFoundError):
                continue  # its folder went after the restore was recorded: tried again later
            if problem is not None:
                error = error or problem
                continue
            _relink(image_id, sha256, Path(original), target, location, sources)
            settled.append(row_id)
            if renamed is not None and target != Path(original):
                renamed.setdefault(image_id, []).append((Path(original), target))
        for row_id, image_id, original, _rel, _moved, _at, location, sha256 in identical:
            _relink(image_id, sha256, Path(original), Path(original), location, sources)
            settled.append(row_id)
            if renamed is not None:
                renamed.setdefault(image_id, []).append((Path(original), Path(original)))
        for chunk in chunked(settled, 500):
            TrashFile.delete().where(TrashFile.id.in_(chunk)).execute()
    if identical:
        with library.files_lock.removing():  # recorded: the trash's copies of files that are back in their place go
            for row in identical:
                (library.root / row[3]).unlink(missing_ok=True)
    return len(settled), error


def _relink(image_id: int, sha256: str, original: Path, target: Path, location: str, sources: list) -> None:
    """The source's record of a file put back, as it is now (a rescan then sees it unchanged)."""
    info = target.stat()
    if target != original and location == str(original):
        Image.update(location=str(target)).where(Image.id == image_id).execute()
    for source in sorted(sources, key=lambda row: -len(Path(row.path).parts)):  # the innermost (sources._deepest)
        root = Path(source.path)
        if root in target.parents:
            row = {"source": source.id, "relpath": target.relative_to(root).as_posix(), "size": info.st_size,
                   "mtime_ns": info.st_mtime_ns, "sha256": sha256, "image": image_id, "error": ""}
            SourceFile.insert(**row).on_conflict(
                conflict_target=[SourceFile.source, SourceFile.relpath],
                update={getattr(SourceFile, k): v for k, v in row.items() if k not in ("source", "relpath")},
            ).execute()
            break


def finish_moves(library: "Library") -> int:
    """Moves a kill interrupted, done now; trash files no record knows (an erase killed before it unlinked) go."""
    done = _finish(library)
    folder = library.root / TRASH_FOLDER
    if folder.is_dir() and not folder.is_symlink():
        known = {t for (t,) in TrashFile.select(TrashFile.trashed).tuples()}
        for path in folder.iterdir():
            name = f"{TRASH_FOLDER}/{path.name}"
            if path.is_file() and not path.is_symlink() and name not in known and (
                    _TRASH_NAME.fullmatch(path.name) or path.name.startswith(TMP_PREFIX)):
                with library.files_lock.removing():
                    if not TrashFile.select().where(TrashFile.trashed == name).exists():
                        path.unlink(missing_ok=True)
                        done += 1
    return done


def trash_files_of(library: "Library", ids: list[int]) -> list[Path]:
    """The trash folder's files of these images (erased with them)."""
    out: list[Path] = []
    for chunk in chunked(ids, 500):
        out += [library.root / t for (t,) in TrashFile.select(TrashFile.trashed)
                .where(TrashFile.image.in_(chunk)).tuples()]
    return out


def trashed(library: "Library", offset: int = 0, limit: int | None = None) -> list[TrashedImage]:
    """The account's trashed images, the most recently deleted first (or `limit` of them from `offset`: a page
    of the trash view, which never reads the whole trash)."""
    days = trash_days()
    query = (library._select().where(library._mine(), Image.trashed_at.is_null(False))
             .order_by(Image.trashed_at.desc(), Image.id.desc()))
    if limit is not None:
        query = query.offset(offset).limit(limit)
    rows = list(query)
    records = library._records(rows)
    folders: dict[int, str] = {}
    for chunk in chunked([row.id for row in rows], 500):
        for image_id, original in (TrashFile.select(TrashFile.image, TrashFile.original)
                                   .where(TrashFile.image.in_(chunk)).order_by(TrashFile.id).tuples()):
            folders.setdefault(image_id, str(Path(original).parent))
    return [TrashedImage(record, to_local(row.trashed_at), to_local(row.trashed_at + timedelta(days=days)),
                         folders.get(row.id, "")) for record, row in zip(records, rows)]


def _stored(moment: datetime) -> datetime:
    """An aware time as the database keeps it (naive UTC)."""
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


def trash_position(library: "Library", image_id: int) -> int | None:
    """Where this image is in the trash's order (newest-deleted first), or None when it is not in the trash."""
    row = Image.get_or_none(library._mine(), Image.id == image_id, Image.trashed_at.is_null(False))
    if row is None:
        return None
    at = row.trashed_at
    return (Image.select().where(library._mine(), Image.trashed_at.is_null(False),
                                 (Image.trashed_at > at) | ((Image.trashed_at == at) & (Image.id > image_id)))
            .count())


def newest_trashed(library: "Library") -> datetime | None:
    """When the most recent delete to the trash was (local, aware), or None for an empty trash: what "every image in
    the trash" means at the time of a select-all (a delete made after it is not selected)."""
    row = (Image.select(Image.trashed_at).where(library._mine(), Image.trashed_at.is_null(False))
           .order_by(Image.trashed_at.desc()).limit(1).tuples().first())
    return to_local(row[0]) if row else None


def count_trashed(library: "Library", until: datetime | None = None, excluding: Iterable[int] = ()) -> int:
    """How many images are in the account's trash (deleted at `until` or before, when given), less `excluding`."""
    query = Image.select().where(library._mine(), Image.trashed_at.is_null(False))
    if until is not None:
        query = query.where(Image.trashed_at <= _stored(until))
    n = query.count()
    for chunk in chunked(sorted(set(excluding)), 500):
        n -= query.where(Image.id.in_(chunk)).count()
    return n


def trashed_ids_after(library: "Library", after: int, size: int, until: datetime | None = None) -> list[int]:
    """The next `size` ids of trashed images above `after`, in id order (a walk through the trash that holds one
    batch at a time: walk_ids)."""
    query = Image.select(Image.id).where(library._mine(), Image.trashed_at.is_null(False), Image.id > after)
    if until is not None:
        query = query.where(Image.trashed_at <= _stored(until))
    return [i for (i,) in query.order_by(Image.id).limit(size).tuples()]


def walk_ids(library: "Library", size: int, until: datetime | None = None,
             excluding: Iterable[int] = ()) -> Iterator[list[int]]:
    """Every trashed image's id (deleted at `until` or before, but `excluding`), `size` at a time, each batch read
    when the one before is done with: restoring or erasing a trash of a million images never holds all its ids.
    Safe while the batches are restored or erased (the walk goes on from the last id it gave)."""
    skip = set(excluding)
    after = 0
    while batch := library.trashed_ids_after(after, size, until):
        after = batch[-1]
        chunk = [i for i in batch if i not in skip]
        if chunk:
            yield chunk


def trashed_ids(library: "Library", older_than_days: float | None = None) -> list[int]:
    query = Image.select(Image.id).where(library._mine(), Image.trashed_at.is_null(False))
    if older_than_days is not None:
        query = query.where(Image.trashed_at < utc_now() - timedelta(days=older_than_days))
    return [i for (i,) in query.order_by(Image.id).tuples()]


class FolderGone(str):
    """In a restore's `adopted`: the folder an image's file was in, inside a source that is still followed and
    there, is not there any more (renamed or moved away by the user): the image is back as the library's own."""

    source: str

    def __new__(cls, folder: str, source: str) -> "FolderGone":
        made = super().__new__(cls, folder)
        made.source = source
        return made


def adopted_sentence(adopted: dict[int, str]) -> str:
    """What a restore did with images whose source folder is no longer followed, or whose folder inside a source is
    not there any more (Library.restore's `adopted`)."""
    inside = {i: f for i, f in adopted.items() if isinstance(f, FolderGone)}
    unfollowed = {i: f for i, f in adopted.items() if i not in inside}
    return " ".join(text for text in (_unfollowed_sentence(unfollowed), _gone_sentence(inside)) if text)


def _gone_sentence(adopted: dict[int, FolderGone]) -> str:
    if not adopted:
        return ""
    ids = sorted(adopted)
    first = adopted[ids[0]]
    place = f"{printable(_inside(first))} in your source {printable(first.source)}"
    if len(ids) == 1:
        return (f"#{ids[0]}: its folder {place} is not there any more (renamed or moved), so it is back as the "
                "library's own copy (no file was put in your folders).")
    shown = ", ".join(f"#{i}" for i in ids[:5]) + (" …" if len(ids) > 5 else "")
    more = " and others" if len({str(f) for f in adopted.values()}) > 1 else ""
    return (f"{shown}: their folders ({place}{more}) are not there any more (renamed or moved), so they are back "
            "as the library's own copies (no file was put in your folders).")


def _inside(folder: FolderGone) -> str:
    """The folder as a path inside its source, with a slash: "griffins/"."""
    try:
        return str(Path(folder).relative_to(folder.source)) + "/"
    except ValueError:
        return str(folder)


def _unfollowed_sentence(adopted: dict[int, str]) -> str:
    if not adopted:
        return ""
    ids = sorted(adopted)
    folders = sorted(set(adopted.values()))
    named = ", ".join(printable(f) for f in folders[:2]) + (" …" if len(folders) > 2 else "")
    if len(ids) == 1:
        return (f"#{ids[0]}: its source folder {named} is no longer followed, so it is back as the library's own "
                "copy (its file was not put back in that folder).")
    shown = ", ".join(f"#{i}" for i in ids[:5]) + (" …" if len(ids) > 5 else "")
    return (f"{shown}: their source folders ({named}) are no longer followed, so they are back as the library's "
            "own copies (their files were not put back in those folders).")


def renamed_sentence(renamed: Renamed) -> str:
    """What a restore did with files whose old name another file took meanwhile (restore's `renamed`), plainly:
    '#7: its old name a.png in /out is taken by another file now, so the restored file is named "a (restored).png".'
    """
    found = [(image_id, old) for image_id in sorted(renamed) for old, new in renamed[image_id] if old == new]
    pairs = [(image_id, old, new) for image_id in sorted(renamed) for old, new in renamed[image_id] if old != new]
    said = _found_sentence(found)
    if not pairs:
        return said
    return " ".join(filter(None, (_renamed_sentence(pairs), said)))


def _found_sentence(found: list[tuple[int, Path]]) -> str:
    """Restored files whose old name holds the same bytes now: the images are those files, no copy made."""
    if not found:
        return ""
    if len(found) == 1:
        image_id, old = found[0]
        return (f"#{image_id}: its old name {printable(old.name)} in {printable(str(old.parent))} holds the same "
                "file now, byte for byte: the image is that file again, and its copy in the trash was removed (no "
                "second file made).")
    named = ", ".join(f"#{image_id} {printable(old.name)}" for image_id, old in found[:3])
    more = f" and {plural(len(found) - 3, 'other')}" if len(found) > 3 else ""
    return (f"{len(found):,} restored images found the same file at their old names, byte for byte ({named}{more}): "
            "each is that file again, and their copies in the trash were removed (no second file made).")


def _renamed_sentence(pairs: list[tuple[int, Path, Path]]) -> str:
    if len(pairs) == 1:
        image_id, old, new = pairs[0]
        return (f"#{image_id}: its old name {printable(old.name)} in {printable(str(old.parent))} is taken by another "
                f'file now, so the restored file is named "{printable(new.name)}" (the other file was not touched).')
    named = "; ".join(f'#{image_id}\'s {printable(old.name)} is named "{printable(new.name)}"'
                      for image_id, old, new in pairs[:3])
    more = f"; and {plural(len(pairs) - 3, 'other file')}" if len(pairs) > 3 else ""
    return (f"{len(pairs):,} restored files have new names, as their old names are taken by other files now (those "
            f"were not touched): {named}{more}.")
