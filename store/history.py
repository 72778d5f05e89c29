"""The last searches, per library and account: `.search-history/<account>.json` in the library folder.

Two instances of the app (two terminals, two users of one account) share the file: each search is added by
reading the file as it is now, adding to that, and writing it back (temp file + rename) while holding a lock
(`flock` on `<account>.lock` beside it), so neither loses the other's searches. The list is read again when
the user starts walking it (Up in the search box). A query with a part that cannot be read, or that names
what is not there (`in:nope`: the `problem` given, the library's search_problem), is not kept.
A library that cannot be written (read only, a full disk) keeps them in memory for the session.
`account delete` removes the account's file (history_path), the `.lock` beside it left: another instance may hold it.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

from .errors import StoreError
from .file_lock import held
from .files import write_bytes_atomic
from .query import parse

KEEP = 50


def history_path(root: Path | str, account: str) -> Path:
    """The file of an account's last searches in the library folder `root` (`account delete` removes it too)."""
    key = hashlib.sha256(account.encode()).hexdigest()[:16]  # any account name is a safe file name
    return Path(root) / ".search-history" / f"{key}.json"


class SearchHistory:
    def __init__(self, root: Path | str, account: str, problem: Callable[[str], str] | None = None) -> None:
        self.problem = problem  # what is wrong with a query ("" when nothing): such a query is not kept
        self.path = history_path(root, account)
        self.entries: list[str] = []
        self.refresh()

    def _read(self) -> list[str] | None:
        """The file's searches, or None when it cannot be read (none yet, unreadable)."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return [e for e in data if isinstance(e, str) and e.strip()][-KEEP:] if isinstance(data, list) else None

    def refresh(self) -> None:
        """Take in what other instances added since (kept as they are when the file cannot be read)."""
        entries = self._read()
        if entries is not None:
            self.entries = entries

    def add(self, text: str) -> bool:
        """Keep `text` as the latest search (True), unless it is empty or has a part that cannot be read."""
        text = " ".join(text.split())
        if not text or parse(text).error:
            return False
        try:
            if self.problem is not None and self.problem(text):
                return False
        except StoreError:  # the check could not run (the database gone): kept, as a readable query is
            pass
        try:
            self.path.parent.mkdir(exist_ok=True)
        except OSError:
            pass  # read only: the lock below is not to be had either, and nothing is written
        with held(self.path.with_suffix(".lock")):  # the account's history to ourselves across processes
            current = self._read()
            entries = [e for e in (current if current is not None else self.entries) if e != text]
            self.entries = (entries + [text])[-KEEP:]
            try:
                # temp file + rename, without fsync: it is written on the UI thread when the search box is left,
                # and a sync there can take longer than a frame; a search lost to a power cut is harmless
                write_bytes_atomic(self.path, json.dumps(self.entries, ensure_ascii=False).encode(), durable=False)
            except OSError:
                pass  # read only or full: kept for this session
        return True
