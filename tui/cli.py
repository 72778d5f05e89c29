"""The `myimages` command: opens the TUI, or runs one command on the library.

Commands other than the TUI never import Textual. Every command goes through
the same store API as the TUI. User mistakes end with one sentence on stderr
and a non-zero exit code, never a traceback.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import threading
from pathlib import Path
from typing import Sequence

from store import locations
from store.errors import StoreError, translate
from store.settings import COLOR_CHOICES, ICON_SETS, IMAGE_MODES
from store.records import FAVORITE_ALL, FAVORITES_ONLY, NON_FAVORITES, SCOPE_PUBLIC, Filters
from store.text import field_value, one_line, plural, printable

from . import cli_duplicates, cli_sources, cli_trash


class UserError(Exception):
    """A mistake in how the command was called."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one sentence, exit code 2, no traceback
        self.print_usage(sys.stderr)
        self.exit(2, f"myimages: {message}\n")


def _common() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--library", metavar="DIR", default=argparse.SUPPRESS,
                        help="library folder (default: $MYIMAGES_LIBRARY or the user data folder)")
    common.add_argument("--account", metavar="NAME", default=argparse.SUPPRESS,
                        help="acting account (default: $MYIMAGES_ACCOUNT or your login name)")
    common.add_argument("--demo", action="store_true", default=argparse.SUPPRESS,
                        help="use the demo library (made on first use by the app)")
    common.add_argument("--database-url", metavar="URL", default=argparse.SUPPRESS,
                        help="keep records in this database (postgresql://…) instead of the library's SQLite file")
    return common


MAX_ID = 2**63 - 1  # the largest id a database can hold


def _ids(values: Sequence[str]) -> list[int]:
    ids = []
    for value in values:
        text = value.lstrip("#")
        if not (text.isascii() and text.isdigit()):  # not "²", "①" or "٣", which str.isdigit() accepts
            raise UserError(f'"{value}" is not an image id (ids are whole numbers, as `myimages list` shows).')
        if int(text) > MAX_ID:
            raise UserError(f"No image #{int(text)}.")
        ids.append(int(text))
    return ids


