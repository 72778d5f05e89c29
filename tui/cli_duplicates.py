"""`myimages duplicates`: groups of images that are the same picture in other files (store/duplicates.py)."""
from __future__ import annotations

import argparse
import json

from store.text import one_line, plural

from .cli_common import UserError, open_library, progress_bar


def add_parsers(sub, common: argparse.ArgumentParser, parser_class) -> None:
    p = sub.add_parser("duplicates", parents=[common],
                       help="images that are the same picture in another file (re-encoded, resized, another format)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--distance", type=int, default=None, metavar="BITS",
                   help="how many of the 64 bits of the perceptual hash may differ (default 6, "
                        "MYIMAGES_DUPLICATE_DISTANCE)")
    p.add_argument("--trash", action="store_true",
                   help="keep the first of each group (the largest with metadata), move the others to the trash; "
                        "their favorites and collections go to the kept one")


def _describe(record) -> str:
    prompt = one_line(record.prompt)
    prompt = (prompt[:50] + "…") if len(prompt) > 50 else prompt or "(no prompt)"
    return f"#{record.id} {record.width}x{record.height} {record.ext} {prompt}"


def cmd_duplicates(args: argparse.Namespace) -> int:
    if args.distance is not None and not 0 <= args.distance <= 16:
        raise UserError("--distance must be between 0 and 16.")
    with open_library(args) as library:
        if not library.read_only:
            with progress_bar("Reading pictures") as show:
                library.fill_perceptual_hashes(progress=show)
        groups = library.duplicates(args.distance)
        trashed = sum(library.merge_duplicates(g.keep.id, [r.id for r in g.others]) for g in groups) \
            if args.trash else 0
    if args.json:
        print(json.dumps([{"keep": g.keep.id, "others": [r.id for r in g.others], "distance": g.distance,
                           "images": [r.as_json() for r in g.records]} for g in groups], indent=2))
        return 0
    if not groups:
        print("No duplicates.")
        return 0
    for n, group in enumerate(groups, 1):
        print(f"Group {n} ({len(group.records)} images, at most {group.distance} bits apart):")
        print(f"  keep  {_describe(group.keep)}")
        for record in group.others:
            print(f"  {'trashed' if args.trash else 'also':<6}{_describe(record)}")
    if args.trash:
        print(f"{plural(trashed, 'image')} moved to the trash "
              "(myimages trash restore brings them back)")
    return 0
