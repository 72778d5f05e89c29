"""Finding and repairing what a crash or a hand-edit can leave behind.

- leftover temporary files (TMP_PREFIX) from writes that never finished;
- orphan files: originals or thumbnails no record points to (a crash between
  writing the files and committing the record, or after a delete committed);
- missing thumbnails, made again from the original;
- records whose original file is gone: reported, and removed on request.
Files younger than `min_age` seconds are left alone: another process may be in
the middle of an import that has written them but not yet committed its rows.
"""
from __future__ import annotations

import io
import time
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from .files import TMP_PREFIX, make_thumbnail, write_bytes_atomic
from .library import Library
from .models import Image as ImageRow


@dataclass
class DoctorReport:
    leftovers_removed: list[Path] = field(default_factory=list)
    orphans_removed: list[Path] = field(default_factory=list)
    thumbnails_made: list[int] = field(default_factory=list)
    missing_originals: list[int] = field(default_factory=list)
    records_removed: list[int] = field(default_factory=list)
    integrity: str = "ok"

    @property
    def clean(self) -> bool:
        return not (self.leftovers_removed or self.orphans_removed or self.thumbnails_made
                    or self.missing_originals) and self.integrity == "ok"

    def lines(self) -> list[str]:
        out = [f"database integrity: {self.integrity}"]
        out.append(f"{len(self.leftovers_removed)} unfinished temporary files removed")
        out.append(f"{len(self.orphans_removed)} orphan files removed")
        out.append(f"{len(self.thumbnails_made)} missing thumbnails made again")
        if self.missing_originals:
            ids = ", ".join(f"#{i}" for i in self.missing_originals[:20])
            more = "" if len(self.missing_originals) <= 20 else f" and {len(self.missing_originals) - 20} more"
            verb = "records removed" if self.records_removed else "run `myimages doctor --remove-missing` to drop them"
            out.append(f"{len(self.missing_originals)} images have lost their file: {ids}{more} ({verb})")
        else:
            out.append("every image has its file")
        return out


def check(library: Library, *, min_age: float = 600.0, remove_missing: bool = False) -> DoctorReport:
    report = DoctorReport()
    if not library.uses_postgres:
        rows = library.db.execute_sql("PRAGMA integrity_check").fetchall()
        report.integrity = ", ".join(r[0] for r in rows[:5])
    now = time.time()
    # Every account's records count: files are shared by content hash.
    known: dict[str, str] = {}
    for sha256, ext in ImageRow.select(ImageRow.sha256, ImageRow.ext).tuples().iterator():
        known[sha256] = ext
    for path in list(library.files.walk()):
        try:
            age = now - path.stat().st_mtime
        except FileNotFoundError:
            continue
        if age < min_age:
            continue
        if path.name.startswith(TMP_PREFIX):
            path.unlink(missing_ok=True)
            report.leftovers_removed.append(path)
            continue
        sha256, _, ext = path.name.partition(".")
        is_thumb = path.parent.parent == library.files.thumbs
        if sha256 not in known or (not is_thumb and known[sha256] != ext):
            path.unlink(missing_ok=True)
            report.orphans_removed.append(path)
    missing: list[int] = []
    missing_files: list[tuple[str, str]] = []
    for image_id, sha256, ext in ImageRow.select(ImageRow.id, ImageRow.sha256, ImageRow.ext).tuples().iterator():
        original = library.files.original_path(sha256, ext)
        if not original.exists():
            missing.append(image_id)
            missing_files.append((sha256, ext))
            continue
        thumb = library.files.thumbnail_path(sha256)
        if not thumb.exists():
            try:
                with Image.open(io.BytesIO(original.read_bytes())) as image:
                    image.load()
                    write_bytes_atomic(thumb, make_thumbnail(image))
                report.thumbnails_made.append(image_id)
            except Exception:  # noqa: BLE001 - an unreadable original is reported below
                missing.append(image_id)
    report.missing_originals = missing
    if remove_missing and missing:
        with library.db.atomic():
            for start in range(0, len(missing), 500):
                ImageRow.delete().where(ImageRow.id.in_(missing[start:start + 500])).execute()
        report.records_removed = list(missing)
        for sha256, ext in missing_files:
            if not ImageRow.select().where(ImageRow.sha256 == sha256).exists():
                library.files.remove(sha256, ext)
    return report
