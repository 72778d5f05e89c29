"""Plain records the store hands out; widgets and the command line never see Peewee rows."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

FAVORITE_ALL = "all"
FAVORITES_ONLY = "favorites"
NON_FAVORITES = "non-favorites"
FAVORITE_CHOICES = (FAVORITE_ALL, FAVORITES_ONLY, NON_FAVORITES)
SCOPE_MINE = "mine"  # the acting account's own images
SCOPE_PUBLIC = "public"  # every free account's images: the public gallery
# params["_date_from"], set on import: where the generation date shown came from
DATE_NOTES = {"file": " (from the file)", "modified": " (the file's modified time: no date in the file)",
              "given": " (set by hand)"}


def recorded(text: str) -> str:
    """A setting's text as shown: "" (not recorded) for a file's nan or inf, which is no value (scripts get null)."""
    return "" if text.strip().lower().lstrip("+-") in ("nan", "inf", "infinity") else text


def utc_now() -> datetime:
    """Naive UTC, as stored."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


# The dates a library stores: a day inside Python's range at either end, so that a stored date can be
# shown in every time zone (UTC-12 to UTC+14). A file's date outside them (EXIF's 9999:12:31 placeholder)
# counts as no date; a date given by hand outside them is refused (DateOutOfRange).
STORED_MIN = datetime(1, 1, 2)
STORED_MAX = datetime(9999, 12, 30, 23, 59, 59)


class DateOutOfRange(ValueError):
    """A date a library cannot store (the message is one sentence for the user)."""


def to_local(stored: datetime) -> datetime:
    """A stored naive-UTC time as an aware local time (in UTC when local time cannot show it: a date at the
    very end of the calendar that an older version stored)."""
    moment = stored.replace(tzinfo=timezone.utc)
    try:
        return moment.astimezone()
    except (OverflowError, ValueError):
        return moment


def to_stored(moment: datetime) -> datetime:
    """Any datetime (aware, or naive meaning local time) as naive UTC; DateOutOfRange outside
    STORED_MIN..STORED_MAX."""
    try:
        if moment.tzinfo is None:
            moment = moment.astimezone()
        stored = moment.astimezone(timezone.utc).replace(tzinfo=None)
    except (OverflowError, ValueError):
        stored = None
    if stored is None or not STORED_MIN <= stored <= STORED_MAX:
        raise DateOutOfRange(f"{moment.isoformat()} is out of range: dates go from "
                             f"{STORED_MIN.date().isoformat()} to {STORED_MAX.date().isoformat()}.")
    return stored


def human_size(n: float) -> str:
    if n < 1024:
        return f"{int(n)} bytes"
    for unit in ("KB", "MB", "GB"):
        n /= 1024
        if n < 1024 or unit == "GB":
            return f"{n:.1f} {unit}"
    return f"{n:.1f} GB"


def _quoted(value: str) -> str:
    """A setting's value as A1111's infotext writes it: in JSON quotes when it holds a comma, a colon or a line
    break (its `quote()`), else as it is."""
    return json.dumps(value, ensure_ascii=False) if any(c in value for c in ",:\n") else value


@dataclass(frozen=True)
class Count:
    """How many images a result holds: exact, or (PostgreSQL, a large result) an estimate.

    An estimate is only ever given for a result known to hold more than a thousand images
    (store/search.py `estimate`): the planner's, rounded to two significant digits ("about 140,000"),
    or, where the planner guessed fewer than are known to be there, that lower bound ("over 1,000")."""

    n: int
    exact: bool = True
    at_least: bool = False  # not exact: n images at least are there, maybe more

    @property
    def hint(self) -> int | None:
        """The count a page's plan may go by (store/search.py `page`): None for an estimate (the planner, which
        made it, plans the page by it too)."""
        return self.n if self.exact else None

    def __str__(self) -> str:
        """With thousands separators, as every count the user reads: "270,000", "about 140,000"."""
        if self.exact:
            return f"{self.n:,}"
        return f"over {self.n - 1:,}" if self.at_least else f"about {self.n:,}"


@dataclass(frozen=True)
class PageMark:
    """Where a page of a result read along an index ended (store/search.py `page_after`): the index just past
    its last row, the walk of the order that row was in, and that row's order keys. The next page is read from
    there by the keys, not by counting past every row before it."""

    offset: int
    part: int
    keys: tuple


