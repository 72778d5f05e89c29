"""The search language: text typed in the search box (or `list --search`) -> a structured query.

    ring pixel            every word in the prompt (any case or accent, partial, any order): text.fold
    "a quoted phrase"     the phrase as written (any case); \" is a quote in it, \\ a backslash
    -word  -model:x       excludes
    a | b   a OR b        alternatives: `|` joins the words (phrases, fields) beside it; the rest applies to
                          all ("dragon | wyvern -blurry" is (dragon or wyvern) and not blurry); a | needs no
                          spaces ("red|gold" is "red | gold"): only in quotes is it text ("a|b")
    (a b) | (c -d)        parentheses group any part, nested too; -( … ) excludes what the group finds
                          (De Morgan: -(a | b) is -a -b, -(a b) is -a | -b). A "(" groups when it starts a
                          word (after its minus) and a ")" when it ends one, and they must pair up (else a
                          hint); anywhere else, and in quotes, they are text: foo(bar), "(masterpiece:1.2)"
    model:sdxl  sampler:euler  negative:blurry  lora:detail  owner:bob  file:sheet
    seed:123  steps:>=30  cfg:5-7.5  width:>1000  height:<=768  size:1024x1024  id:10-20  id:9,15,20-30
    date:2026-11-25  date:2026-11  date:>2026-01-01  date:today  date:yesterday  date:7d
    date:2026-01-01..2026-02-01   (imported: takes the same)
    in:COLLECTION  is:fav  is:cleaned  is:cell  is:derived  from:ID
    night:1.3  http://x   a word before a colon that is no field is prompt text, as if quoted ("(night:1.3)"
                          searches "night:1.3"), unless it looks like a field mistyped (`modle:`: a hint)

`parse` is total: any string gives a Parsed; a part it cannot read is left out and
`error` says what is wrong in one sentence (the rest still searches). The store
evaluates a Parsed in the SQLite catalog (catalog.py) and as SQL (library.py).
"""
from __future__ import annotations

import functools
import json
import math
import re
from typing import Any, NoReturn
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, timezone

from .text import fold

TEXT_FIELDS = {"model", "sampler", "negative", "lora", "owner", "file", "source"}
# the text fields searched case- and accent-folded (text.fold), as prompt words and phrases are: "eclair" finds
# "Éclair"; owner:, file: and source: fold case alone (names and paths)
FOLDED_FIELDS = {"model", "sampler", "negative", "lora"}
NUMBER_FIELDS = {"seed", "steps", "cfg", "width", "height", "id"}
DATE_FIELDS = {"date", "imported"}
FLAGS = {"fav": "fav", "favorite": "fav", "favourite": "fav", "favorites": "fav", "cleaned": "cleaned",
         "clean": "cleaned", "cell": "cell", "cells": "cell", "derived": "derived"}
OTHER_FIELDS = {"in", "is", "from", "size"}
FIELDS = TEXT_FIELDS | NUMBER_FIELDS | DATE_FIELDS | OTHER_FIELDS
ALIASES = {"neg": "negative", "negative_prompt": "negative", "text_accuracy": "cfg", "scale": "cfg",
           "loras": "lora", "collection": "in", "created": "date", "generated": "date", "w": "width", "h": "height"}
FIELD_LIST = "model, seed, steps, cfg, sampler, width, height, size, negative, lora, in, is, from, owner, file, " \
             "source, date, imported, id"
MAX_QUERY = 2000  # characters read of a query (a paste of a whole prompt still searches)
MAX_TERMS = 64
MAX_GROUPS = 64  # alternatives multiplied out ("a | b c | d e | f" is 8 groups): at most this many
MAX_DEPTH = 16  # parentheses inside parentheses

SORTS = ("newest", "oldest", "imported", "prompt", "largest", "random", "favorites")
SORT_NAMES = {"newest": "newest first", "oldest": "oldest first", "imported": "recently imported",
              "prompt": "prompt A–Z", "largest": "largest first", "random": "random order",
              "favorites": "favorites first"}
DEFAULT_SORT = "newest"


@dataclass(frozen=True)
class Term:
    """One condition. `value` by kind:

    text fields and "prompt": the folded text to contain (text.fold: case and accents; owner:, file: and source:
    case alone);
    numbers: (low, high, low_inclusive, high_inclusive), either end None for open;
    dates: (start, end) naive-UTC datetimes, start inclusive, end exclusive, either None;
    "is": the flag name; "from": an id; "in": a collection name (or id) as typed;
    "size": ((w, w, True, True), (h, h, True, True)).
    """

    field: str  # "prompt", a field name
    value: Any
    negate: bool = False
    text: str = ""  # as typed (text fields: the value before case folding)


@dataclass(frozen=True)
class Group:
    """A part of the query in parentheses, as typed: every clause must hold, any item of a clause may; `negate`
    for -( … ). Only the description reads it: the store evaluates `Parsed.groups`, this multiplied out."""

    clauses: tuple[tuple[Term | Group, ...], ...]
    negate: bool = False