def build_parser() -> argparse.ArgumentParser:
    common = _common()
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
                             "where the terminal draws emoji narrower; default: $MYIMAGES_ICONS, the settings "
                             "file's, else auto)")
    parser.add_argument("--downloads", metavar="DIR", help="where downloads go")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)

    p = sub.add_parser("import", parents=[common], help="import PNG, JPEG and WebP files and folders")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--recursive", "-r", action="store_true", help="also look in sub-folders")
    p.add_argument("--prompt", help="the prompt (overrides the file's)")
    p.add_argument("--model", help="the model name (overrides the file's)")
    p.add_argument("--text-accuracy", metavar="VALUE", help="the text-accuracy setting (overrides the file's)")
    p.add_argument("--collection", metavar="NAME", help="also add the images to this collection")
    p.add_argument("--date", metavar="ISO", help="generation date, e.g. 2026-03-01 or 2026-03-01T14:30")

    from store.query import SEARCH_HELP, SORTS

    p = sub.add_parser("list", parents=[common], help="list images, newest first", epilog=SEARCH_HELP,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--search", default="", metavar="QUERY", help="words in the prompt and fields (below)")
    p.add_argument("--sort", choices=SORTS, default="newest", help="the order (default: newest first)")
    p.add_argument("--seed", type=int, default=0, metavar="N", help="--sort random: another order for another N")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--favorites", action="store_true", help="favorites only")
    group.add_argument("--non-favorites", action="store_true", help="non-favorites only")
    p.add_argument("--collection", metavar="NAME", help="only images in this collection")
    p.add_argument("--limit", type=int, metavar="N", help="at most N images")
    p.add_argument("--public", action="store_true", help="the public gallery: every free account's images")
    p.add_argument("--json", action="store_true", help="print a JSON array")

    p = sub.add_parser("info", parents=[common], help="show everything about one image")
    p.add_argument("id")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("favorite", parents=[common], help="mark images as favorites (or not, with --off)")
    p.add_argument("ids", nargs="+", metavar="ID")
    p.add_argument("--off", action="store_true", help="remove the favorite mark")

    p = sub.add_parser("delete", parents=[common], help="move images to the trash (restorable for 30 days)")
    p.add_argument("ids", nargs="+", metavar="ID")
    p.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    p.add_argument("--permanent", action="store_true",
                   help="erase the images and their files now (also images in the trash)")

    p = sub.add_parser("export", parents=[common], help="write images as PNG files with their metadata")
    p.add_argument("ids", nargs="+", metavar="ID")
    p.add_argument("--to", required=True, metavar="DIR", help="target folder")

    p = sub.add_parser("collection", parents=[common], help="list and change collections")
    csub = p.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=Parser)
    csub.add_parser("list", parents=[common], help="collections and their sizes")
    c = csub.add_parser("create", parents=[common], help="create a collection")
    c.add_argument("name")
    c = csub.add_parser("rename", parents=[common], help="rename a collection")
    c.add_argument("name")
    c.add_argument("new_name")
    c = csub.add_parser("delete", parents=[common], help="delete a collection (its images stay)")
    c.add_argument("name", help="its name, or its id when no collection has that name")
    c.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    for action, text in (("add", "add images to a collection"), ("remove", "take images out of a collection")):
        c = csub.add_parser(action, parents=[common], help=text)
        c.add_argument("name")
        c.add_argument("ids", nargs="+", metavar="ID")

    p = sub.add_parser("clean", parents=[common], help="remove the background: each result is a new image")
    p.add_argument("ids", nargs="+", metavar="ID")
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

    p = sub.add_parser("account", parents=[common], help="accounts and their plans (free: public, premium: private)")
    asub = p.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=Parser)
    asub.add_parser("show", parents=[common], help="the acting account and its plan")
    asub.add_parser("list", parents=[common], help="every account of the library")
    a = asub.add_parser("create", parents=[common], help="create a free account")
    a.add_argument("name")
    a = asub.add_parser("set-plan", parents=[common], help="change your plan: free or premium")
    a.add_argument("name")
    a.add_argument("plan", choices=["free", "premium"])

    p = sub.add_parser("demo", parents=[common], help="fill a library with generated demo images")
    p.add_argument("--count", type=int, default=60, metavar="N")

    p = sub.add_parser("doctor", parents=[common], help="check the library; remove orphans, remake thumbnails")
    p.add_argument("--remove-missing", action="store_true", help="drop records whose file is gone")
    p.add_argument("--min-age", type=float, default=600.0, metavar="SECONDS",
                   help="leave files younger than this alone (another import may be running)")

    p = sub.add_parser("reparse", parents=[common], help="read prompts and settings again from the stored files")
    p.add_argument("ids", nargs="*", metavar="ID")
    p.add_argument("--all", action="store_true", help="every image of yours")

    p = sub.add_parser("config", help="the settings file: where it is, and the settings in effect")
    psub = p.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=Parser)
    psub.add_parser("path", help="print the settings file's path ($MYIMAGES_CONFIG overrides it)")
    psub.add_parser("show", help="print every setting in effect and where it came from")

    cli_sources.add_parsers(sub, common, Parser)
    cli_trash.add_parsers(sub, common, Parser)
    cli_duplicates.add_parsers(sub, common, Parser)
    return parser


def _library_path(args: argparse.Namespace) -> Path:
    if getattr(args, "library", None):
        return Path(args.library).expanduser()
    if getattr(args, "demo", False):
        return locations.demo_library()
    return locations.default_library()


def open_library(args: argparse.Namespace):
    from store.library import Library

    return Library(_library_path(args), account=getattr(args, "account", None),
                   database_url=getattr(args, "database_url", None))


def _filters(library, args: argparse.Namespace) -> Filters:
    favorite = FAVORITES_ONLY if args.favorites else NON_FAVORITES if args.non_favorites else FAVORITE_ALL
    if args.public:
        if favorite != FAVORITE_ALL or args.collection:
            raise UserError("--public lists every free account's images: only --search and --limit apply.")
        return Filters(search=args.search, scope=SCOPE_PUBLIC, sort=args.sort, seed=args.seed)
    collection_id = library.collection(args.collection).id if args.collection else None
    return Filters(search=args.search, favorite=favorite, collection_id=collection_id, sort=args.sort,
                   seed=args.seed)


