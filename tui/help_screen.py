"""Help (`?` or F1): every key of the screen below it, read from the bindings themselves, and the search syntax.

Nothing here is typed by hand: the keys come from the screen's `BINDINGS`, those of the app's own widgets on
it (the card grid, the search box) and the app's, as the user's keymap (settings file, `[keymap]`) rebinds
them; an action the screen does not offer there (check_action says False: the public gallery's write keys)
is left out.
"""
from __future__ import annotations

from dataclasses import dataclass

from rich.console import Group
from rich.padding import Padding
from rich.table import Table
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.dom import DOMNode
from textual.screen import Screen
from textual.widgets import Button, Static

from store.query import SEARCH_HELP
from widgets.search_history import SearchInput

from widgets.rich_once import RichOnce

from .keymap_check import Row, clashes, winner
from .scrolling_modal import ReadingDialog

OWN_PACKAGES = ("tui.", "widgets.")  # bindings of Textual's own widgets (an Input's cursor keys) are its business

SEARCH_KEYS = """
Enter in the search box goes to the results. A part that cannot be read is named under the search box;
the grid keeps the last good result."""


@dataclass(frozen=True)
class KeyRow:
    section: str
    keys: str  # as shown: "↑ / k"
    description: str
    binding_id: str | None
    action: str
    conflict: str = ""  # the keymap gives one of its keys to another binding of the same screen too


def own_bindings(node_class: type) -> list[Binding]:
    """The bindings a class of this app declares (its own and its bases' in tui/ and widgets/), in order."""
    found: list[Binding] = []
    for cls in reversed(node_class.__mro__):
        if cls.__module__.startswith(OWN_PACKAGES) and "BINDINGS" in vars(cls):
            for item in vars(cls)["BINDINGS"]:
                found.append(item if isinstance(item, Binding) else Binding(*item))
    return found


def binding_ids() -> set[str]:
    """The id of every binding the app's screens and widgets declare (what a [keymap] may name)."""
    import importlib
    import pkgutil

    import tui
    import widgets

    for package in (tui, widgets):
        for module in pkgutil.iter_modules(package.__path__):
            if not module.name.startswith("cli"):
                importlib.import_module(f"{package.__name__}.{module.name}")
    ids: set[str] = set()
    classes = [DOMNode]
    while classes:
        cls = classes.pop()
        classes.extend(cls.__subclasses__())
        if cls.__module__.startswith(OWN_PACKAGES):
            ids.update(b.id for b in own_bindings(cls) if b.id)
    return ids


def bound_classes() -> list[type[DOMNode]]:
    """Every class of the app that offers bindings (its own or its bases'), every module of tui/ and widgets/
    imported."""
    binding_ids()  # imports them
    found: list[type[DOMNode]] = []
    todo: list[type[DOMNode]] = [DOMNode]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__.startswith(OWN_PACKAGES) and own_bindings(cls):
            found.append(cls)
    return found


def binding_rows(node_class: type) -> list[Row]:
    return [(b.id or "", b.action, b.key) for b in own_bindings(node_class)]


def binding_table() -> dict[str, list[Row]]:
    """The bindings of every class of the app as plain data (tui/keymap_check.py reads it)."""
    return {f"{cls.__module__}.{cls.__qualname__}": binding_rows(cls) for cls in bound_classes()}


def keys_of(app: App, binding: Binding) -> list[str]:
    """The keys that run a binding now: the user's keymap first, else its own."""
    keymap = getattr(app, "keymap", {}) or {}
    text = keymap.get(binding.id, binding.key) if binding.id else binding.key
    return [key.strip() for key in text.split(",") if key.strip()]


def shown_keys(app: App, binding: Binding) -> str:
    return " / ".join(app.get_key_display(Binding(key, "")) for key in keys_of(app, binding))


def section_title(node: DOMNode) -> str:
    return getattr(node, "HELP_TITLE", "") or type(node).__name__


def conflict_note(app: App, binding: Binding, clashing: dict[str, list[str]]) -> str:
    """What the keymap's clashes (keymap_check.clashes) mean for this binding: '' if none of its keys clash."""
    name = binding.id or binding.action
    keymap = getattr(app, "keymap", {}) or {}
    said = []
    for key in keys_of(app, binding):
        others = [other for other in clashing.get(key, []) if other != name]
        if others and name in clashing[key]:
            shown, runs = app.get_key_display(Binding(key, "")), winner(keymap, clashing[key])
            said.append(f"{shown} is also given to {' and '.join(others)} in your settings' [keymap]: " + (
                "only one runs" if runs is None else f"{shown} runs this one" if runs == name else
                f"{shown} runs {runs}, not this one"))
    return "; ".join(said) + "." if said else ""


