"""`myimages duplicates`: groups of images that are the same picture in other files (store/duplicates.py)."""
from __future__ import annotations

import argparse
import json

from store.text import one_line, plural

from .cli_common import UserError, confirmed, open_library, progress_bar


def add_parsers(sub, common: argparse.ArgumentParser, parser_class) -> None:
    p = sub.add_parser("duplicates", parents=[common],
                       help="images that are the same picture in another file (re-encoded, resized, another format)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--distance", type=int, default=None, metavar="BITS",
                   help="how many of the 64 bits of the perceptual hash may differ (default 6, "
                        "MYIMAGES_DUPLICATE_DISTANCE)")
    p.add_argument("--trash", action="store_true",
                   help="keep the first of each group (the largest with metadata), move the others to the trash; "
                        "their favorites and collections go to the kept one (asks first)")
    p.add_argument("--yes", "-y", action="store_true", help="with --trash: do not ask for confirmation")


def _describe(record) -> str:
    prompt = one_line(record.prompt)
    prompt = (prompt[:50] + "…") if len(prompt) > 50 else prompt or "(no prompt)"
    return f"#{record.id} {record.width}x{record.height} {record.ext} {prompt}"


def cmd_duplicates(args: argparse.Namespace) -> int:
    from store.accounts import MAKE, REFUSE

    if args.distance is not None and not 0 <= args.distance <= 16:
        raise UserError("--distance must be between 0 and 16.")
    if args.trash and args.json and not args.yes:
        raise UserError("With --json, --trash needs --yes (there is no question to answer in JSON): nothing "
                        "was trashed.")
    with open_library(args, unknown_account=MAKE if args.trash else REFUSE) as library:
        if not library.read_only:
            with progress_bar("Reading pictures") as show:
                library.fill_perceptual_hashes(progress=show)
        groups = library.duplicates(args.distance)
        if not args.json:
            _print_groups(groups, "trash" if args.trash else "also")
        if not (args.trash and groups):
            if args.json:
                _print_json(groups)
            return 0
        others = sum(len(g.others) for g in groups)
        question = (f"Move the {plural(others, 'other image')} of {plural(len(groups), 'group')} to the trash? "
                    "Their favorites and collections go to the kept ones; `myimages trash restore` brings them "
                    "back and takes those back.")
        going = [r.id for g in groups for r in g.others]
        files = library.source_files(going).sentence(others, erase=False)  # files of watched folders go too
        if not args.yes and not confirmed(f"{question} {files}" if files else question):
            print("Nothing trashed.")
            return 1
        trashed = sum(library.merge_duplicates(g.keep.id, [r.id for r in g.others]) for g in groups)
        moved = library.source_files(going)  # now in the library's trash
    if args.json:
        _print_json(groups)
        return 0
    print(f"{plural(trashed, 'image')} moved to the trash"
          + (f"; {plural(moved.count, 'file')} moved out of your source folders: {moved.named()}" if moved.count
             else "")
          + f" (myimages trash restore brings {'it' if trashed == 1 else 'them'} back)")
    return 0


def _print_json(groups) -> None:
    print(json.dumps([{"keep": g.keep.id, "others": [r.id for r in g.others], "distance": g.distance,
                       "images": [r.as_json() for r in g.records]} for g in groups], indent=2))


def _print_groups(groups, label: str) -> None:
    """Each group: the one kept, then the others (`label`: "trash" when they are about to go, else "also")."""
    if not groups:
        print("No duplicates.")
        return
    for n, group in enumerate(groups, 1):
        print(f"Group {n:,} ({len(group.records):,} images, at most {group.distance} bits apart):")
        print(f"  {'keep':<6}{_describe(group.keep)}")
        for record in group.others:
            print(f"  {label:<6}{_describe(record)}")
