"""Scanning source folders in a child process, at a lower priority.

Reading many files is Python work that holds the interpreter's lock: in the app's own
process it would make typing and scrolling wait. The app therefore runs its full
rescans (the watcher) and the first scan of a folder added from the sources dialog
here: `run_in_child` starts `python -m store.scan_child ROOT ACCOUNT [--add FOLDER]`,
which lowers its own priority, prints its progress and then its reports as JSON lines
on stdout, and stops after the current batch when it gets SIGTERM (Cancel); a cancelled
add that forgets its folder says so first, and is then let finish instead of killed. The
database URL, if any, goes in MYIMAGES_DATABASE_URL (never on the command line, where
other users could read a password).
"""
from __future__ import annotations

import argparse
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable

from . import activity, read_child
from .errors import StoreError
from .library import Library
from .sources import COPY, LINK, ScanReport

CHILD_NICENESS = 10  # a scan in a child process yields the processor to the app
STOP_WITHIN = 10.0  # seconds a cancelled child may take to finish its batch before it is killed
ADD_STOP_WITHIN = 1.0  # the same for a cancelled add that links (it writes no file, only records): the user
#   waits on it, and a killed child's open transaction is rolled back
GIVE_WAY = 10  # the child's session runs this much lower (autogroup niceness) while the user works (activity.py)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m store.scan_child")
    parser.add_argument("root")
    parser.add_argument("account")
    parser.add_argument("--add", metavar="FOLDER", help="add this folder as a source, then scan it (else: rescan all)")
    parser.add_argument("--copy", action="store_true")
    parser.add_argument("--forget-if-cancelled", action="store_true",
                        help="a cancelled add leaves no source behind")
    parser.add_argument("--nice", type=int, default=0)
    parser.add_argument("--downloads", metavar="DIR", help="the program's downloads folder, which scans leave out")
    args = parser.parse_args(argv)
    niceness = None
    if args.nice:
        os.nice(args.nice)
        niceness = session_like_the_app()
    GiveWay(niceness).follow(sys.stdin)  # the app says when the user works
    read_child.IN_BACKGROUND = True  # its readers run only on a core nothing else wants
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())  # Cancel: end after the current batch

    def progress(done: int, total: int) -> None:
        print(json.dumps({"done": done, "total": total}), flush=True)

    try:
        with Library(args.root, account=args.account, downloads=args.downloads) as library:
            if args.add:
                reports = [library.add_source(args.add, COPY if args.copy else LINK, progress=progress,
                                              cancel=stop.is_set, forget_if_cancelled=args.forget_if_cancelled,
                                              forgetting=lambda: print(json.dumps({"forgetting": True}),
                                                                       flush=True))]
            else:
                reports = library.scan_sources(progress=progress, cancel=stop.is_set)
    except StoreError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    print(json.dumps({"reports": [report.as_json() for report in reports]}), flush=True)
    return 0


def session_like_the_app() -> int | None:
    """Give this process's session (Linux's autogroup; run_in_child starts it in a new one) the priority of the
    app's, where the system has autogroups.

    With autogroups (the default of most Linux desktops) the processor is shared between sessions first, and a
    process's niceness orders it only against the processes of its own session: a child in the app's session
    took its share from the app's, however nice it was, while the machine's other sessions kept theirs. In a
    session of its own it takes its share beside the app's (its niceness then orders it before its readers);
    lowering that session for good would leave it nothing on a machine whose other sessions are busy: it is
    lowered only while the app is in use (GiveWay). Returns the session's niceness, None where it has none."""
    try:
        with open(f"/proc/{os.getppid()}/autogroup") as group:  # "/autogroup-25 nice 0": the app's session
            niceness = int(group.read().split()[-1])
    except (OSError, ValueError, IndexError):
        return None  # no autogroups here (another system, or turned off): the process's niceness is all there is
    for _ in range(5):
        try:
            with open("/proc/self/autogroup", "w") as group:
                group.write(str(niceness))
            return niceness
        except BlockingIOError:  # the system takes such a change only every 0.1 s
            time.sleep(0.1)
        except OSError:
            return None
    return None


class GiveWay:
    """While the user works in the app, the scan child's session gives way to it; once the user has left the app
    alone for a moment (activity.QUIET_FOR), the scan takes its full share again.

    In a session of its own (session_like_the_app) the child and its readers take a session's share of the
    processor beside the app's: on a machine whose cores are busy that made every search and page in the app
    wait for a core about a third longer while a folder was indexed. A session's niceness (unlike a process's)
    orders it against the others, so while the user works the session runs GIVE_WAY lower. Lowered all the
    time it was starved of the processor by other sessions (2,000 files took over 30 s at load 8); lowered only
    while the user works, it indexes at full speed in between (and while the user just watches its progress).
    The app tells the child on its stdin ("1": the user works, "0": left alone; run_in_child)."""

    def __init__(self, niceness: int | None, group: str = "/proc/self/autogroup") -> None:
        """`niceness`: the session's now (None: no sessions with a niceness here; what is told is read and
        dropped)."""
        self.group = group if niceness is not None else None
        self.normal = self.niceness = niceness if niceness is not None else 0
        self.lowered = min(19, self.normal + GIVE_WAY)

    def follow(self, lines) -> threading.Thread:
        """What the app says, read in a thread of its own until it closes the pipe."""
        def run() -> None:
            for line in lines:
                self.told(line.strip() == "1")

        thread = threading.Thread(target=run, name="give-way", daemon=True)
        thread.start()
        return thread

    def told(self, in_use: bool) -> None:
        """The session lowered while the user works, back at the app's level after."""
        want = self.lowered if in_use else self.normal
        for _ in range(5):
            if self.group is None or want == self.niceness:
                return
            try:
                with open(self.group, "w") as group:
                    group.write(str(want))
                self.niceness = want
            except BlockingIOError:  # the system takes one such change in 0.1 s
                time.sleep(0.1)
            except OSError:
                self.group = None  # refused: the session keeps its niceness


