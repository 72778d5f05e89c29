"""Reading the prompt and settings again from stored originals (`myimages reparse`).

Images imported before a parser learned a format keep what the old parser read; this re-reads
the stored original with today's parsers and updates prompt, negative prompt, model, text
accuracy and the generation parameters. It never touches favorites, collections, values given
by hand on import (`params["_given"]`) or a date set by hand: a date is only replaced when it
was the file's modified time (or the file's own date) and the file now gives one.
"""
from __future__ import annotations

import json
import threading
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from PIL import Image as PILImage

from .errors import StoreError, unreadable_reason
from .metadata import Metadata, parse_chunks, read_chunks
from .models import Image
from .records import Filters, to_stored
from .text import printable, prompt_sort_key

warnings.filterwarnings("ignore", category=PILImage.DecompressionBombWarning)

FIELDS = ("prompt", "negative_prompt", "model", "text_accuracy")


@dataclass
class ReparseReport:
    updated: list[int] = field(default_factory=list)
    unchanged: int = 0
    failed: list[tuple[int, str]] = field(default_factory=list)
    cancelled: bool = False

    def summary(self) -> str:
        text = f"{len(self.updated):,} updated, {self.unchanged:,} unchanged, {len(self.failed):,} failed"
        return text + (" (cancelled)" if self.cancelled else "")


def read_metadata(path: Any) -> Metadata:
    """What today's parsers read from an image file."""
    with PILImage.open(path) as image:
        image.load()
        return parse_chunks(read_chunks(image))


def _looks_like_link(text: str) -> bool:
    """A ComfyUI link (`["30:28", 0]`) that an old parser stored as the prompt."""
    try:
        value = json.loads(text) if text.startswith("[") else None
    except ValueError:
        return False
    return isinstance(value, list) and len(value) == 2 and isinstance(value[1], int)


def changes_for(row: Any, meta: Metadata) -> dict[str, Any]:
    """The column values to write for one image row, given what its file reads as now."""
    try:
        old_params = json.loads(row.params or "{}")
    except ValueError:
        old_params = {}
    old_params = old_params if isinstance(old_params, dict) else {}
    given: list[Any] = old_params["_given"] if isinstance(old_params.get("_given"), list) else []
    changes: dict[str, Any] = {}
    for name in FIELDS:
        if name in given:
            continue
        old, new = getattr(row, name) or "", getattr(meta, name)
        # a value the file no longer gives is kept (it may have been typed), unless it is a link's text
        if new != old and (new or _looks_like_link(old.strip())):
            changes[name] = new
    params = dict(meta.params) if meta.params else {k: v for k, v in old_params.items() if not k.startswith("_")}
    params.update({k: v for k, v in old_params.items() if k.startswith("_") and k != "_note"})
    if meta.note and "prompt" not in given:
        params["_note"] = meta.note  # what is not read now; an old note of a text since made readable goes
    if meta.source:
        params["_format"] = meta.source
    date_from = old_params.get("_date_from")
    if meta.generated_at and date_from in ("modified", "file"):
        try:
            from .importer import parse_date

            date = to_stored(parse_date(meta.generated_at))
        except ValueError:
            date = None
        if date is not None and date != row.generated_at:
            changes["generated_at"] = date
        if date is not None:
            params["_date_from"] = "file"
    text = json.dumps(params, ensure_ascii=False, default=str)
    if text != (row.params or "{}") and json.loads(text) != old_params:
        changes["params"] = text
    return changes


Progress = Callable[[int, int], None]


def reparse(library: Any, image_ids: Iterable[int] | None = None, progress: Progress | None = None,
            cancel: threading.Event | Callable[[], bool] | None = None) -> ReparseReport:
    """Re-read the given images (None: all of the account's own) and store what changed."""
    with library.bound():  # the models use this library's database
        return _reparse(library, image_ids, progress, cancel)


def _reparse(library: Any, image_ids: Iterable[int] | None, progress: Progress | None,
             cancel: threading.Event | Callable[[], bool] | None) -> ReparseReport:
    if getattr(library, "read_only", False):
        raise StoreError(f"The library in {library.root} is read-only for you: it cannot be re-read.")
    ids = library._own_ids(image_ids) if image_ids is not None else library.ids(Filters())
    is_cancelled = (cancel.is_set if isinstance(cancel, threading.Event) else cancel) or (lambda: False)
    report = ReparseReport()
    total = len(ids)
    for done, image_id in enumerate(ids, 1):
        if is_cancelled():
            report.cancelled = True
            break
        try:
            row = Image.get_or_none((Image.id == image_id) & library._mine())
            if row is None:
                raise StoreError("the image was deleted meanwhile")
            # a linked image's file is where it is in its source folder; any other's is the library's own copy
            path = row.location or library.files.original_path(row.sha256, row.ext)
            try:
                meta = read_metadata(path)
            except FileNotFoundError:
                if row.location:
                    raise StoreError(f"its file {printable(row.location)} is not there (its source folder moved "
                                     "or unmounted?)") from None
                raise StoreError("its stored file is missing (`myimages doctor` reports these)") from None
            except (OSError, SyntaxError, ValueError, PILImage.DecompressionBombError) as exc:
                raise StoreError(f"its file {path} cannot be read: {unreadable_reason(exc)}") from None
            changes = changes_for(row, meta)
            if changes:
                changes["batch"] = None  # the settings changed: its batch key is made again (stacks.py)
                if "prompt" in changes:
                    changes["prompt_key"] = prompt_sort_key(changes["prompt"])
                with library.db.atomic():
                    Image.update(**changes).where(Image.id == image_id).execute()
                report.updated.append(image_id)
            else:
                report.unchanged += 1
        except StoreError as exc:
            report.failed.append((image_id, str(exc)))
        if progress:
            progress(done, total)
    return report