@dataclass(frozen=True)
class Parsed:
    groups: tuple[tuple[Term, ...], ...]  # any group may match; every term of a group must
    error: str = ""  # one short sentence about the first part that could not be read (fits 80 columns), or ""
    sort: str | None = None  # sort:NAME typed in the query
    error_more: str = ""  # the whole list that sentence refers to (every field, every order), for a second line
    # the query as typed when it has alternatives or parentheses: every clause must hold, any item (a term, or a
    # group in parentheses) of a clause may; `groups` is this multiplied out
    clauses: tuple[tuple[Term | Group, ...], ...] = ()

    @property
    def empty(self) -> bool:
        return not any(self.groups)

    @property
    def words(self) -> tuple[str, ...]:
        """The prompt words and phrases searched for (not excluded): what to highlight."""
        seen: dict[str, None] = {}
        for group in self.groups:
            for term in group:
                if term.field == "prompt" and not term.negate and term.value:
                    seen[str(term.value)] = None
        return tuple(seen)

    @property
    def plain_text(self) -> str | None:
        """The one prompt substring this query is, when it is just that (the fast path of old), else None."""
        if len(self.groups) == 1 and len(self.groups[0]) == 1:
            term = self.groups[0][0]
            if term.field == "prompt" and not term.negate:
                return str(term.value)
        return None

    @property
    def matches_nothing(self) -> bool:
        """Whether every alternative asks for a condition and its opposite (`is:fav -is:fav`, `owl -owl`)."""
        return bool(self.groups) and all(
            any(u.field == t.field and u.value == t.value and u.negate != t.negate for t in group for u in group)
            for group in self.groups)

    def describe(self) -> str:
        if self.clauses:  # as typed: 'prompt contains "dragon" or "wyvern" and prompt lacks "blurry"'
            described = _describe_clauses(self.clauses)
        else:
            groups = [_describe_group(group) for group in self.groups if group]
            described = " or ".join(f"({g})" if len(groups) > 1 and " and " in g else g for g in groups)
        # `is:fav -is:fav` read "(favorites and non-favorites)", like "all" (NEWUSER7 #21): say it finds nothing
        return f"matches nothing: {described}" if described and self.matches_nothing else described


_QUOTED = r'"((?:[^"\\]|\\.?)*)"?'  # in quotes \" is a " and \\ a \; the closing quote may be missing while typing
# a term, from its minus; outside quotes a "|" is a term of its own wherever it stands: "red|gold" is "red | gold"
# (NEWUSER8 #3: it was one word, found in no prompt, without a word said), and "[cow|horse]" is "[cow" or "horse]"
_BODY = re.compile(r'(-?)(?:([A-Za-z_]+):)?(' + _QUOTED.replace("(", "(?:", 1) + r'|[^\s|]+|\|)')
_ESCAPED = re.compile(r'\\(["\\])')


def _unquoted(raw: str) -> str:
    r"""A token's text: without its quotes, \" and \\ read as " and \ inside them (any other backslash is itself:
    "C:\images" is a path)."""
    match = re.fullmatch(_QUOTED, raw)
    return _ESCAPED.sub(r"\1", match.group(1)) if match else raw


def collection_term(name: str) -> str:
    """`in:NAME` as a search takes it back: quoted (with \\" and \\\\ inside) when the name holds a space, a quote
    or a backslash."""
    if name and not any(c.isspace() or c in '"\\' for c in name):
        return f"in:{name}"
    escaped = name.replace("\\", "\\\\").replace('"', '\\"')
    return f'in:"{escaped}"'


_NUMBER = r"\d+(?:\.\d*)?|\.\d+"
_COMPARE = re.compile(rf"^(>=|<=|>|<|=)?({_NUMBER})$")
_RANGE = re.compile(rf"^({_NUMBER})(?:-|\.\.)({_NUMBER})$")
# seed: also takes a minus (a file may say "Seed: -5"): seed:-5, seed:>-3, seed:-10..-1 (or -10--1: the first
# dash after a number is the range's)
_SIGNED = rf"-?(?:{_NUMBER})"
_SIGNED_COMPARE = re.compile(rf"^(>=|<=|>|<|=)?({_SIGNED})$")
_SIGNED_RANGE = re.compile(rf"^({_SIGNED})(?:-|\.\.)({_SIGNED})$")
NEGATIVE_SEED = "Seeds are 0 or more: a negative seed in a file counts as no seed."
_SIZE = re.compile(r"^(\d+)?[x×*](\d+)?$", re.IGNORECASE)


HINT_WIDTH = 76  # a hint fits the app's status line at 80 columns, after "⚠ "


def _fail(message: str, more: str = "") -> NoReturn:
    raise _Unreadable(message, more)


class _Unreadable(ValueError):
    def __init__(self, message: str, more: str = "") -> None:
        super().__init__(message)
        self.more = more


def cut(text: str, room: int = 12) -> str:
    """A typed value as a hint quotes it: at most `room` characters, so the sentence fits its line."""
    return text if len(text) <= room else text[: room - 1] + "…"


FIELDS_MORE = f"Fields: {FIELD_LIST}."
ORDERS_MORE = f"Orders: {', '.join(SORTS)}."
DATES_MORE = "Dates: 2026-11-25, 2026-11, 2026, today, yesterday, 7d, >2026-01-01, 2026-01-01..2026-02-01."


def id_bounds(value: tuple) -> tuple[tuple, ...]:
    """An id: term's ranges, each (low, high, low_inclusive, high_inclusive): one, or several for a list as the
    commands take ids (id:9,15,20-30, `_number_value`)."""
    return value if value and isinstance(value[0], tuple) else (value,)


