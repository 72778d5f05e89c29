"""Which database a library folder belongs to, so that neither is ever mistaken for the other.

A library is a folder of files plus a database (its own `library.db`, or a
PostgreSQL database for a team). A folder opened with the wrong database, or with
none, must never look like a new, empty library: `doctor` would then take every
file for an orphan, and `doctor --remove-missing` every record for a lost one.

So each library folder holds `library.json`, written once when the library is made:

    {"app": "myimages", "library_id": "…", "database": "sqlite"}
    {"app": "myimages", "library_id": "…", "database": "postgresql",
     "server": "postgresql://myimages@localhost:5432/myimages"}   (never a password)

and the database keeps the same id (the `library_id` setting). Opening checks
that the two agree, and refuses with one sentence when they do not.
"""
from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from .errors import StoreError
from .files import write_bytes_atomic

MARKER = "library.json"
APP = "myimages"
SQLITE = "sqlite"
POSTGRESQL = "postgresql"


@dataclass(frozen=True)
class Identity:
    library_id: str
    database: str  # SQLITE or POSTGRESQL
    server: str = ""  # the PostgreSQL URL without its password, for messages

    def describe(self) -> str:
        return f"PostgreSQL ({self.server})" if self.database == POSTGRESQL else "its own file library.db"


def new_identity(database_url: str | None) -> Identity:
    if database_url:
        return Identity(uuid.uuid4().hex, POSTGRESQL, server_of(database_url))
    return Identity(uuid.uuid4().hex, SQLITE)


def server_of(database_url: str) -> str:
    """The URL without its password (and without query options): safe to write down and show."""
    try:
        parts = urlsplit(database_url)
        host = parts.hostname or "localhost"
        port = f":{parts.port}" if parts.port else ""
        user = f"{parts.username}@" if parts.username else ""
    except ValueError:
        return "an unreadable database URL"
    return f"{parts.scheme}://{user}{host}{port}{parts.path}"


def is_library(folder: Path) -> bool:
    """Whether a folder is one of this app's libraries (its library.json says so; a damaged one too)."""
    if not (folder / MARKER).is_file():
        return False
    try:
        return read_marker(folder) is not None
    except StoreError:
        return True


def read_marker(root: Path) -> Identity | None:
    """The folder's identity, None when it has none (a new folder or a library made before markers)."""
    path = root / MARKER
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StoreError(f"Cannot read {path}: {exc.strerror or exc}.") from exc
    try:
        data = json.loads(raw)
        if data.get("app") != APP or data.get("database") not in (SQLITE, POSTGRESQL):
            raise ValueError
        return Identity(str(data["library_id"]), data["database"], str(data.get("server", "")))
    except (ValueError, KeyError, TypeError, AttributeError):
        raise StoreError(f"{path} is damaged: it should say which database this library keeps its records in; "
                         "restore it from a backup.") from None


def write_marker(root: Path, identity: Identity) -> None:
    data = {"app": APP, "library_id": identity.library_id, "database": identity.database}
    if identity.server:
        data["server"] = identity.server
    write_bytes_atomic(root / MARKER, (json.dumps(data, indent=2) + "\n").encode())


def count_image_files(root: Path) -> int:
    """Files under the folder's originals/ and thumbs/ (not following links): a library's files."""
    count = 0
    for name in ("originals", "thumbs"):
        top = root / name
        if top.is_dir() and not top.is_symlink():
            for _folder, _dirs, files in os.walk(top):
                count += len(files)
    return count


LIBRARY_ID_KEY = "library_id"


def library_id(db) -> str | None:
    """The id the database keeps (None for a library made before ids, or no library at all)."""
    from .models import Setting

    with db.bind_ctx([Setting]):
        row = Setting.get_or_none(Setting.key == LIBRARY_ID_KEY)
    return row.value if row else None


def claim_library_id(db, proposed: str) -> str:
    """Give the database this id unless it has one (another process may be making it too); returns its id."""
    from .models import Setting

    with db.bind_ctx([Setting]), db.atomic():
        Setting.insert(key=LIBRARY_ID_KEY, value=proposed).on_conflict_ignore().execute()
        return Setting.get(Setting.key == LIBRARY_ID_KEY).value
