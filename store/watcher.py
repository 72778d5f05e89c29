"""Following the account's source folders while a program runs (the TUI, or `myimages watch`).

The operating system tells about changes (watchfiles: inotify on Linux); the changed
paths are then looked at (`Library.scan_paths`), so a new file is in the library
within a fraction of a second of its writer finishing it. A file still being
written is looked at again a moment later. When the system's limit of watched
folders is reached (inotify's `max_user_watches`), or watching fails otherwise,
the folders are rescanned every few seconds instead, which reads only what changed.

At start, every source is rescanned once (what changed while nothing watched), in a thread
of its own once the watch is in place: the notifications are followed meanwhile, so a file
written right after start is read at once, not after the rescan. Thumbnails of linked images
are made in the background while nothing else happens.
"""
from __future__ import annotations

import json
import os
import re
import threading
import time
from pathlib import Path
from typing import Callable

from .errors import DatabaseFailed, NotFound, StoreError, first_line
from .library import Library
from .sources import ScanReport, ThumbnailWalk, WatchMark
from .text import printable

RETRY_AFTER = 0.3  # seconds before a file that was still being written is looked at again
UNDECODABLE_TRIES = 3  # watches in a row that end on a name not UTF-8 before they begin: then rescans
CHECK_SOURCES_EVERY = 5.0  # seconds: sources added or removed by another process are picked up
POLL_EVERY = 2.0  # seconds between rescans when the system cannot watch


def inotify_limit() -> str:
    try:
        return open("/proc/sys/fs/inotify/max_user_watches").read().strip()
    except OSError:
        return "?"


def cannot_watch(exc: Exception, poll_every: float) -> str:
    """The sentence for a watch that could not be set up: the folder it could not watch, and why, in words
    (watchfiles says "Permission denied (os error 13) about [\"/out/day2\"]": NEWUSER12 F2)."""
    found = re.match(r"(.*?) \(os error \d+\)(?: about \[(.*)\])?$", first_line(exc), re.S)
    reason, folders = getattr(exc, "strerror", None) or first_line(exc), []
    if found:
        reason = found.group(1)
        try:
            folders = [str(f) for f in json.loads(f"[{found.group(2) or ''}]")]
        except ValueError:
            folders = []
    where, they = (", ".join(printable(f) for f in folders), "the source folders") if folders else \
        ("The source folders", "they")
    return f"{where} cannot be watched ({reason[:1].lower() + reason[1:]}): {they} are rescanned every {poll_every:g} s instead."


