"""Peewee models of a library. Rows never leave the store: see records.py."""
from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Iterator

from peewee import (
    AutoField,
    BigIntegerField,
    BooleanField,
    CharField,
    CompositeKey,
    Database,
    DatabaseProxy,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    NodeList,
    Proxy,
    SQL,
    TextField,
)

from .text import disk_path, stored_path


class ThreadBoundDatabase(DatabaseProxy):
    """The models' database: the one bound on this thread (`bound`), else the one bound last in the process.

    Each public method of a Library binds its library's database for the call (store/database.py
    `boundary`), so two libraries used on two threads at once each query their own database. Code
    outside any library call (a test, a script) sees the database last bound or opened, as a plain
    proxy would.
    """

    __slots__ = ("_local",)
    __setattr__ = object.__setattr__  # slots only: anything else still raises AttributeError

    def __init__(self) -> None:
        self._local = threading.local()
        super().__init__()

    @property  # type: ignore[override]  # the base class's slot, read per thread
    def obj(self) -> Database | None:
        stack = getattr(self._local, "stack", None)
        return stack[-1] if stack else Proxy.obj.__get__(self)  # type: ignore[attr-defined]

    def initialize(self, obj: Database | None) -> None:
        """The database code outside any `bound` block uses (the library opened or used last)."""
        Proxy.obj.__set__(self, obj)  # type: ignore[attr-defined]
        for callback in self._callbacks:
            callback(obj)

    @contextmanager
    def bound(self, db: Database) -> Iterator[Database]:
        """The models use `db` on this thread inside the block (blocks nest; the previous one comes back)."""
        stack = self._local.__dict__.setdefault("stack", [])
        stack.append(db)
        if Proxy.obj.__get__(self) is not db:  # type: ignore[attr-defined]
            self.initialize(db)
        try:
            yield db
        finally:
            stack.pop()


database = ThreadBoundDatabase()

PLANS = ("free", "premium")


class BaseModel(Model):
    class Meta:
        database = database
        legacy_table_names = False


class Setting(BaseModel):
    """Key/value facts about the library itself, such as the schema version."""

    key = CharField(primary_key=True)
    value = TextField()


class Account(BaseModel):
    id = AutoField()
    name = CharField(unique=True)
    plan = CharField(default="free")  # free: images public; premium: images private
    created_at = DateTimeField()


class NeverReusedId(AutoField):
    """An id no other row ever had. SQLite gives an INTEGER PRIMARY KEY the highest id + 1, so erasing the
    newest image handed its id (and what the user knew by it) to the next one; AUTOINCREMENT never does.
    PostgreSQL's SERIAL takes ids from a sequence, which never goes back (nothing to add)."""

    def ddl(self, ctx):
        node = super().ddl(ctx)
        if ctx.state.field_types.get("AUTO") == "INTEGER":  # SQLite's type for an AutoField
            return NodeList((node, SQL("AUTOINCREMENT")))
        return node


