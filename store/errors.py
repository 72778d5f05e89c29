"""Errors the store raises. Each carries one sentence meant for the user."""

import errno
import os
import re
from pathlib import Path


class StoreError(Exception):
    """Base class: the message is shown to the user as it is."""


class NotFound(StoreError):
    """An image or collection that does not exist for the acting account."""


class NoImage(NotFound):
    """An image id the acting account cannot read: none, erased, or another account's that is private or in its
    trash. The app, which only asks for images it has shown, says it went away meanwhile (`image_id`)."""

    def __init__(self, image_id: int) -> None:
        super().__init__(f"No image #{image_id}.")
        self.image_id = image_id


class InTrash(NotFound):
    """An image of the account's own that is in the trash: not found until it is restored."""

    def __init__(self, image_id: int) -> None:
        super().__init__(f"Image #{image_id} is in the trash: restore it first.")
        self.image_id = image_id


class AlreadyFollowed(StoreError):
    """A folder asked to be followed that a source of the account holds already: nothing to do, nothing changed."""


class NoSuchAccount(NotFound):
    """An account name the library does not know, given to a command that only reads (it is not made then)."""

    def __init__(self, message: str, name: str = "") -> None:
        super().__init__(message)
        self.name = name  # the account named: the command line says how to make it


class Duplicate(StoreError):
    """Something with that name or content already exists."""


class BadImage(StoreError):
    """A file that cannot be imported, with the reason."""


class LibraryLocked(StoreError):
    """The database stayed busy longer than we are willing to wait."""


class NotYours(StoreError):
    """A public image of another account: it can be read, never changed."""


class DatabaseFailed(StoreError):
    """The database refused or failed a query (connection lost, disk full, damaged file…)."""


class FileFailed(StoreError):
    """A file (of the library, or one given to it) could not be read or written."""


class DatabaseDamaged(DatabaseFailed):
    """The database file is damaged (a bad sector, a broken copy): SQLite reads garbage where pages should be."""

    path: Path | None = None  # the SQLite file, when known (a library that could not open): doctor checks it


DAMAGE_WORDS = ("database disk image is malformed", "file is not a database", "database corruption")


def is_damage(exc: BaseException) -> bool:
    """A driver error that says the database file is damaged (not locked, not full, not gone)."""
    text = str(exc).lower()
    return any(words in text for words in DAMAGE_WORDS)


class DiskFull(StoreError):
    """The disk holding the library (or the database server's) is full: nothing more can be written until space
    is freed, so work on many items stops at the first one instead of failing each (DatabaseDiskFull,
    FileDiskFull)."""


class NoRoomToErase(StoreError):
    """An erase on a full disk that found no room for the database to record it (store/room.py): `erased` holds the
    ids it erased before it stopped, of `total` asked for (the rest were not), and the sentence says how many."""

    def __init__(self, root: Path, erased: list[int] | None = None, total: int = 0) -> None:
        from .room import no_room_sentence

        self.root, self.erased, self.total = root, list(erased or []), total
        super().__init__(no_room_sentence(root, len(self.erased), total))


class DatabaseDiskFull(DatabaseFailed, DiskFull):
    """The database cannot grow: its disk is full."""


class FileDiskFull(FileFailed, DiskFull):
    """A file cannot be written: its disk is full."""


_OBJECT_REPR = re.compile(r"\s*<[^<>]* (?:object )?at 0x[0-9a-fA-F]+>")  # "<_io.BytesIO object at 0x7f…>"


def first_line(exc: BaseException, fallback: str | None = None) -> str:
    """The first line of an exception's message, without the repr of an object in it (Pillow names the BytesIO it
    read); `fallback` (else the exception's class name) when nothing is left."""
    said = str(exc) if any(arg is not None for arg in exc.args) else ""  # str(SyntaxError()) is "None"
    text = _OBJECT_REPR.sub("", said.split("\n")[0])
    text = " ".join(text.split()).rstrip(".")
    return text or (type(exc).__name__ if fallback is None else fallback)


def os_reason(exc: OSError) -> str:
    """Why a file operation failed, in a few words to end a sentence: the system's reason ("Permission denied"),
    else the message's first line; never "None", never empty."""
    return exc.strerror or first_line(exc, fallback="an error the system did not name")


