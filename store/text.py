"""Making text from files safe to print in a terminal.

Prompts, collection names and account names come from files and users. They may
hold ANSI/OSC escape sequences, other control characters, bidi overrides,
zero-width, tag or other invisible characters. `printable` neutralises all of
those so that the text is shown literally and cannot move the cursor, clear the
screen, write the clipboard, hide or reorder what follows it. (Rich markup is a separate matter: the UI
never interprets stored text as markup; see widgets.)
"""
from __future__ import annotations

import functools
import os
import re
import unicodedata

from .records import Count

# Characters that change how the text around them is shown, or are not shown at all:
# every format character (category Cf: zero width, LRM/RLM, bidi embeddings, overrides
# and isolates, word joiner, BOM, soft hyphen, the tag characters U+E0001-E007F, ...),
# the line and paragraph separators U+2028/2029 (Zl, Zp) and the unassigned rest of
# the tag block.
_HIDDEN_CATEGORIES = frozenset({"Cf", "Zl", "Zp"})
_TAGS = range(0xE0000, 0xE0080)

_ESCAPE_SEQ = re.compile(
    r"\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC ... BEL/ST
    r"|\x1b\[[0-?]*[ -/]*[@-~]"  # CSI
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"  # DCS/SOS/PM/APC
    r"|\x1b."  # two-character escapes
)


# Text that holds none of the characters `printable` and `clipboard_safe` change (plain ASCII and the Latin-1 letters
# below the soft hyphen, with or without newlines and tabs) is returned as it is, found by one regular expression
# instead of a look at each character in Python: a 1.6 MB prompt took 0.3 s a pass, 2 s under load (NEWUSER13 #1).
_PLAIN = re.compile(r"[\x20-\x7e\xa0-\xac]*")
_PLAIN_LINES = re.compile(r"[\t\n\x20-\x7e\xa0-\xac]*")

# A text laid out whole on screen (the prompt dialog, info, the large view's panel) is cut to this many characters,
# and a line (a card, a caption, a list's row) to LINE_CHARS: prompts can be megabytes (a file's metadata is read up
# to 2,000,000 characters), and laying out 1.6 MB stalled the UI for 10 s (NEWUSER13 #1). Copy, export and the
# command line still give the whole text.
SHOWN_CHARS = 5_000
LINE_CHARS = 2_000


def shown(text: str, limit: int = SHOWN_CHARS) -> str:
    """`text` as a dialog shows it: at most `limit` characters, then how many more there are."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit:,} more characters, not shown)"


def _is_control(ch: str) -> bool:
    """C0, DEL, C1, or a character that changes how the text around it is shown."""
    code = ord(ch)
    if code < 0x20 or 0x7F <= code < 0xA0:
        return True
    return code >= 0xAD and (unicodedata.category(ch) in _HIDDEN_CATEGORIES or code in _TAGS)


def _visible(ch: str) -> str:
    code = ord(ch)
    if code < 0x20:
        return chr(0x2400 + code)  # the Control Pictures block: ␛, ␇, ...
    if code == 0x7F:
        return "\u2421"
    if _is_control(ch):
        return f"<U+{code:04X}>"
    return ch


def storable(text: str) -> str:
    """`text` as a database (SQLite, PostgreSQL) can hold it: a file name that is not UTF-8 (read by Python with its
    bytes kept as lone surrogates, "surrogateescape") with those bytes escaped as `\\xe9`; any other text as it is.
    The same name gives the same text every time, so a stored name is found again."""
    return _bytes_decoded(text, "backslashreplace")


_BYTE_ESCAPE = re.compile(r"\\x([89a-fA-F][0-9a-fA-F])")  # \xe9: a byte of a name that is not UTF-8, as shown


def unescaped(text: str) -> str:
    """A path as typed or shown with its bytes that are not UTF-8 escaped (`storable`, `printable`: "caf\\xe9.png")
    as Python names that file (those bytes as lone surrogates, os.fsdecode); any other text as it is. The caller
    tries the text as it is first: a name may hold a backslash itself."""
    if "\\x" not in text:
        return text
    out, at = bytearray(), 0
    for match in _BYTE_ESCAPE.finditer(text):
        out += os.fsencode(text[at:match.start()])
        out.append(int(match.group(1), 16))
        at = match.end()
    return os.fsdecode(bytes(out + os.fsencode(text[at:])))


def shown_path(text: str) -> str:
    """A path as it may be shown or written out (JSON): the bytes of a name that is not UTF-8 (kept by Python as
    lone surrogates) shown as U+FFFD, "caf\\ufffd.png"."""
    return _bytes_decoded(text, "replace")


def _bytes_decoded(text: str, errors: str) -> str:
    """`text` as it is if it is UTF-8; else its bytes decoded as UTF-8 with `errors` for those that are not."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(text).decode("utf-8", errors)
    return text


