"""How many colours the terminal shows, decided before Textual starts.

Textual (through Rich) reads only TERM and COLORTERM: with `TERM=xterm` (Debian's xterm default, and what
many SSH set-ups pass on) or `TERM=mlterm` it falls back to 16 colours, and every thumbnail is mapped to the
16 base colours (a purple heart comes out white and grey) although those terminals show 256 colours or more.
The terminals say who they are in their environment (xterm sets XTERM_VERSION, mlterm MLTERM, VTE-based ones
VTE_VERSION, kitty KITTY_WINDOW_ID), which is enough to know better. The user can always say it:
`--colors` / MYIMAGES_COLORS / the `colors` setting (auto, 16, 256, truecolor).
"""
from __future__ import annotations

import os
from typing import Mapping

from store.settings import COLOR_CHOICES  # noqa: F401 - the choices, kept with the setting
_RICH_NAMES = {"16": "standard", "256": "256", "truecolor": "truecolor"}


def detect(environ: Mapping[str, str]) -> str | None:
    """Textual's colour system for this terminal ("standard", "256", "truecolor"), or None: Textual's own guess
    is right (it reads COLORTERM and a TERM ending in -256color; or the user set TEXTUAL_COLOR_SYSTEM)."""
    if environ.get("TEXTUAL_COLOR_SYSTEM") or environ.get("NO_COLOR") is not None:
        return None
    if environ.get("COLORTERM", "").lower() in ("truecolor", "24bit"):
        return None
    term = environ.get("TERM", "")
    if term.endswith(("-256color", "-direct")):
        return None
    if environ.get("KITTY_WINDOW_ID") or term == "xterm-kitty" or environ.get("MLTERM") \
            or environ.get("VTE_VERSION"):
        return "truecolor"
    if environ.get("XTERM_VERSION"):
        return "256"  # xterm has had 256 colours since patch 111; direct colour only when built for it
    return None


def apply(choice: str, environ: Mapping[str, str] | None = None) -> str | None:
    """Set Textual's colour system from the user's choice (or what `detect` finds for auto); what was set."""
    environ = os.environ if environ is None else environ
    system = _RICH_NAMES.get(choice) if choice != "auto" else detect(environ)
    if system is None:
        return None
    os.environ["TEXTUAL_COLOR_SYSTEM"] = system  # read by textual.constants when it is first imported
    import textual.constants

    # and by each App from there, if it was imported already (Textual declares it Final: a value read once at
    # import, which is too late here; each App reading it again is what makes setting it work)
    textual.constants.COLOR_SYSTEM = system  # type: ignore[misc]
    return system
