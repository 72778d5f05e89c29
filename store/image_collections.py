"""Collections: named sets of the acting account's images (part of the Library façade, store/library.py)."""
from __future__ import annotations

from typing import Iterable, Sequence

from peewee import IntegrityError, chunked, fn

from .accounts import Accounts, check_name
from .database import boundary
from .errors import Duplicate, NotFound, translate
from .models import Collection, Image, ImageCollection
from .records import CollectionRecord, utc_now
from .text import fold, natural_key, quoted


class Collections(Accounts):
    @boundary
    def collections(self) -> list[CollectionRecord]:
        """The account's collections, each with how many of its images are outside the trash and in it.

        Counted from the memberships alone (an index), then the members in the trash from the account's images
        in the trash (an index): a collection holds only its owner's images, and a membership goes with its image
        (foreign keys). Joining every member to its image row took 66 ms at 100,000 images (6 ms so), on the UI
        thread where the collections dialog opens (issue 11)."""
        own = Collection.owner == self.account.id
        members = dict(Collection.select(Collection.id, fn.COUNT(ImageCollection.image)).join(ImageCollection)
                       .where(own).group_by(Collection.id).tuples())
        trashed = dict(Collection.select(Collection.id, fn.COUNT(ImageCollection.image)).join(ImageCollection)
                       .join(Image, on=(ImageCollection.image == Image.id))
                       .where(own, Image.owner == self.account.id, Image.trashed_at.is_null(False))
                       .group_by(Collection.id).tuples())
        return [CollectionRecord(i, name, members.get(i, 0) - trashed.get(i, 0), trashed.get(i, 0))
                for i, name in self._collection_names()]

    def _collection_names(self) -> list[tuple[int, str]]:
        """The account's collections (id, name) in natural order ("Batch 2" before "Batch 10", NEWUSER7 #21: the
        dialog, the filter's dropdown, `collection list`), without counting their images."""
        rows = Collection.select(Collection.id, Collection.name).where(Collection.owner == self.account.id).tuples()
        return sorted(rows, key=lambda c: (natural_key(c[1]), c[1], c[0]))

    def _own_collection(self, collection_id: int) -> Collection:
        row = Collection.get_or_none((Collection.id == collection_id) & (Collection.owner == self.account.id))
        if row is None:
            raise NotFound(f"No collection #{collection_id}.")
        return row

    @boundary
    def collection(self, name_or_id: str | int) -> CollectionRecord:
        """A collection by exact name (any case), else by id: an int, or a string of digits that names none.

        Names come first: "1" is the collection named "1" when there is one, never collection #1.
        """
        row = self._collection_row(name_or_id)
        if row is None:
            raise NotFound(f"No collection {quoted(str(name_or_id))}.")
        # as `collections` counts: the memberships alone (an index), less its members among the account's images in
        # the trash (an index); joining every member to its image row took 56 ms for 10,309 members of 1,000,000
        # images (0.7 ms so), before the collections dialog's rename and delete (issue 11)
        members = ImageCollection.select().where(ImageCollection.collection == row.id).count()
        in_trash = (ImageCollection.select().join(Image, on=(ImageCollection.image == Image.id))
                    .where(ImageCollection.collection == row.id, Image.owner == self.account.id,
                           Image.trashed_at.is_null(False)).count())
        return CollectionRecord(row.id, row.name, members - in_trash, in_trash)

    def _collection_row(self, name_or_id: str | int) -> Collection | None:
        """The account's collection `collection` names (without counting its images: a search resolves
        `in:NAME` with it on every query)."""
        row = None
        if isinstance(name_or_id, str):
            name = " ".join(name_or_id.split())
            row = Collection.get_or_none(
                (fn.LOWER(Collection.name) == name.lower()) & (Collection.owner == self.account.id)
            )
        number = name_or_id if isinstance(name_or_id, int) else (
            int(name_or_id) if name_or_id.isascii() and name_or_id.isdigit() else None)
        if row is None and number is not None and 0 < number < 2**63:
            row = Collection.get_or_none((Collection.id == number) & (Collection.owner == self.account.id))
        return row

    def _collections_folding_to(self, name: str) -> list[tuple[int, str]]:
        """The account's collections (id, name) whose names are `name` with case and accents folded (store/text.py
        `fold`, the same on either back end): `in:cafe` finds "Café" as `cafe` finds a prompt's "café" (NEWUSER8
        #17). Read in Python: an account has tens or hundreds of collections, and a search looks them up once."""
        wanted = fold(" ".join(name.split()))
        rows = Collection.select(Collection.id, Collection.name).where(Collection.owner == self.account.id).tuples()
        return sorted((i, n) for i, n in rows if fold(" ".join(n.split())) == wanted)  # the oldest first

    @boundary
    def create_collection(self, name: str) -> CollectionRecord:
        self._check_writable()
        name = check_name("collection", name)
        try:
            with self.db.atomic():
                self._check_free(name)
                row = Collection.create(owner=self.account.id, name=name, created_at=utc_now())
        except IntegrityError as exc:  # made by another process in between
            self._check_free(name)
            if "foreign key" in str(exc).lower():  # not a name taken: the account was deleted meanwhile
                raise translate(exc) from exc
            raise Duplicate(f"A collection named {quoted(name)} already exists.") from exc
        return CollectionRecord(row.id, row.name, 0)

    def _check_free(self, name: str, but: int | None = None) -> None:
        """Duplicate, naming the collection that has this name (names ignore case), if one has it (other than
        collection `but`)."""
        taken = Collection.get_or_none((fn.LOWER(Collection.name) == name.lower())
                                       & (Collection.owner == self.account.id) & (Collection.id != (but or 0)))
        if taken is not None:
            same = "" if taken.name == name else f" (names ignore case: {quoted(name)} is that name)"
            raise Duplicate(f"A collection named {quoted(taken.name)} already exists{same}.")

    @boundary
    def ensure_collection(self, name: str) -> CollectionRecord:
        """The collection of this name (never one whose id happens to be the name), made if needed."""
        wanted = " ".join((name or "").split()).lower()
        for _attempt in range(2):
            row = Collection.get_or_none((fn.LOWER(Collection.name) == wanted) & (Collection.owner == self.account.id))
            if row is not None:
                return self.collection(row.id)
            try:
                return self.create_collection(name)
            except Duplicate:  # made by another process in between
                continue
        return self.collection(name)

    @boundary
    def rename_collection(self, name_or_id: str | int, new_name: str) -> CollectionRecord:
        self._check_writable()
        current = self.collection(name_or_id)
        new_name = check_name("collection", new_name)
        with self.db.atomic():
            self._check_free(new_name, but=current.id)
            Collection.update(name=new_name).where(Collection.id == current.id).execute()
        return CollectionRecord(current.id, new_name, current.count)

    @boundary
    def delete_collection(self, name_or_id: str | int) -> CollectionRecord:
        """Delete a collection; its images stay in the library."""
        self._check_writable()
        current = self.collection(name_or_id)
        with self.db.atomic():
            ImageCollection.delete().where(ImageCollection.collection == current.id).execute()
            Collection.delete().where(Collection.id == current.id).execute()
        return current

    @boundary
    def collection_ids_of(self, image_id: int) -> list[int]:
        self._own_ids([image_id])
        query = (ImageCollection.select(ImageCollection.collection).join(Collection)
                 .where(ImageCollection.image == image_id, Collection.owner == self.account.id).tuples())
        return [c for (c,) in query]

    @boundary
    def add_to_collection(self, image_ids: Iterable[int], collection_id: int) -> int:
        """Add images to a collection; returns how many were not in it before."""
        self._check_writable()
        self._own_collection(collection_id)
        ids = self._own_ids(image_ids)
        added = 0
        with self.db.atomic():
            for chunk in chunked(ids, 500):
                present = set(
                    i for (i,) in ImageCollection.select(ImageCollection.image)
                    .where(ImageCollection.collection == collection_id, ImageCollection.image.in_(chunk)).tuples()
                )
                rows = [{"image": i, "collection": collection_id} for i in chunk if i not in present]
                if rows:
                    ImageCollection.insert_many(rows).on_conflict_ignore().execute()
                added += len(rows)
        return added

    @boundary
    def remove_from_collection(self, image_ids: Iterable[int], collection_id: int) -> int:
        self._check_writable()
        self._own_collection(collection_id)
        ids = self._own_ids(image_ids)
        removed = 0
        with self.db.atomic():
            for chunk in chunked(ids, 500):
                removed += ImageCollection.delete().where(
                    ImageCollection.collection == collection_id, ImageCollection.image.in_(chunk)
                ).execute()
        return removed

    @boundary
    def membership(self, image_ids: Iterable[int]) -> dict[int, int]:
        """For each collection id, how many of these images are in it."""
        ids = self._own_ids(image_ids)
        result: dict[int, int] = {}
        for chunk in chunked(ids, 500):
            query = (
                ImageCollection.select(ImageCollection.collection, fn.COUNT(ImageCollection.image))
                .join(Collection)
                .where(ImageCollection.image.in_(chunk), Collection.owner == self.account.id)
                .group_by(ImageCollection.collection)
                .tuples()
            )
            for collection_id, n in query:
                result[collection_id] = result.get(collection_id, 0) + n
        return result

    @boundary
    def members_among(self, image_ids: Iterable[int], collection_id: int) -> list[int]:
        """Which of these images are in the collection (the account's own)."""
        self._own_collection(collection_id)
        ids = self._own_ids(image_ids)
        found: list[int] = []
        for chunk in chunked(ids, 500):
            found += [i for (i,) in ImageCollection.select(ImageCollection.image).where(
                ImageCollection.collection == collection_id, ImageCollection.image.in_(chunk)).tuples()]
        return found

    def _collections_of(self, ids: Sequence[int]) -> dict[int, list[str]]:
        if not ids:
            return {}
        query = (
            ImageCollection.select(ImageCollection.image, Collection.name)
            .join(Collection)
            .where(ImageCollection.image.in_(list(ids)), Collection.owner == self.account.id)
            .order_by(Collection.name)
            .tuples()
        )
        result: dict[int, list[str]] = {}
        for image_id, name in query:
            result.setdefault(image_id, []).append(name)
        return result