class PathField(TextField):
    """A file's path, any bytes kept (text.stored_path: a name that is not UTF-8, which neither SQLite nor
    PostgreSQL text can hold as Python has it, is stored escaped and read back as it was). `absolute`: the paths
    it holds begin at the root (else they are relative to a folder)."""

    def __init__(self, *args, absolute: bool = True, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.absolute = absolute

    def db_value(self, value):
        return super().db_value(stored_path(value) if isinstance(value, str) else value)

    def python_value(self, value):
        return disk_path(value, self.absolute) if isinstance(value, str) else value


class SortKeyField(TextField):
    """Text compared by code point, as prompt A-Z orders it (text.prompt_sort_key): COLLATE "C" on PostgreSQL,
    whose default collation follows the server's locale; SQLite's own (BINARY) is that already."""

    def ddl_datatype(self, ctx):
        node = super().ddl_datatype(ctx)
        if ctx.state.field_types.get("AUTO") == "SERIAL":  # PostgreSQL's type for an AutoField
            return NodeList((node, SQL('COLLATE "C"')))
        return node


class Image(BaseModel):
    id = NeverReusedId()
    owner = ForeignKeyField(Account, backref="images", on_delete="CASCADE")
    prompt = TextField(default="")
    # what prompt A-Z sorts by (text.prompt_sort_key, written with the prompt; schema 21): no default, so that a
    # writer that leaves it out fails instead of sorting its images first
    prompt_key = SortKeyField()
    negative_prompt = TextField(default="")
    model = TextField(default="")
    text_accuracy = TextField(default="")
    generated_at = DateTimeField()  # UTC, naive
    imported_at = DateTimeField()  # UTC, naive
    width = IntegerField()
    height = IntegerField()
    file_size = IntegerField()
    sha256 = CharField(max_length=64)
    ext = CharField(max_length=8)  # png, jpg or webp: the stored original's type
    favorite = BooleanField(default=False)
    params = TextField(default="{}")  # raw generation parameters, JSON
    source_name = TextField(default="")  # the file name it was imported from
    parent = ForeignKeyField("self", null=True, backref="derived", on_delete="SET NULL")
    derivation = TextField(default="")  # "background removed", "cell 2,3", ...
    # "" when the original is the library's own copy (originals/); else the absolute path of the
    # file in a watched source folder it stays in (see sources.py)
    location = PathField(default="")
    trashed_at = DateTimeField(null=True)  # UTC, naive: in the trash since then (see trash.py); None: not trashed
    # perceptual hash, 16 hex digits (duplicates.py); "-": not comparable; NULL or "": not made yet (nullable: adding it
    # to an existing SQLite table needs no copy of the table, which would also drop its change-log triggers)
    phash = CharField(max_length=16, null=True)
    # difference hash, the same way (duplicates.py); "-": not comparable; compared only with an image whose pHash
    # is "-" but whose dHash is not (its pHash is fragile)
    dhash = CharField(max_length=16, null=True)
    # batch key (stacks.py): one number for the images of a batch (settings identical but the seed); 0: not
    # stacked; NULL: not made yet
    batch = BigIntegerField(null=True)

    class Meta:
        indexes = (
            (("owner", "trashed_at"), False),
            (("owner", "sha256"), True),
            (("owner", "generated_at", "id"), False),
            (("owner", "favorite", "generated_at", "id"), False),
            (("sha256",), False),
            (("owner", "batch"), False),
        )


class Collection(BaseModel):
    id = AutoField()
    owner = ForeignKeyField(Account, backref="collections", on_delete="CASCADE")
    name = CharField()
    created_at = DateTimeField()

    class Meta:
        indexes = ((("owner", "name"), True),)


class ImageCollection(BaseModel):
    image = ForeignKeyField(Image, on_delete="CASCADE")
    collection = ForeignKeyField(Collection, on_delete="CASCADE")

    class Meta:
        primary_key = CompositeKey("collection", "image")
        indexes = ((("image", "collection"), False),)


class Source(BaseModel):
    """A folder whose images belong to the account's library: linked where they are, or copied in."""

    id = AutoField()
    owner = ForeignKeyField(Account, backref="sources", on_delete="CASCADE")
    path = TextField()  # absolute, resolved
    mode = CharField(default="link")  # link: files stay where they are; copy: imported into the library
    added_at = DateTimeField()
    scanned_at = DateTimeField(null=True)
    # the folder is the top of a mounted disk (an external disk, a share): while none is mounted there, the
    # empty folder left is not there (sources.not_there), its images kept
    mounted = BooleanField(default=False)

    class Meta:
        indexes = ((("owner", "path"), True),)


class SourceFile(BaseModel):
    """One image file seen in a source: what it was when read, and which image it is."""

    id = AutoField()
    source = ForeignKeyField(Source, backref="files", on_delete="CASCADE")
    relpath = PathField(absolute=False)
    size = BigIntegerField()
    mtime_ns = BigIntegerField()
    sha256 = CharField(max_length=64, default="")
    image = ForeignKeyField(Image, null=True, backref="source_files", on_delete="SET NULL")
    error = TextField(default="")  # why it is not an image of the library (reported once)

    class Meta:
        indexes = ((("source", "relpath"), True), (("image",), False), (("sha256",), False))


class LostImage(BaseModel):
    """What a linked image had that its file cannot keep: favorite and collections, restored when it comes back."""

    owner = ForeignKeyField(Account, on_delete="CASCADE")
    sha256 = CharField(max_length=64)
    favorite = BooleanField(default=False)
    collections = TextField(default="[]")  # JSON list of collection ids
    lost_at = DateTimeField()
    # JSON: what the image was besides (its id, dates, parent and derived images: sources._lost_record), so that the
    # same picture coming back into a source is that image again, with its id (schema 22); "" before
    record = TextField(default="")

    class Meta:
        primary_key = CompositeKey("owner", "sha256")


class TrashFile(BaseModel):
    """A linked image's file moved into the library's trash folder: where it was, where it is now.

    Written with the image's trashed_at in one transaction before the file moves (and removed
    after it moves back on restore): a move a kill interrupted is finished from it (trash.py)."""

    id = AutoField()
    image = ForeignKeyField(Image, backref="trash_files", on_delete="CASCADE")
    original = PathField()  # absolute path in the source folder
    trashed = PathField(absolute=False)  # path relative to the library folder: trash/<image id>-<n>-<name>
    moved = BooleanField(default=False)  # the file is there (False: the move may not have happened yet)

    class Meta:
        indexes = ((("image",), False),)


class MergeGain(BaseModel):
    """What a kept image gained from the duplicates trashed into it (duplicates.merge_into): the favorite and the
    collections it did not have; restoring those duplicates takes back what no duplicate left in the trash gives."""

    keep = ForeignKeyField(Image, primary_key=True, backref="+", on_delete="CASCADE")
    favorite = BooleanField(default=False)  # it became a favorite by a merge
    collections = TextField(default="[]")  # JSON ids of the collections it joined by a merge


class MergedImage(BaseModel):
    """A duplicate trashed into a kept image, with the favorite and collections it had then (what it gave)."""

    id = AutoField()
    # NULL once erased: what it gave stays with the kept image for good
    image = ForeignKeyField(Image, null=True, backref="+", on_delete="SET NULL")
    keep = ForeignKeyField(Image, backref="+", on_delete="CASCADE")
    favorite = BooleanField(default=False)
    collections = TextField(default="[]")  # JSON ids

    class Meta:
        indexes = ((("image",), False), (("keep",), False))


MODELS = [Setting, Account, Image, Collection, ImageCollection, Source, SourceFile, LostImage, TrashFile,
          MergeGain, MergedImage]
