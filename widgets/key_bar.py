"""The key bar: the screen's keys and what they do, on one line at the bottom.

Textual's Footer mounts a widget per key and mounts them all again whenever the
focus moves (opening a dropdown, going to the search box): 50-150 ms each time
on these machines, in the middle of the user's action. This bar is one widget
that draws the same line and only repaints when the keys change.

A dialog (a modal screen) opened over the bar's screen leaves the bar on show under it: the bar then shows the
dialog's keys, not its own screen's, which do nothing while the dialog is open ("/ Search", "f Favorite" under
the help or the import dialog).
"""
from __future__ import annotations

import functools

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.screen import ModalScreen, Screen
from textual.widget import Widget


@functools.lru_cache(maxsize=256)
def declared_keys(node_class: type) -> dict[str, list[str]]:
    """The keys each binding of a class is declared with, in their order: by id, else action."""
    keys: dict[str, list[str]] = {}
    for cls in reversed(node_class.__mro__):
        for item in vars(cls).get("BINDINGS", ()):
            binding = item if isinstance(item, Binding) else Binding(*item)
            keys.setdefault(binding.id or binding.action, [key.strip() for key in binding.key.split(",")])
    return keys


def declared_order(node_class: type) -> dict[str, int]:
    """Where each binding of a class (its bases' first, as Textual merges them) is declared: by id, else action."""
    order: dict[str, int] = {}
    for cls in reversed(node_class.__mro__):
        for item in vars(cls).get("BINDINGS", ()):
            binding = item if isinstance(item, Binding) else Binding(*item)
            order.setdefault(binding.id or binding.action, len(order))
    return order


