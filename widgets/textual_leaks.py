"""Workarounds for Textual 8.2: drawn lines kept alive after their widget had gone, objects they make, and lines cut
cell by cell (issue 11).

1. `StylesCache.get_inner_outer` (a widget's line cache) is an `lru_cache` on an instance method, so the
   cache's key holds the StylesCache itself: the last 1,024 line caches stay alive with every line they drew,
   after their widget was removed (Textual issue 6665, open). Each dialog, card and preview a session opened
   and closed left its lines there: at 160x48, ~90,000 objects more after each round of paging, searching and
   opening the info, large view, help and grid editor, which every garbage collection walked or froze.
   Here the cache is keyed by the two colours only (what the function reads), in one cache for all.

2. Textual's compositor cuts every line a widget draws at the edges of what covers it (`Strip.divide`); a line
   seen whole is "cut" into a list holding only itself, and Strip caches that list on itself: a reference
   cycle. `Strip.crop_extend` to a line's own width caches the line on itself as well. Every line so drawn was
   then garbage only the cycle collector could free, with its 7 caches and its Segments (tens of thousands of
   objects a minute of paging), and lines that lived through a full collection were frozen with it (tui/app.py)
   and stayed until the rare collection that walks everything. Here those two answers are not cached
   (answering them costs nothing): a line no widget holds is freed at once, by reference counting.

3. Every Strip makes its 7 caches (crop, divide, style...) when it is made, each an object the collector
   tracks: 9 a line with its list, most never used (a card's lines are cropped, divided or styled rarely). The
   lines drawn on each page were a tenth of what every full collection walked (3,000 of 31,000 at 160x48), and
   their caches 15,000 of the 130,000 objects the deep collection walks (tui/app.py). Here a cache is made the
   first time it is asked for (the same cache, the same size: only when it comes is changed).

4. A worker sets itself as the current worker (`active_worker`) in its task's context, and keeps its task: worker,
   task, context, worker, a cycle that outlives the work. Every finished worker (the grid's pages and thumbnails,
   each query, each follower's read: some 40 in a benchmark run) was garbage only the cycle collector could free,
   and those frozen while they ran (tui/app.py freezes after each batch of thumbnails) died frozen, left to the
   rare collection that walks everything. Here a worker's task clears it from its context when the work is done
   (nothing runs in that context after), so the worker is freed by reference counting once nothing holds it.

5. The same cuts made in a line of one run of single-width characters (the blank lines of the containers under
   the cards, cut at every card's edge and then hidden by the cards) are made by slicing its text, not by
   Rich's `Segment.divide`, which measures every cut cell by cell: at a change of card size 300 such lines were
   cut in 20 pieces each, 5-8 ms of the frame that shows the new cards (issue 11). The pieces are the same, and
   kept for every line alike (the same characters, style and cuts: a screen's blank lines are a few kinds), not
   on each line: cutting one still made 20 lines (17 us).

6. `OptionList._move_page` (PageUp/PageDown) reads the highlighted option's line before the list's first layout
   has made its lines: KeyError, and the app ended with a traceback. In tmux, `a` then PageUp at once (the
   collections dialog just opened) did it; the slow fuzz run (seed 3) found it too (NEWUSER14). The command
   palette's list had the same fault (guarded in tui/app.py since the fuzz test found it). Here a page key on a
   list not laid out yet does nothing, in every option list (the collections', the sources', the duplicates'
   groups, the ⋯ menu, the palette).

7. The command palette's search (`CommandPalette._gather_commands`, a worker of Textual's that ends the app on an
   error) starts by looking up the palette's list; one started as the palette closes (fast keys: the slow fuzz
   run, seed 10, after 3,306 events) found it gone, NoMatches, and the app ended (NEWUSER14). Here such a search
   ends quietly: there is nothing to show it in.

`install()` is run once by the app; each patch checks that Textual still has what it replaces.
"""
from __future__ import annotations

import inspect
from functools import lru_cache
from typing import Iterable, Sequence

from rich.segment import Segment
from textual._styles_cache import StylesCache
from textual.cache import FIFOCache
from textual.strip import Strip
from textual.worker import Worker, active_worker

INNER_OUTER_KEPT = 1024  # colour pairs (Textual's own size, now for every widget together)

_installed = False

CUT_LINES_KEPT = 256  # lines of one run of characters, cut (5.): a screen's blank lines are a few alike
_cut_lines: dict[tuple, list[Strip]] = {}


def _keyed_by_colours() -> None:
    method = StylesCache.__dict__.get("get_inner_outer")
    original = getattr(method, "__wrapped__", None)
    if original is None:  # no longer an lru_cache on the method (fixed in Textual): nothing to do
        return

    @lru_cache(INNER_OUTER_KEPT)
    def inner_outer(base_background, background):
        return original(None, base_background, background)  # reads the colours only

    def get_inner_outer(self, base_background, background):
        return inner_outer(base_background, background)

    get_inner_outer.__doc__ = original.__doc__
    StylesCache.get_inner_outer = get_inner_outer  # type: ignore[method-assign,assignment]