def _number_value(field: str, text: str) -> tuple:
    text = text.strip()
    if field == "id":  # as the commands take ids: #12 too, and lists (1,2,5-9), the search box alike (NEWUSER13)
        parts = [part.strip().lstrip("#") for part in text.split(",")]
        if len(parts) > 1:
            values = tuple(_number_value(field, part) for part in parts if part)  # "1,2," or "1, 2": no mistake
            if not values:
                _fail("id: needs a number, e.g. id:30, id:>=30, id:20-40 or id:9,15.")
            return values if len(values) > 1 else values[0]
        text = parts[0]
    signed = field == "seed"
    match = (_SIGNED_RANGE if signed else _RANGE).match(text)
    if match:
        low, high = _num(match.group(1)), _num(match.group(2))
        if low > high:
            low, high = high, low
        return _seed_bounds(_whole(field, text, (low, high, True, True)), signed)
    match = (_SIGNED_COMPARE if signed else _COMPARE).match(text)
    if not match:
        if not text:
            _fail(f"{field}: needs a number, e.g. {field}:30, {field}:>=30 or {field}:20-40.")
        if field == "id":
            _fail(f'"{cut(text)}" is not a number for id: e.g. id:30, >=30, 20-40 or 9,15.')
        _fail(f'"{cut(text)}" is not a number for {field}: e.g. {field}:30, >=30 or 20-40.')
    op, number = match.group(1) or "=", _num(match.group(2))
    value = {"=": (number, number, True, True), ">": (number, None, False, True), ">=": (number, None, True, True),
             "<": (None, number, True, False), "<=": (None, number, True, True)}[op]
    return _seed_bounds(_whole(field, text, value), signed)


def _seed_bounds(value: tuple, signed: bool) -> tuple:
    """A seed's range without its part below 0: a negative seed in a file is no seed a generator can use again
    and counts as none (in every search engine and in --json), so a range wholly below 0 is said, not run."""
    low, high, low_in, high_in = value
    if not signed:
        return value
    if high is not None and (high < 0 or (high == 0 and not high_in)):
        _fail(NEGATIVE_SEED)
    if low is not None and low < 0:
        low, low_in = 0, True
    return low, high, low_in, high_in


def _num(text: str) -> int | float:
    """Whole numbers stay exact (seeds go up to 2^64)."""
    digits = text[1:] if text.startswith("-") else text
    return (-int(digits) if text.startswith("-") else int(digits)) if digits.isdigit() else float(text)


def _whole(field: str, text: str, value: tuple) -> tuple:
    if field != "cfg" and any(v is not None and v != int(v) for v in value[:2]):
        _fail(f"{field}: takes whole numbers, not {cut(text)}.")
    if any(v is not None and v >= 2**64 for v in value[:2]):
        _fail(f"{field}:{cut(text)} is out of range.")
    return value


def _local_midnight(day: date) -> datetime:
    """The start of a local day, as naive UTC (how dates are stored)."""
    local = datetime.combine(day, time()).astimezone()
    return local.astimezone(timezone.utc).replace(tzinfo=None)


_RECENT = re.compile(r"(\d{1,5})([dwmy])")  # 7d, 2w, 3m, 1y: the last days, weeks, months (30 days), years


def _days(recent: re.Match) -> int:
    return int(recent.group(1)) * {"d": 1, "w": 7, "m": 30, "y": 365}[recent.group(2)]


def _period(text: str, today: date) -> tuple[datetime, datetime]:
    """A day, month or year (local time) as [start, end) in naive UTC."""
    t = text.strip().lower()
    recent = _RECENT.fullmatch(t)
    if recent:  # 7d: the day the last seven days begin (date:7d..  date:..7d  date:<7d)
        day = today - timedelta(days=max(0, _days(recent) - 1))
        try:
            return _local_midnight(day), _local_midnight(day + timedelta(days=1))
        except (ValueError, OverflowError):
            _fail(f'"{cut(text)}" goes back too far: give a date, e.g. 2026-11.', DATES_MORE)
    if t == "today":
        return _local_midnight(today), _local_midnight(today + timedelta(days=1))
    if t == "yesterday":
        return _local_midnight(today - timedelta(days=1)), _local_midnight(today)
    try:
        if re.fullmatch(r"\d{4}", t):
            year = int(t)
            return _local_midnight(date(year, 1, 1)), _local_midnight(date(year + 1, 1, 1))
        if re.fullmatch(r"\d{4}-\d{1,2}", t):
            year, month = (int(p) for p in t.split("-"))
            first = date(year, month, 1)
            following = date(year + (month == 12), month % 12 + 1, 1)
            return _local_midnight(first), _local_midnight(following)
        if re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", t):
            day = date(*(int(p) for p in t.split("-")))
            return _local_midnight(day), _local_midnight(day + timedelta(days=1))
    except (ValueError, OverflowError):
        pass
    _fail(f'"{cut(text)}" is not a date: e.g. 2026-11-25, 2026-11, today or 7d.', DATES_MORE)


def _date_value(field: str, text: str, today: date) -> tuple:
    t = text.strip().lower()
    if not t:
        _fail(f"{field}: needs a date, e.g. {field}:7d or {field}:2026-11.", DATES_MORE)
    recent = _RECENT.fullmatch(t)
    if recent:
        since = today - timedelta(days=max(0, _days(recent) - 1))  # 7d: today and the six days before
        try:
            return _local_midnight(since), None
        except (ValueError, OverflowError):
            return None, None
    for op in (">=", "<=", ">", "<"):
        if t.startswith(op):
            if not t[len(op):].strip():  # (it said '"" is not a date')
                _fail(f"{field}:{op} needs a date after it, e.g. {field}:{op}2026-01-01.", DATES_MORE)
            start, end = _period(t[len(op):], today)
            return {">=": (start, None), ">": (end, None), "<": (None, start), "<=": (None, end)}[op]
    if ".." in t:
        first, _, last = t.partition("..")
        if not first.strip() and not last.strip():  # a range open at both ends was every image, without a word
            _fail(f"{field}:.. needs a date on one side at least, e.g. {field}:7d..", DATES_MORE)
        low = _period(first, today)[0] if first else None
        high = _period(last, today)[1] if last else None
        if low and high and low >= high:  # reversed (today..yesterday is empty as written): swap
            low, high = _period(last, today)[0], _period(first, today)[1]
        return low, high
    return _period(t, today)