class KeyBar(Widget):
    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        background: $footer-background;
        color: $footer-foreground;
    }
    KeyBar > .key-bar--key { color: $footer-key-foreground; background: $footer-key-background; text-style: bold; }
    KeyBar > .key-bar--description { color: $footer-description-foreground; }
    KeyBar > .key-bar--disabled { color: $text-disabled; }
    KeyBar > .key-bar--hover { background: $block-hover-background; }
    """
    COMPONENT_CLASSES = {"key-bar--key", "key-bar--description", "key-bar--disabled", "key-bar--hover"}

    def __init__(self, *, id: str | None = None, more_action: str | None = "help") -> None:
        """`more_action` is the app's action that lists every key (the help): its first key ends the line,
        as "? more" when some keys did not fit, so that none is dropped without a word."""
        super().__init__(id=id)
        self.more_action = more_action
        self._keys: list[tuple[str, str, str, bool]] = []  # (key, shown key, description, enabled)
        self._spans: list[tuple[int, int, str]] = []  # (start, end, key) of each entry on the line
        self._hover: str | None = None
        self._more_key: str | None = None
        self._shown: Screen | None = None  # whose keys the bar shows: its screen's, or a dialog's over it

    def on_mount(self) -> None:
        self.app.screen_change_signal.subscribe(self, self._screen_changed)
        self._show_keys_of(self.screen)

    def on_unmount(self) -> None:
        self.app.screen_change_signal.unsubscribe(self)
        if self._shown is not None:
            self._shown.bindings_updated_signal.unsubscribe(self)
            self._shown = None

    def _screen_changed(self, _top: Screen) -> None:
        """A screen opened or closed: the keys of the dialogs over the bar's screen, the topmost's."""
        if not self.is_attached:
            return
        stack = self.app.screen_stack
        if self.screen not in stack:
            return
        above = stack[stack.index(self.screen) + 1:]
        if all(isinstance(screen, ModalScreen) for screen in above):  # else a whole screen hides the bar
            self._show_keys_of(above[-1] if above else self.screen)

    def _show_keys_of(self, screen: Screen) -> None:
        if screen is self._shown:
            return
        if self._shown is not None:
            self._shown.bindings_updated_signal.unsubscribe(self)
        self._shown = screen
        screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._bindings_changed(screen)

    def _bindings_changed(self, screen: Screen) -> None:
        if not self.is_attached or screen is not self._shown:
            return
        placed = []
        palette = more = None
        nodes: dict[int, int] = {}  # each node's rank: the focused widget's keys first, as Textual lists them
        for n, (key, (node, binding, enabled, _tooltip)) in enumerate(screen.active_bindings.items()):
            entry = (key, self.app.get_key_display(Binding(key, "")), binding.description, enabled)
            if binding.action == "app.command_palette" or key == self.app.COMMAND_PALETTE_BINDING:
                palette = entry
            elif binding.action == self.more_action:
                more = more or entry
            elif binding.show:
                rank = nodes.setdefault(id(node), len(nodes))
                name = binding.id or binding.action
                # a binding of two keys shows its first ("escape,ctrl+c": esc), whichever Textual lists first
                keymap: dict[str, str] = getattr(self.app, "keymap", {})  # (a user's keys for a binding id)
                bound = ([k.strip() for k in keymap[binding.id].split(",")] if binding.id in keymap
                         else declared_keys(type(node)).get(name, []))
                first = bound.index(key) if key in bound else len(bound)
                placed.append((rank, declared_order(type(node)).get(name, 10_000 + n), first, entry))
        # in the order the bindings are declared: a key a keymap moved is listed where its binding is (Textual
        # puts a rebound key last: "→ Next", second in the large view's bar, fell off it as "n Next", NEWUSER7 #21)
        keys = [entry for _rank, _place, _first, entry in sorted(placed, key=lambda p: p[:3])]
        unique, seen = [], set()
        for shown in keys:  # one entry per description: the first
            if shown[2] not in seen:
                seen.add(shown[2])
                unique.append(shown)
        self._more_key = more[0] if more is not None else None
        if more is not None:
            unique.append(more)
        if palette is not None and self.app.ENABLE_COMMAND_PALETTE:
            unique.append(palette)
        if unique != self._keys:
            self._keys = unique
            self.refresh()

    @property
    def text(self) -> str:
        """The line as plain text (tests)."""
        return self.render().plain

    def render(self) -> Text:
        line = Text(no_wrap=True, overflow="crop")
        key_style = self.get_component_rich_style("key-bar--key", partial=True)
        description_style = self.get_component_rich_style("key-bar--description", partial=True)
        disabled = self.get_component_rich_style("key-bar--disabled", partial=True)
        hover = self.get_component_rich_style("key-bar--hover", partial=True)
        self._spans = []
        width = self.size.width
        entries = self._keys
        palette = entries[-1:] if entries and entries[-1][0] == self.app.COMMAND_PALETTE_BINDING else []
        body = entries[: len(entries) - len(palette)]
        more = body.pop() if body and body[-1][0] == self._more_key else None
        palette_width = sum(cell_len(f" {k[1]} {k[2]} ") for k in palette)

        def part_of(key: str, shown: str, description: str, enabled: bool) -> Text:
            part = Text.assemble((f" {shown} ", key_style), (f"{description} ", description_style))
            if not enabled:
                part.stylize(disabled)
            if key == self._hover:
                part.stylize(hover)
            return part

        parts = [(entry[0], part_of(*entry)) for entry in body]
        room = width - palette_width
        if more is not None:
            fits = sum(part.cell_len for _key, part in parts) + cell_len(f" {more[1]} {more[2]} ") <= room
            more_part = part_of(more[0], more[1], more[2] if fits else "more", more[3])
            room -= more_part.cell_len
        for key, part in parts:
            if line.cell_len + part.cell_len > room:
                break
            self._spans.append((line.cell_len, line.cell_len + part.cell_len, key))
            line.append_text(part)
        if more is not None:
            self._spans.append((line.cell_len, line.cell_len + more_part.cell_len, more[0]))
            line.append_text(more_part)
        if palette:
            key, shown, description, enabled = palette[0]
            line.append(" " * max(0, width - palette_width - line.cell_len))
            self._spans.append((line.cell_len, line.cell_len + palette_width, key))
            line.append_text(Text.assemble((f" {shown} ", key_style), (f"{description} ", description_style)))
        return line

    def _key_at(self, x: int) -> str | None:
        for start, end, key in self._spans:
            if start <= x < end:
                return key
        return None

    def on_mouse_move(self, event: events.MouseMove) -> None:
        key = self._key_at(event.x)
        if key != self._hover:
            self._hover = key
            self.refresh()

    def on_leave(self) -> None:
        if self._hover is not None:
            self._hover = None
            self.refresh()

    def on_click(self, event: events.Click) -> None:
        key = self._key_at(event.x)
        if key is not None:
            event.stop()
            self.app.simulate_key(key)  # as Textual's Footer does: the key, as if pressed