def _progress_printer(label: str):
    if not sys.stderr.isatty():
        return None
    width = shutil.get_terminal_size((80, 20)).columns

    def show(done: int, total: int, path: Path) -> None:
        bar_width = 24
        filled = bar_width * done // max(total, 1)
        text = f"\r{label} [{'#' * filled}{'.' * (bar_width - filled)}] {done}/{total} {one_line(path.name)}"
        sys.stderr.write(text[: width - 1].ljust(width - 1))
        if done == total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return show


def cmd_import(args: argparse.Namespace) -> int:
    from store.importer import ImportOptions, import_files, parse_date

    date = None
    if args.date:
        try:
            date = parse_date(args.date)
        except ValueError:
            raise UserError(f'"{args.date}" is not a date (use ISO 8601, e.g. 2026-03-01 or 2026-03-01T14:30).')
    options = ImportOptions(prompt=args.prompt, model=args.model, text_accuracy=args.text_accuracy,
                            generated_at=date, collection=args.collection, recursive=args.recursive)
    with open_library(args) as library:
        cancel = threading.Event()
        try:
            report = import_files(library, args.paths, options, progress=_progress_printer("Importing"),
                                  cancel=cancel)
        except KeyboardInterrupt:
            print("myimages: import interrupted; what was imported so far is kept.", file=sys.stderr)
            return 130
    for path, image_id in report.duplicates:
        print(f"duplicate: {printable(str(path))} is already image #{image_id}")
    for path, reason in report.failed:
        print(f"failed: {printable(str(path))}: {printable(reason)}", file=sys.stderr)
    print(report.summary())
    return 1 if report.failed and not (report.imported or report.duplicates) else 0


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
    if args.limit is not None and args.limit < 0:
        raise UserError("--limit must be 0 or more.")
    with open_library(args) as library:
        filters = _filters(library, args)
        problem = library.search_problem(filters.search)
        if problem:  # the rest of the query still searches
            print(f"myimages: {printable(problem)}", file=sys.stderr)
        records = library.iter_images(filters, batch=min(max(args.limit or 500, 1), 500))
        if args.json:
            from store.query import matched_fields, param, parse

            parsed = parse(filters.search)
            out = []
            for record in records:
                if args.limit is not None and len(out) >= args.limit:
                    break
                data = record.as_json()
                data.update(seed=param(record.params, "seed"), steps=param(record.params, "steps"),
                            sampler=param(record.params, "sampler"),
                            generated_at_source=str(record.params.get("_date_from", "")) or None,
                            matched=matched_fields(parsed, record))
                out.append(data)
            print(json.dumps(out, indent=2))
            return 0
        width = shutil.get_terminal_size((100, 20)).columns if sys.stdout.isatty() else 10_000
        shown = 0
        for record in records:
            if args.limit is not None and shown >= args.limit:
                break
            print(_line(record, width, owner=args.public))
            shown += 1
        if sys.stdout.isatty() or shown == 0:  # counted only when said (a count reads every match)
            total = library.count(filters)
            print(f"{shown} of {total} images" + (f" ({printable(filters.describe(args.collection))})"
                                                  if filters.active else ""), file=sys.stderr)
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    (image_id,) = _ids([args.id])
    with open_library(args) as library:
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
    ids = _ids(args.ids)
    with open_library(args) as library:
        n = library.set_favorite(ids, not args.off)
    print(f"{plural(n, 'image')} {'unmarked' if args.off else 'marked as favorite'}")
    return 0


def _confirmed(question: str) -> bool:
    """Ask on the terminal; with no terminal to ask on, refuse (the caller did not say --yes)."""
    if not sys.stdin.isatty():
        raise UserError("Not deleting without confirmation: add --yes.")
    return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")