@dataclass(frozen=True)
class Filters:
    """What the grid or `myimages list` shows. All parts combine."""

    search: str = ""  # the query language of store/query.py
    favorite: str = FAVORITE_ALL
    collection_id: int | None = None
    scope: str = SCOPE_MINE
    sort: str = "newest"  # one of store.query.SORTS (sort:NAME in the search wins)
    seed: int = 0  # the random order's: the same seed, the same order
    stacked: bool = False  # a batch (settings identical but the seed: store/stacks.py) shows as one stack
    batch: int | None = None  # only the images of this batch (a stack opened)

    def describe(self, collection_name: str | None = None) -> str:
        from .query import parse

        parts = ["one stack of the same settings"] if self.batch is not None else []  # first: a short line shows it
        searched = parse(self.search).describe()  # "" for sort:NAME alone or an empty phrase: they filter nothing
        if searched:
            parts.append(searched)
        if self.favorite == FAVORITES_ONLY:
            parts.append("favorites only")
        elif self.favorite == NON_FAVORITES:
            parts.append("non-favorites")
        if self.collection_id is not None:
            parts.append(f"in {collection_name or 'collection'}")
        return ", ".join(parts)

    @property
    def searches(self) -> bool:
        """Whether the search filters anything (not "", sort:NAME alone, an empty phrase or a lone |)."""
        from .query import parse

        return bool(self.search.strip()) and not parse(self.search).empty

    @property
    def active(self) -> bool:
        return (self.searches or self.favorite != FAVORITE_ALL or self.collection_id is not None
                or self.batch is not None)


@dataclass(frozen=True)
class AccountRecord:
    id: int
    name: str
    plan: str

    @property
    def public(self) -> bool:
        return self.plan == "free"

    @property
    def privacy_text(self) -> str:
        if self.public:
            return "Free — your images are public"
        return "Premium — your images are private"


@dataclass(frozen=True)
class CollectionRecord:
    id: int
    name: str
    count: int = 0  # its images not in the trash
    in_trash: int = 0  # its images in the trash, which come back into it if restored

    def trash_sentence(self) -> str:
        """What deleting the collection does to its images in the trash ("" when none): they keep their
        collections to get them back on restore, this one excepted once it is gone."""
        if not self.in_trash:
            return ""
        one = self.in_trash == 1
        count = "1 image" if one else f"{self.in_trash:,} images"
        return (f"{count} of it {'is' if one else 'are'} in the trash: restored, {'it' if one else 'they'} will not "
                "come back into it.")


