"""A list whose typed characters start a text field's value: in a dialog with a list above an input ("Add a
folder", "Create New Collection…"), what is typed while the list has the focus goes into the field, which takes
the focus, instead of being lost (the list has no use for letters). `?` is kept for the help (the app's `?`
lists the keys of the screen you are on); typed in the field itself it is a `?`."""
from __future__ import annotations

from textual import events
from textual.widgets import Input


def typing_goes_to(event: events.Key, field: Input) -> bool:
    """If `event` is a printable, non-space character other than `?`: the field gets the focus and then the character
    (True). The field must not select its text on focus (`select_on_focus=False`): the next key would replace that
    first one.

    The character is not typed here: it goes back to the App, which finds the focus moved and sends it on to the
    field in its place among the keys typed (tui/key_order.py), as it does the space typed after it. Typed here,
    "Q s" typed at once became "Qs ": the s, queued for the list with the space, went in straight away while the
    space went the App's way (NEWUSER14)."""
    if not (event.is_printable and event.character and not event.character.isspace()) or event.character == "?":
        return False
    event.prevent_default()  # (the list has no use for it)
    field.focus()
    return True