def cmd_delete(args: argparse.Namespace) -> int:
    ids = _ids(args.ids)
    with open_library(args) as library:
        return cli_trash.delete(library, ids, args.permanent, args.yes)


def cmd_export(args: argparse.Namespace) -> int:
    from store.export import export_images

    ids = _ids(args.ids)
    with open_library(args) as library:
        paths = export_images(library, ids, Path(args.to))
    for path in paths:
        print(printable(str(path)))
    return 0


def cmd_collection(args: argparse.Namespace) -> int:
    with open_library(args) as library:
        if args.action == "list":
            collections = library.collections()
            for c in collections:
                print(f"{c.id:>5}  {printable(c.name)}  ({plural(c.count, 'image')})")
            if not collections:
                print("No collections yet: `myimages collection create NAME` makes one.", file=sys.stderr)
        elif args.action == "create":
            c = library.create_collection(args.name)
            print(f'Collection "{printable(c.name)}" created')
        elif args.action == "rename":
            old = library.collection(args.name)
            c = library.rename_collection(old.id, args.new_name)
            print(f'Collection "{printable(old.name)}" renamed to "{printable(c.name)}"')
        elif args.action == "delete":
            c = library.collection(args.name)
            question = (f'Delete collection #{c.id} "{printable(c.name)}", which holds {plural(c.count, "image")}? '
                        "The images stay in the library.")
            if c.count and not args.yes and not _confirmed(question):
                print("Nothing deleted.")
                return 1
            c = library.delete_collection(c.id)
            print(f'Collection "{printable(c.name)}" deleted (its {c.count} images stay in the library)')
        else:
            c = library.collection(args.name)
            ids = _ids(args.ids)
            if args.action == "add":
                n = library.add_to_collection(ids, c.id)
                print(f'{plural(n, "image")} added to "{printable(c.name)}"')
            else:
                n = library.remove_from_collection(ids, c.id)
                print(f'{plural(n, "image")} removed from "{printable(c.name)}"')
    return 0


def cmd_clean(args: argparse.Namespace) -> int:
    from store.background import clean_images

    ids = _ids(args.ids)
    with open_library(args) as library:
        for image_id in ids:
            library.get(image_id)
        report = clean_images(library, ids, model=args.model)
    for source, new in report.created:
        print(f"#{source}: background removed, saved as new image #{new}")
    for source, existing in report.existing:
        print(f"#{source}: cleaned before: its cleaned copy is #{existing}, nothing new was made")
    for source, reason in report.failed:
        print(f"#{source}: not cleaned: {printable(reason)}", file=sys.stderr)
    return 0 if report.created or report.existing else 1


def cmd_grid(args: argparse.Namespace) -> int:
    from store import grid
    from store.derived import open_original

    (image_id,) = _ids([args.id])
    with open_library(args) as library:
        sheet = open_original(library, image_id)
        layout = grid.layout_for(sheet, args.rows, args.cols)
        found = grid.detect(sheet)
        print(f"Detected grid: {found.rows} x {found.cols}"
              + ("" if layout.detected else f"; cutting {layout.rows} x {layout.cols} in equal parts"))
        result = grid.cut(library, image_id, layout, layout.cells, trimmed=args.trim, cleaned=args.clean,
                          save=args.save, folder=Path(args.to).expanduser() if args.to else None)
    for path in result.written:
        print(printable(str(path)))
    if result.saved_ids:
        print(f"{len(result.saved_ids)} items saved as images " + ", ".join(f"#{i}" for i in result.saved_ids))
    return 0