class SourceWatcher:
    def __init__(self, library: Library, on_reports: Callable[[list[ScanReport]], None] | None = None,
                 on_notice: Callable[[str], None] | None = None, *, force_polling: bool = False,
                 poll_every: float = POLL_EVERY, thumbnails: bool = True, full_scans_apart: bool = False,
                 on_database_failure: Callable[[str], None] | None = None) -> None:
        """`full_scans_apart`: full rescans in a child process (the app: its own process stays quick).
        `on_database_failure`: where a failure of the library database goes (a server that cannot be reached, a full
        disk), which is not the source folders' (default: `on_notice`)."""
        self.library = library
        self.on_reports = on_reports or (lambda reports: None)
        self.on_notice = on_notice or (lambda text: None)
        self.on_database_failure = on_database_failure or self.on_notice
        self.polling = force_polling
        self._undecodable = 0  # watches in a row that ended on a name not UTF-8 before they began
        self.poll_every = poll_every
        self.thumbnails = thumbnails
        self.full_scans_apart = full_scans_apart
        self.folders: list[str] = []  # the sources' folders watched now (those there)
        self._added: list[str] = []  # folders added since the last watch began: read again once it is in place
        self.missing: list[str] = []  # those not there (moved, deleted, a disk unmounted): looked for again
        self._said: dict[str, str] = {}  # a source's problem said once, not again at every rescan
        self._said_unreadable: dict[str, list[tuple[str, str]]] = {}  # likewise its folders that cannot be read
        self._failing: dict[str, str] = {}  # each call's failure said, until that call works again (`_failed`)
        self._stop = threading.Event()
        self._wake = threading.Event()  # stop, or the sources changed: watch again
        self._thread: threading.Thread | None = None
        self._pending: dict[Path, float] = {}
        self.ready = threading.Event()  # set once watching has begun and the first full scan is done
        self._full_scan = True
        self._rescan: threading.Thread | None = None  # the rescan of every source under way beside the watch
        self._rescanned: list[list[ScanReport] | None] = []  # its reports, once done
        self._rescan_again = False  # another was asked for while it ran
        self._thumbnails = ThumbnailWalk()  # made a few at a time while nothing else happens

    # -- control ----------------------------------------------------------------------

    def start(self) -> "SourceWatcher":
        self._thread = threading.Thread(target=self._run, name="myimages-watch", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        rescan = self._rescan
        if rescan is not None:
            rescan.join(timeout)

    def sources_changed(self) -> None:
        """Call after adding or removing a source: the watch starts again on the new set."""
        self._wake.set()

    @property
    def waiting(self) -> set[Path]:
        """Files seen while still being written, to be looked at again."""
        return set(self._pending)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # -- the thread ---------------------------------------------------------------------

    def _run(self) -> None:
        mark = WatchMark(self.library)
        self._full_scan = True  # what changed while nothing watched: once watching has begun
        try:
            while not self._stop.is_set():
                self._wake.clear()
                there, missing = self._folders()
                if set(there) & set(self.missing):
                    self._full_scan = True  # a folder back (moved back, remounted): what it holds now
                # a folder added while watching: read again once its watch is in place, for what was written
                # into it between its first scan and then (a file there was missed until it changed again)
                self._added = [] if self._full_scan else [f for f in there
                                                          if f not in self.folders or f in self._added]
                self.folders, self.missing = there, missing
                if not self.folders:  # nothing to watch: a missing folder is said (by a scan) and looked for
                    if self._full_scan and self.missing:
                        self._scan(None)
                    self._full_scan = False
                    self.ready.set()
                    self._wake.wait(CHECK_SOURCES_EVERY)
                    continue
                if self.polling:
                    self._poll()
                else:
                    self._watch()
        finally:
            mark.release()
            self.ready.set()
            self.library.close()  # this thread's connection

    def _folders(self) -> tuple[list[str], list[str]]:
        """The sources' folders that are there, and those that are not. One missing folder must not stop the
        others from being watched (watchfiles refuses a path that is not there: all were polled instead)."""
        there: list[str] = []
        missing: list[str] = []
        for source in self._safe(self.library.sources) or []:  # an empty mount point is not there (not_there)
            (missing if source.missing else there).append(str(source.path))
        return there, missing

    def _safe(self, call, *args):
        key = getattr(call, "__name__", "call")
        try:
            result = call(*args)
        except StoreError as exc:
            self._failed(str(exc), database=isinstance(exc, DatabaseFailed), key=key)
        except Exception as exc:  # noqa: BLE001 - the watcher never dies of one bad moment
            self._failed(f"Following the source folders failed: {first_line(exc)}.", key=key)
        else:
            self._failing.pop(key, None)
            return result
        return None

    def _failed(self, text: str, database: bool = False, key: str = "call") -> None:
        """A failure said once while it lasts: the watcher asks the database every RETRY_AFTER seconds (its
        thumbnails, its folders), and a server that cannot be reached said so at each of them, a pile of the same
        notice over the app (new-user test 10 #1). Kept per call (`key`) and said again after that call worked:
        on a full disk the reads work and the writes fail, and a read that worked made the write's failure said
        again at every round."""
        said = text in self._failing.values()
        self._failing[key] = text
        if not said:
            # the database's failure is not the source folders': an account that follows none got it under
            # "Source folders" (new-user test 10, note)
            (self.on_database_failure if database else self.on_notice)(text)

    def _scan(self, paths: list[Path] | None) -> None:
        if paths is not None:
            # a folder another scan holds (its add, another program) is not waited for: a few paths are read
            # at once, more come back as `waiting` and are looked at again, while other folders' files come in
            self._take(self._safe(self.library.scan_paths, paths, False), whole=False)
        else:
            self._take(self._scan_all(), whole=True)

    def _scan_all(self) -> list[ScanReport] | None:
        if self.full_scans_apart:
            return self._scan_in_child()
        return self._safe(self.library.scan_sources, None, None, self._stop.is_set)

    def _begin_rescan(self) -> None:
        """The rescan of every source in a thread of its own, while this one follows the notifications (a
        file written meanwhile is read at once: it waited for the rescan, 3-4 s for 100,000 files, or the
        start of its child process for a few). Its reports are taken by `_end_rescan`, in this thread."""
        if self._rescan is not None:
            self._rescan_again = True
            return
        self._rescanned = []

        def rescan() -> None:
            try:
                self._rescanned.append(self._scan_all())
            finally:
                if not self.full_scans_apart:
                    self.library.db.close()  # this thread's connection (the library stays open)

        self._rescan = threading.Thread(target=rescan, name="myimages-rescan", daemon=True)
        self._rescan.start()

    def _end_rescan(self) -> None:
        """A rescan that is done: its reports taken; `ready` once no other is due."""
        if self._rescan is None or self._rescan.is_alive():
            return
        self._rescan = None
        self._take(self._rescanned[0] if self._rescanned else None, whole=True)
        if self._rescan_again:
            self._rescan_again = False
            self._begin_rescan()
        else:
            self.ready.set()

    def _take(self, reports: list[ScanReport] | None, whole: bool) -> None:
        """A scan's reports: problems said once, files still being written kept to look at again, changes
        handed on. `whole`: the reports of whole folders (a folder's problem gone is forgotten)."""
        if not reports:
            return
        fresh = []
        for report in reports:  # a folder's problem is said when it starts, not at every rescan (polling)
            where = str(report.source)
            if report.problem:
                if self._said.get(where) == report.problem:
                    continue
                self._said[where] = report.problem
            elif whole:
                self._said.pop(where, None)
            # likewise a folder in it that cannot be read: said once, not at every rescan while it lasts
            unreadable = sorted((str(folder), reason) for folder, reason, _images in report.unreadable)
            if unreadable and self._said_unreadable.get(where) == unreadable:
                report.unreadable = []
            elif unreadable:
                self._said_unreadable[where] = unreadable
            elif whole:
                self._said_unreadable.pop(where, None)
            fresh.append(report)
        reports = fresh
        now = time.monotonic()
        for report in reports:
            for path in report.waiting:
                self._pending.setdefault(path, now)
        if any(r.changed for r in reports):
            self.on_reports(reports)

    def _scan_added(self, folder: str) -> None:
        """A folder added since the last watch began, read again now that its watch is in place; not while
        its add (or another program) is reading it: then at a later turn. Gone from the sources meanwhile (a
        cancelled add): nothing to say. Any other failure is said, as by `_safe`."""
        def scan() -> list[ScanReport]:
            try:
                return self.library.scan_sources(folder, wait=False)
            except NotFound:
                return []

        reports = self._safe(scan)
        if reports and reports[0].busy:
            return
        self._added.remove(folder)
        self._take(reports, whole=True)

    def _scan_in_child(self) -> list[ScanReport] | None:
        """A full rescan in a child process at a lower priority (store/scan_child.py): the app stays quick."""
        from .scan_child import run_in_child

        try:
            reports = run_in_child(self.library, cancel=self._stop.is_set)
        except OSError as exc:
            self.on_notice(f"Cannot start a rescan of the source folders: {exc.strerror or exc}; rescanning here.")
            return self._safe(self.library.scan_sources)
        except StoreError as exc:
            self._failed(str(exc), database=isinstance(exc, DatabaseFailed), key="scan_in_child")
            return None
        self._failing.pop("scan_in_child", None)
        return None if self._stop.is_set() else reports

    def _watch(self) -> None:
        import watchfiles

        last_check = time.monotonic()
        library_folder = str(self.library.root.resolve())

        def outside_library(_change, path: str) -> bool:  # a source holding the library: not its own writes
            return not (path == library_folder or path.startswith(library_folder + os.sep))

        try:
            changes_seen = watchfiles.watch(
                *self.folders, watch_filter=outside_library, debounce=200, step=50, stop_event=self._wake,
                rust_timeout=int(RETRY_AFTER * 1000), yield_on_timeout=True, raise_interrupt=False,
                ignore_permission_denied=False)  # True would also hide the watch limit (watchfiles 1.3)
            for changes in changes_seen:
                self._undecodable = 0  # the watch runs
                if self._full_scan:  # the watch is in place now: nothing written from here on is missed
                    self._full_scan = False
                    self._begin_rescan()
                self._end_rescan()
                for folder in list(self._added):  # likewise for folders added since the last watch
                    self._scan_added(folder)
                paths = {Path(path) for _change, path in changes}
                due = [p for p, since in self._pending.items() if time.monotonic() - since >= RETRY_AFTER]
                for path in due:
                    self._pending.pop(path, None)
                if paths or due:
                    self._scan(sorted(paths | set(due)))
                elif self.thumbnails:
                    self._safe(self.library.walk_thumbnails, self._thumbnails, 20, self._wake.is_set)
                if time.monotonic() - last_check > CHECK_SOURCES_EVERY:
                    last_check = time.monotonic()
                    if self._folders() != (self.folders, self.missing):  # added, removed, gone or back
                        return
                if self._wake.is_set():
                    return
        except OSError as exc:
            if "watch limit" in str(exc):
                self.on_notice(f"The system's limit of watched folders is reached (fs.inotify.max_user_watches "
                               f"= {inotify_limit()}): the sources are rescanned every {self.poll_every:g} s "
                               "instead. Raise the limit to follow them at once.")
            else:
                self.on_notice(cannot_watch(exc, self.poll_every))
            self.polling = True  # after the notice: whoever sees `polling` finds it said
        except RuntimeError as exc:  # watchfiles' own (WatchfilesRustInternalError): the watch ended
            if "decode path" not in str(exc):
                self.on_notice(cannot_watch(exc, self.poll_every))
                self.polling = True
                return
            # a name that is not UTF-8 (its notification cannot be handed on): watch again, and read everything
            # again, as the notifications that came with it are lost (the scan says that file once, skipped)
            self._full_scan = True
            self._undecodable += 1
            if self._undecodable >= UNDECODABLE_TRIES:
                # the watch ends before it begins, each time (a folder whose name is not UTF-8: watchfiles reads
                # every name when it sets the watch up): it was made again for good and nothing was ever read
                # (new-user test 8 #18); rescanning every few seconds follows the sources instead
                self.on_notice("A folder in the sources has a name that is not UTF-8, which the system's watch "
                               f"cannot hand on: the sources are rescanned every {self.poll_every:g} s instead.")
                self.polling = True

    def _poll(self) -> None:
        while not self._wake.is_set():
            self._full_scan = False
            self._scan(None)
            self.ready.set()
            if self.thumbnails:
                self._safe(self.library.walk_thumbnails, self._thumbnails, 50, self._wake.is_set)
            self._wake.wait(self.poll_every)
