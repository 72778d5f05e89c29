"""`myimages clean|grid`: new images made from an image (store/derived.py): its background removed,
or the items of a sheet cut apart."""
from __future__ import annotations

import argparse
import sys

from store.text import printable

from .cli_common import add_targets, all_or_none, one_image_id, open_library, target_ids


def add_parsers(sub, common: argparse.ArgumentParser, parser_class) -> None:
    """clean, grid"""
    p = sub.add_parser("clean", parents=[common], help="remove the background: each result is a new image")
    add_targets(p)
    p.add_argument("--model", metavar="NAME", help="rembg model (default: $MYIMAGES_REMBG_MODEL or u2netp)")

    p = sub.add_parser("grid", parents=[common], help="cut a sheet into its items")
    p.add_argument("id")
    p.add_argument("--rows", type=int, metavar="R", help="rows (default: detected)")
    p.add_argument("--cols", type=int, metavar="C", help="columns (default: detected)")
    p.add_argument("--trim", action="store_true", help="trim each item to its content")
    p.add_argument("--clean", action="store_true", help="remove the background of each item")
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--to", metavar="DIR", help="write the items as PNG files into DIR")
    target.add_argument("--save", action="store_true", help="save the items to the library")


def cmd_clean(args: argparse.Namespace) -> int:
    from store.background import clean_images

    with open_library(args) as library:
        ids = target_ids(library, args, "nothing was cleaned")
        all_or_none(library.require_own, ids, "nothing was cleaned", known=library.own_existing(ids))
        report = clean_images(library, ids, model=args.model)
    for source, new in report.created:
        print(f"#{source}: background removed, saved as new image #{new}")
    for source, existing in report.existing:
        print(f"#{source}: cleaned before: its cleaned copy is #{existing}, nothing new was made")
    for source, same in report.identical:
        print(f"#{source}: the same picture once cleaned as #{same}, nothing new was made")
    for source, reason in report.failed:
        print(f"#{source}: not cleaned: {printable(reason)}", file=sys.stderr)
    return 0 if report.created or report.existing or report.identical else 1


def cmd_grid(args: argparse.Namespace) -> int:
    from store import grid
    from store.derived import open_original
    from store.files import output_folder

    image_id = one_image_id(args.id, "grid")
    with open_library(args) as library:
        library.get(image_id)  # an image it may not read: said before its folder is made
        folder = output_folder(args.to) if args.to else None  # a missing parent said before anything else
        sheet = open_original(library, image_id)
        layout = grid.layout_for(sheet, args.rows, args.cols)
        found = grid.detect(sheet)
        print(f"Detected grid: {found.rows} x {found.cols}"
              + ("" if layout.detected else f"; cutting {layout.rows} x {layout.cols} in equal parts"))
        result = grid.cut(library, image_id, layout, layout.cells, trimmed=args.trim, cleaned=args.clean,
                          save=args.save, folder=folder)
    for path in result.written:
        print(printable(str(path)))
    if result.saved_ids:
        print(result.saved_summary())
    return 0
