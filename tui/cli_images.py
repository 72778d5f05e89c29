"""`myimages import|list|info|favorite|delete|export`: the images themselves on the command line.

The work is the store's (store/importer.py, store/library.py, store/export.py); this module reads
the arguments and prints."""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import threading
from pathlib import Path
from typing import Any

from store.formats import FORMAT_NAMES, FORMAT_NAMES_OR
from store.records import FAVORITE_ALL, FAVORITES_ONLY, NON_FAVORITES, SCOPE_PUBLIC, Filters
from store.text import field_value, one_line, plural, printable

from . import cli_trash
from .cli_common import (UserError, add_targets, all_or_none, confirmed, one_image_id, open_library, progress_bar,
                         target_ids)


def add_parsers(sub, common: argparse.ArgumentParser, parser_class) -> None:
    """import, list, info, favorite, delete, export"""
    from store.query import SEARCH_HELP, SORTS

    p = sub.add_parser("import", parents=[common], help=f"import {FORMAT_NAMES} files and folders")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--recursive", "-r", action="store_true", help="also look in sub-folders (not hidden ones)")
    p.add_argument("--hidden", action="store_true", help="with -r: hidden folders too (.cache, .local: left out "
                                                         "unless named or this is given)")
    p.add_argument("--yes", "-y", action="store_true",
                   help="do not ask before importing a very wide folder with -r (your home folder, /, a mounted disk)")
    p.add_argument("--prompt", help="the prompt (overrides the file's; an image already in the library keeps its own)")
    p.add_argument("--model", help="the model name (overrides the file's, as --prompt)")
    p.add_argument("--text-accuracy", metavar="VALUE", help="the text-accuracy setting (overrides the file's, as --prompt)")
    p.add_argument("--collection", metavar="NAME", help="also add the images to this collection")
    p.add_argument("--date", metavar="ISO", help="generation date, e.g. 2026-03-01 or 2026-03-01T14:30")

    p = sub.add_parser("list", parents=[common], help="list images, newest first", epilog=SEARCH_HELP,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--search", default="", metavar="QUERY",
                   help="words in the prompt and fields (below); a query may start with -, as in --search -blurry")
    p.add_argument("--sort", choices=SORTS, default="newest", help="the order (default: newest first)")
    p.add_argument("--seed", type=int, default=0, metavar="N", help="--sort random: another order for another N")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--favorites", action="store_true", help="favorites only")
    group.add_argument("--non-favorites", action="store_true", help="non-favorites only")
    p.add_argument("--collection", metavar="NAME", help="only images in this collection")
    p.add_argument("--limit", type=int, metavar="N", help="at most N images")
    p.add_argument("--public", action="store_true", help="the public gallery: every free account's images")
    output = p.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print a JSON array")
    output.add_argument("--ids", action="store_true", help="print only the ids, one a line (for xargs)")

    p = sub.add_parser("info", parents=[common], help="show everything about one image")
    p.add_argument("id")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("favorite", parents=[common], help="mark images as favorites (or not, with --off)")
    add_targets(p)
    p.add_argument("--off", action="store_true", help="remove the favorite mark")

    p = sub.add_parser("delete", parents=[common], help="move images to the trash (restorable for 30 days)")
    add_targets(p)
    p.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    p.add_argument("--permanent", action="store_true",
                   help="erase the images and their files now (also images in the trash)")

    p = sub.add_parser("export", parents=[common], help="write images as PNG files with their metadata")
    add_targets(p)
    p.add_argument("--to", required=True, metavar="DIR", help="target folder")


def search_values_joined(argv: list[str]) -> list[str]:
    """`--search -blurry` as `--search=-blurry`: argparse takes a lone word starting with "-" for an option and
    said "expected one argument" (new-user test 3 item 7), although "-word" is the documented way to leave a
    word out. A word starting with "--" stays an option (`--search --favorites` is still a missing query)."""
    out: list[str] = []
    words = iter(argv)
    for word in words:
        if word == "--search":
            value = next(words, None)
            if value is not None and value.startswith("-") and not value.startswith("--"):
                out.append(f"--search={value}")
                continue
            out.extend([word] if value is None else [word, value])
            continue
        out.append(word)
    return out


