"""The settings file (store/settings.py): where it is, what it holds, the environment over it, a bad file,
`myimages config path|show`, a keymap that rebinds a key, and what the app writes back (comments kept)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from store import settings as settings_module
from store.library import Library
from tui import cli
from tui.app import MyImagesApp
from tui.help_screen import HelpScreen

from . import ui

USER_FILE = """\
# my settings: kept as I wrote them
card_size = "large"   # big cards
trash_days = 7

[keymap]
"gallery.favorite" = "ctrl+f"   # f is for something else
"""


def config_file() -> Path:
    return Path(os.environ["MYIMAGES_CONFIG"])


def test_tests_never_read_the_developers_file():
    assert config_file() == settings_module.settings_path()
    assert not str(config_file()).startswith(str(Path.home() / ".config"))


def test_file_then_environment_and_where_each_came_from(monkeypatch):
    config_file().write_text(USER_FILE, encoding="utf-8")
    monkeypatch.setenv("MYIMAGES_TRASH_DAYS", "3")
    settings = settings_module.current()
    assert settings.problem == ""
    assert settings.card_size == "large" and settings.origin("card_size") == "file"
    assert settings.trash_days == 3 and settings.origin("trash_days") == "MYIMAGES_TRASH_DAYS"  # env wins
    assert settings.account == "alice" and settings.origin("account") == "MYIMAGES_ACCOUNT"
    assert settings.sort == "newest" and settings.origin("sort") == "default"
    assert settings.keymap == {"gallery.favorite": "ctrl+f"}
    from store.trash import trash_days

    assert trash_days() == 3  # the store reads the same settings
    monkeypatch.delenv("MYIMAGES_TRASH_DAYS")
    assert trash_days() == 7


@pytest.mark.parametrize("text, named", [
    ('card_size = "huge"\n', '"card_size" must be one of small, medium, large'),
    ('cards = 3\n', '"cards" is not a setting'),
    ('trash_days = 0\n', '"trash_days" must be a whole number of days'),
    ('[keymap]\n"gallery.favorite" = 3\n', '"keymap.gallery.favorite" must be keys'),
    ('card_size = \n', "not valid TOML"),
])
def test_a_bad_file_names_the_key_and_the_defaults_hold(text, named, capsys):
    config_file().write_text(text, encoding="utf-8")
    settings = settings_module.current()
    assert named in settings.problem and str(config_file()) in settings.problem
    assert "\n" not in settings.problem
    assert settings.card_size == "medium" and settings.trash_days == 30 and settings.keymap == {}
    assert cli.main(["config", "show"]) == 1
    out, err = capsys.readouterr()
    assert named in err and 'card_size = "medium"  # default' in out
    before = config_file().read_text(encoding="utf-8")
    settings_module.save(settings, card_size="small")  # never written over: the user's text stays
    assert config_file().read_text(encoding="utf-8") == before


def test_config_path_and_show(capsys, monkeypatch):
    assert cli.main(["config", "path"]) == 0
    assert capsys.readouterr().out.strip() == str(config_file())
    config_file().write_text(USER_FILE, encoding="utf-8")
    monkeypatch.setenv("MYIMAGES_DATABASE_URL", "postgresql://bob:secret@db.example:5432/images")
    assert cli.main(["config", "show"]) == 0
    out = capsys.readouterr().out
    assert 'card_size = "large"  # file' in out
    assert 'account = "alice"  # $MYIMAGES_ACCOUNT' in out
    assert 'sort = "newest"  # default' in out
    assert '"gallery.favorite" = "ctrl+f"  # file' in out
    assert "db.example" in out and "secret" not in out  # never the password


def test_save_keeps_the_users_comments_through_a_rename(tmp_path):
    config_file().write_text(USER_FILE, encoding="utf-8")
    settings = settings_module.save(settings_module.current(), card_size="small", sort="oldest")
    text = config_file().read_text(encoding="utf-8")
    assert "# my settings: kept as I wrote them" in text and "# f is for something else" in text
    assert 'card_size = "small"' in text and 'sort = "oldest"' in text
    assert settings.card_size == "small" and settings_module.current().sort == "oldest"
    assert [p.name for p in config_file().parent.iterdir() if p.name.startswith(".tmp-")] == []


@pytest.fixture
def lib(small_library):
    return small_library


async def test_a_keymap_in_the_file_rebinds_an_action(lib, tmp_path):
    config_file().write_text(USER_FILE, encoding="utf-8")
    app = MyImagesApp(lib, images="none", downloads=tmp_path / "downloads")
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.settle(pilot, app)
        record = app.screen.query_one("#grid").current
        await pilot.press("f")  # no longer favorite
        await ui.settle(pilot, app)
        assert not lib.get(record.id).favorite
        await pilot.press("ctrl+f")
        await ui.wait_until(pilot, lambda: lib.get(record.id).favorite)
        await pilot.press("question_mark")  # the help shows the new key
        await ui.wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        assert any(r.binding_id == "gallery.favorite" and r.keys == "^f" for r in app.screen.rows)


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
async def test_a_rebound_key_keeps_its_place_in_the_key_bar(lib, tmp_path, size):
    """NEWUSER7 #21: with "viewer.next" = "n" the large view's bar lost "Next" at 80x24 (Textual lists a rebound
    key last: at 160x48 it came after "g Grid"); before, "→ Next" was second. The bar keeps the bindings' declared
    order whatever their keys. Fails without (80x24: no "n Next"; 160x48: it is last)."""
    from widgets.key_bar import KeyBar

    config_file().write_text('[keymap]\n"viewer.next" = "n"\n', encoding="utf-8")
    app = MyImagesApp(lib, images="none", downloads=tmp_path / "downloads")
    async with app.run_test(size=size) as pilot:
        await ui.settle(pilot, app)
        await pilot.press("enter")
        await ui.wait_until(pilot, lambda: type(app.screen).__name__ == "ViewerScreen")
        bar = app.screen.query_one(KeyBar)
        await ui.wait_until(pilot, lambda: " n Next " in bar.text)
        assert bar.text.index(" Close ") < bar.text.index(" n Next ") < bar.text.index(" Previous "), bar.text


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
async def test_the_large_view_follows_the_keymap_of_the_gallery(lib, tmp_path, size):
    """NEWUSER11: after "gallery.favorite" = "ctrl+f" the large view still favourited with f and its key bar said
    "f Favorite" (its binding has an id of its own, viewer.favorite). A large-view binding doing what a gallery
    binding does takes the gallery's keys from the keymap (keymap_check.FOLLOWS): f does nothing there, ctrl+f
    favourites, the key bar and the help (?) say ^f. Fails without (f favourited)."""
    from widgets.key_bar import KeyBar

    config_file().write_text(USER_FILE, encoding="utf-8")
    app = MyImagesApp(lib, images="none", downloads=tmp_path / "downloads")
    async with app.run_test(size=size) as pilot:
        await ui.settle(pilot, app)
        record = app.screen.query_one("#grid").current
        await pilot.press("enter")
        await ui.wait_until(pilot, lambda: type(app.screen).__name__ == "ViewerScreen")
        bar = app.screen.query_one(KeyBar)
        await ui.wait_until(pilot, lambda: " ^f Favorite " in bar.text)
        assert " f Favorite " not in bar.text
        await pilot.press("f")
        await ui.settle(pilot, app)
        assert not lib.get(record.id).favorite and type(app.screen).__name__ == "ViewerScreen"
        await pilot.press("ctrl+f")
        await ui.wait_until(pilot, lambda: lib.get(record.id).favorite)
        await pilot.press("question_mark")
        await ui.wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        assert any(r.binding_id == "viewer.favorite" and r.keys == "^f" for r in app.screen.rows)


async def test_the_trashs_large_view_follows_the_keymap_of_the_gallerys(lib, tmp_path):
    """With "viewer.next" = "n" the gallery's large view stepped on n, and the trash's (the same large view, of the
    trash: picture.next) still took only →. It follows it (keymap_check.FOLLOWS). Fails without (n did nothing)."""
    from tui.trash_screen import TrashPictureScreen, TrashScreen

    config_file().write_text('[keymap]\n"viewer.next" = "n"\n', encoding="utf-8")
    lib.trash(lib.ids())
    app = MyImagesApp(lib, images="none", downloads=tmp_path / "downloads")
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.settle(pilot, app)
        await pilot.press("t")
        await ui.wait_until(pilot, lambda: isinstance(app.screen, TrashScreen) and app.screen.loaded)
        await ui.settle(pilot, app)
        await pilot.press("enter")
        await ui.wait_until(pilot, lambda: isinstance(app.screen, TrashPictureScreen))
        assert app.screen.position() == (0, 3)
        await pilot.press("n")
        await ui.wait_until(pilot, lambda: app.screen.position() == (1, 3))


def test_a_large_view_binding_the_keymap_names_keeps_its_own_keys():
    """Only a binding the keymap leaves alone follows the gallery's; one of another action never does."""
    from tui.keymap_check import keymap_problems, with_followers

    keymap = {"gallery.favorite": "ctrl+f", "viewer.info": "I", "gallery.info": "ctrl+i", "gallery.quit": "x"}
    followed = with_followers(keymap)
    assert followed == {**keymap, "viewer.favorite": "ctrl+f"}  # viewer.info is the user's; no viewer.quit
    # the trash's and the duplicates view's large view (picture.*) follows the gallery's large view
    assert with_followers({"viewer.next": "n", "viewer.close": "x"}) == {
        "viewer.next": "n", "viewer.close": "x", "picture.next": "n", "picture.close": "x"}
    # a key taken from another of the large view's actions is said, with the large view's names
    assert '[keymap] "d" is given to both viewer.favorite and viewer.delete: it runs viewer.favorite; viewer.delete ' \
        "no longer has it." in keymap_problems({"gallery.favorite": "d"})


