"""Each drawn style's terminal colour codes made where its lines are made (a worker), not by the paint that first
shows them (issue 11).

In a terminal, Textual turns every update into characters and escape sequences on the UI thread (`Strip.render`),
and the first time a style is drawn it makes its codes (`Strip.render_ansi`, kept on the style). A picture drawn
in half-block cells has a style per colour pair, most of them new: the large view's picture some 7,000, a screen
of thumbnails 3,000, the gallery dimmed under a dialog as many again. Made at their first paint, that was 5-25 ms
of it at 160x48 in a true-colour terminal (more in a 256-colour one: each colour matched to the palette); the
headless runs of the tests and the benchmark never made them, so never saw it (bench/run.py now renders them).

`make_codes` makes them for lines about to be shown, on whatever thread drew them: a large picture's (the large
view, the viewer, the grid editor), the thumbnails drawn a page ahead (`ThumbnailStrips.make(codes=True)`) and those
a new card size shows, drawn before its cards are (`CardGrid.set_card_size`); the paint then finds them made. Not
the thumbnails the screen waits for: made in that worker, they lengthened the first End with small cards on a
million images (99 -> 106-143 ms, key to every picture). Headless (no output: `use_output(None)`) it does nothing.
"""
from __future__ import annotations

from typing import Iterable

from rich.color import ColorSystem
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

_SYSTEMS = {"standard": ColorSystem.STANDARD, "256": ColorSystem.EIGHT_BIT, "truecolor": ColorSystem.TRUECOLOR,
            "windows": ColorSystem.WINDOWS}


class _Output:
    system: ColorSystem | None = None  # the app's output's colours; None: headless, nothing is written


_output = _Output()


def use_output(system: str | None) -> None:
    """Say what the app writes to: its console's `color_system` ("truecolor", "256", ...), None when headless."""
    _output.system = _SYSTEMS.get(system) if system is not None else None


def make_codes(lines: Iterable[Iterable[Segment]]) -> None:
    """Make the terminal codes of every style in these lines that has none yet (`make_style_codes`)."""
    make_style_codes(style for line in lines for _, style, _ in line if style is not None)


def make_style_codes(styles: Iterable[Style]) -> None:
    """Make the codes of each style that has none yet (a few microseconds each), kept on the style, where
    `Strip.render_style` looks first (`Strip.render_ansi` keeps them there only when it makes them, not when it
    answers from its cache for an equal style); a style met again has them by then."""
    system = _output.system
    if system is None:
        return
    render_ansi = Strip.render_ansi
    for style in styles:
        if style._ansi is None:
            style._ansi = render_ansi(style, system)
