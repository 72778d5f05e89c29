"""`myimages source …` and `myimages watch`: watched source folders on the command line.

The work is the store's (store/sources.py, store/watcher.py); this module only reads
the arguments, asks before dropping records, and prints.
"""
from __future__ import annotations

import argparse
import json
import signal
import sys
import threading

from store.errors import AlreadyFollowed
from store.text import plural, printable

from .cli_common import UserError, confirmed, open_library, progress_bar


def add_parsers(sub, common: argparse.ArgumentParser, parser_class) -> None:
    p = sub.add_parser("source", parents=[common],
                       help="folders your generators write to, followed by the library (indexed in place)")
    ssub = p.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=parser_class)
    a = ssub.add_parser("add", parents=[common], help="follow a folder: its images join your library now (one holding "
                       "folders you follow takes them in: their images keep their favorites and collections)")
    a.add_argument("folder")
    a.add_argument("--copy", action="store_true",
                   help="import the files into the library (and new ones as they come) instead of linking them")
    a.add_argument("--yes", "-y", action="store_true",
                   help="do not ask before following a very wide folder (your home folder, /, one holding the library)")
    a = ssub.add_parser("list", parents=[common], help="your source folders")
    a.add_argument("--json", action="store_true")
    a = ssub.add_parser("scan", parents=[common], help="look again now (reads only what changed)")
    a.add_argument("folder", nargs="?")
    a = ssub.add_parser("remove", parents=[common],
                        help="stop following a folder and drop its linked images (the files stay); what each was "
                        "(id, favorite, collections) is kept: following a folder with these pictures again (renamed, "
                        "or with --copy) brings them back",
                        description="Stop following a folder: its linked images no other source holds leave the "
                        "library (the files are not touched). What each was (its id, dates, favorite and "
                        "collections) is kept: follow a folder with the same pictures again (the folder renamed or "
                        "moved, or this one with --copy) and they come back as they were.")
    a.add_argument("folder")
    a.add_argument("--yes", "-y", action="store_true",
                   help="do not ask before dropping its images (asked on a terminal; refused without one)")
    sub.add_parser("watch", parents=[common], help="follow every source folder until interrupted (for a service)")


def _print_report(report) -> None:
    for path, reason in report.bad:
        print(f"skipped: {printable(str(path))}: {printable(reason)}", file=sys.stderr)
    for path, note in report.notes:
        print(f"note: {printable(str(path))}: {printable(note)}")
    print(f"{printable(str(report.source))}: {printable(report.summary())}")


def _add(library, folder, copy: bool) -> int:
    """Follow a folder and read it. Ctrl+C cancels the add as the app's Cancel does: the scan stops after the
    batch it is reading and the folder is not a source (with --copy, the images copied so far stay)."""
    stop = threading.Event()
    taking_in = library.sources_taken_in(folder)  # a cancel must not forget the folder once it took them in
    report = None

    def interrupted(*_) -> None:
        if stop.is_set():
            raise KeyboardInterrupt  # a second Ctrl+C: now (the folder is forgotten below all the same)
        stop.set()
        print(f"\nmyimages: stopping: {printable(str(folder))} will not be a source…", file=sys.stderr, flush=True)

    previous = signal.signal(signal.SIGINT, interrupted)
    try:
        with progress_bar("Scanning") as show:
            report = library.add_source(folder, "copy" if copy else "link", progress=show, cancel=stop.is_set,
                                        forget_if_cancelled=True)
    except KeyboardInterrupt:
        stop.set()
    finally:
        signal.signal(signal.SIGINT, previous)
    if stop.is_set():
        # the add forgot it itself, unless a second Ctrl+C came first; not once it took in the sources inside it
        if not library.forget_added(folder, taking_in):
            if report is not None:
                _print_report(report)
            else:
                print(f"{printable(str(folder))} is followed: it took in {', '.join(printable(str(p)) for p in taking_in)}"
                      " before the stop; the rest of it is read at the next scan.")
            return 0
        kept = " (the images copied so far stay in the library)" if copy else ""
        print(f"Adding {printable(str(folder))} was cancelled: it is not a source{kept}.")
        return 130
    _print_report(report)
    shared = library.source_shared_note(folder)
    if shared:
        print(printable(shared))
    return 0