def unreadable_reason(exc: BaseException) -> str:
    """Why a picture's file could not be read or decoded, in a few words to end a sentence: the system's reason
    ("Permission denied"), "not an image Pillow can read" (a text file where the picture was), "damaged image data
    (…)" (cut short). Never "None", never empty, never an object's repr."""
    name = type(exc).__name__
    if name == "UnidentifiedImageError":  # by name: this module does not load Pillow
        return "not an image Pillow can read"
    if name == "DecompressionBombError":
        return "the picture is too large to decode safely"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    detail = first_line(exc, fallback="")
    return f"damaged image data ({detail})" if detail else "damaged image data"


def unreadable_file(image_id: int, path: object, exc: BaseException) -> FileFailed:
    """The one sentence for an image whose file cannot be read or decoded (exported, cut, cleaned, read again)."""
    gone = folder_gone(path) if isinstance(exc, FileNotFoundError) else ""
    if gone:
        return FileFailed(f"Image #{image_id}'s file {path} cannot be reached: {gone}.")
    return FileFailed(f"Image #{image_id}'s file {path} cannot be read: {unreadable_reason(exc)}.")


def folder_gone(path: object) -> str:
    """When a file is missing because a folder on its way is not there (a source folder renamed or moved, a disk
    not mounted), that in a few words: "its folder /out/mv2 is not there (moved or renamed, or a disk not mounted):
    bring it back, or see your sources (w, `myimages source list`)"; "" when the folders are there (the file alone
    is gone) or the path is not one."""
    try:
        folder = os.path.abspath(os.fspath(path))  # type: ignore[call-overload]
    except TypeError:
        return ""
    missing = ""
    folder = os.path.dirname(folder)
    while folder and not os.path.isdir(folder):
        missing, folder = folder, os.path.dirname(folder)
        if folder == missing:
            break
    if not missing:
        return ""
    from .text import printable

    return (f"its folder {printable(missing)} is not there (moved or renamed, or a disk not mounted): bring it "
            "back, or see your sources (w, `myimages source list`)")


def translate(exc: BaseException) -> StoreError:
    """The StoreError to raise for a database or file error (one sentence for the user).

    Anything else (a programming error) is not for the user: callers only pass
    database errors (peewee, sqlite3, psycopg2) and OSError here.
    """
    if isinstance(exc, StoreError):
        return exc
    hidden = exc.__context__
    if "no transaction is active" in str(exc).lower() and hidden is not None and hidden is not exc:
        # SQLite rolls a transaction back itself when the disk fills (SQLITE_FULL, and some I/O errors);
        # peewee's rollback then fails with "cannot rollback - no transaction is active", which hid the reason
        return translate(hidden)
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        return FileDiskFull(f"A file could not be written{where}: the disk is full ({exc.strerror or 'no space left'}); "
                          "free some space and try again.")
    if isinstance(exc, OSError):
        where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        reason = exc.strerror or unreadable_reason(exc)  # no system reason: a picture Pillow could not decode
        return FileFailed(f"A file could not be read or written{where}: {reason}.")  # the path says which
    text = first_line(exc)
    lowered = text.lower()
    if "database is locked" in lowered or "database table is locked" in lowered or "lock timeout" in lowered:
        return LibraryLocked("The library is busy: another program kept its database locked too long; "
                             "try again in a moment.")
    if is_damage(exc):
        return DatabaseDamaged(f"The library database is damaged ({text}): nothing was changed; run `myimages doctor` "
                               "to see what it can say.")
    if "database or disk is full" in lowered:  # SQLite's SQLITE_FULL: the transaction was rolled back
        return DatabaseDiskFull("The disk holding the library database is full: nothing was saved; free some "
                              "space (erasing images in the trash frees theirs) and try again.")
    if "could not extend file" in lowered or "no space left on device" in lowered:  # PostgreSQL's server
        return DatabaseDiskFull("The database server's disk is full: nothing was saved; ask whoever runs it to "
                              "free some space, then try again.")
    if "foreign key" in lowered:  # SQLite's "FOREIGN KEY constraint failed", PostgreSQL's "violates foreign key …"
        return DatabaseFailed("Nothing was saved: what the change refers to was deleted meanwhile (an image or a "
                              "collection, by another window or command; or the acting account itself, by `myimages "
                              "account delete`: open the library again to act as it).")
    if any(word in lowered for word in ("could not connect", "connection", "server closed", "terminating")):
        return DatabaseFailed(f"The library database cannot be reached: {text}.")
    return DatabaseFailed(f"The library database failed: {text}.")


class SettingsNotSaved(StoreError):
    """The settings file cannot be read back to write a change into it (broken since it was loaded)."""
