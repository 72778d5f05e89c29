"""Smaller holes (issue 10, item 7): damaged schema versions, odd ids, invisible characters,
multi-line values in `info`, and collection names that look like ids."""
from __future__ import annotations

import io
import sqlite3
import sys

import pytest

from store.errors import NotFound, StoreError
from store.importer import ImportOptions, import_files
from store.library import Library
from store.text import printable
from tui.info_screen import InfoScreen

from .test_cli import run
from .test_gallery import make_app, settle


def dump(path) -> list[str]:
    con = sqlite3.connect(path)
    try:
        return list(con.iterdump())
    finally:
        con.close()


DAMAGE = {
    "abc": ("UPDATE setting SET value='abc' WHERE key='schema_version'", 'schema version "abc", which is not'),
    "0": ("UPDATE setting SET value='0' WHERE key='schema_version'", 'schema version "0", which is not'),
    "-5": ("UPDATE setting SET value='-5' WHERE key='schema_version'", 'schema version "-5", which is not'),
    "no row": ("DELETE FROM setting WHERE key='schema_version'", "has lost its schema version"),
    "no table": ("DROP TABLE setting", "has tables but no schema version"),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_damaged_schema_version_is_refused_and_left_alone(tmp_path, make_png, capsys, damage):
    root = tmp_path / "lib"
    lib = Library(root)
    import_files(lib, [make_png()], ImportOptions(prompt="kept"))
    lib.close()
    sql, says = DAMAGE[damage]
    con = sqlite3.connect(root / "library.db")
    con.execute(sql)
    con.commit()
    con.close()
    before = dump(root / "library.db")
    with pytest.raises(StoreError, match=says) as refused:
        Library(root)
    assert "nothing was changed" in str(refused.value)
    code, out, err = run(capsys, "list", "--library", str(root))
    assert code == 1 and err.startswith("myimages: ") and says in err and err.count("\n") == 1
    assert dump(root / "library.db") == before  # never migrated on a guess


def test_damaged_schema_version_on_postgresql(tmp_path, make_png, db_url):
    if db_url is None:
        pytest.skip("the SQLite cases are above")
    lib = Library(tmp_path / "pg", database_url=db_url)
    import_files(lib, [make_png()], ImportOptions(prompt="kept"))
    lib.db.execute_sql("UPDATE setting SET value='abc' WHERE key='schema_version'")
    lib.close()
    with pytest.raises(StoreError, match=r'\(PostgreSQL\) records schema version "abc"'):
        Library(tmp_path / "pg", database_url=db_url)


def test_an_empty_database_file_is_still_a_new_library(tmp_path):
    root = tmp_path / "lib"
    root.mkdir()
    con = sqlite3.connect(root / "library.db")  # a database file with pages but no tables
    con.execute("CREATE TABLE scratch (a)")
    con.execute("DROP TABLE scratch")
    con.commit()
    con.close()
    assert (root / "library.db").stat().st_size > 0
    lib = Library(root)
    assert lib.page() == [] and "setting" in lib.db.get_tables()
    lib.close()


ODD_IDS = ["²", "①", "٣", "99999999999999999999", "#99999999999999999999", "1e3", "-1"]


@pytest.mark.parametrize("value", ODD_IDS)
def test_odd_ids_give_one_line(capsys, tmp_path, make_png, value):
    folder = str(tmp_path / "lib")
    assert run(capsys, "import", "--library", folder, str(make_png()), "--collection", "C")[0] == 0
    for command in (["info", value], ["favorite", value], ["delete", value, "--yes"],
                    ["export", value, "--to", str(tmp_path / "out")], ["collection", "add", "C", value],
                    ["collection", "remove", "C", value], ["clean", value], ["grid", value, "--to", "x"],
                    ["collection", "delete", value, "--yes"]):
        code, out, err = run(capsys, *command, "--library", folder)
        assert code == 1 and out == "" and err.count("\n") == 1, (command, err)
        assert err.startswith("myimages: ") and "Traceback" not in err
    assert run(capsys, "info", "1", "--library", folder)[0] == 0  # nothing was changed


def test_huge_demo_count_gives_one_line(capsys, tmp_path):
    code, out, err = run(capsys, "demo", "--count", "99999999999999999999", "--library", str(tmp_path / "d"))
    assert code == 1 and err == "myimages: --count must be between 1 and 1,000,000.\n"


def test_tag_characters_soft_hyphen_and_line_separators_are_neutralised():
    text = "flag\U000E0067\U000E0062\U000E007Fend soft\u00adhyphen line\u2028para\u2029x\U000E0000"
    shown = printable(text)
    assert shown == ("flag<U+E0067><U+E0062><U+E007F>end soft<U+00AD>hyphen "
                     "line<U+2028>para<U+2029>x<U+E0000>")
    assert printable("emoji ok 🙂 é 漢字") == "emoji ok 🙂 é 漢字"


def test_cli_output_has_no_invisible_characters(capsys, tmp_path, make_png):
    folder = str(tmp_path / "lib")
    prompt = "a\U000E0041\U000E0042 b\u00adc\u2028d\u2029e"
    assert run(capsys, "import", "--library", folder, str(make_png()), "--prompt", prompt)[0] == 0
    for command in (["list"], ["info", "1"]):
        code, out, err = run(capsys, *command, "--library", folder)
        assert code == 0 and "<U+E0041><U+E0042>" in out and "<U+00AD>" in out
        assert not set(out) & {"\U000E0041", "\U000E0042", "\u00ad", "\u2028", "\u2029"}


SPOOF = "a red cat\nOwner: bob\nModel: trusted-model\n\nFile: /etc/passwd"


def test_info_marks_continuation_lines(capsys, tmp_path, make_png):
    folder = str(tmp_path / "lib")
    assert run(capsys, "import", "--library", folder, str(make_png()), "--prompt", SPOOF)[0] == 0
    code, out, err = run(capsys, "info", "1", "--library", folder)
    assert code == 0
    lines = out.splitlines()
    for field in ("Owner:", "Model:", "File:"):
        assert sum(line.startswith(field) for line in lines) == 1, field  # only the real field starts a line
    start = lines.index("Prompt:          a red cat")
    assert lines[start + 1:start + 5] == ["               │ Owner: bob", "               │ Model: trusted-model",
                                          "               │ ", "               │ File: /etc/passwd"]


def test_info_on_a_terminal_never_lets_it_wrap_a_line(capsys, tmp_path, make_png, monkeypatch):
    """Padding cannot bring "Owner: bob" to the start of a row either: lines are cut to the width."""
    from store.text import cells

    folder = str(tmp_path / "lib")
    prompt = "".join(f"a cat{' ' * pad}Owner: bob 漢字🙂\t" for pad in range(30, 90))
    assert run(capsys, "import", "--library", folder, str(make_png()), "--prompt", prompt)[0] == 0
    monkeypatch.setenv("COLUMNS", "60")
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    code, out, err = run(capsys, "info", "1", "--library", folder)
    assert code == 0
    lines = out.splitlines()
    assert all(sum(cells(ch) for ch in line) < 60 for line in lines)
    assert sum(line.startswith("Owner:") for line in lines) == 1
    start = next(n for n, line in enumerate(lines) if line.startswith("Prompt:"))
    assert len(lines[start:]) > 60 and all(line.startswith("               │ ") for line in lines[start + 1:])


async def test_info_screen_marks_continuation_lines(tmp_path, make_png):
    library = Library(tmp_path / "tui-lib", account="alice")
    import_files(library, [make_png()], ImportOptions(prompt=SPOOF))
    app = make_app(library, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        await pilot.press("i")
        assert isinstance(app.screen, InfoScreen)
        values = [value for _label, value in app.screen.rows]
        prompt = next(v for v in values if v.startswith("a red cat"))
        assert prompt.split("\n") == ["a red cat", "│ Owner: bob", "│ Model: trusted-model", "│ ",
                                      "│ File: /etc/passwd"]
    library.close()


def test_collection_names_come_before_ids(capsys, tmp_path, make_png, monkeypatch):
    folder = str(tmp_path / "lib")
    assert run(capsys, "import", "--library", folder, str(make_png()), "--collection", "First")[0] == 0
    assert run(capsys, "import", "--library", folder, str(make_png()))[0] == 0
    assert run(capsys, "collection", "create", "1", "--library", folder)[0] == 0  # collection #2
    code, out, err = run(capsys, "collection", "add", "1", "2", "--library", folder)
    assert code == 0 and out == '1 image added to "1"\n'
    lib = Library(folder)
    assert [(c.id, c.name) for c in lib.collections()] == [(2, "1"), (1, "First")]
    assert lib.collection("1").name == "1" and lib.collection(1).name == "First"
    assert lib.collection("2").name == "1"  # no collection is named "2": the id
    with pytest.raises(NotFound):
        lib.collection("99999999999999999999")
    lib.close()

    code, out, err = run(capsys, "collection", "delete", "1", "--library", folder, "--yes")
    assert code == 0 and 'Collection "1" deleted' in out
    # Now no name matches "1": the id, and it holds an image, so the command asks first.
    code, out, err = run(capsys, "collection", "delete", "1", "--library", folder)
    assert code == 1 and err == "myimages: Not deleting without confirmation: add --yes.\n"
    monkeypatch.setattr(sys, "stdin", Terminal("n\n"))
    code, out, err = run(capsys, "collection", "delete", "1", "--library", folder)
    assert code == 1 and 'Delete collection #1 "First", which holds 1 image?' in out and "Nothing deleted." in out
    assert "First" in run(capsys, "collection", "list", "--library", folder)[1]
    monkeypatch.setattr(sys, "stdin", Terminal("y\n"))
    code, out, err = run(capsys, "collection", "delete", "First", "--library", folder)
    assert code == 0 and 'Collection "First" deleted (its image stays' in out
    # An empty collection goes without a question.
    monkeypatch.setattr(sys, "stdin", io.StringIO())
    assert run(capsys, "collection", "create", "Empty", "--library", folder)[0] == 0
    assert run(capsys, "collection", "delete", "Empty", "--library", folder)[0] == 0


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True