FIELD_NAMES = frozenset(FIELDS | set(ALIASES) | {"sort", "order"})


def _distance(a: str, b: str) -> int:
    """Edits (a letter added, left out, changed, or two side by side swapped) from a to b."""
    before, row = None, list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        now = [i]
        for j, y in enumerate(b, 1):
            cost = min(row[j] + 1, now[j - 1] + 1, row[j - 1] + (x != y))
            if before is not None and i > 1 and j > 1 and x == b[j - 2] and a[i - 2] == y:
                cost = min(cost, before[j - 2] + 1)
            now.append(cost)
        before, row = row, now
    return row[-1]


def looks_like_a_field(word: str) -> bool:
    """Whether an unknown `word:` is likely a field name mistyped (`modle:`, `sedd:`, `negativ:`, `mod:`): the start
    of one, or one or two edits from one (one for words of up to five letters: `night:` is two from `height:`,
    and `(night:1.3)` is a weight of a Stable Diffusion prompt, searched as its text)."""
    word = word.lower()
    room = 1 if len(word) <= 5 else 2
    return any(name.startswith(word) or _distance(word, name) <= room for name in FIELD_NAMES)


def _term(field: str, raw: str, negate: bool, today: date) -> Term:
    """One `field:value` token as a Term; raises _Unreadable with the sentence to show."""
    key = ALIASES.get(field.lower(), field.lower())
    value = _unquoted(raw) if raw.startswith('"') else raw.strip('"')
    shown = f"{'-' if negate else ''}{field}:{raw}"
    if key not in FIELDS:
        if not looks_like_a_field(field):  # "(night:1.3)", "detail_tweaker:0.7", "http://x": prompt text, as typed
            text = f"{field}:{value}"
            return Term("prompt", fold(text), negate, text)
        _fail(f'Unknown field "{cut(field)}:": quote it to search the prompt for it.', FIELDS_MORE)
    if key in TEXT_FIELDS:
        if not value.strip():
            _fail(f"{key}: needs some text, e.g. {key}:{'euler' if key == 'sampler' else 'xl'}.")
        return Term(key, fold(value) if key in FOLDED_FIELDS else value.casefold(), negate, value)
    if key in NUMBER_FIELDS:
        return Term(key, _number_value(key, value), negate, shown)
    if key in DATE_FIELDS:
        return Term(key, _date_value(key, value, today), negate, shown)
    if key == "is":
        flag = FLAGS.get(value.lower())
        if flag is None:
            _fail(f'"is:{cut(value)}" is not known: is:fav, is:cleaned, is:cell or is:derived.')
        return Term("is", flag, negate, shown)
    if key == "from":
        if not (value.isascii() and value.lstrip("#").isdigit()) or int(value.lstrip("#")) >= 2**63:
            _fail("from: needs an image number, e.g. from:12.")
        return Term("from", int(value.lstrip("#")), negate, shown)
    if key == "in":
        if not value.strip():
            _fail("in: needs a collection name, e.g. in:favourites or in:\"my sheets\".")
        return Term("in", " ".join(value.split()), negate, shown)
    if key == "size":
        match = _SIZE.match(value.strip())
        if not match or not (match.group(1) or match.group(2)):
            _fail(f'"{cut(value)}" is not a size: use size:1024x1024 (or size:1024x, size:x768).')
        width, height = (None if g is None else int(g) for g in match.groups())
        exact = [None if v is None else (float(v), float(v), True, True) for v in (width, height)]
        return Term("size", tuple(exact), negate, shown)
    _fail(f'Unknown field "{cut(field)}:".', FIELDS_MORE)


def parse(text: str | None, today: date | None = None) -> Parsed:
    """Read a query; never raises. A part that cannot be read is left out and named in `error`."""
    return _parse_cached(text or "", today or date.today())