# said when removing a source drops images (sources.remove_source keeps what each was)
BACK_AGAIN = ("If you follow a folder with these pictures again (the folder renamed, or this one with --copy), "
              "they come back with their ids, favorites and collections.")


def cmd_source(args: argparse.Namespace) -> int:
    from store.accounts import MAKE, REFUSE

    # list reads; scan follows only the folders the account has: a name the library does not know is said, not made
    with open_library(args, create=args.action == "add",
                      unknown_account=REFUSE if args.action in ("list", "scan") else MAKE) as library:
        if args.action == "add":
            try:  # refused before anything is asked or read
                folder = library.check_source(args.folder, "copy" if args.copy else "link")
            except AlreadyFollowed as exc:  # nothing to do: said, not an error
                print(printable(str(exc)))
                return 0
            caution = library.source_caution(folder)
            refusal = f"{caution.rstrip('.')}; add --yes to follow it anyway."
            if caution and not args.yes and not confirmed(f"{caution} Follow it?", refusal):
                print("Nothing changed.")
                return 1
            return _add(library, folder, args.copy)
        if args.action == "scan":
            with progress_bar("Scanning") as show:
                reports = library.scan_sources(args.folder, progress=show)
            if not reports:
                print("You follow no folder yet: `myimages source add DIR`.")
            for report in reports:
                _print_report(report)
            return 1 if any(r.problem for r in reports) else 0
        if args.action == "remove":
            going = library.source_removal(args.folder)  # copied ones stay: nothing to ask about then
            count = going.drops
            stay = f" {going.stay()}" if going.stay() else ""
            kept = f" {going.curation()}" if going.curation() else ""
            question = (f"Stop following {args.folder} and drop its {plural(count, 'image')} from the library?{kept} "
                        f"{BACK_AGAIN}{stay} No file is touched.")
            refusal = (f"Not removing {args.folder} without confirmation: its {plural(count, 'image')} would leave "
                       f"the library.{kept}{stay} Add --yes.")
            if count and not args.yes and not confirmed(question, refusal):
                print("Nothing changed.")
                return 1
            dropped = library.remove_source(args.folder)
            print(f"No longer following {printable(args.folder)}; {plural(dropped, 'image')} "
                  "dropped from the library, no file touched." + (f" {BACK_AGAIN}" if dropped else ""))
            return 0
        sources = library.sources()
        if args.json:
            print(json.dumps([s.as_json() for s in sources], ensure_ascii=False, indent=2))
            return 0
        if not sources:
            print("You follow no folder yet: `myimages source add DIR`.")
        for s in sources:
            scanned = s.scanned_at.strftime("%Y-%m-%d %H:%M") if s.scanned_at else "never"
            watched = "the folder is not there" if s.missing else "watched now" if s.watched else "not watched now"
            print(f"{printable(str(s.path))}  ({s.mode}, {plural(s.images, 'image')}, "
                  f"last scan {scanned}, {watched})")
            for name, reason in s.bad:
                print(f"    skipped: {printable(name)}: {printable(reason)}")
        if args.action != "list":
            raise UserError(f"Unknown action {args.action}.")
    return 0


def cmd_watch(args: argparse.Namespace) -> int:
    from store.accounts import REFUSE
    from store.watcher import SourceWatcher

    stop = threading.Event()
    with open_library(args, unknown_account=REFUSE) as library:  # an unknown name follows nothing: said, not made
        if not library.sources():
            print("You follow no folder yet: `myimages source add DIR` first.", file=sys.stderr)
            return 1

        def reports(found) -> None:
            for report in found:
                _print_report(report)
            sys.stdout.flush()

        def notice(text: str) -> None:
            print(f"myimages: {printable(text)}", file=sys.stderr, flush=True)

        previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
        watcher = SourceWatcher(library, reports, notice).start()
        watcher.ready.wait(60)
        folders = ", ".join(printable(f) for f in watcher.folders) or "no folder yet"
        missing = ", ".join(printable(f) for f in watcher.missing)
        away = f"; not there now, followed once back: {missing}" if missing else ""
        print(f"Watching {folders}{away} (ctrl+c to stop).", flush=True)
        try:
            while not stop.wait(0.5):
                if not watcher.running:
                    return 1
        except KeyboardInterrupt:
            pass
        finally:
            watcher.stop()
            signal.signal(signal.SIGTERM, previous)
    print("Stopped watching.")
    return 0
