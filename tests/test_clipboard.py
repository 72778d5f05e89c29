"""Copy never carries control characters: what reaches either clipboard is plain text."""
from __future__ import annotations

import shutil
import subprocess
import unicodedata

import pytest
from textual.app import App

from store.export import infotext
from store.importer import ImportOptions, import_files
from store.library import Library
from tui.app import MyImagesApp
from tui.prompt_screen import PromptScreen

from . import ui

# Ends bracketed paste, then a command and Enter; an OSC 52 that would rewrite the
# clipboard; C1 CSI, DEL, a bidi override, zero-width and NUL characters; CR line ends.
HOSTILE = ("a cat\x1b[201~\nrm -rf ~\n\x1b]52;c;ZXZpbA==\x07 \x9b31m x\x7fy \u202eevil\u202c \u200bz\x00 end\r\n"
           "line 2\tafter a tab\x08\x1b\\")
CLEAN = "a cat[201~\nrm -rf ~\n]52;c;ZXZpbA== 31m xy evil z end\nline 2\tafter a tab\\"


def assert_plain(text: str) -> None:
    """No control, format (bidi, zero-width, tags, soft hyphen), surrogate or line-separator character."""
    bad = [f"U+{ord(c):04X}" for c in text
           if c not in "\n\t" and (unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp")
                                    or 0xE0000 <= ord(c) <= 0xE007F)]
    assert not bad, bad


@pytest.fixture
def copies(monkeypatch):
    """Everything sent to the terminal's clipboard (OSC 52) and to the system one."""
    sent = {"terminal": [], "system": []}
    monkeypatch.setattr(App, "copy_to_clipboard", lambda app, text: sent["terminal"].append(text))
    monkeypatch.setattr("pyperclip.copy", lambda text: sent["system"].append(text))
    return sent


@pytest.fixture
def hostile_lib(tmp_path, make_png):
    library = Library(tmp_path / "hostile", account="alice")
    import_files(library, [make_png()], ImportOptions(prompt=HOSTILE))
    assert library.page()[0].prompt == HOSTILE  # stored as it came
    yield library
    library.close()


def test_clipboard_safe_keeps_only_newline_and_tab():
    from store.text import clipboard_safe

    assert clipboard_safe(HOSTILE) == CLEAN
    every = "".join(chr(c) for c in range(0x110000))
    kept = clipboard_safe(every)
    assert_plain(kept)
    assert "\n" in kept and "\t" in kept and "é" in kept and "漢" in kept and "🙂" in kept
    assert clipboard_safe(None) == ""


async def test_copy_button_sends_no_control_characters(hostile_lib, tmp_path, copies):
    app = MyImagesApp(hostile_lib, images="none", downloads=tmp_path / "downloads")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.press("p")
        assert isinstance(app.screen, PromptScreen)
        await pilot.click("#copy")
        await pilot.pause()
        assert copies == {"terminal": [CLEAN], "system": [CLEAN]}
        # Textual's own copies (text selection, inputs) go through the same App method.
        app.copy_to_clipboard(HOSTILE)
        assert copies["terminal"][-1] == CLEAN
        for text in copies["terminal"] + copies["system"]:
            assert_plain(text)


A1111 = ("a red fox, (night:1.2)\nNegative prompt: blurry, lowres\nSteps: 30, Sampler: DPM++ 2M, Schedule type: Karras, "
         "CFG scale: 7, Seed: 1234, Size: 512x768, Model hash: abc123, Model: dreamshaper_8, Clip skip: 2")
SETTINGS = ("a red fox, (night:1.2)\nNegative prompt: blurry, lowres\n"
            "Steps: 30, Sampler: DPM++ 2M, CFG scale: 7, Seed: 1234, Size: 512x768, Model: dreamshaper_8")
# Copy settings: those, then every other setting the file had (NEWUSER12 F6: what an export writes, Clip skip too)
COPIED = SETTINGS + ", Schedule type: Karras, Model hash: abc123, Clip skip: 2"


@pytest.fixture
def settings_lib(tmp_path, make_png):
    library = Library(tmp_path / "settings", account="alice")
    import_files(library, [make_png(text={"parameters": A1111})])
    import_files(library, [make_png(size=(40, 30))], ImportOptions(prompt="a plain cat"))
    yield library
    library.close()