@functools.lru_cache(maxsize=256)
def _parse_cached(text: str, today: date) -> Parsed:
    # each frame is the query or a group in parentheses: its clauses each must hold, any item of a clause may
    # (Google's OR: "a | b c" is (a or b) c); a group is an item of the frame around it
    stack = [_Frame()]
    error = more = ""
    sort = None
    text = text[:MAX_QUERY]
    terms = 0
    last_or = "|"
    for kind, *part in _lex(text):
        frame = stack[-1]
        if kind == "open":
            if len(stack) > MAX_DEPTH:
                error = error or f"Parentheses go at most {MAX_DEPTH} deep: nothing was searched."
                break
            stack.append(_Frame(negate=part[0], word=part[1]))
            continue
        if kind == "close":
            if len(stack) == 1:
                error = error or cut(f'A ) closes no (: quote "{cut(part[0], 16)}" to search for it.', HINT_WIDTH)
                continue
            if frame.joining:
                error = error or f"Nothing after {last_or}: add the alternative, e.g. (ring {last_or} necklace)."
            stack.pop()
            if frame.clauses:
                stack[-1].add(Group(tuple(tuple(c) for c in frame.clauses), frame.negate))
            elif not error:  # "()", "-()": nothing to look for (it found every image, without a word)
                error = 'Empty parentheses hold nothing to look for, e.g. (ring | gem); quote "()".'
            continue
        minus, field, raw = part
        if field is None and raw in ("|", "OR") and not minus:
            if frame.clauses and not frame.joining:
                frame.joining = True
                last_or = raw  # what the user typed, named if nothing follows it
            else:  # "| ring", "ring | | gem", a lone "OR", "(| ring)": one side is empty
                error = error or f"Nothing before {raw}: write both sides, e.g. ring {raw} necklace."
            continue
        if field is None and raw == "-" and not minus:  # a lone minus: an exclusion not written yet
            error = error or 'A lone - excludes nothing: write -word (or "-" to search for a dash).'
            continue
        if field is None and not raw:  # "-)": the minus before a closing parenthesis
            error = error or "A lone - excludes nothing: write -word or -(a | b)."
            continue
        terms += 1
        if terms > MAX_TERMS:
            error = error or f"A query can have at most {MAX_TERMS} parts: nothing was searched."
            break
        if field is not None and field.lower() in ("sort", "order"):
            if raw.lower() in SORTS:
                if sort not in (None, raw.lower()) and not error:  # the last one used to win without a word
                    error, more = f"One order per search: sort:{sort} or sort:{raw.lower()}.", ORDERS_MORE
                sort = raw.lower()
            else:
                if not error:
                    error, more = f'"{cut(raw)}" is not an order: e.g. sort:oldest or sort:prompt.', ORDERS_MORE
            continue
        if field is None and re.fullmatch(r"[A-Za-z_]+:", raw):
            field, raw = raw[:-1], ""  # "seed:" with nothing after it yet
            if field.lower() in ("sort", "order"):  # (it said 'Unknown field "sort:"', listing fields without it)
                if not error:
                    error, more = f"{field}: needs an order, e.g. {field}:oldest or {field}:prompt.", ORDERS_MORE
                continue
        try:
            if field is None:
                if raw.endswith('"') and raw.count('"') == 1 and len(raw) > 1:
                    raw = raw[:-1]  # `duck"`: a quote closed that was never opened, forgiven as `"duck` is
                value = _unquoted(raw)
                if not value.strip():
                    if minus:
                        raise _Unreadable("A lone - excludes nothing: write -word.")
                    continue
                term = Term("prompt", fold(value), bool(minus), value)
            else:
                term = _term(field, raw, bool(minus), today)
            frame.add(term)
        except _Unreadable as exc:
            if not error:
                error, more = str(exc), exc.more
        except Exception as exc:  # noqa: BLE001 - total: a surprise in a value is a hint, never a crash
            error = error or cut(f'Cannot read "{cut(raw)}": {exc}', HINT_WIDTH - 1) + "."
    if len(stack) > 1 and not error:  # "(red apple" while it is typed, or "(masterpiece" meant as a word
        error = cut(f'A ( is not closed: add a ), or quote "{cut(stack[-1].word, 16)}" to search for it.',
                    HINT_WIDTH)
    while len(stack) > 1:  # closed at the end: the rest still searches
        frame = stack.pop()
        if frame.joining and not error:
            error = f"Nothing after {last_or}: add the alternative, e.g. ring {last_or} necklace."
        if frame.clauses:
            stack[-1].add(Group(tuple(tuple(c) for c in frame.clauses), frame.negate))
    top = stack[0]
    if top.joining and not error:
        error = f"Nothing after {last_or}: add the alternative, e.g. ring {last_or} necklace."
    clauses = tuple(tuple(c) for c in top.clauses)
    cut_short: list[bool] = []
    groups = _alternatives(clauses, False, cut_short)
    if cut_short:
        error = error or f"At most {MAX_GROUPS} combinations of alternatives: nothing was searched; write fewer."
    grouped = any(len(c) > 1 or isinstance(c[0], Group) for c in clauses)
    return Parsed(tuple(g for g in groups if g), error, sort, error_more=more, clauses=clauses if grouped else ())


class _Frame:
    """The query, or a group in parentheses while it is read: its clauses, each a list of alternatives."""

    def __init__(self, negate: bool = False, word: str = "") -> None:
        self.negate = negate  # -( … )
        self.word = word  # the "(" and what follows it, as typed: named when it is not closed
        self.clauses: list[list[Term | Group]] = []
        self.joining = False  # a | was read: the next item is an alternative of the last one

    def add(self, item: Term | Group) -> None:
        if self.joining:
            self.clauses[-1].append(item)
        else:
            self.clauses.append([item])
        self.joining = False


def _closers(raw: str) -> int:
    """How many of the ")" ending an unquoted word close groups: those its own "(" do not close ("apple)" one,
    "(a))" after its "(" one, "foo(bar)" and "in:(x)" none: a parenthesis inside a word is the word's)."""
    run = len(raw) - len(raw.rstrip(")"))
    depth = 0
    for ch in raw[: len(raw) - run]:
        if ch == "(":
            depth += 1
        elif ch == ")" and depth:
            depth -= 1
    return run - min(depth, run)


def _lex(text: str):
    """The query's parts in order: ("open", negated, word) for a "(" or "-(" that starts a term, ("close", word)
    for a ")" that ends one (outside quotes), ("term", minus, field, raw) for the rest: each a term as `_BODY`
    reads it, and "|" or "OR" as a term of its own."""
    for kind, *part, _, _ in _spans(text):
        yield (kind, *part)


def _spans(text: str):
    """`_lex`'s parts, each with where it starts and ends in `text` (a term from its minus to its end)."""
    position, end_of_text = 0, len(text)
    while True:
        while position < end_of_text and text[position].isspace():
            position += 1
        if position >= end_of_text:
            return
        if text[position] == "(" or text.startswith("-(", position):
            negate = text[position] == "-"
            word = text[position:].split(None, 1)[0]
            yield "open", negate, word, position, position + 1 + negate
            position += 1 + negate
            continue
        match = _BODY.match(text, position)
        if match is None:  # (\S+ reads any character that is not a space)
            return
        minus, field, raw = match.groups()
        end = match.end()
        closers = 0 if raw.startswith('"') else _closers(raw)
        if closers:
            raw, end = raw[:-closers], end - closers
        if raw or minus or field:
            yield "term", minus, field, raw, position, end
        for n in range(closers):
            yield "close", text[position:match.end()], end + n, end + n + 1
        position = match.end()


