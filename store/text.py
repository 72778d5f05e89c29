"""Making text from files safe to print in a terminal.

Prompts, collection names and account names come from files and users. They may
hold ANSI/OSC escape sequences, other control characters, bidi overrides or
zero-width characters. `printable` neutralises all of those so that the text is
shown literally and cannot move the cursor, clear the screen, write the
clipboard or reorder what follows it. (Rich markup is a separate matter: the UI
never interprets stored text as markup; see widgets.)
"""
from __future__ import annotations

import re
import unicodedata

# Characters that change how the text around them is shown.
_INVISIBLE = {
    "\u200b", "\u200c", "\u200d", "\u200e", "\u200f",  # zero width, LRM/RLM
    "\u202a", "\u202b", "\u202c", "\u202d", "\u202e",  # bidi embeddings/overrides
    "\u2066", "\u2067", "\u2068", "\u2069",  # bidi isolates
    "\u2060", "\ufeff", "\u061c",
}

_ESCAPE_SEQ = re.compile(
    r"\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC ... BEL/ST
    r"|\x1b\[[0-?]*[ -/]*[@-~]"  # CSI
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"  # DCS/SOS/PM/APC
    r"|\x1b."  # two-character escapes
)


def _is_control(ch: str) -> bool:
    """C0, DEL, C1, or a character that changes how the text around it is shown."""
    code = ord(ch)
    return code < 0x20 or 0x7F <= code < 0xA0 or ch in _INVISIBLE


def _visible(ch: str) -> str:
    code = ord(ch)
    if ch in _INVISIBLE:
        return f"<U+{code:04X}>"
    if code < 0x20:
        return chr(0x2400 + code)  # the Control Pictures block: ␛, ␇, ...
    if code == 0x7F:
        return "\u2421"
    if 0x80 <= code < 0xA0:
        return f"<U+{code:04X}>"
    return ch


def printable(text: str | None, *, keep_newlines: bool = False) -> str:
    """Return `text` with escape sequences and control characters made visible."""
    if not text:
        return ""
    text = _ESCAPE_SEQ.sub(lambda m: "".join(_visible(c) for c in m.group(0)), text)
    out = []
    for ch in text:
        if keep_newlines and ch in "\n\t":
            out.append(ch)
        elif _is_control(ch):
            out.append(_visible(ch))
        elif unicodedata.category(ch) == "Cs":  # lone surrogate from bad decoding
            out.append("\ufffd")
        else:
            out.append(ch)
    return "".join(out)


def clipboard_safe(text: str | None) -> str:
    """`text` as it may go to a clipboard: every control character removed but newline and tab.

    Pasted into a terminal, an ESC can end bracketed paste (`ESC[201~`) so that the
    rest runs as typed commands; C1 controls, DEL, bidi controls and invisible
    characters hide or reorder what is pasted. Line ends become `\n`; what is left of
    an escape sequence (e.g. `[201~`) stays as plain, harmless text.
    """
    if not text:
        return ""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(
        ch for ch in text
        if ch in "\n\t" or not (_is_control(ch) or unicodedata.category(ch) == "Cs")
    )


def one_line(text: str | None) -> str:
    """A single line for lists and cards: whitespace runs collapse to a space."""
    return printable(" ".join((text or "").split()))
