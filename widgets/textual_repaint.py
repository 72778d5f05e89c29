"""A workaround for Textual 8.2 leaving the cells of removed widgets on the terminal (NEWUSER6 #10).

Textual's compositor keeps a map of where every widget is (`_full_map`). When the layout changes it lays the
screen out again and repaints the places of the widgets that moved, came or went: what changed between the old
map and the new one. Two things make the old map wrong, so a place is never repainted and what was drawn there
stays on the terminal, though the screen Textual holds (and a screenshot) is right:

1. The map is marked stale when a widget appears or goes, and made again from the widgets there are *now* the
   next time anything asks where a widget is (`Compositor.full_map`). If that comes between a widget's removal
   and the layout pass, the removed widget is no longer in the old map: its place is never repainted.
2. Scrolling lays out only what shows (`reflow_visible`, into `_visible_map`) and leaves the full map where the
   widgets were before the scroll: the next layout pass repaints those places, not where they are drawn.

Stacked notices (toasts) meet both: six or more overflow the notice rack, which scrolls to the newest, and as
they time out pieces of them stayed drawn over the grid. Here a map made again marks what changed since the
one before as needing a repaint, as the layout pass does, and the layout pass also repaints the places of the
widgets that a scroll drew elsewhere than the full map says.

`install()` is run once by the app; it checks that Textual still has what it replaces. The compositor is Textual's
private API (`textual._compositor`), and so is all this: the fault is in it, so there is no public way to mend it.
If Textual moved or changed it, the workaround is left out (`INSTALLED` stays False; the module still imports):
tests/test_gallery.py fails loudly (`test_the_compositor_workarounds_are_in_place`), the app runs on.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

try:
    from textual._compositor import Compositor
except ImportError:  # (Textual moved it: `install` leaves the workaround out)
    Compositor = None  # type: ignore[assignment,misc]

if TYPE_CHECKING:
    from textual._compositor import CompositorMap

_installed = False
INSTALLED = False  # the workaround is in place (Textual had what it replaces)


def _drawn(compositor: Compositor) -> CompositorMap:
    """Where the widgets were last drawn: the map of the last scroll over the full map."""
    visible = compositor._visible_map
    return {**compositor._full_map, **visible} if visible else compositor._full_map


def _repaint_changes(compositor: Compositor, old: CompositorMap, new: CompositorMap) -> None:
    """Mark the places of the widgets that came, went or moved between two maps as needing a repaint (what
    `Compositor.reflow` does)."""
    if compositor.size.region in compositor._dirty_regions:  # all of it is repainted anyway
        return
    places = (geometry.clip.intersection(geometry.region) for _, geometry in old.items() ^ new.items())
    compositor._dirty_regions.update(place for place in places if place)


def install() -> None:
    """Apply the workaround (once per process)."""
    global _installed, INSTALLED
    if _installed:
        return
    _installed = True
    if Compositor is None:
        return
    full_map = Compositor.__dict__.get("full_map")
    reflow = Compositor.__dict__.get("reflow")
    used = ("_full_map", "_visible_map", "_dirty_regions", "_full_map_invalidated", "size", "root")
    if (not isinstance(full_map, property) or full_map.fget is None or reflow is None
            or not all(hasattr(Compositor(), name) for name in used)):  # Textual changed: leave it as it is
        return
    make_full_map = full_map.fget

    def made_again(self: Compositor) -> CompositorMap:
        if self.root is None or not self._full_map_invalidated:
            return make_full_map(self)
        old = _drawn(self)
        new = make_full_map(self)
        _repaint_changes(self, old, new)
        return new

    def reflow_from_drawn(self: Compositor, parent, size):
        scrolled = self._visible_map  # where the widgets shown were drawn, if a scroll came since the last pass
        result = reflow(self, parent, size)
        if scrolled:
            new = self._full_map
            _repaint_changes(self, scrolled, {widget: new[widget] for widget in scrolled if widget in new})
        return result

    reflow_from_drawn.__doc__ = reflow.__doc__
    Compositor.full_map = property(made_again, doc=full_map.__doc__)  # type: ignore[method-assign,assignment]
    Compositor.reflow = reflow_from_drawn  # type: ignore[method-assign]
    INSTALLED = True