def test_the_settings_text_is_what_a1111_pastes_back_only_the_fields_the_image_has(settings_lib):
    """New-user test 7 #15: the settings block of the prompt dialog's Copy settings, its first six fields (since
    NEWUSER12 F6 the dialog copies `export.infotext`: these, then the file's other settings)."""
    plain, fox = sorted(settings_lib.iter_images(), key=lambda r: bool(r.negative_prompt))
    assert fox.settings_text() == SETTINGS
    assert plain.settings_text() == "a plain cat\nSize: 40x30"


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
async def test_the_prompt_dialog_copies_the_negative_prompt_and_the_settings(settings_lib, tmp_path, copies, size):
    """New-user test 7 #15: the dialog showed the negative prompt but Copy copied only the prompt; no way to copy
    the settings. Copy negative (n, shown when there is one) and Copy settings (s), on one line at 80×24. Copy settings
    gives every setting the file had, as a download writes them (NEWUSER12 F6: only six, Clip skip lost on paste)."""
    fox = next(r for r in settings_lib.iter_images() if r.negative_prompt)
    app = MyImagesApp(settings_lib, images="none", downloads=tmp_path / "downloads")
    async with app.run_test(size=size) as pilot:
        await ui.settle(pilot, app)
        app.push_screen(PromptScreen(fox))
        await ui.wait_until(pilot, lambda: isinstance(app.screen, PromptScreen) and app.screen.query("#close"))
        buttons = [app.screen.query_one(f"#{name}") for name in ("copy", "copy-negative", "copy-settings", "close")]
        await ui.wait_until(pilot, lambda: all(b.region.width for b in buttons))
        screen = app.screen.region
        assert len({b.region.y for b in buttons}) == 1  # one line
        assert all(screen.contains_region(b.region) for b in buttons), [b.region for b in buttons]
        await pilot.press("n")
        await ui.wait_until(pilot, lambda: copies["terminal"] == ["blurry, lowres"])
        await pilot.press("s")
        await ui.wait_until(pilot, lambda: copies["terminal"][-1] == COPIED)
        assert COPIED == infotext(fox)  # what an export writes into the file
        await pilot.click("#copy-negative")
        await pilot.click("#copy-settings")
        await ui.wait_until(pilot, lambda: copies["terminal"][-2:] == ["blurry, lowres", COPIED])
        assert copies["system"] == copies["terminal"]
        await pilot.press("c")
        await ui.wait_until(pilot, lambda: copies["terminal"][-1] == "a red fox, (night:1.2)")


async def test_without_a_negative_prompt_there_is_no_copy_negative(settings_lib, tmp_path, copies):
    plain = next(r for r in settings_lib.iter_images() if not r.negative_prompt)
    app = MyImagesApp(settings_lib, images="none", downloads=tmp_path / "downloads")
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.settle(pilot, app)
        app.push_screen(PromptScreen(plain))
        await ui.wait_until(pilot, lambda: isinstance(app.screen, PromptScreen) and app.screen.query("#close"))
        assert not app.screen.query("#copy-negative")
        await pilot.press("n")
        await pilot.press("s")
        await ui.wait_until(pilot, lambda: copies["terminal"] == ["a plain cat\nSize: 40x30"])


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
async def test_in_tmux_a_copy_also_lands_in_tmux_s_paste_buffer(hostile_lib, tmp_path, monkeypatch):
    """NEWUSER13 #5: in tmux with its default settings (set-clipboard external), an application's OSC 52 is dropped:
    "Prompt copied to the terminal clipboard." and nothing was copied anywhere (no X display: no system clipboard).
    Inside tmux the text also goes into tmux's paste buffer (`tmux load-buffer -w`), and the notice says so. A real
    tmux server on a socket of the test's own, with tmux's default set-clipboard."""
    socket = tmp_path / "tmux-socket"
    subprocess.run(["tmux", "-f", "/dev/null", "-S", str(socket), "new-session", "-d", "-s", "t", "sleep 60"],
                   check=True)
    try:
        pid = subprocess.run(["tmux", "-S", str(socket), "display-message", "-p", "#{pid}"], check=True,
                             capture_output=True, text=True).stdout.strip()
        monkeypatch.setenv("TMUX", f"{socket},{pid},0")  # as tmux sets it for the programs inside it
        monkeypatch.setattr("pyperclip.copy", lambda text: (_ for _ in ()).throw(RuntimeError("no display")))
        app = MyImagesApp(hostile_lib, images="none", downloads=tmp_path / "downloads")
        said = ui.notices(app)
        async with app.run_test(size=(80, 24)) as pilot:
            await ui.settle(pilot, app)
            await pilot.press("p")
            assert isinstance(app.screen, PromptScreen)
            await pilot.click("#copy")
            await pilot.pause()
        buffer = subprocess.run(["tmux", "-S", str(socket), "show-buffer"], check=True, capture_output=True).stdout
        assert buffer.decode() == CLEAN
        assert "Prompt copied to the terminal clipboard and tmux's paste buffer." in said, said
    finally:
        subprocess.run(["tmux", "-S", str(socket), "kill-server"], capture_output=True)
