"""The command line: exit codes, plain and JSON output, errors without tracebacks."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from tui.cli import main

from .conftest import REAL_METADATA, ROOT, write_png


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def lib_dir(tmp_path, capsys, make_png):
    folder = tmp_path / "cli-lib"
    assert run(capsys, "import", "--library", str(folder), str(make_png()), "--prompt", "a diamond sword",
               "--model", "M1", "--text-accuracy", "7", "--date", "2026-01-02T03:04:05Z")[0] == 0
    assert run(capsys, "import", "--library", str(folder), str(make_png()), "--prompt", "ruby [bold red]ring[/]",
               "--collection", "Jewels", "--date", "2026-02-01")[0] == 0
    return folder


def test_import_summary_and_duplicates(capsys, tmp_path, make_png):
    path = make_png()
    code, out, err = run(capsys, "import", "--library", str(tmp_path / "l"), str(path))
    assert code == 0 and "1 imported, 0 duplicates, 0 failed" in out
    code, out, err = run(capsys, "import", "--library", str(tmp_path / "l"), str(path))
    assert code == 0 and "duplicate:" in out and "is already image #1" in out


def test_import_says_values_given_were_not_applied_to_an_image_already_in_the_library(capsys, tmp_path, make_png):
    """NEWUSER7 #25: `import --prompt X --collection C` of a file already in the library put it in C but left its
    prompt, without a word. Now one sentence says what was and was not applied; no values given: no sentence."""
    path, library = make_png(), str(tmp_path / "l")
    assert run(capsys, "import", "--library", library, str(path), "--prompt", "first")[0] == 0
    code, out, err = run(capsys, "import", "--library", library, str(path), "--prompt", "OVERRIDE", "--model", "m2",
                         "--collection", "NewCol")
    assert code == 0 and out.splitlines()[-2:] == [
        '--prompt and --model were not applied to the image that was already in the library (#1), which keeps its '
        'own; it was added to "NewCol" all the same.', "0 imported, 1 duplicate, 0 failed"]
    code, out, err = run(capsys, "list", "--library", library)
    assert "first" in out and "OVERRIDE" not in out and "[NewCol]" in out
    code, out, err = run(capsys, "import", "--library", library, str(path), str(make_png()), "--date", "2026-01-02")
    assert out.splitlines()[-2] == ("--date was not applied to the image that was already in the library (#1), "
                                    "which keeps its own.")
    code, out, err = run(capsys, "import", "--library", library, str(path), "--collection", "NewCol")
    assert "not applied" not in out


def test_import_reports_failures(capsys, tmp_path):
    code, out, err = run(capsys, "import", "--library", str(tmp_path / "l"), "-r", str(REAL_METADATA))
    assert code == 1  # any file not imported: a script must see it
    assert "10 imported" in out
    assert "empty-file.png: empty file" in err


def test_import_only_failures_exits_non_zero(capsys, tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_text("nope")
    code, out, err = run(capsys, "import", "--library", str(tmp_path / "l"), str(bad))
    assert code == 1 and "bad.png" in err


def test_any_failed_file_fails_the_import(capsys, tmp_path, make_png):
    bad, good = tmp_path / "bad.png", make_png()
    bad.write_text("nope")
    library = str(tmp_path / "l")
    assert run(capsys, "import", "--library", library, str(good))[0] == 0
    code, out, err = run(capsys, "import", "--library", library, str(good), str(bad))  # a duplicate, a failure
    assert code == 1 and "1 duplicate, 1 failed" in out and "bad.png" in err


def test_importing_a_folder_without_images_says_so(capsys, tmp_path):
    empty = tmp_path / "empty"
    (empty / "sub").mkdir(parents=True)
    code, out, err = run(capsys, "import", "--library", str(tmp_path / "l"), str(empty))
    assert code == 1 and out == ""
    assert err.strip() == f"myimages: no PNG, JPEG, WebP, GIF, TIFF or AVIF images found in {empty} (-r also looks in sub-folders)."


def test_importing_a_folder_of_other_formats_says_how_many_were_left_out_and_why(capsys, tmp_path, make_png):
    """NEWUSER7 #30: a folder of GIF/BMP/TIFF/AVIF said only "no PNG, JPEG or WebP images found … (-r also looks in
    sub-folders)", not a word of the files left out (and -r would not have helped: no sub-folder)."""
    fmt = tmp_path / "fmt"
    fmt.mkdir()
    for name in ("a.bmp", "b.heic", "c.psd", "d.jxl", "notes.txt"):  # (GIF, TIFF and AVIF are imported now)
        (fmt / name).write_bytes(b"whatever")
    code, out, err = run(capsys, "import", "--library", str(tmp_path / "l"), str(fmt))
    assert code == 1 and out == ""
    assert err.strip() == (f"myimages: no PNG, JPEG, WebP, GIF, TIFF or AVIF images found in {fmt}. 4 files in other "
                           "formats were left out (a.bmp, b.heic, c.psd and 1 more): only PNG, JPEG, WebP, GIF, TIFF "
                           "and AVIF are imported.")
    shutil.copy(make_png(), fmt / "e.png")
    code, out, err = run(capsys, "import", "--library", str(tmp_path / "l"), str(fmt))
    assert code == 0 and out.splitlines()[-2:] == [
        "4 files in other formats were left out (a.bmp, b.heic, c.psd and 1 more): only PNG, JPEG, WebP, GIF, TIFF "
        "and AVIF are imported.", "1 imported, 0 duplicates, 0 failed"]


