"""Files follow the user's umask: a team shares one library folder (README, "One shared library")."""
from __future__ import annotations

import json
import os
import stat
from pathlib import Path

# What the commands below import lazily, loaded here: the users' forked children may
# not be able to read the interpreter's own folder.
import psycopg2  # noqa: F401
import psycopg2.extensions  # noqa: F401
from PIL import Image

import store.doctor  # noqa: F401
import store.export  # noqa: F401
import store.grid  # noqa: F401
import store.importer  # noqa: F401
from store.files import write_bytes_atomic, write_new_file
from tui.cli import main

from .conftest import write_png
from .system_users import needs_root, shared_folder, temporary_team

Image.init()


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_written_files_get_0666_less_the_umask(tmp_path):
    for umask, expected in ((0o022, 0o644), (0o002, 0o664), (0o077, 0o600)):
        old = os.umask(umask)
        try:
            replaced = write_bytes_atomic(tmp_path / f"r{umask:o}" / "a.bin", b"x")
            (tmp_path / f"n{umask:o}").mkdir()  # write_new_file's folder is there (files.output_folder)
            new = write_new_file(tmp_path / f"n{umask:o}", "b", ".bin", b"y")
        finally:
            os.umask(old)
        assert (mode_of(replaced), mode_of(new)) == (expected, expected), oct(umask)
        assert [p.name for p in replaced.parent.iterdir()] == ["a.bin"]  # no temporary file left


@needs_root
def test_teammates_read_and_export_each_others_public_images(postgres_server):
    name, url = postgres_server.new_database()
    try:
        with temporary_team("alice", "bob") as team:
            alice, bob = team.users
            shared = shared_folder(team)
            library = shared / "library"
            library.mkdir()
            os.chmod(library, 0o2775)  # made by the admin as the README says; inherits the group
            sheet = write_png(shared / "in" / "sheet.png", size=(64, 32), colour=(10, 200, 90))
            os.chmod(sheet.parent, 0o755)
            os.chmod(sheet, 0o644)
            env = {"MYIMAGES_DATABASE_URL": url, "MYIMAGES_LIBRARY": str(library)}

            done = alice.run(main, ["import", str(sheet), "--prompt", "a shared diamond"], env=env)
            assert done.code == 0, done
            written = [p for p in library.rglob("*") if p.is_file() and p.parent.name != library.name]
            assert len(written) == 3  # the original, its thumbnail and its mini
            for path in written:
                info = path.stat()
                assert (info.st_uid, info.st_gid, mode_of(path)) == (alice.uid, team.gid, 0o664), path
            for folder in {p.parent for p in written} | {p.parent.parent for p in written}:
                assert mode_of(folder) == 0o2775 and folder.stat().st_gid == team.gid, folder

            # a teammate's account is made by a command that adds or changes something, not by a read (2a80d7e)
            made = bob.run(main, ["account", "create", bob.name], env=env)
            assert made.code == 0, made
            seen = bob.run(main, ["list", "--public", "--json"], env=env)
            assert seen.code == 0, seen
            (image,) = json.loads(seen.stdout)
            assert image["prompt"] == "a shared diamond" and image["owner"] == alice.name

            out = shared / "bob-exports"
            exported = bob.run(main, ["export", str(image["id"]), "--to", str(out)], env=env)
            assert exported.code == 0, exported
            (copy,) = out.iterdir()
            assert copy.stat().st_uid == bob.uid and mode_of(copy) == 0o664
            with Image.open(copy) as picture:
                assert picture.size == (64, 32)

            cut = bob.run(main, ["grid", str(image["id"]), "--rows", "1", "--cols", "2", "--to", str(out)],
                          env=env)
            assert cut.code == 0, cut
            assert len(list(out.iterdir())) == 3

            checked = bob.run(main, ["doctor", "--remove-missing"], env=env)
            assert checked.code == 0, checked
            still = alice.run(main, ["info", str(image["id"])], env=env)
            assert still.code == 0 and "a shared diamond" in still.stdout, still
    finally:
        postgres_server.drop_database(name)