def _filters(library, args: argparse.Namespace) -> Filters:
    if args.seed and args.sort != "random":
        from store.query import parse

        if parse(args.search).sort != "random":
            raise UserError("--seed changes only the random order: add --sort random.")
    favorite = FAVORITES_ONLY if args.favorites else NON_FAVORITES if args.non_favorites else FAVORITE_ALL
    if args.public:
        if favorite != FAVORITE_ALL or args.collection:
            # (it said "only --search and --limit apply", though --sort, --seed and --json do too: NEWUSER6 §12)
            raise UserError("--public lists every free account's images: favorites and collections are each "
                            "account's own, so --favorites, --non-favorites and --collection do not apply.")
        if args.sort == "favorites":
            raise UserError("Favorites are yours alone: --sort favorites works without --public.")
        return Filters(search=args.search, scope=SCOPE_PUBLIC, sort=args.sort, seed=args.seed)
    collection_id = library.collection(args.collection).id if args.collection else None
    return Filters(search=args.search, favorite=favorite, collection_id=collection_id, sort=args.sort,
                   seed=args.seed)


def cmd_import(args: argparse.Namespace) -> int:
    from store.importer import ImportOptions, check_date, import_files

    date = check_date(args.date) if args.date else None
    if args.text_accuracy is not None and not _is_number(args.text_accuracy):
        raise UserError(f'--text-accuracy takes a number, e.g. 7 or 7.5, not "{printable(args.text_accuracy)}".')
    options = ImportOptions(prompt=args.prompt, model=args.model, text_accuracy=args.text_accuracy,
                            generated_at=date, collection=args.collection, recursive=args.recursive,
                            hidden=args.hidden)
    with open_library(args, create=True) as library:
        if args.recursive and not args.yes:
            _ask_before_a_wide_import(library, args.paths)
        try:
            with progress_bar("Importing") as show:
                cancel = threading.Event()
                report = import_files(library, args.paths, options, progress=show, cancel=cancel)
        except KeyboardInterrupt:  # said once the bar is gone: it was drawn again after it (NEWUSER12 F5)
            print("myimages: import interrupted; what was imported so far is kept.", file=sys.stderr)
            return 130
    for path, why in report.skipped:
        print(f"skipped: {printable(str(path))}: {why}")
    for path, image_id in report.restored:
        print(f"restored: {printable(str(path))} is image #{image_id}, back from the trash")
    for path, image_id in report.duplicates:
        print(report.duplicate_line(path, image_id))
    for path, note in report.notes:
        print(f"note: {printable(str(path))}: {printable(note)}")
    for path, reason in report.failed:
        print(f"failed: {printable(str(path))}: {printable(reason)}", file=sys.stderr)
    if not (report.imported or report.restored or report.duplicates or report.failed or report.cancelled
            or report.stopped):
        where = ", ".join(printable(str(p)) for p in args.paths[:3]) + (" …" if len(args.paths) > 3 else "")
        folders = not args.recursive and any(_has_folders(Path(p)) for p in args.paths)
        left_out = "".join(f" {line}" for line in report.left_out_lines())
        print(f"myimages: no {FORMAT_NAMES_OR} images found in {where}"
              + (" (-r also looks in sub-folders)." if folders else ".") + left_out, file=sys.stderr)
        return 1
    for line in report.left_out_lines():
        print(line)
    if report.not_applied(options):
        print(report.not_applied(options))
    print(report.summary())
    return 1 if report.failed or report.stopped else 0  # any file that could not be imported: a script must see it


def _has_folders(path: Path) -> bool:
    try:
        return path.is_dir() and any(entry.is_dir() for entry in path.iterdir())
    except OSError:
        return False


def _ask_before_a_wide_import(library, paths: list[str]) -> None:
    """A folder imported with -r that is very wide (your home folder, /, a mounted disk, far more than pictures:
    `source add`'s question, NEWUSER7 #32) is asked about first; UserError when the answer is no (or there is no
    terminal to ask on and no --yes)."""
    from store.importer import own_files_problem

    for text in paths:
        path = Path(text)
        if not path.is_dir() or own_files_problem(library, path):  # the library's own: refused by the import
            continue
        try:
            caution = library.source_caution(path.resolve(), importing=True)
        except (OSError, RuntimeError):
            continue
        if not caution:
            continue
        refusal = f"{caution.rstrip('.')}: nothing was imported; add --yes to import it anyway."
        if not confirmed(f"{caution} Import it?", refusal):
            raise UserError(f"Nothing was imported from {printable(str(path))}.")


def _is_number(text: str) -> bool:
    try:
        value = float(text)
    except ValueError:
        return False
    return value == value and abs(value) != float("inf")


def _line(record, width: int, owner: bool = False) -> str:
    star = "★" if record.favorite and not owner else " "
    date = record.generated_at.strftime("%Y-%m-%d %H:%M")
    head = f"{record.id:>7} {star} {date}  " + (f"{one_line(record.owner)}: " if owner else "")
    tail = f"  [{', '.join(one_line(c) for c in record.collections)}]" if record.collections else ""
    room = max(10, width - len(head) - len(tail))
    prompt = one_line(record.prompt) or "(no prompt)"
    if len(prompt) > room:
        prompt = prompt[: room - 1] + "…"
    return head + prompt + tail


