"""What every `myimages` command shares: its mistakes, its options, ids, the library, questions, progress.

The commands themselves are in the cli_*.py modules, one per group; tui/cli.py puts them together.
"""
from __future__ import annotations

import argparse
import os
import re
import shlex
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, Sequence

from store import locations
from store.text import one_line, printable

MAX_ID = 2**63 - 1  # the largest id a database can hold


class UserError(Exception):
    """A mistake in how the command was called."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]  # one sentence, exit code 2, no traceback
        self.print_usage(sys.stderr)
        self.exit(2, f"myimages: {message}\n")


def common_options() -> argparse.ArgumentParser:
    """The options every command takes: which library, as whom."""
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


MAX_RANGE = 100_000  # ids one range may stand for ("1-99999999" is a slip, not a wish)
_RANGE = re.compile(r"#?([0-9]+)\s*[-–]\s*#?([0-9]+)")  # "10-20", "#10-#20", "#10–#20" (as messages print them)


def image_ids(values: Sequence[str]) -> list[int]:
    """Image ids as typed: "12", "#12", ranges "10-20" (both ends in), lists "1,2,3" and "1,5-9"; UserError for
    anything else, a range backwards or one standing for more than MAX_RANGE ids."""
    ids: list[int] = []
    for value in values:
        for part in value.split(","):
            text = part.strip()
            if not text and "," in value:  # "1,2," or "1, 2": a comma too many is no mistake
                continue
            ranged = _RANGE.fullmatch(text)
            if ranged:
                low, high = int(ranged[1]), int(ranged[2])
                if low > high:
                    raise UserError(f'"{text}" is a range backwards: write {high}-{low}.')
                if high - low + 1 > MAX_RANGE:
                    raise UserError(f'"{text}" stands for {high - low + 1:,} ids: a range may stand for at most '
                                    f'{MAX_RANGE:,} (give several, or --search "id:{low}-{high}" for the images '
                                    "there are).")
                ids.extend(range(low, high + 1))
                continue
            text = text.lstrip("#")
            if not (text.isascii() and text.isdigit()):  # not "²", "①" or "٣", which str.isdigit() accepts
                raise UserError(f'"{part.strip() or value}" is not an image id (ids are whole numbers, as '
                                "`myimages list` shows, or ranges as 10-20).")
            if int(text) > MAX_ID:
                raise UserError(f"No image #{int(text)}.")
            ids.append(int(text))
    return list(dict.fromkeys(ids))  # an id typed twice is one image ("delete 3 3" deletes #3 once)


def one_image_id(value: str, command: str) -> int:
    """The one id of a command on one image (`info`, `grid`); a range or list there is one sentence."""
    ids = image_ids([value])
    if len(ids) != 1:
        raise UserError(f'`{command}` takes one image id, not "{value}".')
    return ids[0]


def add_targets(parser: argparse.ArgumentParser) -> None:
    """The images a command acts on: ids and ranges, or --search QUERY (every image the search finds)."""
    parser.add_argument("ids", nargs="*", metavar="ID", help="image ids: 12, ranges 10-20, lists 1,2,3")
    parser.add_argument("--search", metavar="QUERY", default=None,
                        help="every image this search finds (the search language of `myimages list --help`)")


def target_ids(library, args: argparse.Namespace, nothing: str) -> list[int]:
    """The ids `add_targets` read: those typed, or every image of yours `--search` finds (newest first). One
    sentence, and `nothing` ("nothing was exported") said, for neither or both, a bad query or no match."""
    from store.records import Filters

    if args.search is None:
        if not args.ids:
            raise UserError("Give image ids (12, 10-20, 1,2,3) or --search QUERY.")
        return image_ids(args.ids)
    if args.ids:
        raise UserError("Give image ids or --search, not both.")
    if not args.search.strip():
        raise UserError(f"--search needs a query (an empty one would be every image): {nothing}.")
    problem = library.search_problem(args.search)
    if problem:
        raise UserError(f"{problem.rstrip('.')}: {nothing}.")
    ids = library.ids(Filters(search=args.search))
    if not ids:
        raise UserError(f'No image of yours matches "{one_line(args.search)}": {nothing}.')
    return ids


def user_sentence(exc: BaseException) -> str:
    """A store error's sentence as the command line says it: an image in the trash with the command that brings
    it back."""
    from store.errors import InTrash

    if isinstance(exc, InTrash):
        return f"Image #{exc.image_id} is in the trash (myimages trash restore {exc.image_id} brings it back)."
    return str(exc)


def all_or_none(check: Callable[[int], object], ids: Sequence[int], nothing: str,
                known: set[int] | frozenset[int] = frozenset()) -> None:
    """A command on several ids does all of them or none: `check(id)` (which raises the store's NotFound or
    NotYours) for every id, and when any fails, one UserError naming every such id and saying `nothing`
    ("nothing was exported"), with how to act on the others. Before anything is asked or changed. (As rm or
    cp would not: the contract's "bad input changes nothing", and a script piping ids learns of it.)"""
    from store.errors import InTrash, NotFound, NotYours

    problems: list[tuple[int, str]] = []
    trashed: list[int] = []
    not_yours: list[int] = []
    for image_id in ids:
        if image_id in known:  # found in one query beforehand: only the others are asked one by one
            continue
        try:
            check(image_id)
        except (NotFound, NotYours) as exc:
            problems.append((image_id, user_sentence(exc).rstrip(".")))
            if isinstance(exc, InTrash):
                trashed.append(image_id)
            elif isinstance(exc, NotYours):
                not_yours.append(image_id)
    if not problems:
        return
    if len(ids) == 1:  # the store's own sentence: with one id, "nothing was done" goes without saying
        raise UserError(problems[0][1] + ".")
    bad = [i for i, _ in problems]
    # one sentence a kind of problem, the ids of each as ranges and a count (30 trashed ids were 30 sentences)
    missing = [i for i, text in problems if text == f"No image #{i}"]
    grouped = set(missing) | set(trashed) | set(not_yours)
    parts = [f"No image #{missing[0]}" if len(missing) == 1 else f"No images {id_ranges(missing)}"] if missing else []
    if len(trashed) > 1:
        listed = " ".join(str(i) for i in trashed[:5]) + (" …" if len(trashed) > 5 else "")  # as delete says it
        parts.append(f"Images {id_ranges(trashed)} are in the trash (myimages trash restore {listed} brings them "
                     "back)")
    if len(not_yours) > 1:
        parts.append(f"Images {id_ranges(not_yours)} belong to other accounts: you can view and download them, not "
                     "change them")
    parts += [text for i, text in problems if i not in grouped or (len(trashed) == 1 and i in trashed)
              or (len(not_yours) == 1 and i in not_yours)]
    said = "; ".join(parts)
    rest = len(ids) - len(bad)
    others = f" (give the other {rest:,} without {'it' if len(bad) == 1 else 'them'})" if rest else ""
    raise UserError(f"{said}: {nothing}{others}.")


def id_ranges(ids: Sequence[int]) -> str:
    """Ids as a reader takes them in: "#7 and #9", "#3, #5 and #9", "#1719–#1748 (30)", "#2, #10–#20 and #31 (13)"
    (runs of three or more as a range; past 4 parts, the first 3, "…" and the last; the count when a range or
    "…" hides some)."""
    runs: list[list[int]] = []
    for i in sorted(set(ids)):
        if runs and i == runs[-1][1] + 1:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    parts: list[str] = []
    for low, high in runs:
        if high - low >= 2:
            parts.append(f"#{low}–#{high}")
        else:
            parts += [f"#{n}" for n in range(low, high + 1)]
    shown = parts if len(parts) <= 4 else [*parts[:3], "…", parts[-1]]
    text = shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]
    return text + (f" ({len(set(ids)):,})" if len(parts) < len(set(ids)) or len(shown) < len(parts) else "")


