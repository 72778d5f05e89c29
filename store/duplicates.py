"""Duplicates and near-duplicates (issue 16): the same picture in another file.

Exact copies are one image already (content hash). This finds the rest (re-encoded, resized,
PNG vs JPEG/WebP, with or without metadata) by a perceptual hash (imagehash's pHash, 64 bits,
kept in Image.phash): two images are the same picture when their hashes differ in at most
`max_distance()` bits.

Grouping many images is done without comparing every pair: the 64 bits are cut into
distance + 1 blocks, and two hashes that close agree exactly on at least one block (pigeonhole),
so only images sharing a block value are compared (numpy, per bucket).
"""
from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import numpy as np
from peewee import chunked

from .models import Image, ImageCollection, MergedImage, MergeGain
from .records import ImageRecord

if TYPE_CHECKING:
    from .library import Library

BATCH = 200
MIN_SIDE = 16  # pixels: a smaller picture (a 1x1 placeholder) is not compared with any other
FLAT_STDDEV = 2.0  # grey levels: a picture varying less than this is flat, and not compared either


def max_distance() -> int:
    """MYIMAGES_DUPLICATE_DISTANCE, else `duplicate_distance` in the settings file, else 6."""
    from .settings import current

    return current().duplicate_distance


def perceptual_hash(image) -> str:
    """A PIL image's pHash as 16 hex digits; "-" for a flat picture (one colour, or nearly): pHash sees
    only structure, so every flat picture would hash alike whatever its colour."""
    import imagehash
    from PIL import ImageStat

    if image.mode not in ("RGB", "L"):
        image = image.convert("RGBA").convert("RGB")
    small = image.convert("L").resize((32, 32))
    if ImageStat.Stat(small).stddev[0] < FLAT_STDDEV:
        return "-"
    return str(imagehash.phash(image))


def thumbnail_hash(thumbnail: bytes, width: int, height: int) -> str | None:
    """The hash at import, from the thumbnail just made (a 256 px PNG: about a millisecond, not a decode
    of the whole picture); None when it cannot be made (fill_hashes tries again from the file)."""
    if min(width, height) < MIN_SIDE:
        return "-"
    try:
        from PIL import Image as PILImage

        with PILImage.open(io.BytesIO(thumbnail)) as image:
            return perceptual_hash(image)
    except Exception:  # noqa: BLE001
        return None


@dataclass(frozen=True)
class DuplicateGroup:
    keep: ImageRecord  # the default one to keep: the largest with metadata
    others: list[ImageRecord]
    distance: int  # the largest difference in bits between the kept one and another

    @property
    def records(self) -> list[ImageRecord]:
        return [self.keep, *self.others]


def fill_hashes(library: "Library", progress: Callable[[int, int], None] | None = None,
                cancel: Callable[[], bool] | None = None, share: float = 1.0) -> int:
    """Make the perceptual hash of the account's images that have none yet; returns how many were made.

    Each from the image's thumbnail, as an import makes it (a 256 px PNG: about a millisecond), else from its
    file. With `share` below 1 (the app's pass in the background over an older library, hours of work on a
    million images), it rests after each batch so that it works at most that share of the time: the
    interpreter and the processor stay free for the app most of the time."""
    import time

    from PIL import Image as PILImage

    todo = [i for (i,) in Image.select(Image.id).where(library._mine(), Image.trashed_at.is_null(),
                                                        Image.phash.is_null() | (Image.phash == ""))
            .order_by(Image.id).tuples()]
    made = 0
    for part in chunked(todo, BATCH):
        if cancel is not None and cancel():
            break
        began = time.perf_counter()
        hashes: dict[int, str] = {}
        for record in library._records_by_id(part):
            try:
                value = thumbnail_hash(record.thumbnail_path.read_bytes(), record.width, record.height)
            except OSError:
                value = None
            if value is not None:
                hashes[record.id] = value
                continue
            try:
                with PILImage.open(record.path) as image:
                    if min(image.size) < MIN_SIDE:  # too small to tell pictures apart: never grouped
                        hashes[record.id] = "-"
                        continue
                    image.draft("RGB", (256, 256))  # JPEG: decoded small, enough for a 32x32 hash
                    hashes[record.id] = perceptual_hash(image)
            except Exception:  # noqa: BLE001 - a file that cannot be read is left out (doctor says why)
                hashes[record.id] = "-"
        with library.db.atomic():
            for image_id, value in hashes.items():
                Image.update(phash=value).where(Image.id == image_id).execute()
        made += len(hashes)
        if progress is not None:
            progress(made, len(todo))
        if share < 1.0:
            rest = (time.perf_counter() - began) * (1.0 - share) / share
            while rest > 0 and not (cancel is not None and cancel()):  # a cancel is seen within 0.1 s
                time.sleep(min(rest, 0.1))
                rest -= 0.1
    return made


