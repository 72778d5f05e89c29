"""`myimages demo|doctor|reparse|config`: looking after the library and the settings."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from store.text import printable

from .cli_common import UserError, all_or_none, image_ids, open_library, progress_bar, user_sentence


DOCTOR_EXIT_CODES = """\
exit codes:
  0  all is well, or everything doctor found it put right
  1  something needs you: a damaged database, images whose file is lost, damaged
     or unreadable, files the library did not write in its folders, or a part
     left for later (an import running, files too young to judge): each is named
  2  doctor could not run (no library there, cannot open it, an error on the way)
"""


def add_parsers(sub, common: argparse.ArgumentParser, parser_class) -> None:
    """demo, doctor, reparse, config"""
    p = sub.add_parser("demo", parents=[common], help="add generated images to the demo library (the one --demo "
                       "opens; never your own), or to --library DIR")
    p.add_argument("--count", type=int, default=60, metavar="N", help="how many to add (60)")

    p = sub.add_parser("doctor", parents=[common], help="check the library; remove orphans, remake thumbnails",
                       epilog=DOCTOR_EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--remove-missing", action="store_true", help="drop records whose file is gone")
    p.add_argument("--min-age", type=float, default=600.0, metavar="SECONDS",
                   help="leave files younger than this alone (another import may be running)")

    p = sub.add_parser("reparse", parents=[common], help="read prompts and settings again from the stored files")
    p.add_argument("ids", nargs="*", metavar="ID")
    p.add_argument("--all", action="store_true", help="every image of yours")

    p = sub.add_parser("config", help="the settings file: where it is, and the settings in effect")
    psub = p.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=parser_class)
    psub.add_parser("path", help="print the settings file's path ($MYIMAGES_CONFIG overrides it)")
    psub.add_parser("show", help="print every setting in effect and where it came from")


def cmd_demo(args: argparse.Namespace) -> int:
    from store.demo import generate

    if not 1 <= args.count <= 1_000_000:  # a huge count would end in an OverflowError, not a sentence
        raise UserError("--count must be between 1 and 1,000,000.")
    demo = not getattr(args, "library", None)  # the demo library, never the user's own
    if demo:
        args.demo = True
    with open_library(args, create=True) as library:
        with progress_bar("Making demo images") as show:
            n = generate(library, args.count, progress=show)
        where = printable(str(library.root))
        print(f"{n:,} demo images added to the demo library {where} (myimages --demo opens it)" if demo else
              f"{n:,} demo images added to {where}")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from store.accounts import STAND_IN
    from store.doctor import check, integrity_of_file
    from store.errors import DatabaseDamaged, StoreError, translate

    try:
        # an account the library does not know is not made: it has no records to check (new-user test 10 #5)
        with open_library(args, unknown_account=STAND_IN) as library:
            report = check(library, min_age=args.min_age, remove_missing=args.remove_missing)
    except DatabaseDamaged as exc:  # found, not "could not look": what SQLite's own check says of the file
        said = str(exc).replace("; `myimages doctor` says what SQLite finds", "")  # (this is doctor)
        print(f"myimages: {printable(said)}", file=sys.stderr)
        if exc.path is not None:
            print("database integrity:")
            for line in integrity_of_file(exc.path):
                print(f"  {printable(line)}")
        return 1
    except (StoreError, UserError, OSError) as exc:  # 2, not 1: a script must tell "could not look" from "found"
        said = str(translate(exc)) if isinstance(exc, OSError) else user_sentence(exc)
        print(f"myimages: {printable(said)}", file=sys.stderr)
        return 2
    for line in report.lines():
        print(line)
    return 1 if report.needs_user else 0  # DOCTOR_EXIT_CODES


def cmd_reparse(args: argparse.Namespace) -> int:
    from store.reparse import reparse

    if bool(args.ids) == args.all:
        raise UserError("Give image ids or --all.")
    ids = None if args.all else image_ids(args.ids)
    with open_library(args) as library, progress_bar("Re-reading") as show:
        if ids is not None:
            all_or_none(library.require_own, ids, "nothing was read again", known=library.own_existing(ids))
        report = reparse(library, ids, progress=show)
    for image_id, reason in report.failed:
        print(f"#{image_id}: {reason}", file=sys.stderr)
    print(report.summary())
    return 1 if report.failed else 0


def cmd_config(args: argparse.Namespace) -> int:
    from store import settings as settings_module

    if args.action == "path":
        print(settings_module.settings_path())
        return 0
    settings = settings_module.current()
    for problem in (settings.problem, *settings.ignored):
        if problem:
            print(f"myimages: {printable(problem)}", file=sys.stderr)
    print(f"# {settings.path}" + ("" if settings.path.exists() else " (not there: every setting is its default)"))
    for name in settings_module.SETTING_NAMES:
        if name == "keymap":
            continue
        value = getattr(settings, name)
        if name == "database_url" and value:
            from store.identity import server_of

            value = server_of(value)  # never its password
        origin = settings.origin(name)
        shown = json.dumps(str(value) if isinstance(value, Path) else value, ensure_ascii=False)
        where = "file" if origin == "file" else f"${origin}" if origin.startswith("MYIMAGES_") else "default"
        print(f"{name} = {printable(shown)}  # {where}")
    print("[keymap]" + ("" if settings.keymap else "  # empty: every key as the help (?) shows it"))
    for binding_id, keys in settings.keymap.items():
        print(f"{printable(json.dumps(binding_id))} = {printable(json.dumps(keys))}  # file")
    if settings.keymap:  # checked against tui/binding_table.py: the app's classes (and Textual) stay unloaded
        from .keymap_check import keymap_problems

        for problem in keymap_problems(settings.keymap):
            print(f"myimages: {printable(problem)}", file=sys.stderr)
    return 1 if settings.problem or settings.ignored else 0