def _alternatives(clauses: tuple[tuple[Term | Group, ...], ...], negate: bool,
                  cut_short: list[bool]) -> list[tuple[Term, ...]]:
    """Clauses (every one must hold, any item of each may) as groups any of which may hold (every term of a group
    must): what the catalog and SQL evaluate. Negated (-( … )) by De Morgan: not (a and b) is (not a) or (not b),
    not (a or b) is (not a) and (not b), so a minus ends on single terms. At most MAX_GROUPS groups at each step
    (`cut_short` then holds True): what is left out are alternatives, so the result is never more than asked."""
    factors = [[_item_alternatives(item, negate, cut_short) for item in clause] for clause in clauses]
    if not negate:  # each clause's items are alternatives; the clauses are multiplied out
        return _product([_union(items, cut_short) for items in factors], cut_short)
    return _union([_product(items, cut_short) for items in factors], cut_short)  # not every clause: any fails


def _item_alternatives(item: Term | Group, negate: bool, cut_short: list[bool]) -> list[tuple[Term, ...]]:
    if isinstance(item, Group):
        return _alternatives(item.clauses, item.negate != negate, cut_short)
    return [(replace(item, negate=not item.negate),)] if negate else [(item,)]


def _product(factors: list[list[tuple[Term, ...]]], cut_short: list[bool]) -> list[tuple[Term, ...]]:
    groups: list[tuple[Term, ...]] = [()]
    for factor in factors:  # (a term twice in a group is there once)
        groups = list(dict.fromkeys(tuple(dict.fromkeys(g + h)) for g in groups for h in factor))
        if len(groups) > MAX_GROUPS:
            groups = groups[:MAX_GROUPS]
            cut_short.append(True)
    return groups


def _union(alternatives: list[list[tuple[Term, ...]]], cut_short: list[bool]) -> list[tuple[Term, ...]]:
    groups = list(dict.fromkeys(g for a in alternatives for g in a))
    if len(groups) > MAX_GROUPS:
        groups = groups[:MAX_GROUPS]
        cut_short.append(True)
    return groups


def without_sort(text: str) -> str:
    """The query without its sort:NAME (order:NAME) parts, the rest as typed: the Order control has taken the
    order over (`o`, the dropdown), so the search box no longer names another one."""
    cuts = []
    for kind, *part, start, end in _spans(text):
        field = part[1] if kind == "term" else None
        if field is not None and field.lower() in ("sort", "order"):
            after = len(text[end:]) - len(text[end:].lstrip())
            before = len(text[:start]) - len(text[:start].rstrip())
            # the part and the spaces after it ("sort:oldest ring"), or before it at the end ("ring sort:oldest")
            cuts.append((start, end + after) if after else (start - before, end))
    kept, last = [], 0
    for start, end in cuts:
        kept.append(text[last:start])
        last = end
    return "".join(kept) + text[last:]


def plain_query(text: str) -> Parsed:
    """The search text as one prompt substring (the old behaviour), for callers that want it literally."""
    value = fold(text.strip())
    return Parsed(((Term("prompt", value, False, text.strip()),),) if value else ())


def _range_words(value: tuple, unit: str = "") -> str:
    low, high, low_in, high_in = value

    def num(v: float) -> str:
        return f"{int(v)}" if v == int(v) else f"{v:g}"

    if low is not None and high is not None:
        return num(low) + unit if low == high else f"{num(low)}–{num(high)}{unit}"
    if low is not None:
        return f"{'≥' if low_in else '>'} {num(low)}{unit}"
    return f"{'≤' if high_in else '<'} {num(high)}{unit}"


def _describe_group(group: tuple[Term, ...]) -> str:
    """The conditions all of which must hold, words of the prompt together: 'prompt contains "a", "b" and
    "c"' (not 'prompt contains "a" and prompt contains "b" and …', which no status line holds)."""
    parts: list[str] = []
    words: list[str] = []
    previous: tuple[str, bool] | None = None
    for term in (*group, None):
        kind = (term.field, term.negate) if term is not None and term.field == "prompt" else None
        if words and kind != previous:
            listed = ", ".join(words[:-1]) + " and " + words[-1] if len(words) > 1 else words[0]
            parts.append(f'prompt {"lacks" if previous and previous[1] else "contains"} {listed}')
            words = []
        if term is None:
            break
        if kind is not None:
            words.append(f'"{term.text}"')
        else:
            parts.append(_describe(term))
        previous = kind
    return " and ".join(parts)


def _describe_clauses(clauses: tuple[tuple[Term | Group, ...], ...]) -> str:
    """Clauses that must all hold, each with its alternatives: 'prompt contains "dragon" or "wyvern" and prompt
    lacks "blurry"' (a clause of one term is described as a group's terms are, words of the prompt together); a
    group in parentheses in parentheses, 'not (…)' when negated."""
    parts: list[str] = []
    alone: list[Term] = []
    for clause in (*clauses, None):
        single = _single_term(clause[0]) if clause is not None and len(clause) == 1 else None
        if single is not None:
            alone.append(single)
            continue
        if alone:
            parts.append(_describe_group(tuple(alone)))
            alone = []
        if clause is None:
            break
        if len(clause) == 1:  # a group alone
            parts.append(_describe_item(clause[0]))
            continue
        options = [_describe_item(item) for item in clause]
        if all(isinstance(t, Term) and t.field == "prompt" and not t.negate for t in clause):
            options = ["prompt contains " + " or ".join(f'"{t.text}"' for t in clause if isinstance(t, Term))]
        parts.append(" or ".join(options) if len(clauses) == 1 else "(" + " or ".join(options) + ")")
    return " and ".join(parts)