def tell(pipe, in_use: bool, told: bool | None) -> bool | None:
    """Tell a scan child on its stdin whether the user works now, if that changed since `told`; what it was
    told (None: it cannot be told, it has ended)."""
    if in_use == told or pipe is None:
        return told
    try:
        pipe.write("1\n" if in_use else "0\n")
        pipe.flush()
    except (OSError, ValueError):
        return None
    return in_use


def run_in_child(library: Library, add: Path | str | None = None, copy: bool = False,
                 progress: Callable[[int, int], None] | None = None, cancel: Callable[[], bool] | None = None,
                 niceness: int = CHILD_NICENESS, forget_if_cancelled: bool = False) -> list[ScanReport]:
    """Rescan every source (or add `add` and scan it) in a child process; its reports.

    `progress(done, total)` is called as the child reads; once `cancel()` is true the child
    stops after its current batch (what it recorded stays, as with a cancel in this process).
    Raises StoreError with the child's own sentence when it fails, OSError when it cannot start.
    """
    is_cancelled = cancel or (lambda: False)
    env = dict(os.environ)
    env.pop("MYIMAGES_DATABASE_URL", None)
    if library.database_url:
        env["MYIMAGES_DATABASE_URL"] = library.database_url
    command = [sys.executable, "-m", "store.scan_child", str(library.root), library.account.name,
               "--nice", str(niceness)] + (["--downloads", str(library.downloads)] if library.downloads else [])
    if add is not None:
        command += ["--add", str(Path(add).expanduser().absolute())] + (["--copy"] if copy else []) \
            + (["--forget-if-cancelled"] if forget_if_cancelled else [])
    child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env=env,
                             cwd=str(Path(__file__).resolve().parent.parent),
                             start_new_session=niceness > 0)  # a session of its own (session_like_the_app)
    out, err = child.stdout, child.stderr
    assert out is not None and err is not None  # both made by PIPE
    lines: queue.Queue[str | None] = queue.Queue()
    errors: list[str] = []

    def read_out() -> None:
        for line in out:
            lines.put(line)
        lines.put(None)

    def read_err() -> None:
        errors.extend(err)

    readers = [threading.Thread(target=read_out, daemon=True), threading.Thread(target=read_err, daemon=True)]
    for reader in readers:
        reader.start()
    reports: list[ScanReport] | None = None
    asked_to_stop = None
    forgetting = False
    stop_within = ADD_STOP_WITHIN if add is not None and not copy else STOP_WITHIN
    told: bool | None = False  # whether the user works now, as the child was told (activity.py)
    while True:
        if told is not None:  # once cancelled the user waits for it: no more giving way
            told = tell(child.stdin, activity.in_use() and asked_to_stop is None, told)
        try:
            line = lines.get(timeout=0.1)
        except queue.Empty:
            line = ""
        if line is None:
            break
        if line:
            try:
                message = json.loads(line)
                if "reports" in message:
                    reports = [ScanReport.from_json(item) for item in message["reports"]]
                elif "forgetting" in message:
                    forgetting = True  # a cancelled add undoing itself: never killed half-way through that
                elif progress is not None:
                    progress(int(message["done"]), int(message["total"]))
            except (ValueError, KeyError, TypeError):
                pass  # not one of its lines (a library's warning): ignored
        if asked_to_stop is None and is_cancelled():
            asked_to_stop = time.monotonic()
            child.send_signal(signal.SIGTERM)
        elif asked_to_stop is not None and reports is None and not forgetting \
                and time.monotonic() - asked_to_stop > stop_within:
            child.kill()  # its open batch is rolled back: nothing half-written
    try:
        if child.stdin is not None:
            child.stdin.close()
    except OSError:
        pass
    child.wait()
    for reader in readers:
        reader.join()
    if library.catalog is not None:
        library.catalog.catch_up_next()  # what it wrote is this process's next search's, not batched
    if asked_to_stop is not None and reports is not None:
        return reports  # it stopped after its batch and said what it had done
    if child.returncode != 0 or reports is None:
        said = [line.strip() for line in errors if line.strip()]
        if asked_to_stop is not None and reports is None:
            return []
        raise StoreError(said[-1] if said else f"The scan of the source folders failed ({child.returncode}).")
    return reports


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
