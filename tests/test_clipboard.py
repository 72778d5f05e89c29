"""Copy never carries control characters: what reaches either clipboard is plain text."""
from __future__ import annotations

import unicodedata

import pytest
from textual.app import App

from store.importer import ImportOptions, import_files
from store.library import Library
from tui.app import MyImagesApp
from tui.prompt_screen import PromptScreen

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