# -- paths kept losslessly (models.PathField) ------------------------------------------------------
# A name on Linux is any bytes; Python keeps those that are not UTF-8 as lone surrogates (U+DC80-U+DCFF), which
# neither SQLite (through Python) nor PostgreSQL text can hold. Stored, such a path keeps its UTF-8 parts as they
# are, and each part (between slashes) that is not UTF-8 is written after an empty part ("//", which no real path
# holds) with those bytes as %XX and "%" as %25: /out/caf\udce9.png is stored "/out//caf%E9.png", the relative
# path caf\udce9.png "/caf%E9.png" (a relative path never begins with a slash). A UTF-8 path is stored as it is,
# so prefixes and joins in SQL hold for all ('today/' || '/caf%E9.png' is today/caf\udce9.png, stored).


def _escape_part(part: str) -> str:
    out = []
    for ch in part:
        code = ord(ch)
        out.append(f"%{code - 0xDC00:02X}" if 0xDC80 <= code <= 0xDCFF else "%25" if ch == "%" else ch)
    return "".join(out)


def _unescape_part(part: str) -> str:
    out, i = [], 0
    while i < len(part):
        if part[i] == "%" and i + 3 <= len(part):
            code = int(part[i + 1:i + 3], 16)
            out.append("%" if code == 0x25 else chr(0xDC00 + code))
            i += 3
        else:
            out.append(part[i])
            i += 1
    return "".join(out)