def _acyclic_strips() -> None:
    divide, crop_extend = Strip.divide, Strip.crop_extend

    def whole_divide(self: Strip, cuts: Iterable[int]) -> Sequence[Strip]:
        cuts = [cut for cut in cuts if cut <= self.cell_length]
        if cuts == [self.cell_length]:
            return [self]
        segments = self._segments
        if len(segments) == 1 and segments[0].control is None:  # (5.) a blank line, most likely
            text, style, _ = segments[0]
            if len(text) == self.cell_length and text.isascii():  # every character one cell
                key = (text, style, *cuts)
                pieces = _cut_lines.get(key)
                if pieces is None:
                    pieces, start = [], 0
                    for cut in cuts:
                        pieces.append(Strip([Segment(text[start:cut], style)] if cut > start else [], cut - start))
                        start = cut
                    if len(_cut_lines) >= CUT_LINES_KEPT:
                        _cut_lines.clear()
                    _cut_lines[key] = pieces
                return pieces
        return divide(self, cuts)

    def whole_crop_extend(self: Strip, start: int, end: int, style=None) -> Strip:
        if start == 0 and end == self.cell_length:
            return self  # what extend-then-crop gives, without caching it on itself
        return crop_extend(self, start, end, style)

    whole_divide.__doc__, whole_crop_extend.__doc__ = divide.__doc__, crop_extend.__doc__
    Strip.divide = whole_divide  # type: ignore[method-assign]
    Strip.crop_extend = whole_crop_extend  # type: ignore[method-assign]


STRIP_CACHES = ("_divide_cache", "_crop_cache", "_style_cache", "_filter_cache", "_line_length_cache",
                "_crop_extend_cache", "_offsets_cache")
STRIP_PLAIN = ("_segments", "_cell_length", "_render_cache", "_link_ids", "_cell_count")


def _lazy_strip_caches() -> None:
    if sorted(getattr(Strip, "__slots__", ())) != sorted(STRIP_CACHES + STRIP_PLAIN):  # Textual changed: leave it
        return
    sample = Strip([])
    sizes = {name: getattr(sample, name)._maxsize for name in STRIP_CACHES}
    if not all(isinstance(getattr(sample, name), FIFOCache) for name in STRIP_CACHES):
        return

    def lazily(name: str) -> property:
        slot = Strip.__dict__[name]  # the slot itself (a member descriptor), kept for the property to use
        size = sizes[name]

        def cache(self: Strip) -> FIFOCache:
            try:
                return slot.__get__(self, Strip)
            except AttributeError:  # not asked for yet
                made: FIFOCache = FIFOCache(size)
                slot.__set__(self, made)
                return made

        return property(cache, slot.__set__)

    def __init__(self: Strip, segments, cell_length: int | None = None) -> None:
        self._segments = list(segments)
        self._cell_length = cell_length
        self._render_cache = None
        self._link_ids = None
        self._cell_count = None

    __init__.__doc__ = Strip.__init__.__doc__
    for name in STRIP_CACHES:
        setattr(Strip, name, lazily(name))
    Strip.__init__ = __init__  # type: ignore[method-assign]


def _workers_let_go() -> None:
    run = getattr(Worker, "_run", None)
    if run is None or not inspect.iscoroutinefunction(run):  # Textual changed: leave it
        return

    async def _run(self: Worker, app) -> None:
        try:
            await run(self, app)
        finally:
            active_worker.set(None)  # type: ignore[arg-type]  # the task's own context: it no longer holds the worker

    _run.__doc__ = run.__doc__
    Worker._run = _run  # type: ignore[method-assign]


def _paging_before_layout() -> None:
    from textual.widgets import OptionList

    move_page = getattr(OptionList, "_move_page", None)
    if move_page is None:  # Textual changed: leave it
        return

    def _move_page(self: OptionList, direction: int) -> None:
        try:
            move_page(self, direction)
        except (KeyError, IndexError):  # its lines are not made yet (no layout): nothing to page through
            pass

    OptionList._move_page = _move_page  # type: ignore[method-assign]


def _palette_search_after_close() -> None:
    from .workers import work  # (described by its name: widgets/workers.py)
    from textual.command import CommandPalette
    from textual.css.query import NoMatches

    gather = getattr(CommandPalette.__dict__.get("_gather_commands"), "__wrapped__", None)
    group = getattr(CommandPalette, "_GATHER_COMMANDS_GROUP", None)
    if gather is None or group is None or not inspect.iscoroutinefunction(gather):  # Textual changed: leave it
        return

    async def _gather_commands(self: CommandPalette, search_value: str) -> None:
        try:
            await gather(self, search_value)
        except NoMatches:  # the palette's list is gone (it closed): nothing to show the commands in
            pass

    _gather_commands.__doc__ = gather.__doc__
    CommandPalette._gather_commands = work(  # type: ignore[method-assign]
        exclusive=True, group=group, exit_on_error=False)(_gather_commands)  # any other failure: said, the app goes on


def install() -> None:
    """Apply the workarounds (once per process)."""
    global _installed
    if _installed:
        return
    _installed = True
    _keyed_by_colours()
    _acyclic_strips()
    _lazy_strip_caches()
    _workers_let_go()
    _paging_before_layout()
    _palette_search_after_close()
