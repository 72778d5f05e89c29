from __future__ import annotations

import fcntl
import io
import os
import tempfile
from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
REAL_METADATA = SHARED / "fixtures" / "real-metadata"

# Background removal uses the pinned model file; nothing is downloaded in tests.
os.environ.setdefault("U2NET_HOME", str(SHARED / "models"))


MACHINE_LOCK = Path(tempfile.gettempdir()) / "myimages-tests.lock"


@pytest.fixture(autouse=True)
def machine_wide(request):
    """With pytest-xdist (`-n 2`) tests run two at a time; one marked `exclusive` (it changes something
    machine-wide, such as the inotify watch limit) runs alone: it takes this lock for writing, every
    other test for reading."""
    exclusive = request.node.get_closest_marker("exclusive") is not None
    with open(MACHINE_LOCK, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield


@pytest.fixture(autouse=True)
def hermetic(tmp_path_factory, monkeypatch):
    """Every test gets its own library, demo and downloads folders and settings file (none at first)."""
    base = tmp_path_factory.mktemp("env")
    monkeypatch.setenv("MYIMAGES_LIBRARY", str(base / "library"))
    monkeypatch.setenv("MYIMAGES_DEMO", str(base / "demo"))
    monkeypatch.setenv("MYIMAGES_DOWNLOADS", str(base / "downloads"))
    monkeypatch.setenv("MYIMAGES_ACCOUNT", "alice")
    monkeypatch.setenv("MYIMAGES_CONFIG", str(base / "settings.toml"))  # never the developer's own file
    monkeypatch.delenv("MYIMAGES_DATABASE_URL", raising=False)
    monkeypatch.delenv("TMUX", raising=False)  # a copy never lands in the tmux buffer of the one running the tests
    yield base


@pytest.fixture
def east_of_utc(monkeypatch):
    """Local time ahead of UTC (where a stored 9999-12-31 23:59 UTC is past the calendar's end)."""
    import time

    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture(scope="session")
def postgres_server():
    from .postgres import Server

    server = Server().start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request):
    """None for the library's own SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield None
        return
    from store import library as library_module

    server = request.getfixturevalue("postgres_server")
    name, url = server.new_database()
    yield url
    db = library_module._DATABASES.pop(url, None)
    if db is not None:
        db.close()
        db.close_idle()  # the connections kept for a next unit of work (store/database.py)
    server.drop_database(name)


@pytest.fixture
def library(tmp_path, db_url):
    from store.library import Library

    lib = Library(tmp_path / "lib", account="alice", database_url=db_url)
    yield lib
    lib.close()


def png_bytes(size=(32, 24), colour=(200, 30, 30), text: dict | None = None, mode="RGB") -> bytes:
    image = Image.new(mode, size, colour)
    info = PngImagePlugin.PngInfo()
    for key, value in (text or {}).items():
        info.add_text(key, value)
    out = io.BytesIO()
    image.save(out, "PNG", pnginfo=info)
    return out.getvalue()


def write_png(path: Path, **kwargs) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(png_bytes(**kwargs))
    return path


@pytest.fixture
def make_png(tmp_path):
    counter = iter(range(1, 1_000_000))

    def make(name: str | None = None, **kwargs) -> Path:
        n = next(counter)
        kwargs.setdefault("colour", ((n * 37) % 256, (n * 91) % 256, (n * 53) % 256))
        return write_png(tmp_path / "in" / (name or f"image{n}.png"), **kwargs)

    return make


@pytest.fixture
def small_library(tmp_path):
    """Three small images ("a ring") of alice's on SQLite: for UI tests about keys, not data."""
    from store.importer import ImportOptions, import_files
    from store.library import Library

    library = Library(tmp_path / "small-lib", account="alice")
    import_files(library, [write_png(tmp_path / "in" / f"{n}.png", colour=(n * 60, 90, 40)) for n in range(3)],
                 ImportOptions(prompt="a ring"))
    yield library
    library.close()
