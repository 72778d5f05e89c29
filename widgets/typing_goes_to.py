"""A list whose typed characters start a text field's value: in a dialog with a list above an input ("Add a
folder", "Create New Collection…"), what is typed while the list has the focus goes into the field, which takes
the focus, instead of being lost (the list has no use for letters). `?` is kept for the help (the app's `?`
lists the keys of the screen you are on); typed in the field itself it is a `?`."""
from __future__ import annotations

from textual import events
from textual.widgets import Input


def typing_goes_to(event: events.Key, field: Input) -> bool:
    """If `event` is a printable, non-space character other than `?`: the field gets the focus and the character
    (True). The field must not select its text on focus (`select_on_focus=False`): the next key would replace that
    first one."""
    if not (event.is_printable and event.character and not event.character.isspace()) or event.character == "?":
        return False
    event.stop()
    event.prevent_default()
    field.focus()
    field.insert_text_at_cursor(event.character)
    return True