def test_import_r_leaves_hidden_folders_out_and_asks_before_the_home_folder(capsys, tmp_path, make_png, monkeypatch):
    """NEWUSER7 #32: `import ~ -r` asked nothing and took in caches and icon themes from hidden folders. Hidden
    folders met on the way are left out and counted (named, or with --hidden, they are read); a very wide folder
    (the home folder here) is asked about first as `source add` asks (no terminal: refused, nothing imported)."""
    home, library = tmp_path / "home", str(tmp_path / "l")
    for name in ("a.png", "sub/s.png", ".cache/thumbnails/t.png", ".local/share/icons/i.png", "sub/.hid/h.png"):
        (home / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(make_png(), home / name)
    monkeypatch.setenv("HOME", str(tmp_path / "elsewhere"))
    code, out, err = run(capsys, "import", "--library", library, str(home), "-r")
    assert code == 0 and out.splitlines() == [
        f"3 hidden folders were left out ({home / '.cache'}, {home / '.local'} and {home / 'sub' / '.hid'}), as "
        "caches and settings usually are: to import one, name it, or add --hidden.", "2 imported, 0 duplicates, 0 failed"]
    code, out, err = run(capsys, "import", "--library", library, str(home / ".cache"), "-r")
    assert code == 0 and out.strip() == "1 imported, 0 duplicates, 0 failed"  # named: read
    code, out, err = run(capsys, "import", "--library", library, str(home), "-r", "--hidden")
    assert code == 0 and out.splitlines()[-1] == "2 imported, 3 duplicates, 0 failed"
    monkeypatch.setenv("HOME", str(home))
    (home / "more.png").write_bytes((home / "a.png").read_bytes())
    shutil.copy(make_png(), home / "new.png")
    code, out, err = run(capsys, "import", "--library", library, str(home), "-r")
    assert code == 1 and out == "" and err.strip() == (
        f"myimages: {home} is your home folder: every image in it and in all its folders would be copied into your "
        "library: nothing was imported; add --yes to import it anyway.")
    code, out, err = run(capsys, "import", "--library", library, str(home), "-r", "--yes")
    assert code == 0 and out.splitlines()[-1] == "1 imported, 3 duplicates, 0 failed"


def test_text_accuracy_must_be_a_number(capsys, tmp_path, make_png):
    code, out, err = run(capsys, "import", "--library", str(tmp_path / "l"), str(make_png()), "--text-accuracy", "abc")
    assert code == 1 and err.strip() == 'myimages: --text-accuracy takes a number, e.g. 7 or 7.5, not "abc".'
    assert not (tmp_path / "l").exists()


@pytest.mark.parametrize("args", [["list"], ["info", "1"], ["export", "1", "--to", "out"], ["collection", "list"],
                                  ["favorite", "1"], ["trash", "list"], ["duplicates"], ["account", "list"]])
def test_a_folder_without_a_library_is_said_and_not_made(capsys, tmp_path, args):
    typo = tmp_path / "typo"
    code, out, err = run(capsys, *args, "--library", str(typo))
    assert code == 1 and out == "" and err.strip() == (
        f"myimages: There is no library in {typo}: check --library, or import images there first "
        "(myimages import PATH…).")
    assert not typo.exists()


def test_list_json(capsys, lib_dir):
    code, out, err = run(capsys, "list", "--library", str(lib_dir), "--json")
    assert code == 0
    data = json.loads(out)
    assert [d["prompt"] for d in data] == ["ruby [bold red]ring[/]", "a diamond sword"]
    first = data[1]
    assert set(first) >= {"id", "prompt", "model", "text_accuracy", "generated_at", "favorite", "collections",
                          "width", "height", "path"}
    assert first["model"] == "M1" and first["text_accuracy"] == 7.0 and first["favorite"] is False
    assert first["generated_at"].startswith("2026-01-02T") or "2026-01-0" in first["generated_at"]
    assert data[0]["collections"] == ["Jewels"]
    assert Path(first["path"]).exists()


def test_json_gives_numbers_whatever_the_generator_wrote(capsys, tmp_path):
    """New-user test 4 item 9: A1111 files gave "seed": "235284042" (text), InvokeAI 3293022630 (a number);
    text_accuracy was always text; info --json had no seed, steps or sampler."""
    library = str(tmp_path / "lib")
    files = [str(REAL_METADATA / name) for name in ("a1111.png", "invokeai-v3.png", "fooocus.png")]
    assert run(capsys, "import", "--library", library, *files)[0] == 0
    code, out, _ = run(capsys, "list", "--library", library, "--json")
    listed = json.loads(out)
    assert len(listed) == 3
    for data in listed:
        assert type(data["seed"]) is int and type(data["steps"]) is int and isinstance(data["sampler"], str)
        assert type(data["text_accuracy"]) is float
        code, out, _ = run(capsys, "info", "--library", library, str(data["id"]), "--json")
        shown = json.loads(out)
        assert {k: shown[k] for k in ("seed", "steps", "sampler", "text_accuracy")} == \
            {k: data[k] for k in ("seed", "steps", "sampler", "text_accuracy")}
        assert set(data) - {"generated_at_source", "matched"} <= set(shown)


def test_json_text_fields_not_recorded_are_empty_text_not_null(capsys, tmp_path):
    """NEWUSER7 #21: an image with no metadata gave "prompt": "", "model": "", "negative_prompt": "" but
    "sampler": null, two conventions among the text fields (README: "sampler text"), so d["sampler"].lower() broke
    where d["model"].lower() did not. Numbers stay null. Fails without (sampler None)."""
    library = str(tmp_path / "lib")
    write_png(tmp_path / "bare.png", colour=(1, 2, 3))
    assert run(capsys, "import", "--library", library, str(tmp_path / "bare.png"))[0] == 0
    for command in (("list", "--library", library, "--json"), ("info", "--library", library, "1", "--json")):
        code, out, _ = run(capsys, *command)
        data = json.loads(out)
        data = data[0] if isinstance(data, list) else data
        assert code == 0 and {k: data[k] for k in ("prompt", "model", "negative_prompt", "sampler")} == dict.fromkeys(
            ("prompt", "model", "negative_prompt", "sampler"), ""), command
        assert data["seed"] is None and data["steps"] is None and data["text_accuracy"] is None


def test_a_seed_without_the_random_order_is_said(capsys, lib_dir):
    """New-user test 4 item 21: `list --seed 5` without --sort random was ignored without a word."""
    code, out, err = run(capsys, "list", "--library", str(lib_dir), "--seed", "5")
    assert code == 1 and out == "" and "--seed changes only the random order: add --sort random." in err
    for args in (["--sort", "random"], ["--search", "sort:random"]):
        assert run(capsys, "list", "--library", str(lib_dir), "--seed", "5", *args)[0] == 0


def test_an_extra_argument_gets_the_commands_usage(capsys, lib_dir):
    """New-user test 4 item 21: `info 1 2` printed the usage of every global option, not info's."""
    with pytest.raises(SystemExit) as stopped:
        main(["info", "--library", str(lib_dir), "1", "2"])
    err = capsys.readouterr().err
    assert stopped.value.code == 2 and "usage: myimages info" in err and "unrecognized arguments: 2" in err
    assert "--images" not in err


def test_list_filters(capsys, lib_dir):
    assert run(capsys, "favorite", "--library", str(lib_dir), "1")[0] == 0
    code, out, _ = run(capsys, "list", "--library", str(lib_dir), "--favorites", "--json")
    assert [d["id"] for d in json.loads(out)] == [1]
    code, out, _ = run(capsys, "list", "--library", str(lib_dir), "--non-favorites", "--search", "RING", "--json")
    assert [d["id"] for d in json.loads(out)] == [2]
    code, out, _ = run(capsys, "list", "--library", str(lib_dir), "--collection", "jewels", "--limit", "1")
    assert code == 0 and "ruby [bold red]ring[/]" in out
    code, out, err = run(capsys, "list", "--library", str(lib_dir), "--collection", "Nope")
    assert code == 1 and err.strip() == 'myimages: No collection "Nope".'


def test_a_search_starting_with_a_dash_is_a_query(capsys, lib_dir):
    """New-user test 3 item 7: `list --search '-ring'` failed with argparse's "expected one argument"."""
    code, out, err = run(capsys, "list", "--library", str(lib_dir), "--search", "-ring", "--json")
    assert code == 0 and [d["id"] for d in json.loads(out)] == [1], err
    code, out, _ = run(capsys, "list", "--search", "-negative:zzzz", "--library", str(lib_dir), "--json")
    assert code == 0 and sorted(d["id"] for d in json.loads(out)) == [1, 2]
    with pytest.raises(SystemExit):  # an option after --search is still a missing query
        main(["list", "--library", str(lib_dir), "--search", "--favorites"])
    with pytest.raises(SystemExit):
        main(["list", "--library", str(lib_dir), "--help"])
    assert "--search -blurry" in capsys.readouterr().out


@pytest.mark.parametrize("query", ["modle:bar", "gem |", "id:1-", "size:768", "|", "OR", "(masterpiece", "ring)"])
def test_a_query_it_cannot_read_lists_nothing_and_fails(capsys, lib_dir, query):
    """A script piping `list` into delete or export must not act on every image."""
    for extra in ([], ["--json"]):
        code, out, err = run(capsys, "list", "--library", str(lib_dir), "--search", query, *extra)
        assert code == 1 and out == "" and err.startswith("myimages: ") and "Traceback" not in err
    if query == "modle:bar":  # the short hint, then every field on a second line
        assert err.splitlines()[0] == 'myimages: Unknown field "modle:": quote it to search the prompt for it.'
        assert err.splitlines()[1].startswith("Fields: model, seed")
    if query == "(masterpiece":
        assert err == 'myimages: A ( is not closed: add a ), or quote "(masterpiece" to search for it.\n'


def test_list_counts_of_the_whole_library(capsys, lib_dir):
    code, out, err = run(capsys, "list", "--library", str(lib_dir), "--search", "zzzz")
    assert code == 0 and out == "" and err.strip() == '0 of 2 images (prompt contains "zzzz")'
    for query in ("sort:prompt", '""'):  # they filter nothing: all listed, and no filter described
        code, out, err = run(capsys, "list", "--library", str(lib_dir), "--search", query)
        assert code == 0 and len(out.splitlines()) == 2 and "contains" not in err


def test_a_long_upgrade_is_said_before_it_starts_and_only_then(capsys, lib_dir, monkeypatch):
    """Opening a large library made by an older version says first that its records are upgraded (it can take
    minutes, with nothing else on screen); a small one, or one already upgraded, says nothing."""
    import sqlite3

    from store import migrations

    def made_by_version_12() -> None:
        with sqlite3.connect(lib_dir / "library.db") as con:  # step 13 leaves a table already made right as is
            con.execute("UPDATE setting SET value = '12' WHERE key = 'schema_version'")
        con.close()

    made_by_version_12()
    monkeypatch.setattr(migrations, "LONG_UPGRADE_IMAGES", 3)
    code, out, err = run(capsys, "list", "--library", str(lib_dir))
    assert code == 0 and len(out.splitlines()) == 2 and "Upgrading" not in err
    made_by_version_12()
    monkeypatch.setattr(migrations, "LONG_UPGRADE_IMAGES", 2)
    code, out, err = run(capsys, "list", "--library", str(lib_dir))
    assert code == 0 and len(out.splitlines()) == 2
    assert err.startswith(f"myimages: Upgrading the library's records (schema 12 to {migrations.LATEST}, 2 images)")
    code, out, err = run(capsys, "list", "--library", str(lib_dir))
    assert code == 0 and "Upgrading" not in err


def test_info(capsys, lib_dir):
    code, out, _ = run(capsys, "info", "--library", str(lib_dir), "1")
    assert code == 0 and "Model:" in out and "M1" in out and "Text accuracy:" in out
    code, out, _ = run(capsys, "info", "--library", str(lib_dir), "2", "--json")
    assert json.loads(out)["collections"] == ["Jewels"]


@pytest.mark.parametrize("args, message", [
    (["info", "99"], "No image #99."),
    (["info", "abc"], 'is not an image id'),
    (["favorite", "5"], "No image #5."),
    (["export", "1", "42", "--to", "/tmp/x"], "No image #42: nothing was exported (give the other 1 without it)."),
    (["collection", "create", "jewels"], 'A collection named "Jewels" already exists (names ignore case: "jewels" '
                                         'is that name).'),
    (["account", "create", " "], "An account name cannot be empty."),
    (["collection", "create", ""], "A collection name cannot be empty."),
    (["collection", "add", "Jewels", "7"], "No image #7."),
    (["import", "/no/such/file.png", "--date", "yesterday"], "is not a date"),
])
def test_user_mistakes_are_one_sentence(capsys, lib_dir, args, message):
    code, out, err = run(capsys, *args, "--library", str(lib_dir))
    assert code != 0
    assert message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_many_trashed_ids_are_one_sentence_with_their_range(capsys, tmp_path, make_png):
    """New-user test 5 item 11: `collection add` and `favorite` on 30 trashed ids said the whole sentence 30 times
    (3,000 characters); now once, the ids as a range with their count."""
    from store.importer import ImportOptions, import_files
    from store.library import Library

    library = Library(tmp_path / "many", account="alice")
    ids = [import_files(library, [make_png(size=(8, 8), colour=(n, 9, 9))], ImportOptions(prompt=f"p{n}")).imported[0][1]
           for n in range(32)]
    library.create_collection("Keeps")
    library.trash(ids[:30])
    library.close()
    first, last = ids[0], ids[29]
    trashed = (f"Images #{first}–#{last} (30) are in the trash (myimages trash restore "
               f"{' '.join(str(i) for i in ids[:5])} … brings them back)")
    lib = ["--library", str(tmp_path / "many"), "--account", "alice"]
    code, _, err = run(capsys, "collection", "add", "Keeps", *map(str, ids[:30]), *lib)
    assert code == 1 and err == f'myimages: {trashed}: nothing was added to "Keeps".\n'
    code, _, err = run(capsys, "favorite", *map(str, ids), "99999", *lib)
    assert code == 1 and err == f"myimages: No image #99999; {trashed}: no image was marked (give the other 2 " \
                                "without them).\n"


def test_bad_option_exits_2(capsys, lib_dir):
    with pytest.raises(SystemExit) as exc:
        main(["list", "--library", str(lib_dir), "--sort", "x"])
    assert exc.value.code == 2


def test_delete_needs_yes_without_a_terminal(capsys, lib_dir, monkeypatch):
    monkeypatch.setattr(sys, "stdin", open(os.devnull))
    code, out, err = run(capsys, "delete", "--library", str(lib_dir), "1")
    assert code == 1 and "--yes" in err
    code, out, err = run(capsys, "delete", "--library", str(lib_dir), "1", "--yes")
    assert code == 0 and "1 image deleted" in out
    code, out, _ = run(capsys, "list", "--library", str(lib_dir), "--json")
    assert [d["id"] for d in json.loads(out)] == [2]


@pytest.mark.parametrize("args, nothing", [
    (["export", "IDS", "--to", "OUT"], "nothing was exported"),
    (["favorite", "IDS"], "no image was marked"),
    (["delete", "IDS", "--yes"], "nothing was deleted"),
    (["collection", "add", "Jewels", "IDS"], 'nothing was added to "Jewels"'),
    (["trash", "restore", "IDS"], "nothing was restored"),
])
def test_several_ids_with_missing_ones_do_nothing_and_name_each(capsys, lib_dir, tmp_path, args, nothing):
    """New-user test 3 item 10: `export 3 5 7 44` without #3 printed only `No image #3.` and wrote nothing.
    Every command on several ids does all or none, names every missing id and says that nothing was done."""
    if args[0] == "trash":
        assert run(capsys, "delete", "--library", str(lib_dir), "1", "--yes")[0] == 0
        ids = ["1", "7", "9"]
    else:
        ids = ["1", "7", "2", "9"]
    args = [str(tmp_path / "out") if a == "OUT" else a for a in args]
    args[args.index("IDS"):args.index("IDS") + 1] = ids
    before = run(capsys, "list", "--library", str(lib_dir), "--json")[1]
    code, out, err = run(capsys, *args, "--library", str(lib_dir))
    rest = len(ids) - 2
    assert code == 1 and out == ""
    assert err == f"myimages: No images #7 and #9: {nothing} (give the other {rest} without them).\n"
    assert run(capsys, "list", "--library", str(lib_dir), "--json")[1] == before
    assert not (tmp_path / "out").exists()


def test_export_and_collections(capsys, lib_dir, tmp_path):
    code, out, _ = run(capsys, "export", "--library", str(lib_dir), "1", "2", "--to", str(tmp_path / "out"))
    assert code == 0
    names = sorted(Path(line).name for line in out.split())
    assert names == ["1-a-diamond-sword.png", "2-ruby-bold-red-ring.png"]
    assert run(capsys, "collection", "create", "Swords", "--library", str(lib_dir))[0] == 0
    assert run(capsys, "collection", "add", "swords", "1", "2", "--library", str(lib_dir))[1].startswith("2 images")
    assert run(capsys, "collection", "remove", "Swords", "2", "--library", str(lib_dir))[0] == 0
    assert run(capsys, "collection", "rename", "Swords", "Blades", "--library", str(lib_dir))[0] == 0
    code, out, _ = run(capsys, "collection", "list", "--library", str(lib_dir))
    assert "Blades  (1 image)" in out and "Jewels  (1 image)" in out
    assert run(capsys, "collection", "delete", "Blades", "--library", str(lib_dir), "--yes")[:2] == \
        (0, 'Collection "Blades" deleted (its image stays in the library)\n')  # not "its 1 images stay"
    assert run(capsys, "collection", "create", "Empty", "--library", str(lib_dir))[0] == 0
    assert run(capsys, "collection", "delete", "Empty", "--library", str(lib_dir))[:2] == \
        (0, 'Collection "Empty" deleted (it was empty)\n')  # not "its 0 images stay"
    code, out, _ = run(capsys, "list", "--library", str(lib_dir), "--json")
    assert len(json.loads(out)) == 2
    # new-user test 7 #11: one whose only image is in the trash is not "empty": it asks, and says what it costs
    assert run(capsys, "collection", "create", "Tmp", "--library", str(lib_dir))[0] == 0
    assert run(capsys, "collection", "add", "Tmp", "1", "--library", str(lib_dir))[0] == 0
    assert run(capsys, "delete", "1", "--yes", "--library", str(lib_dir))[0] == 0
    code, out, err = run(capsys, "collection", "delete", "Tmp", "--library", str(lib_dir))
    assert code == 1 and "add --yes" in err  # no terminal to ask on
    assert "Tmp" in run(capsys, "collection", "list", "--library", str(lib_dir))[1]
    assert run(capsys, "collection", "delete", "Tmp", "--library", str(lib_dir), "--yes")[:2] == \
        (0, 'Collection "Tmp" deleted (it held only images in the trash). 1 image of it is in the trash: restored, '
            'it will not come back into it.\n')


def test_plain_output_neutralises_escape_sequences(capsys, tmp_path, make_png):
    nasty = "evil \x1b]52;c;aGk=\x07 \x1b[2J \u202e txt"
    run(capsys, "import", "--library", str(tmp_path / "l"), str(make_png()), "--prompt", nasty)
    code, out, _ = run(capsys, "list", "--library", str(tmp_path / "l"))
    assert "\x1b" not in out and "\u202e" not in out and "\x07" not in out
    code, out, _ = run(capsys, "list", "--library", str(tmp_path / "l"), "--json")
    assert "\x1b" not in out and json.loads(out)[0]["prompt"] == nasty


def test_doctor_and_demo_commands(capsys, tmp_path):
    code, out, _ = run(capsys, "demo", "--library", str(tmp_path / "d"), "--count", "12")
    assert code == 0 and "12 demo images" in out
    code, out, _ = run(capsys, "doctor", "--library", str(tmp_path / "d"))
    assert code == 0 and "database integrity: ok" in out and "every one of your images has its file" in out


def test_doctor_exit_codes_0_well_or_fixed_1_needs_you_2_could_not_run(capsys, tmp_path, make_png):
    """Tidy #1: doctor exited 0 after naming a linked image whose file cannot be decoded (and files the library did
    not write, damaged originals): a script running doctor learnt nothing. 0 all is well or put right; 1 something
    needs the user; 2 doctor could not run. Fails without (0 for the damaged files, 1 for no library)."""
    library = str(tmp_path / "lib")
    picture = make_png("src/a.png")
    own = make_png("b.png")
    assert run(capsys, "source", "add", "--library", library, str(picture.parent))[0] == 0
    assert run(capsys, "import", "--library", library, str(own))[0] == 0
    code, out, err = run(capsys, "doctor", "--library", library)
    assert code == 0 and "every one of your images has its file" in out, (out, err)
    thumbs = tmp_path / "lib" / "thumbs"
    shutil.rmtree(thumbs)  # put right by doctor: still 0
    code, out, _ = run(capsys, "doctor", "--library", library)
    assert code == 0 and "2 missing thumbnails made again" in out, out
    whole = picture.read_bytes()  # the linked file cut short: doctor names it and can do nothing
    picture.write_bytes(whole[:whole.index(b"IDAT") + 12])
    shutil.rmtree(thumbs)
    code, out, _ = run(capsys, "doctor", "--library", library)
    assert code == 1 and "1 of your images' files cannot be decoded" in out, out
    picture.write_bytes(whole)
    assert run(capsys, "doctor", "--library", library)[0] == 0
    stray = next((tmp_path / "lib" / "originals").iterdir()) / "notes.txt"  # a file the library did not write
    stray.write_text("mine")
    code, out, _ = run(capsys, "doctor", "--library", library)
    assert code == 1 and "1 file the library did not write was left alone" in out and stray.exists(), out
    # what to do about it (new-user test 8 #13: "left alone", exit 1 and no advice)
    assert "notes.txt: move it out of the library's folders (or delete it); doctor never deletes a file it did not " \
           "write" in " ".join(out.split()), out
    stray.unlink()
    original = Path(next(d["path"] for d in json.loads(run(capsys, "list", "--library", library, "--json")[1])
                         if Path(d["path"]).is_relative_to(tmp_path / "lib")))
    original.chmod(0o644)
    original.write_bytes(b"not a picture at all")  # an own original damaged
    shutil.rmtree(thumbs)
    code, out, _ = run(capsys, "doctor", "--library", library)
    assert code == 1 and "cannot be decoded" in out, out
    code, out, err = run(capsys, "doctor", "--library", str(tmp_path / "nothing here"))
    assert code == 2 and out == "" and err.startswith("myimages: There is no library in "), err
    help_text = subprocess.run([sys.executable, "-m", "tui.cli", "doctor", "--help"], capture_output=True,
                               text=True, cwd=ROOT).stdout
    assert "exit codes:" in help_text and "2  doctor could not run" in help_text, help_text


def test_demo_without_library_fills_the_demo_library_and_says_so(capsys, tmp_path, monkeypatch):
    """New-user test 4: `myimages demo` with `library` set in the settings file went into the demo library without
    saying which one that is. It never touches the user's library, and it names the demo library and how to open it."""
    own = tmp_path / "own"
    monkeypatch.delenv("MYIMAGES_LIBRARY", raising=False)
    Path(os.environ["MYIMAGES_CONFIG"]).write_text(f'library = "{own}"\n', encoding="utf-8")
    code, out, _ = run(capsys, "demo", "--count", "3")
    demo = Path(os.environ["MYIMAGES_DEMO"])
    assert code == 0 and out.strip() == f"3 demo images added to the demo library {demo} (myimages --demo opens it)"
    assert not own.exists()
    code, out, _ = run(capsys, "--demo", "list", "--json")
    assert len(json.loads(out)) == 3


def test_doctor_fails_on_lost_files_paths_are_absolute_and_ids_counted_once(capsys, tmp_path, make_png, monkeypatch):
    """New-user test item 14: doctor exited 0 reporting lost files and said "1 of your images have lost their
    file"; --json printed paths relative to a relative --library; `delete 1 1` offered "trash restore 1 1"."""
    monkeypatch.chdir(tmp_path)
    for name in ("one", "two"):
        assert run(capsys, "import", "--library", "rel", str(make_png(f"{name}.png")))[0] == 0
    code, out, _ = run(capsys, "list", "--library", "rel", "--json")
    paths = [Path(d["path"]) for d in json.loads(out)]
    assert code == 0 and all(p.is_absolute() and p.exists() for p in paths), paths
    code, out, _ = run(capsys, "info", "--library", "rel", "1", "--json")
    assert Path(json.loads(out)["path"]).is_absolute()
    code, out, _ = run(capsys, "delete", "--library", "rel", "2", "#2", "--yes")
    assert code == 0 and "1 image deleted" in out and "trash restore 2 brings it back" in out, (out, _)
    run(capsys, "trash", "restore", "--library", "rel", "2")
    lost = next(p for p in paths if p.exists())
    lost.unlink()
    code, out, _ = run(capsys, "doctor", "--library", "rel", "--min-age", "0")
    assert code == 1 and "1 of your images has lost its file" in out and "to drop it)" in out, out
    code, out, _ = run(capsys, "doctor", "--library", "rel", "--min-age", "0", "--remove-missing")
    assert code == 0 and "(record removed)" in out, out


def test_console_script_runs_without_traceback(tmp_path):
    exe = Path(sys.executable).with_name("myimages")
    command = [str(exe)] if exe.exists() else [sys.executable, "-m", "tui.cli"]
    from store.library import Library

    Library(tmp_path / "l").close()  # a library without image 12 (a folder with none: "There is no library")
    env = dict(os.environ, MYIMAGES_LIBRARY=str(tmp_path / "l"))
    out = subprocess.run(command + ["info", "12"], capture_output=True, text=True, env=env, cwd=ROOT)
    assert out.returncode == 1
    assert out.stderr == "myimages: No image #12.\n"


def test_export_makes_its_folder_only_when_the_parent_exists(capsys, lib_dir, tmp_path):
    """A tester running as root: `export 1 --to /nonexistent/x` made /nonexistent. The named folder is made as
    mkdir makes it (its parent there); a missing parent, or a file in the way, is one sentence, nothing made."""
    missing = tmp_path / "nonexistent" / "x"
    code, out, err = run(capsys, "export", "--library", str(lib_dir), "1", "--to", str(missing))
    assert code == 1 and out == "" and not missing.parent.exists()
    assert f"{missing.parent} does not exist" in err and len(err.strip().splitlines()) == 1
    (tmp_path / "a-file").write_text("mine")
    code, _, err = run(capsys, "export", "--library", str(lib_dir), "1", "--to", str(tmp_path / "a-file"))
    assert code == 1 and "is not a folder" in err and (tmp_path / "a-file").read_text() == "mine"
    code, out, err = run(capsys, "grid", "--library", str(lib_dir), "1", "--to", str(missing))
    assert code == 1 and out == "" and "does not exist" in err and not missing.parent.exists()
    code, out, _ = run(capsys, "export", "--library", str(lib_dir), "1", "--to", str(tmp_path / "new"))
    assert code == 0 and Path(out.strip()).parent == tmp_path / "new"


def test_ctrl_c_while_the_command_line_loads_says_one_line(tmp_path):
    """New-user test 3 item 3: Ctrl+C in the first second or so (Python still importing) printed a traceback.
    The interrupt arrives here while tui.cli imports Pillow, as the `myimages` script would meet it."""
    # Ctrl+C as a terminal's foreground process has it: a runner started in the background (`pytest … &` in a
    # script) passes SIGINT on ignored, and Python then makes no KeyboardInterrupt of it (this test failed so)
    hook = ("import builtins, os, signal, sys\n"
            "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
            "real = builtins.__import__\n"
            "def hooked(name, *a, **k):\n"
            "    if name.startswith('PIL'):\n"
            "        builtins.__import__ = real\n"
            "        os.kill(os.getpid(), signal.SIGINT)\n"
            "    return real(name, *a, **k)\n"
            "builtins.__import__ = hooked\n"
            "sys.argv = ['myimages', 'list', '--library', sys.argv[1]]\n"
            "from tui.cli import main\n"
            "sys.exit(main())\n")
    out = subprocess.run([sys.executable, "-c", hook, str(tmp_path / "lib")], capture_output=True, text=True,
                         cwd=ROOT, timeout=120)
    assert out.returncode == 130 and out.stderr.strip() == "myimages: interrupted.", out.stderr


def test_an_import_interrupted_says_so_after_its_progress_bar(capsys, tmp_path, make_png, monkeypatch):
    """NEWUSER12 F5: Ctrl+C during `myimages import` in a terminal printed "import interrupted" and then the
    progress bar once more ("Importing ━━━━╺━━━ 516 of 3,000 …" the last line, as if it still ran)."""
    import store.importer

    def interrupted(library, paths, options, progress=None, cancel=None):
        progress(1, 10, Path(paths[0]))  # the bar is on the screen
        raise KeyboardInterrupt

    monkeypatch.setattr(store.importer, "import_files", interrupted)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)  # a terminal: the bar is drawn
    code, _, err = run(capsys, "import", "--library", str(tmp_path / "lib"), str(make_png()))
    import re

    lines = [line for line in re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", err).splitlines() if line.strip()]  # no escapes
    assert code == 130 and "Importing" in err
    assert lines[-1] == "myimages: import interrupted; what was imported so far is kept."


def test_dates_at_the_ends_of_the_calendar(capsys, tmp_path, make_png, east_of_utc):
    """NEWUSER4 #1: EXIF's 9999:12:31 placeholder counts as no date; a date given out of range is refused in one
    sentence; a library that stored such a date (an older version) still lists and shows it."""
    from PIL import Image as PILImage

    from store.library import Library
    from store.models import Image

    folder = tmp_path / "cal-lib"
    photo = tmp_path / "in" / "placeholder.jpg"
    photo.parent.mkdir(parents=True, exist_ok=True)
    exif = PILImage.Exif()
    exif[0x0132] = "9999:12:31 23:59:59"
    exif.get_ifd(0x8769)[0x9003] = "9999:12:31 23:59:59"
    PILImage.new("RGB", (20, 20), (180, 20, 90)).save(photo, exif=exif)
    assert run(capsys, "import", "--library", str(folder), str(photo))[0] == 0
    code, out, _ = run(capsys, "info", "--library", str(folder), "1", "--json")
    assert code == 0 and json.loads(out)["generated_at"].startswith("20")  # the file's modified time
    for given in ("0001-01-01", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"):
        code, out, err = run(capsys, "import", "--library", str(folder), str(make_png()), "--date", given)
        assert code == 1 and err.strip() == (f'myimages: The date "{given}" is out of range: '
                                             "give one from 0001-01-02 to 9999-12-30.")
    library = Library(folder, account="alice")
    Image.update(generated_at=datetime(9999, 12, 31, 23, 59, 59)).where(Image.id == 1).execute()
    library.close()
    code, out, err = run(capsys, "list", "--library", str(folder))
    assert code == 0 and "9999-12-31 23:59" in out
    code, out, _ = run(capsys, "info", "--library", str(folder), "1")
    assert code == 0 and "9999-12-31 23:59:59 UTC" in out


def test_import_refuses_the_library_folder_and_what_is_in_it(capsys, lib_dir, tmp_path):
    """NEWUSER4 #3: as `source add` does; a library's folder inside a folder imported is skipped."""
    for path in (lib_dir, lib_dir / "thumbs", next((lib_dir / "originals").rglob("*.png"))):
        code, out, err = run(capsys, "import", "--library", str(lib_dir), str(path), "-r")
        assert code == 1 and out == "" and err.count("\n") == 1
        assert f"{path} is " in err and "(its own files): nothing was imported" in err
    code, out, err = run(capsys, "import", "--library", str(lib_dir), str(tmp_path), "-r")
    assert f"skipped: {lib_dir}: a library's folder" in out and "0 imported, 2 duplicates" in out
    code, out, _ = run(capsys, "list", "--library", str(lib_dir))
    assert len(out.splitlines()) == 2


def test_import_leaves_out_the_downloads_folder_inside_a_folder(capsys, lib_dir, tmp_path, monkeypatch):
    """New-user test 5, item 1: `import -r` of a folder holding the downloads folder took every download in again as
    a new image (its text chunks differ from the original's); it is skipped, as a source's scan skips it."""
    downloads = tmp_path / "dl"
    monkeypatch.setenv("MYIMAGES_DOWNLOADS", str(downloads))
    assert run(capsys, "export", "--library", str(lib_dir), "1", "--to", str(downloads))[0] == 0
    code, out, _ = run(capsys, "import", "--library", str(lib_dir), str(tmp_path), "-r")
    assert code == 0 and f"skipped: {downloads}: the downloads folder" in out and "0 imported" in out
    assert len(run(capsys, "list", "--library", str(lib_dir))[1].splitlines()) == 2


def test_downloads_given_on_the_command_line_are_left_out_too(capsys, lib_dir, tmp_path):
    """`--downloads DIR` given on the command line alone (not in the settings) was not left out: `import -r` of a
    folder holding it, a source holding it (its scan, the watch's rescans in their child process) and `source add`
    of it took the app's own downloads in again as new images. The skip list read the settings alone; it reads the
    program's folder now (Library.downloads). Fails without (each took the download in)."""
    from store.library import Library
    from store.scan_child import run_in_child

    out = tmp_path / "out"
    downloads = out / "dl"
    downloads.mkdir(parents=True)
    given = ["--library", str(lib_dir)]
    assert run(capsys, "--downloads", str(downloads), "export", *given, "1", "--to", str(downloads))[0] == 0
    code, out_text, err = run(capsys, "--downloads", str(downloads), "import", *given, str(out), "-r")
    assert f"skipped: {downloads}: the downloads folder" in out_text and "no PNG, JPEG" in err and code == 1
    code, _, err = run(capsys, "--downloads", str(downloads), "source", "add", *given, str(downloads))
    assert code == 1 and f"is the downloads folder ({downloads})" in err
    code, out_text, _ = run(capsys, "--downloads", str(downloads), "source", "add", *given, str(out))
    assert code == 0 and "No images in the folder" in out_text, out_text
    with Library(lib_dir, account="alice", downloads=downloads) as library:  # the app's rescans
        assert [report.added for report in run_in_child(library, niceness=0)] == [[]]
    assert len(run(capsys, "list", *given)[1].splitlines()) == 2


def test_importing_a_trashed_picture_says_it_came_back(capsys, lib_dir, tmp_path):
    """NEWUSER4 #20: it said "duplicate: … is already image #1" and "0 imported, 1 duplicate"."""
    from store.importer import ImportReport
    from tui.import_screen import detail_lines

    assert run(capsys, "delete", "--library", str(lib_dir), "1", "--yes")[0] == 0
    first = next((tmp_path / "in").iterdir())
    code, out, _ = run(capsys, "import", "--library", str(lib_dir), str(tmp_path / "in"))
    assert code == 0 and out.splitlines() == [f"restored: {first} is image #1, back from the trash",
                                              f"duplicate: {tmp_path / 'in' / 'image2.png'} is already image #2",
                                              "0 imported, 1 restored from the trash, 1 duplicate, 0 failed"]
    assert detail_lines(ImportReport(restored=[(first, 1)])) == [f"restored: {first} is image #1, back from the trash"]


def test_a_prompt_too_large_to_read_is_said_in_the_import_the_scan_and_info(capsys, tmp_path, make_png):
    """New-user test 5 §11: a PNG whose A1111 text is 2.5 MB came in as "(no prompt)" without a word (the
    parsers read at most metadata.MAX_CHUNK characters)."""
    huge = "huge prompt word " * 150_000 + "\nSteps: 20, Sampler: Euler, CFG scale: 7, Seed: 5"
    library = str(tmp_path / "lib")
    path = make_png("huge.png", text={"parameters": huge})
    code, out, _ = run(capsys, "import", "--library", library, str(path))
    assert code == 0 and f"note: {path}: prompt too large: not read (2,550,049 characters" in out
    code, out, _ = run(capsys, "info", "--library", library, "1")
    assert "Prompt:" in out and "(prompt too large: not read (2,550,049 characters of metadata; at most 2,000,000" in out
    make_png("src/huge.png", text={"parameters": huge + ", Model: other"})
    code, out, _ = run(capsys, "source", "add", "--library", library, str(tmp_path / "in" / "src"))
    assert code == 0 and "huge.png: prompt too large: not read" in out and "1 prompt too large: not read" in out


def test_odd_numbers_from_a_file_nan_and_a_negative_seed(capsys, tmp_path, make_png):
    """New-user test 5 §11: "CFG scale: nan" showed as "nan" in info (null in --json), and a file's "Seed: -5" was
    -5 in --json while `seed:-5` said '"-5" is not a number' and `seed:<0` found nothing without a word."""
    library = str(tmp_path / "lib")
    odd = "odd numbers heron\nSteps: 99999999999999999999999, Sampler: Euler, CFG scale: nan, Seed: -5"
    assert run(capsys, "import", "--library", library, str(make_png(text={"parameters": odd})))[0] == 0
    code, out, _ = run(capsys, "info", "--library", library, "1")
    assert "Text accuracy:   not recorded" in out and "nan" not in out
    code, out, _ = run(capsys, "list", "--library", library, "--json")
    assert json.loads(out)[0]["text_accuracy"] is None and json.loads(out)[0]["seed"] is None
    for query in ("seed:-5", "seed:<0", "seed:-5--1", "seed:-10..-1"):
        code, out, err = run(capsys, "list", "--library", library, "--search", query)
        assert code == 1 and out == "" and "Seeds are 0 or more: a negative seed in a file counts as no seed." in err
    for query in ("seed:-5..5", "seed:>-3", "seed:<=0"):  # read; the part below 0 matches nothing
        code, out, err = run(capsys, "list", "--library", library, "--search", query)
        assert code == 0 and "heron" not in out and "Seeds are" not in err
    code, out, _ = run(capsys, "list", "--library", library, "--search", "steps:>100")
    assert code == 0 and "heron" in out


def test_an_image_in_the_trash_outlives_source_remove_and_comes_back_as_the_librarys_own(capsys, tmp_path, make_png):
    """New-user test 5 §11: `source remove` did not count a deleted image of the folder, and `trash restore` put
    its file back into the folder no longer followed: a linked image outside every source."""
    library = str(tmp_path / "lib")
    first = make_png("src/a.png")
    make_png("src/b.png")
    folder = str(first.parent)
    assert run(capsys, "source", "add", "--library", library, folder)[0] == 0
    ids = {Path(d["path"]).name: d["id"] for d in json.loads(run(capsys, "list", "--library", library, "--json")[1])}
    assert run(capsys, "delete", "--library", library, str(ids["a.png"]), "--yes")[0] == 0
    assert not first.exists()  # moved into the library's trash
    code, out, err = run(capsys, "source", "remove", "--library", library, folder)  # no terminal: refused
    assert code == 1 and "1 is in the trash (a restore keeps it as the library's own)" in err
    assert run(capsys, "source", "remove", "--library", library, folder, "--yes")[0] == 0
    code, out, _ = run(capsys, "trash", "restore", "--library", library, str(ids["a.png"]))
    assert code == 0 and "1 image restored" in out
    assert f"#{ids['a.png']}: its source folder {folder} is no longer followed, so it is back as the library's " \
           "own copy" in out
    assert not first.exists() and not any((tmp_path / "lib" / "trash").iterdir())
    shown = json.loads(run(capsys, "info", "--library", library, str(ids["a.png"]), "--json")[1])
    assert Path(shown["path"]).is_file() and Path(shown["path"]).is_relative_to(tmp_path / "lib" / "originals")
    code, out, _ = run(capsys, "doctor", "--library", library)
    assert code == 0 and "0 missing thumbnails made again" in out, out


def test_jfif_and_jpe_files_are_read_as_jpeg_by_import_and_sources(capsys, tmp_path):
    """New-user test 5 §11: `.jfif` (a browser's name for a saved JPEG) was left out of imports and source folders."""
    from PIL import Image

    library = str(tmp_path / "lib")
    names = ["saved.jfif", "old.JPE", "UPPER.JFIF"]
    for folder in ("imp", "src"):
        for n, name in enumerate(names):
            (tmp_path / folder).mkdir(exist_ok=True)
            Image.new("RGB", (24, 16), (40 * n + (folder == "src") * 7, 90, 30)).save(tmp_path / folder / name, "JPEG")
    code, out, _ = run(capsys, "import", "--library", library, str(tmp_path / "imp"))
    assert code == 0 and "3 imported" in out
    code, out, _ = run(capsys, "source", "add", "--library", library, str(tmp_path / "src"))
    assert code == 0 and "3 new images" in out
    listed = json.loads(run(capsys, "list", "--library", library, "--json")[1])
    assert sorted(Path(d["path"]).suffix for d in listed) == sorted([".jpg"] * 3 + [".jfif", ".JPE", ".JFIF"])


def test_the_app_makes_no_library_among_other_files(capsys, tmp_path):
    """New-user test 5 §11: `myimages --library DIR` on a folder holding only notes.txt opened "Your library is
    empty." and wrote library.db, library.json and catalog.bin beside it; the command line refused the same
    folder. The app now refuses it too, before anything is written, and says how to make a library there."""
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    code, out, err = run(capsys, "--library", str(folder))
    assert code == 1 and out == ""
    assert err.startswith(f"myimages: There is no library in {folder}, and it holds other files: check --library")
    assert f"import images there first (myimages --library {folder} import PATH…)" in err
    assert [p.name for p in folder.iterdir()] == ["notes.txt"]


def test_info_shows_the_settings_a_search_finds_an_image_by(capsys, tmp_path, make_png):
    """NEWUSER6 §11: `info` (and `i` in the app, which shows the same rows) never showed the seed, steps, sampler,
    LoRAs or generation size that seed:, steps:, sampler: and lora: find an image by."""
    library = str(tmp_path / "lib")
    text = ("a lantern <lora:paperCut:0.8>\nSteps: 28, Sampler: DPM++ 2M, CFG scale: 6, Seed: 1234567890, "
            "Size: 1024x768, Lora hashes: \"inkWash: 0a1b2c\"")
    assert run(capsys, "import", "--library", library, str(make_png(size=(64, 48), text={"parameters": text})))[0] == 0
    code, out, _ = run(capsys, "info", "--library", library, "1")
    assert code == 0
    for line in ("Seed:            1234567890", "Steps:           28", "Sampler:         DPM++ 2M",
                 "LoRAs:           inkWash, paperCut", "Generation size: 1024x768"):  # as written (NEWUSER8 #4)
        assert line in out
    assert run(capsys, "import", "--library", library, str(make_png(size=(8, 8))))[0] == 0  # none recorded: none shown
    code, out, _ = run(capsys, "info", "--library", library, "2")
    assert not any(label in out for label in ("Seed:", "Steps:", "Sampler:", "LoRAs:", "Generation size:"))
    assert "Model:           not recorded" in out  # NEWUSER6 §12: "unknown", which model:unknown did not find


@pytest.fixture
def five(tmp_path, capsys, make_png):
    """Five images of alice's: #1-#3 "a red dragon", #4-#5 "a blue owl"; a collection "Keepers"."""
    folder = tmp_path / "five"
    for n in range(5):
        prompt = "a red dragon" if n < 3 else "a blue owl"
        assert run(capsys, "import", "--library", str(folder), "--account", "alice", str(make_png()),
                   "--prompt", prompt)[0] == 0
    assert run(capsys, "collection", "create", "Keepers", "--library", str(folder), "--account", "alice")[0] == 0
    return ["--library", str(folder), "--account", "alice"]


def favorites(capsys, lib):
    code, out, _ = run(capsys, "list", "--favorites", "--ids", *lib)
    assert code == 0
    return sorted(int(line) for line in out.split())


def test_ids_take_ranges_and_lists(capsys, five, tmp_path):
    """NEWUSER7 #22: `export 1-5` and `favorite 1,2,3` said "is not an image id"."""
    code, out, err = run(capsys, "favorite", "1-2", *five)
    assert (code, out) == (0, "2 images marked as favorite\n")
    assert run(capsys, "favorite", "#4,5", "--off", *five)[0] == 0
    assert favorites(capsys, five) == [1, 2]
    assert run(capsys, "favorite", "2,", "#3–#4", "1,5", *five)[1] == "5 images marked as favorite\n"
    code, out, err = run(capsys, "export", "2-4", "--to", str(tmp_path / "out"), *five)
    assert code == 0 and len(out.splitlines()) == 3
    assert run(capsys, "collection", "add", "Keepers", "1-3", *five)[1] == '3 images added to "Keepers"\n'


@pytest.mark.parametrize("ids, said", [
    ("4-2", '"4-2" is a range backwards: write 2-4.'),
    ("1-100001", '"1-100001" stands for 100,001 ids: a range may stand for at most 100,000 (give several, or '
                 '--search "id:1-100001" for the images there are).'),
    ("1-x", '"1-x" is not an image id (ids are whole numbers, as `myimages list` shows, or ranges as 10-20).'),
    ("1-3,6", "No image #6: no image was marked (give the other 3 without it)."),
    ("info 1-2", '`info` takes one image id, not "1-2".'),
])
def test_a_bad_range_is_one_sentence_and_changes_nothing(capsys, five, ids, said):
    command = ids.split()[:-1] or ["favorite"]
    code, out, err = run(capsys, *command, ids.split()[-1], *five)
    assert (code, out, err) == (1, "", f"myimages: {said}\n")
    assert favorites(capsys, five) == []


def test_commands_on_images_take_a_search(capsys, five, tmp_path, monkeypatch):
    """NEWUSER7 #22: every image a search finds, with the refusals of typed ids."""
    assert run(capsys, "favorite", "--search", "dragon", *five)[1] == "3 images marked as favorite\n"
    assert favorites(capsys, five) == [1, 2, 3]
    assert run(capsys, "favorite", "--search", "-owl", "--off", *five)[1] == "3 images unmarked\n"
    code, out, _ = run(capsys, "collection", "add", "Keepers", "--search", "owl", *five)
    assert out == '2 images added to "Keepers"\n'
    code, out, _ = run(capsys, "export", "--search", "in:Keepers", "--to", str(tmp_path / "out"), *five)
    assert code == 0 and len(out.splitlines()) == 2
    code, out, _ = run(capsys, "list", "--search", "id:2-4", "--ids", *five)
    assert out == "4\n3\n2\n"  # bare ids for xargs, newest first
    for args, said in (
            (["favorite", "--search", "unicorn"], 'No image of yours matches "unicorn": no image was marked.'),
            (["favorite", "1", "--search", "owl"], "Give image ids or --search, not both."),
            (["favorite"], "Give image ids (12, 10-20, 1,2,3) or --search QUERY."),
            (["favorite", "--search", " "], "--search needs a query (an empty one would be every image): no image "
                                            "was marked."),
            (["delete", "--search", "sedd:1", "--yes"], 'Unknown field "sedd:": quote it to search the prompt for '
                                                       "it: nothing was deleted."),
            # bob finds none of alice's images: a search acts on the account's own images only
            (["delete", "--search", "dragon", "--yes", *five[:2], "--account", "bob"],
             'No image of yours matches "dragon": nothing was deleted.')):
        code, out, err = run(capsys, *args, *([] if "bob" in args else five))
        assert (code, out, err.splitlines()[-1]) == (1, "", f"myimages: {said}"), args  # (bob: "is new, …" first)
    asked = []
    monkeypatch.setattr("tui.cli_common.sys.stdin.isatty", lambda: True, raising=False)
    monkeypatch.setattr("builtins.input", lambda question: asked.append(question) or "n")
    code, out, _ = run(capsys, "delete", "--search", "dragon", *five)
    assert code == 1 and out == "Nothing deleted.\n"
    assert asked[0].startswith('Are you sure you want to delete the 3 images the search "dragon" finds (#1–#3)?')
    code, out, _ = run(capsys, "delete", "--search", "dragon", "--yes", *five)
    assert code == 0 and out.startswith("3 images deleted: moved to the trash")
    assert run(capsys, "list", "--ids", *five)[1] == "5\n4\n"


def test_collections_are_listed_in_natural_order(capsys, lib_dir):
    """New-user test 7 #21: `Collection number 1, 10, 11 … 2`: numbered batches in plain string order. The store
    lists them as people number them (the dialog, the dropdown and `collection list` all take its list)."""
    for name in ("Batch 10", "batch 2", "Batch 1", "Éclairs", "Batch 2b", "Ant"):
        assert run(capsys, "collection", "create", name, "--library", str(lib_dir))[0] == 0
    code, out, _ = run(capsys, "collection", "list", "--library", str(lib_dir))
    names = [line.split("  ")[-2].strip() for line in out.splitlines()]
    assert names == ["Ant", "Batch 1", "batch 2", "Batch 2b", "Batch 10", "Éclairs", "Jewels"]


def test_collection_list_counts_the_images_in_the_trash(capsys, lib_dir):
    """New-user test 8 #6: a collection whose images are all in the trash was listed "(0 images)", as if empty,
    before a `collection delete --yes`. Fails without (no trash count)."""
    assert run(capsys, "collection", "add", "Jewels", "1", "--library", str(lib_dir))[0] == 0
    assert run(capsys, "collection", "create", "Half", "--library", str(lib_dir))[0] == 0
    assert run(capsys, "collection", "add", "Half", "1", "2", "--library", str(lib_dir))[0] == 0
    assert run(capsys, "delete", "1", "2", "--yes", "--library", str(lib_dir))[0] == 0
    assert run(capsys, "collection", "create", "Empty", "--library", str(lib_dir))[0] == 0
    code, out, _ = run(capsys, "collection", "list", "--library", str(lib_dir))
    assert code == 0 and [line.strip().split("  ", 1)[1] for line in out.splitlines()] == [
        "Empty  (0 images)", "Half  (0 images, 2 in the trash)", "Jewels  (0 images, 2 in the trash)"]
    assert run(capsys, "trash", "restore", "2", "--library", str(lib_dir))[0] == 0
    out = run(capsys, "collection", "list", "--library", str(lib_dir))[1]
    assert "Half  (1 image, 1 in the trash)" in out and "Jewels  (1 image, 1 in the trash)" in out


def test_a_collection_name_with_quotes_is_not_put_in_quotes_of_the_same_kind(capsys, lib_dir):
    """New-user test 7 #21: `Collection "My "Best" \\ one" created`, quotes inside quotes."""
    name = 'My "Best" \\ one'
    assert run(capsys, "collection", "create", name, "--library", str(lib_dir))[:2] == \
        (0, 'Collection “My "Best" \\ one” created\n')
    assert run(capsys, "collection", "add", name, "1", "--library", str(lib_dir))[1] == \
        '1 image added to “My "Best" \\ one”\n'
    code, _, err = run(capsys, "collection", "create", name, "--library", str(lib_dir))
    assert code == 1 and 'A collection named “My "Best" \\ one” already exists.' in err
    assert run(capsys, "collection", "rename", "Jewels", "Gems", "--library", str(lib_dir))[1] == \
        'Collection "Jewels" renamed to "Gems"\n'  # a name without a quote: as before


def test_the_search_help_says_size_is_the_pictures_pixels(capsys):
    """New-user test 11 #7: `size:512x400` found nothing though info said "Generation size: 512x400": width, height
    and size are the pixels (info's Dimensions). The help (`list --help`, and `?` in the app) says so."""
    with pytest.raises(SystemExit):
        main(["list", "--help"])
    assert "(width, height, size: the picture's pixels, not the generation size in the file)" in \
        capsys.readouterr().out


def test_collection_list_and_account_list_print_json_for_scripts(capsys, lib_dir):
    """New-user test 11 #9: `list`, `info`, `trash list` and `source list` had --json, `collection list` and `account
    list` did not ("unrecognized arguments: --json"): a script had to parse their text."""
    code, out, _ = run(capsys, "collection", "list", "--json", "--library", str(lib_dir))
    assert code == 0 and json.loads(out) == [{"id": 1, "name": "Jewels", "images": 1, "in_trash": 0}]
    code, out, _ = run(capsys, "account", "list", "--json", "--library", str(lib_dir))
    assert code == 0 and json.loads(out) == [{"name": "alice", "plan": "free", "public": True, "you": True}]