def _single_term(item: Term | Group) -> Term | None:
    """The one term an item is: a term, or parentheses around one ((a), -(a) as -a, -(-a) as a), else None."""
    negate = False
    while isinstance(item, Group):
        if len(item.clauses) != 1 or len(item.clauses[0]) != 1:
            return None
        negate, item = negate != item.negate, item.clauses[0][0]
    return replace(item, negate=item.negate != negate) if negate else item


def _describe_item(item: Term | Group) -> str:
    single = _single_term(item)
    if single is not None:
        return _describe(single)
    assert isinstance(item, Group)
    negate = item.negate
    while len(item.clauses) == 1 and len(item.clauses[0]) == 1:  # ((a b)), -((a b)): the innermost one's
        inner = item.clauses[0][0]
        assert isinstance(inner, Group)  # (else a single term)
        negate, item = negate != inner.negate, inner
    described = _describe_clauses(item.clauses)
    return f"not ({described})" if negate else f"({described})"


def _describe(term: Term) -> str:
    no = "not " if term.negate else ""
    f, v = term.field, term.value
    if f == "prompt":
        return f'prompt {"lacks" if term.negate else "contains"} "{term.text}"'
    if f in TEXT_FIELDS:
        label = {"negative": "negative prompt", "file": "file name", "source": "source folder"}.get(f, f)
        return f'{label} {"lacks" if term.negate else "contains"} "{term.text}"'
    if f == "id":
        ranges = [_range_words(bounds) for bounds in id_bounds(v)]
        return f"{no}id {', '.join(ranges[:-1]) + ' or ' if len(ranges) > 1 else ''}{ranges[-1]}"
    if f in NUMBER_FIELDS:
        return f"{no}{f} {_range_words(v)}"
    if f in DATE_FIELDS:
        start, end = v
        label = "generated" if f == "date" else "imported"
        fmt = "%Y-%m-%d %H:%M"
        parts = []
        if start is not None:
            parts.append(f"from {start.replace(tzinfo=timezone.utc).astimezone().strftime(fmt)}")
        if end is not None:
            parts.append(f"before {end.replace(tzinfo=timezone.utc).astimezone().strftime(fmt)}")
        return f"{no}{label} {' '.join(parts) or 'any time'}"
    if f == "is":
        return {"fav": "favorites", "cleaned": "cleaned", "cell": "grid cells", "derived": "derived"}[v] \
            if not term.negate else {"fav": "non-favorites", "cleaned": "not cleaned", "cell": "not grid cells",
                                     "derived": "originals"}[v]
    if f == "from":
        return f"{no}derived from #{v}"
    if f == "in":
        return f'{no}in "{v}"'
    if f == "size":
        w, h = v
        return f"{no}size {_range_words(w) if w else 'any'}×{_range_words(h) if h else 'any'}"
    return term.text


# -- what the prompt and params hold -------------------------------------------------

_LORA_IN_PROMPT = re.compile(r"<(?:lora|lyco|locon):([^:>]+)", re.IGNORECASE)
# The params keys each generator uses (A1111 capitalises; ComfyUI, InvokeAI, NovelAI, Easy Diffusion do not;
# TensorArt says ksamplerName).
SEED_KEYS = ("seed", "Seed", "noise_seed")
STEPS_KEYS = ("steps", "Steps", "num_inference_steps")
SAMPLER_KEYS = ("sampler", "Sampler", "sampler_name", "ksamplerName", "scheduler")
LORA_KEYS = ("Lora hashes", "loras", "lora_name")


def lora_names(prompt: str | None, listed, folded: bool = True) -> str:
    """LoRA names in the prompt (<lora:name:w>) and in the params' list, folded (text.fold; `folded=False`: as
    written, for showing), one a line ("" for none). The list is text ("name: hash, folder/name2: hash2", A1111) or a JSON list (Fooocus:
    [["name.safetensors", 0.5], ...], or of texts "name: w"), as the params hold it or as its JSON text (SQLite's
    json_extract gives a list as text): a name is an item's first text, before its colon, after its last slash."""
    names: set[str] = set()
    shown = fold if folded else str
    if prompt and "<" in prompt:
        names.update(shown(m.group(1).strip()) for m in _LORA_IN_PROMPT.finditer(prompt))
    if isinstance(listed, str) and listed.lstrip().startswith("["):
        try:
            listed = json.loads(listed)
        except (ValueError, RecursionError):  # text that only starts like a list, or one too deep to read
            pass
    parts: list = []
    if isinstance(listed, str) and listed:
        parts = listed.strip('"').split(",")
    elif isinstance(listed, list):  # an item is a list ([name, weight, ...]) or a text
        parts = [item[0] if isinstance(item, list) and item else item for item in listed]
    for part in parts:
        if isinstance(part, str):
            name = part.split(":")[0].strip().rsplit("/", 1)[-1]
            if name:
                names.add(shown(name))
    return "\n".join(sorted(names, key=lambda name: (fold(name), name)))


def as_number(value) -> float | None:
    """A parameter as a number (the text "7.5", 30, "1234"), or None (also for a file's nan or inf)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        try:
            number = float(value)
        except OverflowError:  # a whole number past a float's range
            return None
        return number if math.isfinite(number) else None
    try:
        number = float(str(value).strip())
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def seed_number(params: dict) -> int | None:
    """The image's seed as a whole number, or None: not recorded, or negative (a file's "Seed: -5" is no seed a
    generator can use again: it counts as none, as the catalog and the databases' seed column read it)."""
    seed = whole_number(param(params, "seed"))
    return seed if seed is not None and seed >= 0 else None


