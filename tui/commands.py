"""The gallery's actions in the command palette (ctrl+p)."""
from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider


class GalleryCommands(Provider):
    """Every binding of the gallery screen, found by its description."""

    def _commands(self):
        from .gallery_screen import GalleryScreen

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
            key = binding.key.split(",")[0]
            name = f"{binding.description} ({self.app.get_key_display(binding)})"
            commands.append((name, partial(screen.run_action, binding.action), f"key: {key}"))
        help_key = next((b for b in self.app.BINDINGS if getattr(b, "action", None) == "help"), None)
        if help_key is not None:
            name = f"Help: every key and the search syntax ({self.app.get_key_display(help_key)})"
            commands.append((name, self.app.action_help, "key: ?"))
        return commands

    async def discover(self) -> Hits:
        for name, callback, help_text in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, callback, help_text in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