def esc_then_ctrl_c(bindings: list[Binding]) -> list[Binding]:
    """A dialog's bindings with its Ctrl+C ("Same as Esc": `Modal`'s, its base's, so listed first) right after the
    binding of its Escape."""
    stop = [binding for binding in bindings if binding.id == "dialog.stop"]
    rest = [binding for binding in bindings if binding.id != "dialog.stop"]
    at = next((n + 1 for n, binding in enumerate(rest) if "escape" in binding.key.split(",")), len(rest))
    return rest[:at] + stop + rest[at:]


def help_rows(screen: Screen) -> list[KeyRow]:
    """Every key the screen offers, grouped: the screen's, its widgets', then the app's."""
    app = screen.app
    nodes: list[DOMNode] = [screen]
    seen: set[type[DOMNode]] = {type(screen)}
    for widget in screen.query("*"):
        if type(widget) not in seen and own_bindings(type(widget)):
            seen.add(type(widget))
            nodes.append(widget)
    nodes.append(app)
    keymap = getattr(app, "keymap", {}) or {}
    rows: list[KeyRow] = []
    for node in nodes:
        title = section_title(node)
        clashing = clashes(keymap, binding_rows(type(node))) if keymap else {}
        for binding in esc_then_ctrl_c(own_bindings(type(node))):
            action = binding.action
            if node is screen and screen.check_action(action, ()) is False:
                continue
            what = binding.tooltip or binding.description or action  # the longer tooltip where the key bar is short
            rows.append(KeyRow(title, shown_keys(app, binding), what, binding.id, action,
                               conflict_note(app, binding, clashing)))
    if app.ENABLE_COMMAND_PALETTE:
        rows.append(KeyRow(section_title(app), app.get_key_display(Binding(app.COMMAND_PALETTE_BINDING, "")),
                           "Commands (every action by name)", None, "command_palette"))
    return rows


def rows_table(rows: list[KeyRow]) -> Table:
    """Keys, what they do, and the binding's id (dim): the name to rebind it by in the settings' [keymap]."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    table.add_column(style="dim", no_wrap=True, overflow="ellipsis")
    for row in rows:
        if row.conflict:  # marked where it is: the key in red, the clash under what it does
            table.add_row(Text(f"{row.keys} ⚠", style="bold red"),
                          Text.assemble(row.description, "\n", (f"⚠ {row.conflict}", "bold red")),
                          row.binding_id or "")
        else:
            table.add_row(row.keys, row.description, row.binding_id or "")
    return table


DESCRIBED_AT = 23  # SEARCH_HELP's column of descriptions: "  ring pixel           every word in the prompt, …"


def search_syntax() -> Group:
    """SEARCH_HELP as the help shows it: an example and what it does in two columns, so a description that
    wraps stays in its column (at 80 columns it went on under the examples); a line of examples only wraps
    indented as it starts."""
    parts: list[Table | Padding | Text] = []
    for line in SEARCH_HELP.split("\n", 1)[1].rstrip("\n").split("\n"):
        if len(line) > DESCRIBED_AT and line[DESCRIBED_AT - 1] == " " and line[DESCRIBED_AT] != " ":
            table = Table.grid(padding=(0, 1))
            table.add_column(width=DESCRIBED_AT - 3, no_wrap=True)
            table.add_column()
            table.add_row(line[:DESCRIBED_AT].strip(), line[DESCRIBED_AT:])
            parts.append(Padding(table, (0, 0, 0, 2)))
        else:
            parts.append(Padding(Text(line.strip()), (0, 0, 0, 2)))
    parts.append(Text(SEARCH_KEYS))
    return Group(*parts)


class HelpScreen(ReadingDialog):
    """The keys of `screen`, then (for a screen with a search box) the search syntax."""

    BINDINGS = [Binding("escape,q,question_mark,f1", "close", "Close", id="help.close")]

    def __init__(self, screen: Screen, *, search: bool | None = None, at_search: bool = False) -> None:
        super().__init__()
        self.rows = help_rows(screen)
        self.title_text = f"Keys: {section_title(screen)}"
        # the search syntax where there is a search box (a dialog's name or path field is none)
        self.search = bool(screen.query(SearchInput)) if search is None else search
        self.at_search = at_search and self.search  # opened from the search box: its syntax comes first

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="help-dialog"):
            yield Static(self.title_text, classes="title")
            with VerticalScroll(id="help-scroll"):
                if self.at_search:
                    yield from self._search_syntax()
                for section in dict.fromkeys(row.section for row in self.rows):
                    yield Static(section, classes="subtitle")
                    rows = [r for r in self.rows if r.section == section]
                    # (drawn once for every help showing the same rows: widgets/rich_once.py)
                    yield RichOnce(rows_table(rows), key=("help keys", tuple(rows)), classes="help-keys")
                if self.search and not self.at_search:
                    yield from self._search_syntax()
            with Horizontal(classes="buttons"):
                yield Button("Close", id="close", variant="primary")

    def _search_syntax(self) -> ComposeResult:
        yield Static("Searching", classes="subtitle", id="help-search-title")
        yield RichOnce(search_syntax(), key=("search syntax", SEARCH_HELP, SEARCH_KEYS), id="help-search")