@dataclass
class ImageRecord:
    id: int
    owner: str
    prompt: str
    negative_prompt: str
    model: str
    text_accuracy: str
    generated_at: datetime  # aware, local time
    imported_at: datetime  # aware, local time
    width: int
    height: int
    file_size: int
    sha256: str
    ext: str
    favorite: bool
    params: dict[str, Any]
    source_name: str
    parent_id: int | None
    derivation: str
    path: Path
    thumbnail_path: Path
    collections: list[str] = field(default_factory=list)
    linked: bool = False  # its file is in a watched source folder (`path`), not a copy in the library
    batch: int = 0  # its batch key (store/stacks.py); 0: not part of a batch
    stack: int = 0  # shown stacked: how many images of its batch its card stands for (2 or more: a stack)
    # a linked image's other files (the same picture elsewhere in watched folders: one image), read for one image
    # (Library.get, the info screen); None: not read (a page's records). Not compared: a record read by get() is
    # equal to the same record of a page
    also_at: tuple[Path, ...] | None = field(default=None, compare=False)
    # its mini thumbnail (files.MINI_SIZE, what the half-cell cards draw), where the library keeps it; None: it has
    # none there (a linked image not given a thumbnail yet). The file may not be made yet (an older library's, made
    # by store/minis.py in the background): the thumbnail is read then
    mini_path: Path | None = None

    def as_json(self) -> dict[str, Any]:
        """The record for scripts (`--json` of list, info, trash list, duplicates): one type per key whatever
        the generator wrote: seed and steps whole numbers, text_accuracy a number (null when not recorded or
        not a number), the text fields text ("" when not recorded: prompt, model, negative_prompt and sampler,
        which was null, NEWUSER7 #21); `info --json` also gives the params as the file had them."""
        from .query import as_number, param, seed_number, whole_number
        from .text import shown_path  # (text imports this module)

        sampler = param(self.params, "sampler")
        return {
            "id": self.id,
            "prompt": self.prompt,
            "model": self.model,
            "text_accuracy": as_number(self.text_accuracy) if self.text_accuracy else None,
            "seed": seed_number(self.params),  # a file's negative seed counts as none, as in a search
            "steps": whole_number(param(self.params, "steps")),
            "sampler": str(sampler) if sampler is not None else "",  # text, "" when not recorded, as prompt and model
            "generated_at": self.generated_at.isoformat(),
            "favorite": self.favorite,
            "collections": list(self.collections),
            "width": self.width,
            "height": self.height,
            "path": shown_path(str(self.path)),
            **({} if self.also_at is None else {"paths": [shown_path(str(p)) for p in (self.path, *self.also_at)]}),
            "owner": self.owner,
            "negative_prompt": self.negative_prompt,
            "imported_at": self.imported_at.isoformat(),
            "file_size": self.file_size,
            "sha256": self.sha256,
            "derived_from": self.parent_id,
            "derivation": self.derivation,
        }

    def info_rows(self) -> list[tuple[str, str]]:
        """The fields the info screen and `myimages info` show, as (label, text)."""
        rows = [
            ("Image", f"#{self.id}"),
            ("Owner", self.owner),
            ("Model", self.model or "not recorded"),  # (it said "unknown", which model:unknown does not find)
            ("Text accuracy", recorded(self.text_accuracy) or "not recorded"),
            *self.setting_rows(),
            ("Generated", self.generated_at.strftime("%Y-%m-%d %H:%M:%S %Z") + self.date_note),
            ("Imported", self.imported_at.strftime("%Y-%m-%d %H:%M:%S %Z")),
            ("Favorite", "yes" if self.favorite else "no"),
            ("Collections", ", ".join(self.collections) or "none"),
            ("Dimensions", f"{self.width} × {self.height} pixels"),
            ("File size", human_size(self.file_size)),
            ("File", str(self.path)),
        ]
        if self.also_at:  # the same picture in other places of the sources: one image, every file of it
            rows.append(("Also at", "\n".join(str(p) for p in self.also_at)))
        if self.source_name and not self.derivation:  # a derived image was made here, not imported (its original's name)
            rows.append(("Imported from", self.source_name))
        if self.origin:
            rows.append(("Derived", self.origin))
        note = self.params.get("_note") if not self.prompt else None  # "prompt too large: not read (…)"
        rows.append(("Prompt", self.prompt or (f"({note})" if isinstance(note, str) and note else "(none)")))
        if self.negative_prompt:
            rows.append(("Negative prompt", self.negative_prompt))
        return rows

    def setting_rows(self) -> list[tuple[str, str]]:
        """The generation settings the library read and a search finds the image by (seed:, steps:, sampler:,
        lora:), those the file records (NEWUSER6 §11: only compare and --json showed them)."""
        from .query import LORA_KEYS, lora_names, param, seed_number, whole_number

        seed, steps, sampler = seed_number(self.params), whole_number(param(self.params, "steps")), \
            param(self.params, "sampler")
        listed = next((self.params[k] for k in LORA_KEYS if k in self.params), None)
        loras = lora_names(self.prompt, listed, folded=False).replace("\n", ", ")  # as written: names to copy
        size = self.params.get("Size")  # A1111's generation size (the file may be a crop or an upscale)
        rows = [("Seed", str(seed) if seed is not None else ""), ("Steps", str(steps) if steps is not None else ""),
                ("Sampler", " ".join(str(sampler).split()) if sampler is not None else ""), ("LoRAs", loras),
                ("Generation size", str(size) if size and str(size) != f"{self.width}x{self.height}" else "")]
        return [(label, text) for label, text in rows if text]

    def settings_text(self, others: Iterable[tuple[str, str]] = ()) -> str:
        """The image's prompt and settings as A1111/Forge write them (and paste back in one go, "Read generation
        parameters"): the prompt, "Negative prompt: …", then "Steps: 30, Sampler: …, CFG scale: 7, Seed: …,
        Size: WxH, Model: …", only the fields the image has (NEWUSER7 #15); `others`, more (label, value) pairs
        after them (`export.infotext`: the file's other settings, what the prompt dialog's Copy settings copies)."""
        from .query import param, seed_number, whole_number

        seed, steps, sampler = seed_number(self.params), whole_number(param(self.params, "steps")), \
            param(self.params, "sampler")
        size = self.params.get("Size")  # the generation size when the file gives it (a crop or an upscale)
        fields = [("Steps", str(steps) if steps is not None else ""),
                  ("Sampler", " ".join(str(sampler).split()) if sampler is not None else ""),
                  ("CFG scale", recorded(self.text_accuracy).strip()),
                  ("Seed", str(seed) if seed is not None else ""),
                  ("Size", str(size) if size else f"{self.width}x{self.height}" if self.width and self.height else ""),
                  ("Model", " ".join(self.model.split())), *others]
        lines = [self.prompt] if self.prompt else []
        if self.negative_prompt:
            lines.append(f"Negative prompt: {self.negative_prompt}")
        # a value with a comma, colon or line break in quotes, as A1111 writes it (its infotext's quote())
        settings = ", ".join(f"{label}: {_quoted(text)}" for label, text in fields if text)
        if settings:
            lines.append(settings)
        return "\n".join(lines)

    @property
    def date_note(self) -> str:
        """Where the generation date came from, in words (empty when not recorded: older imports)."""
        source = str(self.params.get("_date_from", ""))
        if source == "original":  # a derived image: its original's date (derived.derived_image)
            return f" (the original's, #{self.parent_id})" if self.parent_id else " (its original's)"
        return DATE_NOTES.get(source, "")

    @property
    def origin(self) -> str:
        """What a derived image came from, in words; empty for an original."""
        if not self.derivation:
            return ""
        source = f"#{self.parent_id}" if self.parent_id else "a deleted image"
        return f"{self.derivation} of {source}" if self.derivation.startswith("cell") else f"{self.derivation} from {source}"