class Cancelled(Exception):
    """Finding groups was cancelled (`cancel()` answered True)."""


def _pairs_within(values: np.ndarray, distance: int, step: Callable[[], None] | None = None) -> list[tuple[int, int]]:
    """Index pairs (i, j) whose 64-bit values differ in at most `distance` bits. `step()` is called after
    each of the distance + 1 blocks (progress, and a chance to cancel by raising)."""
    n = len(values)
    if n < 2:
        return []
    blocks = distance + 1
    edges = np.linspace(0, 64, blocks + 1).astype(int)
    found: set[tuple[int, int]] = set()
    for low, high in zip(edges[:-1], edges[1:]):
        if step is not None:
            step()
        if high <= low:
            continue
        mask = np.uint64((1 << (high - low)) - 1)
        keys = (values >> np.uint64(low)) & mask
        order = np.argsort(keys, kind="stable")
        sorted_keys = keys[order]
        starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
        ends = np.r_[starts[1:], n]
        for start, end in zip(starts, ends):
            if end - start < 2:
                continue
            members = order[start:end]
            bucket = values[members]
            differ = np.bitwise_count(bucket[:, None] ^ bucket[None, :])
            i, j = np.nonzero(np.triu(differ <= distance, 1))
            found.update(zip(members[i].tolist(), members[j].tolist()))
    return sorted(found)


def _keep_first(records: list[ImageRecord]) -> list[ImageRecord]:
    """The one to keep first: the largest with metadata (a prompt), then the oldest import."""
    return sorted(records, key=lambda r: (not r.prompt.strip(), -(r.width * r.height), -r.file_size, r.id))


COLOUR_TOLERANCE = 32  # the largest difference (of 255) between two 4×4 colour signatures' cells: re-encodes and
# resizes stay far under; a key drawn gold and the same key drawn grey on one background differ by 70


def _colour_signature(path) -> np.ndarray | None:
    """The picture's colours in 4×4 cells (over white where it is transparent); None if it cannot be read."""
    from PIL import Image as PILImage

    try:
        with PILImage.open(path) as picture:
            rgba = picture.convert("RGBA")
            flat = PILImage.new("RGBA", rgba.size, (255, 255, 255, 255))
            flat.alpha_composite(rgba)
            return np.asarray(flat.convert("RGB").resize((4, 4), PILImage.Resampling.BOX), np.float32)
    except (OSError, ValueError, PILImage.DecompressionBombError):
        return None


def _colour_signatures(library: "Library", ids: np.ndarray, indexes: set[int]) -> dict[int, np.ndarray | None]:
    """pHash compares brightness only: a red and a purple apple of one shape hash alike. The colours of the
    images in a candidate pair (read from their thumbnails, small) tell them apart."""
    if not indexes:
        return {}
    order = sorted(indexes)
    records = {r.id: r for r in library._records_by_id(ids[order].tolist())}
    signatures: dict[int, np.ndarray | None] = {}
    for index in order:
        record = records.get(int(ids[index]))
        if record is None:
            signatures[index] = None
        else:
            signatures[index] = _colour_signature(record.thumbnail_path if record.thumbnail_path.exists()
                                                  else record.path)
    return signatures


