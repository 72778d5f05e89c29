"""Variation stacks (issue 16): images whose generation settings are identical except the seed (a batch).

Each image gets a batch key (Image.batch, a 64-bit number) made from what its import read: the prompt,
the negative prompt, the model, the CFG (text accuracy), the size and every other generation parameter,
leaving out the seed and what differs from one image of a batch to the next anyway (dates, the file's
own notes). Images with one key are one batch. An image without a prompt or without a recorded seed
gets 0: it is never stacked (nothing says it belongs to a batch); so does an image made from another
(cleaned, a grid cell). NULL: not made yet (an older library;
`fill_batches` makes them, the app does it in the background).

The grouping itself is the catalog's (SQLite, numpy) or PostgreSQL's (a window over the key), never
Python over every image.
"""
from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any, Callable

from peewee import chunked

from .models import Image
from .query import SEED_KEYS, param

if TYPE_CHECKING:
    from .library import Library

NOT_STACKED = 0
BATCH = 500
# Parameters that differ between the images of one batch (or say nothing about how it was made).
VARIABLE_KEYS = frozenset(SEED_KEYS) | {
    "Variation seed", "subseed", "Created Date", "created", "date", "Date", "timestamp", "Time taken",
    "_date_from", "_given", "_format", "demo", "batch_index", "Batch pos", "request_id", "job_id",
}


def batch_key(owner: int, prompt: str, negative: str, model: str, cfg: str, width: int, height: int,
              params: dict[str, Any] | None, derived: bool = False) -> int:
    """The image's batch key (a signed 64-bit number), or NOT_STACKED (also for an image made from another:
    a cleaned one or a grid cell keeps its source's settings but is not a seed variation of it)."""
    params = params if isinstance(params, dict) else {}
    if derived or not (prompt or "").strip() or param(params, "seed") is None:
        return NOT_STACKED
    settings = {k: v for k, v in params.items() if k not in VARIABLE_KEYS}
    text = json.dumps([owner, prompt, negative, model, cfg, width, height, settings], sort_keys=True,
                      ensure_ascii=False, default=str)
    key = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big", signed=True)
    return key or 1


def _params(text: str | None) -> dict[str, Any]:
    try:
        params = json.loads(text or "{}")
    except ValueError:
        return {}
    return params if isinstance(params, dict) else {}


def fill_batches(library: "Library", cancel: Callable[[], bool] | None = None) -> int:
    """Make the batch key of the account's images that have none yet; returns how many were made."""
    todo = [i for (i,) in Image.select(Image.id).where(library._mine(), Image.batch.is_null())
            .order_by(Image.id).tuples()]
    made = 0
    for part in chunked(todo, BATCH):
        if cancel is not None and cancel():
            break
        rows = list(Image.select(Image.id, Image.owner, Image.prompt, Image.negative_prompt, Image.model,
                                 Image.text_accuracy, Image.width, Image.height, Image.params, Image.derivation)
                    .where(Image.id.in_(part)).tuples())
        values = [(batch_key(owner, prompt, negative, model, cfg, width, height, _params(params), bool(derivation)),
                   image_id)
                  for image_id, owner, prompt, negative, model, cfg, width, height, params, derivation in rows]
        with library.db.atomic():  # one prepared statement for the batch (peewee would build SQL per row)
            library.db.cursor().executemany(
                f'UPDATE "image" SET "batch" = {library.db.param} WHERE "id" = {library.db.param}', values)
        made += len(rows)
    return made
