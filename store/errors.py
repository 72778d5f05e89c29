"""Errors the store raises. Each carries one sentence meant for the user."""


class StoreError(Exception):
    """Base class: the message is shown to the user as it is."""


class NotFound(StoreError):
    """An image or collection that does not exist for the acting account."""


class InTrash(NotFound):
    """An image of the account's own that is in the trash: not found until it is restored."""

    def __init__(self, image_id: int) -> None:
        super().__init__(f"Image #{image_id} is in the trash: restore it first.")
        self.image_id = image_id


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


def _first_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split("\n")[0].split()).rstrip(".")
    return text or type(exc).__name__


def translate(exc: BaseException) -> StoreError:
    """The StoreError to raise for a database or file error (one sentence for the user).

    Anything else (a programming error) is not for the user: callers only pass
    database errors (peewee, sqlite3, psycopg2) and OSError here.
    """
    if isinstance(exc, StoreError):
        return exc
    if isinstance(exc, OSError):
        where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        reason = exc.strerror or _first_line(exc)
        return FileFailed(f"A file could not be read or written{where}: {reason}.")  # the path says which
    text = _first_line(exc)
    lowered = text.lower()
    if "database is locked" in lowered or "database table is locked" in lowered or "lock timeout" in lowered:
        return LibraryLocked("The library is busy: another program kept its database locked too long; "
                             "try again in a moment.")
    if any(word in lowered for word in ("could not connect", "connection", "server closed", "terminating")):
        return DatabaseFailed(f"The library database cannot be reached: {text}.")
    return DatabaseFailed(f"The library database failed: {text}.")


class SettingsNotSaved(StoreError):
    """The settings file cannot be read back to write a change into it (broken since it was loaded)."""