def whole_number(value) -> int | None:
    """A parameter as a whole number (seeds up to 2^64 exactly: "235284042", 35, "35.0"), or None."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = str(value).strip() if value is not None else ""
    if re.fullmatch(r"[-+]?\d+", text):
        return int(text)
    number = as_number(value)
    return int(number) if number is not None and number.is_integer() else None


SEARCH_HELP = """\
search (the same in the app's search box):
  ring pixel           every word in the prompt, any case or accent, any order, partial
  "pixel art"  -blurry a phrase as written; a minus excludes
  ring | necklace      alternatives (also OR, or red|gold): | joins the words (phrases, fields) beside it
  gem | coin -blurry   the rest applies to each: (gem or coin) and not blurry
  model:sdxl  sampler:euler  negative:blurry  lora:detail  file:sheet  owner:bob
  source:outputs       images of a source folder whose path holds "outputs"
  seed:123  steps:>=30  cfg:5-7.5  width:>1000  height:<=768  size:1024x1024  id:10-20
                       (width, height, size: the picture's pixels, not the generation size in the file)
  id:9,15  id:#12      ids as the commands take them: lists, with ranges (id:1,5-9)
  date:2026-11-25  date:2026-11  date:>2026-01-01  date:today  date:yesterday  date:7d
  date:2026-01-01..2026-02-01  date:2w..yesterday  date:<30d (older)  (imported: the same, import date)
  in:"My Sheets"  is:fav  -is:fav  is:cleaned  is:cell  is:derived  from:12
  in:"My \\"Best\\""     in quotes \\" is a quote, \\\\ a backslash
  (red apple) | gold   parentheses group any part: (red and apple) or gold
  -(ring | gem)        a minus excludes the group: neither ring nor gem
  (night:1.3)  x(y)    text: a word: that is no field (nor a typo of one); ( ) inside a word or quotes
  sort:newest|oldest|imported|prompt|largest|random|favorites
  cafe  café           each finds both: accents fold as case does, in
                       words, phrases, negative:, model:, sampler:, lora:, in:
"""


def _contains(text: str | None, term: Term) -> bool:
    return term.value in (fold(text) if term.field in FOLDED_FIELDS or term.field == "prompt" else
                          (text or "").casefold())


def term_holds(term: Term, record) -> bool:
    """Whether one (unnegated) term holds for an ImageRecord, as the store evaluates it; for `matched` lists."""
    f, v = term.field, term.value
    params = getattr(record, "params", {}) or {}
    if f == "file" and getattr(record, "linked", False) and any(  # any of its files in the watched folders
            _contains(path.name, term) for path in (record.path, *(getattr(record, "also_at", None) or ()))):
        return True
    text = {"prompt": "prompt", "model": "model", "negative": "negative_prompt", "file": "source_name"}.get(f)
    if text is not None:
        return _contains(getattr(record, text), term)
    if f == "source":
        return bool(getattr(record, "linked", False)) and _contains(str(record.path), term)
    if f == "owner":
        return v in record.owner.casefold() if isinstance(v, str) else True
    if f == "in":
        return any(fold(c) == fold(str(v)) for c in record.collections) if isinstance(v, str) else True
    if f == "sampler":
        return _contains(str(param(params, "sampler") or ""), term)
    if f == "lora":
        listed = next((params[k] for k in LORA_KEYS if k in params), None)
        return term.value in lora_names(record.prompt, listed)
    if f in ("seed", "steps", "cfg", "width", "height", "id"):
        value = {"seed": lambda: seed_number(params), "steps": lambda: as_number(param(params, "steps")),
                 "cfg": lambda: as_number(record.text_accuracy), "width": lambda: record.width,
                 "height": lambda: record.height, "id": lambda: record.id}[f]()
        return value is not None and any(_within(value, bounds) for bounds in (id_bounds(v) if f == "id" else (v,)))
    if f == "size":
        return all(b is None or _within(n, b) for n, b in zip((record.width, record.height), v))
    if f in ("date", "imported"):
        moment = (record.generated_at if f == "date" else record.imported_at).astimezone(timezone.utc)
        moment = moment.replace(tzinfo=None)
        return (v[0] is None or moment >= v[0]) and (v[1] is None or moment < v[1])
    if f == "is":
        kind = record.derivation or ""
        return {"fav": record.favorite, "derived": bool(kind), "cell": kind.startswith("cell"),
                "cleaned": bool(kind) and not kind.startswith("cell") and "background" in kind}[v]
    if f == "from":
        return record.parent_id == v
    return False


def _within(value: float, bounds: tuple) -> bool:
    low, high, low_in, high_in = bounds
    if low is not None and not (value >= low if low_in else value > low):
        return False
    return high is None or (value <= high if high_in else value < high)


def matched_fields(parsed: Parsed, record) -> list[str]:
    """The fields of the query that this image matched (its searched words as "prompt")."""
    fields: dict[str, None] = {}
    for group in parsed.groups:
        for term in group:
            if not term.negate and term.field not in fields and term_holds(term, record):
                fields[term.field] = None
    return list(fields)


def param(params: dict, name: str):
    """A generation parameter whatever the generator called it (Seed, seed, noise_seed...), or None."""
    keys = {"seed": SEED_KEYS, "steps": STEPS_KEYS, "sampler": SAMPLER_KEYS}[name]
    for key in keys:
        value = params.get(key)
        if value not in (None, ""):
            return value
    return None
