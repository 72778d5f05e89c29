"""The `myimages` command: opens the TUI, or runs one command on the library.

Commands other than the TUI never import Textual (`config show` checks a [keymap] against
tui/binding_table.py, the app's bindings as plain data). Every command goes through
the same store API as the TUI. User mistakes end with one sentence on stderr
and a non-zero exit code, never a traceback.

The commands live by group, each module with its parser and its handlers: cli_images.py (import,
list, info, favorite, delete, export), cli_collections.py, cli_derived.py (clean, grid),
cli_accounts.py, cli_maintenance.py (demo, doctor, reparse, config), cli_sources.py (source,
watch), cli_trash.py, cli_duplicates.py; what they share is in cli_common.py.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Sequence

try:  # Ctrl+C while Python is still loading (a second or so): one line, not a traceback
    from store.errors import StoreError, translate
    from store.settings import COLOR_CHOICES, ICON_SETS, IMAGE_MODES
    from store.text import printable

    from . import (
        cli_accounts,
        cli_collections,
        cli_derived,
        cli_duplicates,
        cli_images,
        cli_maintenance,
        cli_sources,
        cli_trash,
    )
    from .cli_common import (Parser, UserError, common_options, library_path, open_library,
                             refuse_a_folder_of_other_files, user_sentence)
except KeyboardInterrupt:
    print("\nmyimages: interrupted.", file=sys.stderr)
    raise SystemExit(130) from None


__all__ = ["COMMANDS", "UserError", "build_parser", "main", "open_library"]


def build_parser() -> argparse.ArgumentParser:
    common = common_options()
    parser = Parser(prog="myimages", parents=[common],
                    description="My Images: a terminal library for your generated images.")
    parser.add_argument("--images", choices=IMAGE_MODES, default=None,
                        help="how to draw thumbnails: auto, kitty, sixel, halfcell or none (default: the settings "
                             "file's, else auto)")
    parser.add_argument("--colors", choices=COLOR_CHOICES, default=None,
                        help="colours the terminal shows: auto (from the terminal's environment), 16, 256 or "
                             "truecolor (default: $MYIMAGES_COLORS, the settings file's, else auto)")
    parser.add_argument("--icons", choices=ICON_SETS, default=None,
                        help="the card buttons' icons: emoji, plain (each button shows its key) or auto (plain "
                             "where the terminal draws emoji narrower or none, as TERM=linux; default: "
                             "$MYIMAGES_ICONS, the settings file's, else auto)")
    parser.add_argument("--downloads", metavar="DIR",
                        help="where downloads go (ctrl+s in the app chooses one and keeps it in the settings); "
                             "imports and followed folders leave that folder out")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for group in (cli_images, cli_collections, cli_derived, cli_accounts, cli_maintenance, cli_sources, cli_trash,
                  cli_duplicates):
        group.add_parsers(sub, common, Parser)
    parser.set_defaults(commands=sub.choices)  # a command's own parser: its usage for its own mistakes (main)
    return parser


def ensure_demo(args: argparse.Namespace) -> None:
    """Make the demo library the first time it is opened."""
    from store.demo import generate

    with open_library(args, create=True) as library:
        if library.total() == 0:
            print("Making the demo library (first run only)…", file=sys.stderr)
            generate(library, 60)


def cmd_tui(args: argparse.Namespace) -> int:
    from store import settings as settings_module

    settings = settings_module.current()
    if getattr(args, "demo", False):
        ensure_demo(args)
        # what the user changes in the demo (card size, order, theme…) is kept with the demo library
        settings = settings_module.for_demo(settings, library_path(args))
    else:
        refuse_a_folder_of_other_files(args)  # before anything is written there
    from tui import terminal_colors

    terminal_colors.apply(args.colors or settings.colors)  # before the app (and Textual) start
    icons = args.icons or settings.icons
    if icons == "auto":
        from tui.gallery_screen import icon_samples
        from widgets.graphics_support import auto_icons, emoji_fit

        # asked of the terminal before Textual reads its input
        icons = auto_icons(os.environ, lambda: emoji_fit(icon_samples()))
    from tui.app import run

    downloads = Path(args.downloads).expanduser() if args.downloads else None  # None: the settings' (the app knows)
    return run(library_path(args), account=getattr(args, "account", None),
               database_url=getattr(args, "database_url", None), images=args.images or settings.images,
               downloads=downloads, settings=settings, plain_icons=icons == "plain")


COMMANDS = {
    "import": cli_images.cmd_import,
    "list": cli_images.cmd_list,
    "info": cli_images.cmd_info,
    "favorite": cli_images.cmd_favorite,
    "delete": cli_images.cmd_delete,
    "export": cli_images.cmd_export,
    "collection": cli_collections.cmd_collection,
    "clean": cli_derived.cmd_clean,
    "grid": cli_derived.cmd_grid,
    "account": cli_accounts.cmd_account,
    "demo": cli_maintenance.cmd_demo,
    "doctor": cli_maintenance.cmd_doctor,
    "reparse": cli_maintenance.cmd_reparse,
    "source": cli_sources.cmd_source,
    "watch": cli_sources.cmd_watch,
    "trash": cli_trash.cmd_trash,
    "duplicates": cli_duplicates.cmd_duplicates,
    "config": cli_maintenance.cmd_config,
}


def _say_store_notices() -> None:
    """What the store says before slow work that has no progress of its own (a library's upgrade) goes to
    stderr, before the app opens."""
    upgrade = logging.getLogger("myimages.upgrade")
    if not upgrade.handlers:
        upgrade.addHandler(_ToStderr())
        upgrade.propagate = False


class _ToStderr(logging.Handler):
    """Each message as `myimages: …` on the stderr of the moment (not the one there when it was made)."""

    def emit(self, record: logging.LogRecord) -> None:
        print(f"myimages: {printable(record.getMessage())}", file=sys.stderr)


def _say_settings_problems() -> None:
    """A settings file that is not used, an environment variable's value that is not used
    (MYIMAGES_TRASH_DAYS=abc): one line each on stderr, before the command's own output."""
    from store import settings as settings_module

    settings = settings_module.current()
    for sentence in (settings.problem, *settings.ignored):
        if sentence:
            print(f"myimages: {printable(sentence)}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        _say_store_notices()
        parser = build_parser()
        args, extra = parser.parse_known_args(
            cli_images.search_values_joined(list(sys.argv[1:] if argv is None else argv)))
        if extra:  # `info 1 2`: the command's usage, not every global option's
            args.commands.get(args.command, parser).error(f"unrecognized arguments: {' '.join(extra)}")
        handler = COMMANDS.get(args.command, cmd_tui)
        if handler not in (cmd_tui, cli_maintenance.cmd_config):  # those say it themselves (the app: a notice)
            _say_settings_problems()
        return handler(args)
    except (StoreError, UserError) as exc:
        print(f"myimages: {printable(user_sentence(exc))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # a command that has nothing to undo: stopped where it was
        print("\nmyimages: interrupted.", file=sys.stderr)
        return 130
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:  # a file error outside the library (the store translates its own)
        print(f"myimages: {printable(str(translate(exc)))}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