def cmd_account(args: argparse.Namespace) -> int:
    with open_library(args) as library:
        me = library.account
        if args.action == "show":
            print(f"{printable(me.name)}: {me.privacy_text}")
        elif args.action == "list":
            for account in library.accounts():
                mark = "*" if account.id == me.id else " "
                print(f"{mark} {printable(account.name)}  {account.plan}  "
                      f"({'images public' if account.public else 'images private'})")
        elif args.action == "create":
            account = library.create_account(args.name)
            print(f'Account "{printable(account.name)}" created: {account.privacy_text.split(" — ")[0]}')
        else:
            if " ".join(args.name.split()) != me.name:
                raise UserError(f'You can change only your own plan (you are "{me.name}").')
            account = library.set_plan(args.plan)
            print(f"{printable(account.name)}: {account.privacy_text}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from store.demo import generate

    if not 1 <= args.count <= 1_000_000:  # a huge count would end in an OverflowError, not a sentence
        raise UserError("--count must be between 1 and 1,000,000.")
    if not getattr(args, "library", None):
        args.demo = True
    with open_library(args) as library:
        def progress(done: int, total: int) -> None:
            if sys.stderr.isatty():
                sys.stderr.write(f"\rMaking demo images: {done}/{total}")
                sys.stderr.flush()

        n = generate(library, args.count, progress=progress)
        if sys.stderr.isatty():
            sys.stderr.write("\n")
        print(f"{n} demo images added to {printable(str(library.root))}")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from store.doctor import check

    with open_library(args) as library:
        report = check(library, min_age=args.min_age, remove_missing=args.remove_missing)
    for line in report.lines():
        print(line)
    return 0 if report.integrity == "ok" else 1


def cmd_reparse(args: argparse.Namespace) -> int:
    from store.reparse import reparse

    if bool(args.ids) == args.all:
        raise UserError("Give image ids or --all.")
    bar = _progress_printer("Re-reading")
    with open_library(args) as library:
        report = reparse(library, None if args.all else _ids(args.ids),
                         progress=(lambda done, total: bar(done, total, Path(""))) if bar else None)
    for image_id, reason in report.failed:
        print(f"#{image_id}: {reason}", file=sys.stderr)
    print(report.summary())
    return 1 if report.failed else 0


def ensure_demo(args: argparse.Namespace) -> None:
    """Make the demo library the first time it is opened."""
    from store.demo import generate

    with open_library(args) as library:
        if library.total() == 0:
            print("Making the demo library (first run only)…", file=sys.stderr)
            generate(library, 60)


def cmd_tui(args: argparse.Namespace) -> int:
    from store import settings as settings_module

    settings = settings_module.current()
    if getattr(args, "demo", False):
        ensure_demo(args)
    from tui import terminal_colors

    terminal_colors.apply(args.colors or settings.colors)  # before the app (and Textual) start
    icons = args.icons or settings.icons
    if icons == "auto":
        from tui.gallery_screen import icon_samples
        from widgets.graphics_support import emoji_fit

        # asked of the terminal before Textual reads its input
        icons = "plain" if emoji_fit(icon_samples()) is False else "emoji"
    from tui.app import run

    downloads = Path(args.downloads).expanduser() if args.downloads else settings.downloads
    return run(_library_path(args), account=getattr(args, "account", None),
               database_url=getattr(args, "database_url", None), images=args.images or settings.images,
               downloads=downloads, settings=settings, plain_icons=icons == "plain")


def cmd_config(args: argparse.Namespace) -> int:
    from store import settings as settings_module

    if args.action == "path":
        print(settings_module.settings_path())
        return 0
    settings = settings_module.current()
    if settings.problem:
        print(f"myimages: {printable(settings.problem)}", file=sys.stderr)
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
    return 1 if settings.problem else 0


COMMANDS = {
    "import": cmd_import,
    "list": cmd_list,
    "info": cmd_info,
    "favorite": cmd_favorite,
    "delete": cmd_delete,
    "export": cmd_export,
    "collection": cmd_collection,
    "clean": cmd_clean,
    "grid": cmd_grid,
    "account": cmd_account,
    "demo": cmd_demo,
    "doctor": cmd_doctor,
    "reparse": cmd_reparse,
    "source": cli_sources.cmd_source,
    "watch": cli_sources.cmd_watch,
    "trash": cli_trash.cmd_trash,
    "duplicates": cli_duplicates.cmd_duplicates,
    "config": cmd_config,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        handler = COMMANDS.get(args.command, cmd_tui)
        return handler(args)
    except (StoreError, UserError) as exc:
        print(f"myimages: {printable(str(exc))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:  # a file error outside the library (the store translates its own)
        print(f"myimages: {printable(str(translate(exc)))}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