def library_path(args: argparse.Namespace) -> Path:
    if getattr(args, "library", None):  # absolute: a relative --library printed relative paths (--json too)
        return Path(args.library).expanduser().absolute()
    if getattr(args, "demo", False):
        return locations.demo_library()
    return locations.default_library()


def open_library(args: argparse.Namespace, create: bool = False, unknown_account: str | None = None):
    """The library the arguments name. Only a command that adds to a library (import, demo, source add,
    watch, creating a collection or an account) makes a new one: any other says there is none, creating
    nothing (`--library /typo list` used to make an empty library at /typo). `unknown_account`: what an account
    name the library does not know does (store.accounts MAKE, REFUSE, STAND_IN; None: MAKE, as a command that
    adds or changes something does): a command that only reads REFUSEs it (`--account alcie list` made a
    permanent account, new-user test 10 #5)."""
    from store.accounts import MAKE
    from store.library import Library

    from store.errors import NoSuchAccount

    if not create:
        _refuse_no_library(args)
    try:
        library = Library(library_path(args), account=getattr(args, "account", None),
                          database_url=getattr(args, "database_url", None),
                          unknown_account=unknown_account or MAKE,
                          downloads=getattr(args, "downloads", None))
    except NoSuchAccount as exc:  # a new teammate who only wants to read: the command that makes the account
        raise UserError(f"{str(exc).rstrip('.')}; `{make_account_command(args, exc.name)}` makes it now, adding "
                        "nothing else.") from exc
    if library.new_account_note:  # a new name in --account or MYIMAGES_ACCOUNT: perhaps a typo
        print(f"myimages: {printable(library.new_account_note)}", file=sys.stderr)
    return library


