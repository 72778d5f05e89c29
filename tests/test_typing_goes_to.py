"""widgets/typing_goes_to.py: a letter typed in a list goes into the text field below it, in its place."""
from __future__ import annotations

from textual import events
from textual.app import App, ComposeResult
from textual.widgets import Input, OptionList

from widgets.typing_goes_to import typing_goes_to

from .test_dialogs import lib, make_app  # noqa: F401 - the same library of three images
from .test_robust import type_at_once
from .ui import collections_read, keys_dealt_with, settle


class ListAndField(App):
    def compose(self) -> ComposeResult:
        yield OptionList("one", "two", id="list")
        yield Input(id="field", select_on_focus=False)


async def test_the_list_moves_the_focus_and_leaves_the_letter_to_go_on():
    """NEWUSER14: in the collections dialog (tmux, SQLite, 160x48) `Q s` typed at once became "Qs " (then `X`:
    "Qs X"; `aBurst coll` Enter made "Burstcoll"): the Q moved the focus to the name field; the space, queued for
    the list, went back to the App, which sent it on to the field (tui/key_order.py); but the s, queued for the
    list too, was typed into the field by this helper at once, ahead of the space. The helper now only moves the
    focus: the letter goes back to the App like the space and is sent on in its place. (The race itself depends on
    how the tasks run and did not show under Pilot; this checks the helper's part.)"""
    app = ListAndField()
    async with app.run_test() as pilot:
        field = app.query_one("#field", Input)
        app.query_one("#list", OptionList).focus()
        await pilot.pause()
        assert typing_goes_to(events.Key("q", "Q"), field)
        await pilot.pause()
        assert field.has_focus and field.value == ""  # not typed here: the App sends it on
        assert not typing_goes_to(events.Key("space", " "), field)  # a space is the list's key


async def test_a_name_typed_at_once_in_the_collections_dialog_keeps_its_order(lib, tmp_path):
    """The whole way in the app: letters and spaces typed at once in the list all reach the name field, in order."""
    app = make_app(lib, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("a")
        await collections_read(pilot)
        type_at_once(app, "Bu co l")
        await keys_dealt_with(pilot, app)
        await settle(pilot, app)
        assert app.screen.query_one("#new-collection", Input).value == "Bu co l"
