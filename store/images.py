"""Changing images: adding them (files, then rows), favorites, deleting (rows, then files).

Part of the Library façade (store/library.py). Files are written before the rows that point to
them and removed after the rows that pointed to them are gone, under the files lock (file_lock.py).
"""
from __future__ import annotations

import errno
import json
import shutil
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable, Sequence, cast

from peewee import chunked

from .database import bulk_insert, boundary
from .errors import StoreError
from .files import DISK_RESERVE
from .image_collections import Collections
from .models import Image, ImageCollection
from .records import utc_now
from .stacks import batch_key
from .text import plural, prompt_sort_key, storable

if TYPE_CHECKING:
    from .library import Library

DISK_FULL = "the disk holding the library is full"  # how a file refused for want of space starts its reason


def is_disk_full(reason: str) -> bool:
    """A reason `add_images` gave for a file it could not store: the disk is full (the next would fail too)."""
    return reason.startswith(DISK_FULL)


@dataclass
class NewImage:
    """Everything needed to add one image (files already made, not yet stored)."""

    sha256: str
    ext: str
    data: bytes
    thumbnail: bytes
    width: int
    height: int
    prompt: str = ""
    negative_prompt: str = ""
    model: str = ""
    text_accuracy: str = ""
    generated_at: Any = None  # naive UTC datetime
    params: dict[str, Any] | None = None
    source_name: str = ""
    parent_id: int | None = None
    derivation: str = ""
    location: str = ""  # a file in a watched source folder, linked where it is: no copy is stored (data unused)
    file_size: int | None = None  # when `data` is not given (linked files)
    mini: bytes | None = None  # the mini thumbnail's PNG when made with the thumbnail; None: made from it on store
    phash: str | None = None  # perceptual hashes (duplicates.py); None: made later by fill_perceptual_hashes
    dhash: str | None = None
    # an image that was in the library (a linked file that left its folder and came back: sources._bring_back):
    # its id, never used by another (ids are never reused), and when it was first imported
    keep_id: int | None = None
    imported_at: Any = None  # naive UTC datetime


