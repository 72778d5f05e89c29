"""Rescanning the source folders in a child process (`python -m store.scan_child ROOT ACCOUNT`).

Reading many files is Python work that holds the interpreter's lock: in the app's own
process it would make typing and scrolling wait. The app's watcher therefore runs its
full rescans here, at a lower priority, and reads the reports this prints (JSON) on
stdout. The database URL, if any, comes in MYIMAGES_DATABASE_URL (never on the
command line, where other users could read a password).
"""
from __future__ import annotations

import json
import sys

from .errors import StoreError
from .library import Library


def main(argv: list[str]) -> int:
    root, account = argv
    try:
        with Library(root, account=account) as library:
            reports = library.scan_sources()
    except StoreError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    print(json.dumps([report.as_json() for report in reports]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
