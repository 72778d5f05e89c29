"""The gallery's actions in the command palette (ctrl+p); the collections dialog's or the trash's when it is open."""
from __future__ import annotations

from functools import partial

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider

from .help_screen import keys_of


class GalleryCommands(Provider):
    """Every binding of the gallery screen, found by its description."""

    def _commands(self):
        from .collections_screen import AddToCollectionScreen
        from .gallery_screen import GalleryScreen

        from .trash_screen import TrashScreen

        top = self.screen  # the screen the palette was opened from
        if isinstance(top, (AddToCollectionScreen, TrashScreen)):  # the dialog's own actions, not the gallery's below
            return self._screen_commands(top) + self._help()
        screen = None
        for candidate in reversed(self.app.screen_stack):
            if isinstance(candidate, GalleryScreen):
                screen = candidate
                break  # the topmost gallery: the public one when it is open
        if screen is None:
            return []
        commands = []
        for binding in GalleryScreen.BINDINGS:
            if screen.check_action(binding.action, ()) is False:
                continue
            name = self._named(binding.description, binding)  # its key once (NEWUSER8 #13)
            commands.append((name, partial(screen.run_action, binding.action)))
            if binding.action == "collect":  # renaming and deleting a collection are found by name from here too
                rename, delete = (next(b for b in AddToCollectionScreen.BINDINGS if b.action == action)
                                  for action in ("rename", "delete"))
                name = (f"Rename or delete a collection ({self._first_key(binding)}, then {self._first_key(rename)} / "
                        f"{self._first_key(delete)})")
                commands.append((name, partial(screen.run_action, binding.action)))
        return commands + self._help()

    def _screen_commands(self, screen) -> list:
        """A dialog's bindings (but its close key and the app's: the help comes after), by their tooltip (what they
        act on) or description."""
        commands = []
        for binding in screen.BINDINGS:
            if binding.action == "close" or binding.action.startswith("app.") \
                    or screen.check_action(binding.action, ()) is not True:
                continue
            name = self._named(binding.tooltip or binding.description, binding)
            commands.append((name, partial(screen.run_action, binding.action)))
        return commands

    def _first_key(self, binding: Binding) -> str:
        """The first key that runs the binding now (the keymap's, else its own), as the key bar shows it: "+", not
        "plus,equals_sign" (NEWUSER14)."""
        keys = keys_of(self.app, binding)
        return self.app.get_key_display(Binding(keys[0], "")) if keys else ""

    def _named(self, name: str, binding: Binding) -> str:
        key = self._first_key(binding)
        return f"{name} ({key})" if key else name

    def _help(self) -> list:
        help_key = next((b for b in self.app.BINDINGS if isinstance(b, Binding) and b.action == "help"), None)
        if help_key is None:
            return []
        name = self._named("Help: every key and the search syntax", help_key)
        return [(name, partial(self.app.run_action, "help"))]

    async def discover(self) -> Hits:
        for name, callback in self._commands():  # the key is in the name: no help line under it saying it again
            yield DiscoveryHit(name, callback)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, callback in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback)