def stored_path(text: str) -> str:
    """A path (relative or absolute) as the database keeps it (see above): a UTF-8 one as it is."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        pass
    absolute = text.startswith("/")
    parts = (text[1:] if absolute else text).split("/")
    body = "/".join("/" + _escape_part(part) if any(0xDC80 <= ord(ch) <= 0xDCFF for ch in part) else part
                    for part in parts)
    return "/" + body if absolute else body


def disk_path(stored: str, absolute: bool) -> str:
    """The path `stored_path` stored, as it is on disk (the bytes that are not UTF-8 as lone surrogates)."""
    rooted = absolute and stored.startswith("/")
    body = stored[1:] if rooted else stored
    if "//" not in body and not body.startswith("/"):
        return stored
    out, escaped = [], False
    for part in body.split("/"):
        if part == "" and not escaped:
            escaped = True
            continue
        out.append(_unescape_part(part) if escaped else part)
        escaped = False
    return ("/" if rooted else "") + "/".join(out)


def printable(text: str | None, *, keep_newlines: bool = False) -> str:
    """Return `text` with escape sequences and control characters made visible."""
    if not text:
        return ""
    if (_PLAIN_LINES if keep_newlines else _PLAIN).fullmatch(text):
        return text
    text = _ESCAPE_SEQ.sub(lambda m: "".join(_visible(c) for c in m.group(0)), text)
    out = []
    for ch in text:
        if keep_newlines and ch in "\n\t":
            out.append(ch)
        elif _is_control(ch):
            out.append(_visible(ch))
        elif unicodedata.category(ch) == "Cs":  # lone surrogate: from bad decoding, or a byte of a file name that is not
            # UTF-8 (os.fsdecode), shown escaped as the import names such a file and a user can type it, "caf\\xe9.png"
            # (it was "caf\ufffd.png" beside "caf\\xe9.png" for one file: NEWUSER8 #7)
            out.append(f"\\x{ord(ch) - 0xDC00:02x}" if "\udc80" <= ch <= "\udcff" else "\ufffd")
        else:
            out.append(ch)
    return "".join(out)


def shell_path(path: str) -> str:
    """A path as text that names that file and no other: as it is when it is valid text; a name that is not UTF-8
    (its bytes kept as lone surrogates, os.fsdecode) in the shell's $'…' form, each such byte as \\xNN. Dropping
    the byte (clipboard_safe drops lone surrogates) named another file: "caf.png" for caf\\xe9.png."""
    if not any("\udc80" <= ch <= "\udcff" for ch in path):
        return path
    out = []
    for ch in path:
        if "\udc80" <= ch <= "\udcff":
            out.append(f"\\x{ord(ch) - 0xDC00:02x}")
        elif ch in "\\'":
            out.append("\\" + ch)
        elif _is_control(ch):
            out.append(f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "$'" + "".join(out) + "'"


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
    if _PLAIN_LINES.fullmatch(text):
        return text
    return "".join(
        ch for ch in text
        if ch in "\n\t" or not (_is_control(ch) or unicodedata.category(ch) == "Cs")
    )


CONTINUED = "│ "  # marks each further line of a field's value


def cells(ch: str) -> int:
    """Terminal cells a character takes (wide East Asian characters and emoji 2, a tab at most 8)."""
    if ch == "\t":
        return 8
    if unicodedata.combining(ch):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def _cut(line: str, width: int) -> list[str]:
    """`line` in pieces of at most `width` cells."""
    pieces: list[str] = []
    piece: list[str] = []
    used = 0
    for ch in line:
        size = cells(ch)
        if piece and used + size > width:
            pieces.append("".join(piece))
            piece, used = [], 0
        piece.append(ch)
        used += size
    pieces.append("".join(piece))
    return pieces


def field_value(text: str | None, indent: str = "", width: int = 0) -> str:
    """A field's value for `info`: printable, each line after the first marked with `indent` + "│ ".

    A value's own lines (a prompt holding "\\nOwner: bob") then cannot pass for fields.
    With a `width`, lines are also cut to that many cells and marked the same way, so
    that a terminal never wraps one (padding could bring "Owner: bob" to a row's start).
    """
    lines = printable(text, keep_newlines=True).split("\n")
    if width > 0:
        lines = [piece for line in lines for piece in _cut(line, width)]
    return ("\n" + indent + CONTINUED).join(lines)


def one_line(text: str | None) -> str:
    """A single line for lists and cards: whitespace runs collapse to a space; at most LINE_CHARS characters (then
    "…"): no line shows more, and a prompt can be megabytes."""
    text = text or ""
    line = " ".join(text[:4 * LINE_CHARS].split())
    if len(line) > LINE_CHARS or len(text) > 4 * LINE_CHARS:
        line = line[:LINE_CHARS] + "…"
    return printable(line)


# Prompt A-Z (every back end: the stored image.prompt_key, the in-memory catalog, `list --sort prompt`): the prompt
# case- and accent-folded, compared by code point, by its first SORT_KEY_BYTES bytes (prompts can be megabytes;
# prompts alike that far tie, and go newest first); an image without a prompt ("(no prompt)") after every other.
SORT_KEY_BYTES = 48
NO_PROMPT_KEY = "\U0010ffff"  # the last code point: after any folded prompt


# Search folds case and accents (query.py: prompt words, phrases, negative:, model:, sampler:, lora:): "eclair" finds
# "Éclair", "cafe" "café", "uber" "über", and "café" finds "cafe" too. Both the text searched and the words typed are
# folded alike: NFKD (compatibility forms too: "ﬁ" is "fi", "²" is "2"), every combining mark (accents, cedillas,
# dakuten) left out, case-folded ("ß" is "ss"); what prompt A-Z sorts by is the same folding.
_MARKS: dict[int, None] | None = None  # every combining character's code point -> None, for str.translate


def _marks() -> dict[int, None]:
    global _MARKS
    if _MARKS is None:
        # (all lie in U+0300..U+1EFFF: 18 ms to list, where every code point took 150)
        _MARKS = {cp: None for cp in range(0x300, 0x1F000) if unicodedata.combining(chr(cp))}
    return _MARKS


def fold(text: str | None) -> str:
    """`text` as a search compares it: case- and accent-folded ("Éclair" -> "eclair", "Straße" -> "strasse"). Made
    character by character (`fold_char`), so a place in the folded text has its place in the original
    (`folded_spans`)."""
    if not text:
        return ""
    if text.isascii():
        return text.lower()
    return unicodedata.normalize("NFKD", text.casefold()).translate(_marks()).casefold()


@functools.lru_cache(maxsize=8192)
def fold_char(ch: str) -> str:
    """One character folded: what it is in `fold` of any text holding it ("" for a combining mark)."""
    return fold(ch)


def folded_spans(text: str, word: str) -> list[tuple[int, int]]:
    """Where `word` (folded) occurs in `text` folded, as (start, end) places in `text` itself: "eclair" in "An
    Éclair" is (3, 9); a combining mark after a match's last letter ("e" + U+0301) is in its span."""
    if not word or not text:
        return []
    if text.isascii():
        folded, owner = text.lower(), None
    else:
        parts, owner = [], []
        for at, ch in enumerate(text):
            part = fold_char(ch)
            parts.append(part)
            owner.extend([at] * len(part))
        folded = "".join(parts)
    spans = []
    start = folded.find(word)
    while start >= 0:
        end = start + len(word)
        if owner is None:
            spans.append((start, end))
        else:
            last = owner[end - 1] + 1
            while last < len(text) and not fold_char(text[last]):  # its marks (a decomposed accent)
                last += 1
            spans.append((owner[start], last))
        start = folded.find(word, end)
    return spans


def prompt_sort_key(prompt: str | None) -> str:
    """What prompt A-Z sorts a prompt by: "Éclair" and "eclair" alike, between "Eagle" and "Zebra" (NFKD, the
    accents' combining marks left out, case-folded), the ends' whitespace left out; NO_PROMPT_KEY for none (blank).
    The same for a prompt and its casefold() (the catalog ranks its case-folded values)."""
    text = (prompt or "").strip()
    if not text:
        return NO_PROMPT_KEY
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    folded = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold().strip()
    return folded.encode()[:SORT_KEY_BYTES].decode(errors="ignore")


PLURAL_VERBS = {"was": "were", "is": "are", "has": "have"}  # what `plural` makes agree with the count


def natural_key(name: str) -> list[str | int]:
    """A name's place in a list people number ("Batch 2" before "Batch 10"): case and accents folded, each run of
    digits compared as a number (text at even places, numbers at odd: two keys always compare)."""
    parts = re.split(r"([0-9]+)", fold(name))
    return [int(part) if i % 2 else part for i, part in enumerate(parts)]


def quoted(name: str) -> str:
    """A name in a sentence, in quotes: "Dragons"; one that holds a straight double quote in typographic ones,
    “My "Best" \\ one”, not "My "Best" \\ one" (NEWUSER7 #21: quotes inside quotes). Control characters made
    visible and one line (`one_line`)."""
    name = one_line(name)
    return f"“{name}”" if '"' in name else f'"{name}"'


def count_text(count: int | Count) -> str:
    """A count as the user reads it, with thousands separators: "270,000" ("about 140,000" for an estimate).
    Only for text; `--json` keeps plain numbers."""
    return f"{count:,}" if isinstance(count, int) else str(count)


def plural(count: int | Count, word: str, verb: str = "") -> str:
    """The count and the word for it: "1 image", "2 images", "0 groups", "about 140,000 cards" (a Count); with a
    verb (was, is, has) after it, agreeing: "1 image was", "2 images were"."""
    one = count == 1 if isinstance(count, int) else count.exact and count.n == 1
    text = f"{count_text(count)} {word}{'' if one else 's'}"
    return f"{text} {verb if one else PLURAL_VERBS[verb]}" if verb else text