def _same_colours(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    """Within COLOUR_TOLERANCE; a picture that could not be read is judged by its hash alone."""
    return a is None or b is None or float(np.abs(a - b).max()) <= COLOUR_TOLERANCE


def find_groups(library: "Library", distance: int | None = None,
                progress: Callable[[int, int], None] | None = None,
                cancel: Callable[[], bool] | None = None) -> list[DuplicateGroup]:
    """Groups of the account's images (not in the trash) that are the same picture, the largest group first.

    `progress(done, total)` is told after each of the distance + 2 steps (the comparison blocks and
    reading the groups' records); `cancel()` answering True stops it with `Cancelled`."""
    distance = max_distance() if distance is None else distance
    steps = [0]

    def step() -> None:
        if cancel is not None and cancel():
            raise Cancelled()
        if progress is not None:
            progress(steps[0], distance + 2)
        steps[0] += 1

    rows = [(i, h) for i, h in Image.select(Image.id, Image.phash).where(
        library._mine(), Image.trashed_at.is_null(), Image.phash.is_null(False),
        Image.phash.not_in(["", "-"])).tuples()]
    if len(rows) < 2:
        return []
    ids = np.array([i for i, _ in rows], np.int64)
    values = np.array([int(h, 16) for _, h in rows], np.uint64)
    parent = list(range(len(rows)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    pairs = _pairs_within(values, distance, step)
    colours = _colour_signatures(library, ids, {k for pair in pairs for k in pair})
    for i, j in pairs:
        if not _same_colours(colours.get(i), colours.get(j)):
            continue  # one shape in other colours (an item set of one style): not the same picture
        a, b = root(i), root(j)
        if a != b:
            parent[max(a, b)] = min(a, b)
    step()
    members: dict[int, list[int]] = {}
    for index in range(len(rows)):
        members.setdefault(root(index), []).append(index)
    groups = []
    for indexes in members.values():
        if len(indexes) < 2:
            continue
        records = _keep_first(library._records_by_id(ids[indexes].tolist()))
        keep = records[0]
        kept_hash = values[indexes][ids[indexes] == keep.id][0]
        far = int(np.bitwise_count(values[indexes] ^ kept_hash).max())
        groups.append(DuplicateGroup(keep, records[1:], far))
    groups.sort(key=lambda g: (-len(g.others), g.keep.id))
    if progress is not None:
        progress(distance + 2, distance + 2)
    return groups


def merge_into(library: "Library", keep: int, others: list[int]) -> int:
    """Trash `others`; their favorite and collections go to `keep`. Returns how many went.

    What `keep` gains (the favorite, collections it was not in) and what each duplicate gave is recorded in
    the same transaction (MergeGain, MergedImage): restoring the duplicates takes it back (`unmerge`)."""
    from . import trash

    ids = library._own_ids([keep, *others])
    others = [i for i in ids if i != keep]
    if not others:
        return 0
    return len(trash.trash(library, others, then=lambda: _merge(keep, others)))


def _merge(keep: int, others: list[int]) -> None:
    """The favorite and collections of `others` given to `keep`, and recorded (inside the trashing transaction)."""
    favorites: dict[int, bool] = {}
    collections: dict[int, set[int]] = {i: set() for i in [keep, *others]}
    for part in chunked([keep, *others], 500):
        favorites.update(Image.select(Image.id, Image.favorite).where(Image.id.in_(part)).tuples())
        for image_id, collection in (ImageCollection.select(ImageCollection.image, ImageCollection.collection)
                                     .where(ImageCollection.image.in_(part)).tuples()):
            collections[image_id].add(collection)
    given = set().union(*(collections[i] for i in others))
    gained = sorted(given - collections[keep])
    gains_favorite = not favorites.get(keep) and any(favorites.get(i) for i in others)
    if gains_favorite:
        Image.update(favorite=True).where(Image.id == keep).execute()
    for part in chunked(gained, 500):
        ImageCollection.insert_many([{"image": keep, "collection": c} for c in part]).on_conflict_ignore().execute()
    before = MergeGain.get_or_none(MergeGain.keep == keep)
    had = set(json.loads(before.collections)) if before else set()
    row = {"favorite": bool(before and before.favorite) or gains_favorite,
           "collections": json.dumps(sorted(had | set(gained)))}
    MergeGain.insert(keep=keep, **row).on_conflict(
        conflict_target=[MergeGain.keep], update={getattr(MergeGain, k): v for k, v in row.items()}).execute()
    for part in chunked(others, 500):
        MergedImage.delete().where(MergedImage.image.in_(part)).execute()  # merged before, back by an import
        MergedImage.insert_many([{"image": i, "keep": keep, "favorite": bool(favorites.get(i)),
                                  "collections": json.dumps(sorted(collections[i]))} for i in part]).execute()


def unmerge(image_ids: list[int]) -> None:
    """Restored duplicates take back what their merge gave the kept image: its favorite, and the collections
    it joined, unless another duplicate still in the trash (or erased) gave the same. Inside the restoring
    transaction."""
    keeps: set[int] = set()
    for part in chunked(image_ids, 500):
        keeps.update(k for (k,) in MergedImage.select(MergedImage.keep).where(MergedImage.image.in_(part)).tuples())
        MergedImage.delete().where(MergedImage.image.in_(part)).execute()
    for keep in sorted(keeps):
        gain = MergeGain.get_or_none(MergeGain.keep == keep)
        if gain is None:
            continue
        left = list(MergedImage.select(MergedImage.favorite, MergedImage.collections)
                    .where(MergedImage.keep == keep).tuples())
        favorite = gain.favorite and any(f for f, _c in left)
        still = {c for _f, given in left for c in json.loads(given)}
        gained = set(json.loads(gain.collections))
        if gain.favorite and not favorite:
            Image.update(favorite=False).where(Image.id == keep).execute()
        taken_back = sorted(gained - still)
        for part in chunked(taken_back, 500):
            ImageCollection.delete().where(ImageCollection.image == keep,
                                           ImageCollection.collection.in_(part)).execute()
        if left:
            MergeGain.update(favorite=favorite, collections=json.dumps(sorted(gained & still))).where(
                MergeGain.keep == keep).execute()
        else:
            MergeGain.delete().where(MergeGain.keep == keep).execute()
