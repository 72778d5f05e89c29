"""The last searches, per library and account: `.search-history/<account>.json` in the library folder.

A library that cannot be written (read only, a full disk) keeps them in memory for the session.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from .files import write_bytes_atomic

KEEP = 50


class SearchHistory:
    def __init__(self, root: Path | str, account: str) -> None:
        key = hashlib.sha256(account.encode()).hexdigest()[:16]  # any account name is a safe file name
        self.path = Path(root) / ".search-history" / f"{key}.json"
        self.entries: list[str] = []
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if isinstance(data, list):
                self.entries = [e for e in data if isinstance(e, str) and e.strip()][-KEEP:]
        except (OSError, ValueError):
            pass

    def add(self, text: str) -> None:
        text = " ".join(text.split())
        if not text:
            return
        if text in self.entries:
            self.entries.remove(text)
        self.entries = (self.entries + [text])[-KEEP:]
        try:
            self.path.parent.mkdir(exist_ok=True)
            write_bytes_atomic(self.path, json.dumps(self.entries, ensure_ascii=False).encode())
        except OSError:
            pass  # read only or full: kept for this session