def make_account_command(args: argparse.Namespace, name: str) -> str:
    """The command that makes account `name` in the library the arguments name, as it can be typed."""
    where = (f" --library {shlex.quote(str(library_path(args)))}" if getattr(args, "library", None) else
             " --demo" if getattr(args, "demo", False) else "")
    return f"myimages account create {shlex.quote(name)}{where}"


def _holds_a_library(args: argparse.Namespace, root: Path) -> bool:
    """The folder holds a library (or what the store tells apart itself: a PostgreSQL library's folder, a
    library's files without its records), as far as the command line need know before opening it."""
    from store.identity import read_marker
    from store.library import DB_NAME

    if (root / DB_NAME).exists() or read_marker(root) is not None:
        return True
    if getattr(args, "database_url", None):
        return True  # the store tells a PostgreSQL library's folder from another's (and one made before markers)
    # a library's files without its records: the store refuses it and says why, touching nothing
    return (root / "originals").is_dir() or (root / "thumbs").is_dir()


def refuse_a_folder_of_other_files(args: argparse.Namespace) -> None:
    """The app makes a library in a new or empty folder, never among other files (`--library ~/Pictures`, a
    typo, would have filled a personal folder with library files): one sentence, nothing written."""
    root = library_path(args)
    if _holds_a_library(args, root) or not root.is_dir():
        return
    with os.scandir(root) as entries:
        if next(entries, None) is None:
            return
    raise UserError(f"There is no library in {root}, and it holds other files: check --library (or the settings "
                    f"file's library). A new or empty "
                    f"folder becomes a library when the app opens it; to keep one among these files, import images "
                    f"there first (myimages --library {root} import PATH…).")


def _refuse_no_library(args: argparse.Namespace) -> None:
    root = library_path(args)
    if _holds_a_library(args, root):
        return
    if getattr(args, "demo", False) and not getattr(args, "library", None):
        raise UserError("The demo library is not made yet: `myimages --demo` or `myimages demo` makes it.")
    raise UserError(f"There is no library in {root}: check --library, or import images there first "
                    "(myimages import PATH…).")


def confirmed(question: str, refusal: str = "Not deleting without confirmation: add --yes.") -> bool:
    """Ask on the terminal; with no terminal to ask on, refuse with `refusal` (the caller did not say --yes)."""
    if not sys.stdin.isatty():
        raise UserError(refusal)
    return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")


Show = Callable[..., None]  # show(done, total) or show(done, total, path)


@contextmanager
def progress_bar(label: str) -> Iterator[Show | None]:
    """A progress bar on stderr (rich.progress) while the block runs, from its first step: `show(done,
    total, path=None)`. None when stderr is not a terminal: a log or a pipe gets the result lines only."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn

    # "1,204 of 270,000": the counts with separators, as everywhere (rich's MofNCompleteColumn has none)
    bar = Progress(TextColumn("{task.description}"), BarColumn(bar_width=24), TextColumn("{task.fields[counts]}"),
                   TextColumn("{task.fields[name]}"), console=Console(stderr=True))
    task = bar.add_task(label, total=None, name="", counts="")

    def show(done: int, total: int, path: Path | None = None) -> None:
        if not bar.live.is_started:  # nothing on the screen until there is something to do
            bar.start()
        bar.update(task, completed=done, total=total, counts=f"{done:,} of {total:,}",
                   name=one_line(path.name) if path else "")

    try:
        yield show
    finally:
        if bar.live.is_started:
            bar.stop()
