"""`myimages trash list|restore|empty` and what `myimages delete` says: the trash on the command line.

The work is the store's (store/trash.py); this module reads the arguments, asks, and prints.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
from itertools import chain

from store.text import one_line, plural, printable
from store.trash import Renamed, adopted_sentence, renamed_sentence, walk_ids

from .cli_common import UserError, all_or_none, confirmed, id_ranges, image_ids, open_library, progress_bar


def add_parsers(sub, common: argparse.ArgumentParser, parser_class) -> None:
    p = sub.add_parser("trash", parents=[common],
                       help="deleted images, kept for 30 days: list them, restore them (or all of them), empty the trash")
    tsub = p.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=parser_class)
    a = tsub.add_parser("list", parents=[common], help="your trashed images, the most recently deleted first")
    a.add_argument("--json", action="store_true")
    a = tsub.add_parser("restore", parents=[common], help="bring images back from the trash, as they were")
    a.add_argument("ids", nargs="*", metavar="ID")
    a.add_argument("--all", action="store_true", help="every image in your trash (in batches)")
    a = tsub.add_parser("empty", parents=[common], help="erase every image in your trash (asks first)")
    a.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")


def cmd_trash(args: argparse.Namespace) -> int:
    from store.accounts import MAKE, REFUSE

    with open_library(args, unknown_account=REFUSE if args.action == "list" else MAKE) as library:
        if args.action == "list":
            items = _every_trashed(library)
            if args.json:
                print(json.dumps([dict(item.record.as_json(), trashed_at=item.trashed_at.isoformat(),
                                       expires_at=item.expires_at.isoformat(), restore_to=item.restore_to or None)
                                  for item in items], indent=2))
                return 0
            first = next(items, None)
            if first is None:
                print("The trash is empty.")
                return 0
            width = shutil.get_terminal_size().columns if sys.stdout.isatty() else 100
            for item in chain([first], items):
                head = f"{item.record.id:>7}  deleted {item.trashed_at:%Y-%m-%d %H:%M}  " \
                       f"erased {item.expires_at:%Y-%m-%d}  "
                prompt = one_line(item.record.prompt) or "(no prompt)"
                room = max(10, width - len(head))
                print(head + (prompt if len(prompt) <= room else prompt[:room - 1] + "…"))
            return 0
        if args.action == "restore":
            adopted: dict[int, str] = {}
            renamed: Renamed = {}
            if args.all == bool(args.ids):
                raise UserError("Give the ids of the images to restore, or --all for the whole trash (not both).")
            if args.all:
                n = _restore_all(library, adopted, renamed)
            else:
                ids = image_ids(args.ids)
                all_or_none(lambda i: library.require_own(i, trashed=True), ids, "nothing was restored",
                            known=library.own_existing(ids, trashed=True))
                n = library.restore(ids, adopted, renamed)
            print(f"{plural(n, 'image')} restored")
            if adopted:
                print(adopted_sentence(adopted))
            if renamed:
                print(renamed_sentence(renamed))
            return 0
        n = library.trash_count()
        if n == 0:
            print("The trash is empty.")
            return 0
        files = library.source_files(library.trashed_ids())
        sentence = files.sentence(n, erase=True)
        question = f"Erase the {plural(n, 'image')} in your trash? {sentence + ' ' if sentence else ''}" \
                   "This cannot be undone."
        if not args.yes and not confirmed(question):
            print("Nothing erased.")
            return 1
        n = library.empty_trash()
    print(f"{plural(n, 'image')} erased{_files_went(files, 'erased from the trash, once in')}")
    return 0


LIST_PAGE = 1000  # trashed images read at a time by `trash list` (a million-image trash is never held whole)
RESTORE_BATCH = 200  # images restored per transaction by `trash restore --all`


def _every_trashed(library):
    """The account's trashed images, newest-deleted first, read a page at a time."""
    offset = 0
    while page := library.trashed(offset, LIST_PAGE):
        yield from page
        offset += len(page)


def _restore_all(library, adopted: dict[int, str], renamed: Renamed) -> int:
    """Every image in the trash back, a batch at a time (a progress bar on a terminal)."""
    total = library.count_trashed()
    done = 0
    with progress_bar("Restoring") as show:
        for batch in walk_ids(library, RESTORE_BATCH):
            done += library.restore(batch, adopted, renamed)
            if show is not None:
                show(done, total)
    return done


def delete(library, ids: list[int], permanent: bool, yes: bool, search: str | None = None) -> int:
    """`myimages delete`: to the trash (or, --permanent, erased: also what is in the trash)."""
    from store.trash import trash_days

    in_trash = library.own_existing(ids, trashed=True) if permanent else set()
    # unknown ids fail before anything is asked or deleted
    all_or_none(library.require_own, ids, "nothing was deleted", known=in_trash | library.own_existing(ids))
    what = f"image #{ids[0]}" if len(ids) == 1 else f"these {len(ids):,} images"
    if search is not None:  # how many the search found, and which search: said before anything goes
        what = (f"the {'image' if len(ids) == 1 else f'{len(ids):,} images'} the search "
                f'"{printable(one_line(search))}" finds ({id_ranges(ids).removesuffix(f" ({len(ids):,})")})')
    after = "This cannot be undone." if permanent else \
        f"It can be restored for {trash_days()} days (myimages trash restore)."
    files = library.source_files(ids)  # every file of these images in watched folders goes with them
    sentence = files.sentence(len(ids), erase=permanent)
    if not yes and not confirmed(f"Are you sure you want to delete {what}? {sentence + ' ' if sentence else ''}"
                                 f"{after}"):
        print("Nothing deleted.")
        return 1
    if permanent:
        n = library.delete(ids)
        print(f"{plural(n, 'image')} deleted (erased){_files_went(files, 'deleted from')}")
    else:
        n = library.trash(ids)
        moved = library.source_files(ids)  # those it moved into the trash (a file changed since it was read stays)
        print(f"{plural(n, 'image')} deleted: moved to the trash{_files_went(moved, 'moved out of')} (myimages "
              f"trash restore {printable(' '.join(str(i) for i in ids[:5]))}{' …' if len(ids) > 5 else ''} brings "
              f"{'it' if n == 1 else 'them'} back)")
    if files.absent:
        print(files.unreached(len(ids), erase=permanent))
    return 0


def _files_went(files, how: str) -> str:
    """"; 3 files moved out of your source folders: a, b, c" for a summary, or ""."""
    return f"; {plural(files.count, 'file')} {how} your source folders: {files.named()}" if files.count else ""