class Images(Collections):
    # -- adding images -----------------------------------------------------------------------------

    @boundary
    def find_by_hash(self, sha256: str) -> int | None:
        row = Image.select(Image.id).where(self._mine(), Image.sha256 == sha256).first()
        return row.id if row else None

    @boundary
    def ids_by_hash(self, hashes: Sequence[str]) -> dict[str, int]:
        """The account's images with these contents: {sha256: id}."""
        return self._ids_by_hash(hashes)

    def _ids_by_hash(self, hashes: Sequence[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        # plain SQL: peewee's building of a 500-value IN list costs more than the look-up (large scans)
        for part in chunked(list(dict.fromkeys(hashes)), 500):
            marks = ", ".join([self.db.param] * len(part))
            found.update(self.db.execute_sql(
                f'SELECT "sha256", "id" FROM "image" WHERE "owner_id" = {self.db.param} AND "sha256" IN ({marks})',
                [self.account.id, *part]).fetchall())
        return found

    @boundary
    def add_images(self, items: Sequence[NewImage], collection_ids: Sequence[int] = (),
                   failed: list[tuple[int, str]] | None = None,
                   restore_trashed: bool = True, restored: list[int] | None = None,
                   kept: list[int] | None = None) -> list[tuple[int, bool]]:
        """Store files, then rows; returns (id, created) per item, created False for a duplicate.

        An imported image in the trash that is imported again comes back (the user asked for it again);
        with `restore_trashed` False (a watched folder's file of the same picture) it stays in the trash.
        With `restored` given, the ids of those that came back from the trash are added there (their result
        is (id, False), as a duplicate's).
        An item with its data (imported, or from a copying source) whose picture the library only links (a
        file in a watched folder) gets its copy stored, and the image becomes the library's own: the file in
        the folder may go, the picture stays, as importing promised. With `kept` given, their ids are added there.

        Files are written first (atomically), under the files lock shared, which
        is held until the rows commit: a delete or `doctor` never removes a file
        between this finding (or writing) it and its record being committed.

        With `failed` given, an item whose file cannot be written (a full disk)
        is left out and (its index, the reason) added there, and the others
        are stored; the result then holds the stored items only. Without it,
        the first failure raises and nothing is stored. Files written for
        items that end up not stored are removed again.
        """
        self._check_writable()
        for cid in collection_ids:
            self._own_collection(cid)
        parents = [item.parent_id for item in items if item.parent_id is not None]
        if parents:
            self._own_ids(parents)
        written: list[tuple[str, str]] = []
        try:
            with self.files_lock.adding():
                present = self._ids_by_hash([item.sha256 for item in items])
                linked = self._linked_among(present, items)
                stored = self._store_files(items, present, linked, written, failed)
                adopted = [linked[item.sha256] for item in stored if item.sha256 in linked]
                results = self._insert_rows(stored, collection_ids, restore_trashed, adopted, restored)
                if kept is not None:
                    kept.extend(adopted)
            written.clear()  # committed: the files are referenced now
        finally:
            self._remove_unreferenced(written)
        return results

    def _linked_among(self, present: dict[str, int], items: Sequence[NewImage]) -> dict[str, int]:
        """Of the present images that these items bring data for, those the library only links: {sha256: id}."""
        wanted = {present[item.sha256] for item in items if item.sha256 in present and not item.location}
        out: dict[str, int] = {}
        for chunk in chunked(sorted(wanted), 500):
            out.update(Image.select(Image.sha256, Image.id).where(Image.id.in_(chunk), Image.location != "")
                       .tuples())
        return out

    def _store_files(self, items: Sequence[NewImage], present: dict[str, int], linked: dict[str, int],
                     written: list[tuple[str, str]], failed: list[tuple[int, str]] | None) -> list[NewImage]:
        stored: list[NewImage] = []
        for index, item in enumerate(items):
            if (item.sha256 not in present or item.sha256 in linked) and not item.location:
                try:
                    free = shutil.disk_usage(self.root).free
                    if free < len(item.data) + len(item.thumbnail) + DISK_RESERVE:
                        raise OSError(errno.ENOSPC, f"not enough free disk space ({free // 1024:,} KB free)")
                    if self.files.store(item.sha256, item.ext, item.data, item.thumbnail, item.mini):
                        written.append((item.sha256, item.ext))
                except OSError as exc:
                    written.append((item.sha256, item.ext))  # an original may be in place: removed if unused
                    if failed is None:
                        raise
                    if exc.errno == errno.ENOSPC:
                        failed.append((index, f"{DISK_FULL} ({_free_space(self.root)} free)"))
                    else:
                        failed.append((index, f"cannot write to the library: {exc.strerror or exc}"))
                    continue
            stored.append(item)
        return stored

    def _insert_rows(self, items: Sequence[NewImage], collection_ids: Sequence[int], restore_trashed: bool,
                     adopted: Sequence[int] = (), restored: list[int] | None = None) -> list[tuple[int, bool]]:
        now = utc_now()
        with self.db.atomic():
            for chunk in chunked(sorted(set(adopted)), 500):  # their copy is stored now: the library's own
                # (a trashed one keeps its trash record; its copy makes it the library's own once restored)
                Image.update(location="").where(Image.id.in_(chunk), Image.trashed_at.is_null()).execute()
            present = self._ids_by_hash([item.sha256 for item in items])  # again, inside the lock
            if present and restore_trashed:  # imported again while in the trash: it comes back (a linked one
                # comes back by restore)
                for chunk in chunked(list(present.values()), 500):
                    back = Image.select(Image.id).where(Image.id.in_(chunk), Image.trashed_at.is_null(False),
                                                        Image.location == "")
                    if restored is not None:
                        restored.extend(i for (i,) in back.tuples())
                    Image.update(trashed_at=None).where(Image.id.in_(back)).execute()
            rows: list[dict[str, Any]] = []
            seen = set(present)
            for item in items:
                if item.sha256 in seen:
                    continue
                seen.add(item.sha256)
                rows.append({
                    "owner": self.account.id,
                    "prompt": item.prompt,
                    "prompt_key": prompt_sort_key(item.prompt),
                    "negative_prompt": item.negative_prompt,
                    "model": item.model,
                    "text_accuracy": item.text_accuracy,
                    "generated_at": item.generated_at or now,
                    "imported_at": item.imported_at or now,
                    "width": item.width,
                    "height": item.height,
                    "file_size": len(item.data) if item.file_size is None else item.file_size,
                    "sha256": item.sha256,
                    "ext": item.ext,
                    "params": json.dumps(item.params or {}, ensure_ascii=False, default=str),
                    "source_name": storable(item.source_name),
                    "parent": item.parent_id,
                    "derivation": item.derivation,
                    "location": item.location,
                    "phash": item.phash or "",  # "": made later (fill_perceptual_hashes)
                    "dhash": item.dhash or "",
                    "batch": batch_key(self.account.id, item.prompt, item.negative_prompt, item.model,
                                       item.text_accuracy, item.width, item.height, item.params,
                                       derived=bool(item.derivation or item.parent_id)),
                } | ({"id": item.keep_id} if item.keep_id is not None else {}))
            # another process adding the same picture meanwhile (the app's watcher and `myimages watch` on one
            # folder, on PostgreSQL, whose transactions do not wait for each other's reads): its row is the image,
            # not a failure of the whole batch ("duplicate key value violates unique constraint", new-user test 10)
            inserted: set[str] = set()  # the pictures whose row this insert wrote (not another process's)
            for part in ([row for row in rows if "id" not in row], [row for row in rows if "id" in row]):
                inserted.update(bulk_insert(self.db, Image, part, conflict=("owner", "sha256"), keep_existing=True,
                                            returning="sha256"))
            new_ids = self._ids_by_hash([row["sha256"] for row in rows])
            results: list[tuple[int, bool]] = []
            created: set[str] = set()
            for item in items:
                if item.sha256 in present:
                    results.append((present[item.sha256], False))
                elif item.sha256 in created or item.sha256 not in inserted:
                    # the same file twice in one batch; or the other process's row: already there, not made here
                    results.append((new_ids[item.sha256], False))
                else:
                    created.add(item.sha256)
                    results.append((new_ids[item.sha256], True))
            ids = list(dict.fromkeys(i for i, _ in results))
            for cid in collection_ids:
                links = [{"image": i, "collection": cid} for i in ids]
                for chunk in chunked(links, 500):
                    ImageCollection.insert_many(chunk).on_conflict_ignore().execute()
        return results

    # -- favorites ---------------------------------------------------------------------------------

    @boundary
    def set_favorite(self, image_ids: Iterable[int], value: bool = True) -> int:
        self._check_writable()
        ids = self._own_ids(image_ids)
        with self.db.atomic():
            for chunk in chunked(ids, 500):
                Image.update(favorite=value).where(self._mine(), Image.id.in_(chunk)).execute()
        return len(ids)

    @boundary
    def favorites_among(self, image_ids: Iterable[int]) -> int:
        """How many of these images (the account's own, not in the trash) are favorites."""
        ids = sorted(set(image_ids))
        count = 0
        for chunk in chunked(ids, 500):
            count += Image.select().where(self._mine(), Image.favorite == True,  # noqa: E712 - SQL
                                          Image.trashed_at.is_null(), Image.id.in_(chunk)).count()
        return count

    @boundary
    def toggle_favorite(self, image_id: int) -> bool:
        self._check_writable()
        with self.db.atomic():
            row = Image.get_or_none((Image.id == image_id) & self._mine() & Image.trashed_at.is_null())
            if row is None:
                self._own_ids([image_id])  # raises the right error
            value = not row.favorite
            Image.update(favorite=value).where(Image.id == image_id).execute()
        return value

    # -- deleting ----------------------------------------------------------------------------------

    @boundary
    def delete(self, image_ids: Iterable[int]) -> int:
        """Erase images (in the trash or not), their memberships and (when nothing else uses them) their files.

        The database commits first; files go after, so a crash in between
        leaves only orphan files, which `doctor` removes. A linked image's file
        in its source folder is deleted too, if it is still the file that was
        read (same size and modification time); otherwise it is left, and said.

        Erasing frees room, so it is tried on a full disk too (a library opened read only on one, or one whose disk
        filled since): room.py gives the database the room it needs to commit first.
        """
        from . import room

        self._check_erasable()
        ids = self._own_ids(image_ids, trashed=None)
        return room.erase(cast("Library", self), ids, self._erase_now)

    def _erase_now(self, ids: list[int]) -> int:
        """`delete`'s work, on the library as it is (inside a store call)."""
        from . import sources, trash

        library = cast("Library", self)  # what sources.py and trash.py take: this library's façade
        self._check_writable()
        ids = self._own_ids(ids, trashed=None)
        in_the_open = [i for chunk in chunked(ids, 500) for (i,) in Image.select(Image.id).where(
            Image.id.in_(chunk), Image.trashed_at.is_null()).tuples()]
        shared: list[int] = []  # files in a folder another account follows too: not ours alone, left in place
        linked = sources.linked_paths(library, in_the_open, shared)  # a trashed one's file is in the trash folder
        in_trash = trash.trash_files_of(library, ids)
        twins = sources.twin_files(library, ids)  # the same picture in a watched folder: not the image's file
        def then() -> None:
            sources.leave_twins(library, twins)
            sources.leave_twins(library, shared, sources.SHARED_LEFT)
            sources.mark_erasing(library, linked)

        self._delete_rows(ids, then=then)
        for path in in_trash:  # the trash folder's copies of linked files: the library's own now
            path.unlink(missing_ok=True)
        problems = sources.delete_linked_files(library, linked)
        if problems:
            raise StoreError(f"Deleted {plural(len(ids), 'image')}, but {problems[0]}"
                             + (f" (and {len(problems) - 1:,} more)" if len(problems) > 1 else "") + ".")
        return len(ids)

    @boundary
    def forget(self, image_ids: Sequence[int]) -> None:
        """Drop records whose files are not the library's to delete (linked files gone, a source removed):
        their memberships go with them, and thumbnails no record uses any more; no source file is touched."""
        self._check_writable()
        ids = [int(i) for i in image_ids]
        self._delete_rows(ids)

    def _delete_rows(self, ids: list[int], then: Callable[[], object] | None = None) -> None:
        """The rows go (and `then` runs in the same transaction); their files after the commit."""
        files: set[tuple[str, str]] = set()
        with self.db.atomic():
            for chunk in chunked(ids, 500):
                files.update(Image.select(Image.sha256, Image.ext).where(Image.id.in_(chunk)).tuples())
                ImageCollection.delete().where(ImageCollection.image.in_(chunk)).execute()
                Image.update(parent=None).where(Image.parent.in_(chunk)).execute()
                Image.delete().where(self._mine(), Image.id.in_(chunk)).execute()
            if then is not None:
                then()
        self._remove_unreferenced(files)

    def _remove_unreferenced(self, files: Iterable[tuple[str, str]]) -> None:
        """Remove these files where no record (of any account) points to them any more.

        Under the files lock: no import is between reusing one of them and
        committing the record that points to it.
        """
        files = list(files)
        if not files:
            return
        with self.files_lock.removing():
            for chunk in chunked(files, 500):
                used = {h for (h,) in Image.select(Image.sha256).where(
                    Image.sha256.in_([sha256 for sha256, _ in chunk])).distinct().tuples()}
                for sha256, ext in chunk:
                    if sha256 not in used:
                        self.files.remove(sha256, ext)


def _free_space(root) -> str:
    """The free space on the library's disk, in words ("512 KB"), for a message."""
    try:
        free = shutil.disk_usage(root).free
    except OSError:
        return "an unknown amount"
    return f"{free // 1024:,} KB" if free < 10 * 1024 * 1024 else f"{free // (1024 * 1024):,} MB"