async def test_a_keymap_id_that_names_no_key_is_said(lib, tmp_path):
    config_file().write_text('[keymap]\n"gallery.favourite" = "ctrl+f"\n"gallery.delete" = "x"\n', encoding="utf-8")
    app = MyImagesApp(lib, images="none", downloads=tmp_path / "downloads")
    said = ui.notices(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.settle(pilot, app)
        assert any("'gallery.favourite'" in n and "no key has that id" in n and "delete" not in n for n in said)
        await pilot.press("x")  # the known one applies
        await ui.wait_until(pilot, lambda: type(app.screen).__name__ == "ConfirmDeleteScreen")


CLASHING = '[keymap]\n"gallery.favorite" = "d"\n"gallery.nothing" = "x"\n'


def test_config_show_names_unknown_ids_and_a_key_given_twice(capsys):
    config_file().write_text(CLASHING, encoding="utf-8")
    assert cli.main(["config", "show"]) == 0
    out, err = capsys.readouterr()
    assert '"gallery.favorite" = "d"  # file' in out
    assert "'gallery.nothing': no key has that id" in err
    assert '"d" is given to both gallery.favorite and gallery.delete: it runs gallery.favorite; gallery.delete ' \
        'no longer has it.' in err  # NEWUSER5 §7: which one runs
    config_file().write_text(USER_FILE, encoding="utf-8")  # ctrl+f is free: nothing said
    assert cli.main(["config", "show"]) == 0 and capsys.readouterr().err == ""


def test_config_show_checks_a_keymap_without_textual():
    """`config show` with a [keymap] (a clash and an unknown id in it) says both, and Textual is never loaded:
    the bindings come from tui/binding_table.py."""
    import subprocess
    import sys

    from .conftest import ROOT

    config_file().write_text(CLASHING, encoding="utf-8")
    code = ("import sys; from tui.cli import main; code = main(['config', 'show']); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'textual')); sys.exit(code)")
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert run.returncode == 0, run.stderr
    assert run.stdout.rstrip().splitlines()[-1] == "[]"
    assert '"d" is given to both gallery.favorite and gallery.delete' in run.stderr
    assert "'gallery.nothing': no key has that id" in run.stderr


def test_the_binding_table_is_the_classes_bindings():
    """tui/binding_table.py (what `config show` checks a keymap against) is what the classes declare now:
    a binding added, changed or removed without `python -m tui.keymap_check` fails here."""
    from tui.binding_table import BINDINGS
    from tui.help_screen import binding_table
    from tui.keymap_check import table_source

    assert table_source(binding_table()) == table_source(BINDINGS), \
        "tui/binding_table.py is out of date: run `python -m tui.keymap_check` and commit it"


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
async def test_the_app_says_a_key_given_twice_in_one_notification(lib, tmp_path, size):
    config_file().write_text(CLASHING, encoding="utf-8")
    app = MyImagesApp(lib, images="none", downloads=tmp_path / "downloads")
    said = ui.notices(app)
    async with app.run_test(size=size) as pilot:
        await ui.settle(pilot, app)
        settings_notes = [n for n in said if "keymap" in n]
        assert len(settings_notes) == 1
        assert "'gallery.nothing'" in settings_notes[0] and '"d" is given to both gallery.favorite and ' \
            "gallery.delete" in settings_notes[0]


async def test_a_bad_file_is_said_in_one_line_and_the_app_starts_with_defaults(lib, tmp_path):
    config_file().write_text('card_size = "huge"\n[keymap]\n"gallery.favorite" = "ctrl+f"\n', encoding="utf-8")
    app = MyImagesApp(lib, images="none", downloads=tmp_path / "downloads")
    said = ui.notices(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.settle(pilot, app)
        assert any('"card_size" must be one of small, medium, large' in n for n in said)
        record = app.screen.query_one("#grid").current
        await pilot.press("f")  # the default keys
        await ui.wait_until(pilot, lambda: lib.get(record.id).favorite)


async def test_the_app_writes_back_the_theme_and_the_order_keeping_comments(lib, tmp_path):
    config_file().write_text(USER_FILE, encoding="utf-8")
    app = MyImagesApp(lib, images="none", downloads=tmp_path / "downloads")
    async with app.run_test(size=(160, 48)) as pilot:
        await ui.settle(pilot, app)
        await pilot.press("o")  # the next order
        await ui.wait_until(pilot, lambda: 'sort = "oldest"' in config_file().read_text(encoding="utf-8"))
        await pilot.press("ctrl+p")
        await pilot.press(*"theme")
        await pilot.press("enter")
        await ui.wait_until(pilot, lambda: "nord" in app.available_themes and app.screen.query("OptionList"))
        await pilot.press(*"nord")
        await pilot.press("enter")
        await ui.wait_until(pilot, lambda: 'theme = "nord"' in config_file().read_text(encoding="utf-8"))
        assert "# f is for something else" in config_file().read_text(encoding="utf-8")
    again = MyImagesApp(Library(lib.root, account="alice"), images="none", downloads=tmp_path / "downloads")
    async with again.run_test(size=(80, 24)) as pilot:
        await ui.settle(pilot, again)
        assert again.theme == "nord" and again.screen.filters.sort == "oldest"


@pytest.mark.parametrize("variable, value, named", [
    ("MYIMAGES_TRASH_DAYS", "99999999999", '"trash_days" must be a whole number of days from 1 to 36500'),
    ("MYIMAGES_TRASH_DAYS", "abc", "'abc'; trash_days stays 30."),
    ("MYIMAGES_TRASH_DAYS", "-1", "'-1'; trash_days stays 30."),
    ("MYIMAGES_DUPLICATE_DISTANCE", "-5", '"duplicate_distance" must be a whole number from 0 to 16'),
    ("MYIMAGES_COLORS", "bogus", '"colors" must be one of auto, 16, 256, truecolor'),
])
def test_a_bad_environment_value_is_said_and_not_used(variable, value, named, capsys, monkeypatch):
    """NEWUSER4 #2: a bad value in the environment was dropped without a word."""
    monkeypatch.setenv(variable, value)
    settings = settings_module.current()
    assert settings.origin(variable.removeprefix("MYIMAGES_").lower()) == "default"
    assert len(settings.ignored) == 1 and settings.ignored[0].startswith(f"{variable} not used: ")
    assert named in settings.ignored[0]
    assert cli.main(["config", "show"]) == 1
    assert named in capsys.readouterr().err


def test_a_huge_trash_days_is_refused_and_the_trash_still_lists(capsys, monkeypatch, small_library):
    """NEWUSER4 #2: trash_days = 99999999999 crashed `trash list` and `doctor` (a date past the calendar)."""
    library_dir = str(small_library.root)
    small_library.trash([1])
    for days in ("99999999999", "3000000"):
        config_file().write_text(f"trash_days = {days}\n", encoding="utf-8")
        assert cli.main(["trash", "list", "--library", library_dir]) == 0
        out, err = capsys.readouterr()
        assert out.split()[0] == "1" and "Traceback" not in err
        assert err.count("\n") == 1 and '"trash_days" must be a whole number of days from 1 to 36500' in err
        assert cli.main(["doctor", "--library", library_dir]) == 0
        capsys.readouterr()
    config_file().write_text("trash_days = 36500\n", encoding="utf-8")  # a hundred years: the most, still fine
    assert cli.main(["trash", "list", "--library", library_dir]) == 0
    out, err = capsys.readouterr()
    assert err == "" and f"erased {int(out.split('erased ')[1][:4])}" >= "erased 2100"


async def test_the_app_says_a_bad_environment_value_and_shows_the_trash(lib, tmp_path, monkeypatch):
    monkeypatch.setenv("MYIMAGES_TRASH_DAYS", "3000000")
    lib.trash([1])
    app = MyImagesApp(lib, images="none", downloads=tmp_path / "downloads")
    said = ui.notices(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.settle(pilot, app)
        assert any("MYIMAGES_TRASH_DAYS not used" in n and "trash_days stays 30" in n for n in said)
        await pilot.press("t")
        await ui.wait_until(pilot, lambda: "#1" in ui.screen_text(app))
        assert not any("went wrong" in n for n in said)


async def test_a_demo_run_keeps_what_it_changes_beside_the_demo_library(tmp_path, monkeypatch):
    """`--demo` wrote the card size (any setting changed in the app) into the user's settings file. The demo
    starts from the user's settings, keeps its own changes in the demo library's settings.toml, finds them
    there next time, and leaves the user's file as it was."""
    config_file().write_text(USER_FILE, encoding="utf-8")
    handed = []
    monkeypatch.setattr("tui.app.run", lambda path, **kw: handed.append((path, kw["settings"])) or 0)
    assert cli.main(["--demo", "--images", "none", "--icons", "plain"]) == 0
    demo, settings = handed[0]
    assert demo == Path(os.environ["MYIMAGES_DEMO"]) and settings.path == demo / "settings.toml"
    assert settings.card_size == "large" and settings.keymap == {"gallery.favorite": "ctrl+f"}  # the user's
    app = MyImagesApp(Library(demo, account="alice"), images="none", downloads=tmp_path / "downloads",
                      settings=settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.settle(pilot, app)
        await pilot.press("minus")  # smaller cards, in the demo
        await ui.wait_until(pilot, lambda: settings.path.exists()
                            and 'card_size = "medium"' in settings.path.read_text(encoding="utf-8"))
        await app.workers.wait_for_complete()
    app.library.close()
    assert config_file().read_text(encoding="utf-8") == USER_FILE
    assert settings_module.current().card_size == "large"
    assert cli.main(["--demo", "--images", "none", "--icons", "plain"]) == 0
    assert handed[1][1].card_size == "medium" and handed[1][1].keymap == {"gallery.favorite": "ctrl+f"}


async def test_a_file_broken_while_the_app_runs_is_left_alone_and_said_in_words(lib, tmp_path):
    """NEWUSER5 §9: a settings file broken after the app read it gave tomlkit's exception ("InvalidControlChar:
    Control characters ...") when the app wrote a setting. Now one sentence names the setting, the file and the
    line, and the file stays as the user left it."""
    config_file().write_text(USER_FILE, encoding="utf-8")
    app = MyImagesApp(lib, images="none", downloads=tmp_path / "downloads")
    said = ui.notices(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.settle(pilot, app)
        broken = config_file().read_text(encoding="utf-8") + 'card_size = "huge\n'
        config_file().write_text(broken, encoding="utf-8")
        await pilot.press("o")  # the next order: written back
        await ui.wait_until(pilot, lambda: any("not saved" in n for n in said))
        (notice,) = [n for n in said if "not saved" in n]
        assert notice.startswith(f"Sort not saved: the settings file {config_file()} cannot be read (line ")
        assert "Exception" not in notice and "InvalidControlChar" not in notice and "col " not in notice
        assert app.screen.filters.sort == "oldest"  # the change holds for this run
        assert config_file().read_text(encoding="utf-8") == broken