def cmd_list(args: argparse.Namespace) -> int:
    from store.accounts import REFUSE

    if args.limit is not None and args.limit < 0:
        raise UserError("--limit must be 0 or more.")
    # (a command that only reads: an account name the library does not know is said, not made)
    with open_library(args, unknown_account=REFUSE) as library, library.connection():  # in:NAME looked up once
        filters = _filters(library, args)
        problem = library.search_problem(filters.search, filters.scope)
        if problem:  # nothing listed: a script piping the ids into delete or export must not act on everything
            from store.query import parse

            more = parse(filters.search).error_more  # the whole list of fields or orders, on a second line
            print(f"myimages: {printable(problem)}" + (f"\n{more}" if more else ""), file=sys.stderr)
            return 1
        records = library.iter_images(filters, batch=min(max(args.limit or 500, 1), 500))
        if args.json:
            from store.query import matched_fields, parse

            parsed = parse(filters.search)
            out: list[dict[str, Any]] = []
            for record in records:
                if args.limit is not None and len(out) >= args.limit:
                    break
                data = record.as_json()
                data.update(generated_at_source=str(record.params.get("_date_from", "")) or None,
                            matched=matched_fields(parsed, record))
                out.append(data)
            print(json.dumps(out, indent=2))
            return 0
        if args.ids:  # bare ids, one a line: `myimages list --search … --ids | xargs myimages export --to DIR`
            for n, record in enumerate(records):
                if args.limit is not None and n >= args.limit:
                    break
                print(record.id)
            return 0
        width = shutil.get_terminal_size((100, 20)).columns if sys.stdout.isatty() else 10_000
        shown = 0
        for record in records:
            if args.limit is not None and shown >= args.limit:
                break
            print(_line(record, width, owner=args.public))
            shown += 1
        if sys.stdout.isatty() or shown == 0:  # counted only when said (a count reads every match)
            # as the app says it: the matches of all the library's (or the public gallery's) images; on
            # PostgreSQL a large result's count is the database's estimate ("about 140,000")
            matches = library.estimate(filters)
            if filters.active:
                total = library.estimate(Filters(scope=filters.scope))
                print(f"{matches} of {total} images ({printable(filters.describe(args.collection))})"
                      + (f", {shown:,} listed" if shown < matches.n else ""), file=sys.stderr)
            else:
                print(f"{shown:,} of {matches} images", file=sys.stderr)
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    from store.accounts import REFUSE

    image_id = one_image_id(args.id, "info")
    with open_library(args, unknown_account=REFUSE) as library:
        record = library.get(image_id)
    if args.json:
        data = record.as_json()
        data["params"] = record.params
        print(json.dumps(data, indent=2))
        return 0
    # Further lines of a value: "               │ …"; on a terminal cut to its width, so it never wraps them.
    width = max(shutil.get_terminal_size().columns - 18, 20) if sys.stdout.isatty() else 0
    for label, text in record.info_rows():
        print(f"{label + ':':<17}{field_value(text, indent=' ' * 15, width=width)}")
    return 0


def cmd_favorite(args: argparse.Namespace) -> int:
    with open_library(args) as library:
        ids = target_ids(library, args, f"no image was {'unmarked' if args.off else 'marked'}")
        all_or_none(library.require_own, ids, f"no image was {'unmarked' if args.off else 'marked'}",
                    known=library.own_existing(ids))
        n = library.set_favorite(ids, not args.off)
    print(f"{plural(n, 'image')} {'unmarked' if args.off else 'marked as favorite'}")
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    with open_library(args) as library:
        ids = target_ids(library, args, "nothing was deleted")
        return cli_trash.delete(library, ids, args.permanent, args.yes, search=args.search)


def cmd_export(args: argparse.Namespace) -> int:
    from store.accounts import REFUSE
    from store.export import export_images

    with open_library(args, unknown_account=REFUSE) as library:
        ids = target_ids(library, args, "nothing was exported")
        all_or_none(library.get, ids, "nothing was exported", known=library.own_existing(ids))
        paths = export_images(library, ids, Path(args.to))
        source = library.source_holding(Path(args.to))
    for path in paths:
        print(printable(str(path)))
    if source is not None:
        print(f"myimages: {printable(args.to)} is in your source folder {printable(str(source))}: the files "
              "exported will join your library as new images (the downloads folder is never read as a source).",
              file=sys.stderr)
    return 0
