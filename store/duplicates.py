"""Duplicates and near-duplicates (issue 16): the same picture in another file.

Exact copies are one image already (content hash). This finds the rest (re-encoded, resized,
PNG vs JPEG/WebP, with or without metadata) by two perceptual hashes of 64 bits each (imagehash's):
pHash (kept in Image.phash) and dHash (Image.dhash). Two images are the same picture when their
pHashes differ in at most `max_distance()` bits, and their colours agree.

pHash compares the signs of the picture's lowest frequencies against their median. A fine regular
pattern (a checkerboard, stripes, tiles: pixel art) has nothing at those frequencies: most of its 64
values tie with the median, and a lossy re-encode's faint noise flips them at random (a lossy WebP of
a checkerboard differed in 31 bits: new-user test item 15). Such a pHash is recorded as "-" (fragile),
and the image is compared by its dHash (the direction of brightness between neighbours, which that
noise does not change) with every other image. dHash is not used for the rest: on sheets of small items
on a flat background it is nearly all zeros and takes different sheets for one picture (the demo's 16
rings in two arrangements: dHash 0 bits apart, pHash 20).

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
    from PIL import Image as PILImage

    from .library import Library

BATCH = 200
MIN_SIDE = 16  # pixels: a smaller picture (a 1x1 placeholder) is not compared with any other
FLAT_STDDEV = 2.0  # grey levels: a picture varying less than this is flat, and not compared either
NOT_COMPARED = ("-", "-")  # the hashes of a flat or too small picture: never grouped
# pHash is fragile when this many of its 63 low frequencies (DC aside) lie within TIE of the largest one's
# size from their median: the checkerboards of the new-user test have 47 (exact zeros); the demo's sheets
# and the real generator files at most 23.
FRAGILE_TIES = 32
TIE = 0.005


def max_distance() -> int:
    """MYIMAGES_DUPLICATE_DISTANCE, else `duplicate_distance` in the settings file, else 6."""
    from .settings import current

    return current().duplicate_distance


def picture_hashes(image) -> tuple[str, str]:
    """A PIL image's (pHash, dHash), 16 hex digits each. pHash is "-" when it is fragile (see the module's
    docstring): the image is then compared by its dHash. Both are "-" for a flat picture (one colour, or
    nearly): every flat picture would hash alike whatever its colour."""
    import imagehash
    import scipy.fftpack
    from PIL import Image as PILImage
    from PIL import ImageStat

    if image.mode not in ("RGB", "L"):
        image = image.convert("RGBA").convert("RGB")
    grey = image.convert("L")
    if ImageStat.Stat(grey.resize((32, 32))).stddev[0] < FLAT_STDDEV:
        return NOT_COMPARED
    # the 8x8 lowest frequencies pHash takes its bits from, made as imagehash.phash makes them
    pixels = np.asarray(grey.resize((32, 32), PILImage.Resampling.LANCZOS))
    low = scipy.fftpack.dct(scipy.fftpack.dct(pixels, axis=0), axis=1)[:8, :8].ravel()
    scale = float(np.abs(low[1:]).max())
    ties = int((np.abs(low[1:] - np.median(low)) <= TIE * scale).sum())
    phash = "-" if ties >= FRAGILE_TIES else str(imagehash.phash(image))
    return phash, str(imagehash.dhash(image))


def thumbnail_hashes(thumbnail: "bytes | PILImage.Image", width: int, height: int) -> tuple[str, str] | None:
    """The hashes of a picture of `width` x `height` pixels, from its thumbnail (a 256 px PNG, not a decode of the
    whole picture): its bytes, or (an import, which has just made it) its picture still in memory, the same pixels
    (PNG is lossless: the same hashes), not its PNG decoded again. None when they cannot be made (fill_hashes tries
    again from the file)."""
    if min(width, height) < MIN_SIDE:
        return NOT_COMPARED
    try:
        from PIL import Image as PILImage

        if not isinstance(thumbnail, bytes):
            return picture_hashes(thumbnail)
        with PILImage.open(io.BytesIO(thumbnail)) as image:
            return picture_hashes(image)
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
    """Make the perceptual hashes of the account's images that have none yet (or only the pHash: a library
    older than the dHash, whose pHash is made again, as it may be fragile); returns how many were made.

    Each from the image's thumbnail, as an import makes it (a 256 px PNG: about a millisecond), else from its
    file. With `share` below 1 (the app's pass in the background over an older library, hours of work on a
    million images), it rests after each batch so that it works at most that share of the time: the
    interpreter and the processor stay free for the app most of the time."""
    import time

    from PIL import Image as PILImage

    todo = [i for (i,) in Image.select(Image.id).where(library._mine(), Image.trashed_at.is_null(),
                                                        Image.phash.is_null() | (Image.phash == "")
                                                        | Image.dhash.is_null() | (Image.dhash == ""))
            .order_by(Image.id).tuples()]
    made = 0
    for part in chunked(todo, BATCH):
        if cancel is not None and cancel():
            break
        began = time.perf_counter()
        hashes: dict[int, tuple[str, str]] = {}
        for record in library._records_by_id(part):
            try:
                value = thumbnail_hashes(record.thumbnail_path.read_bytes(), record.width, record.height)
            except OSError:
                value = None
            if value is not None:
                hashes[record.id] = value
                continue
            try:
                with PILImage.open(record.path) as image:
                    if min(image.size) < MIN_SIDE:  # too small to tell pictures apart: never grouped
                        hashes[record.id] = NOT_COMPARED
                        continue
                    image.draft("RGB", (256, 256))  # JPEG: decoded small, enough for a 32x32 hash
                    hashes[record.id] = picture_hashes(image)
            except Exception:  # noqa: BLE001 - a file that cannot be read is left out (doctor says why)
                hashes[record.id] = NOT_COMPARED
        with library.db.atomic():
            for image_id, (phash, dhash) in hashes.items():
                Image.update(phash=phash, dhash=dhash).where(Image.id == image_id).execute()
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


def _pairs_within(values: np.ndarray, distance: int, step: Callable[[], None] | None = None,
                  among: np.ndarray | None = None) -> list[tuple[int, int]]:
    """Index pairs (i, j), i < j, whose 64-bit values differ in at most `distance` bits; with `among` (a mask),
    only the pairs with at least one of them. `step()` is called after each of the distance + 1 blocks
    (progress, and a chance to cancel by raising)."""
    n = len(values)
    if n < 2 or (among is not None and not among.any()):
        for _ in range(distance + 1):
            if step is not None:
                step()
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
            if among is None:
                differ = np.bitwise_count(bucket[:, None] ^ bucket[None, :])
                i, j = np.nonzero(np.triu(differ <= distance, 1))
                found.update(zip(members[i].tolist(), members[j].tolist()))
                continue
            chosen = members[among[members]]  # each of them against the whole bucket
            if len(chosen) == 0:
                continue
            differ = np.bitwise_count(values[chosen][:, None] ^ bucket[None, :])
            i, j = np.nonzero(differ <= distance)
            found.update((min(a, b), max(a, b)) for a, b in zip(chosen[i].tolist(), members[j].tolist()) if a != b)
    return sorted(found)


def _keep_first(records: list[ImageRecord]) -> list[ImageRecord]:
    """The one to keep first: an original, never an image derived from one (a cleaned copy, a grid cell) nor a
    copy this app exported and was given back (its `myimages` chunk says so: params `_export_of`); then the
    largest with metadata (a prompt); of the same size, a PNG (lossless: a lossy WebP or JPEG of it is often the
    larger file, for pixel art), then the larger file, then the oldest import."""
    return sorted(records, key=lambda r: (bool(r.derivation or r.parent_id), bool(r.params.get("_export_of")),
                                          not r.prompt.strip(), -(r.width * r.height), r.ext != "png", -r.file_size,
                                          r.id))


COLOUR_TOLERANCE = 32  # the largest difference (of 255) between two 4×4 colour signatures' cells: re-encodes and
# resizes stay far under; a key drawn gold and the same key drawn grey on one background differ by 70
FINE_CELLS = 8
FINE_TOLERANCE = 40  # the same in 8×8 cells, where a thin or small part in other colours shows: a ring drawn cyan
# and drawn silver on one dark background (4×4: 29, 8×8: 56), a scroll's knobs purple or orange (29, 117), sets of
# swords or axes in other orders (20, 62; 22, 44): 8 of the 12 different pictures grouped in the 200-image demo.
# Re-encodes (WebP 50-80, JPEG 70) and halves of 96 demo sheets and 25 real generator files stay within 34.
PATTERN_TOLERANCE = 32  # in 8×8 cells, for a pair found by dHash alone (patterns): stripes 8 and 16 to the picture
# have one dHash and one 4×4 signature; a lossy re-encode or a resize of a pattern stays within 10


def _colour_signature(path) -> tuple[np.ndarray, np.ndarray] | None:
    """The picture's colours in 4×4 and in 8×8 cells (over white where it is transparent); None if it cannot be
    read."""
    from PIL import Image as PILImage

    try:
        with PILImage.open(path) as picture:
            rgba = picture.convert("RGBA")
            flat = PILImage.new("RGBA", rgba.size, (255, 255, 255, 255))
            flat.alpha_composite(rgba)
            rgb = flat.convert("RGB")
            return tuple(np.asarray(rgb.resize((n, n), PILImage.Resampling.BOX), np.float32)
                         for n in (4, FINE_CELLS))  # type: ignore[return-value]
    except (OSError, ValueError, PILImage.DecompressionBombError):
        return None


def _colour_signatures(library: "Library", ids: np.ndarray,
                       indexes: set[int]) -> dict[int, tuple[np.ndarray, np.ndarray] | None]:
    """pHash compares brightness only: a red and a purple apple of one shape hash alike. The colours of the
    images in a candidate pair (read from their thumbnails, small) tell them apart."""
    if not indexes:
        return {}
    order = sorted(indexes)
    records = {r.id: r for r in library._records_by_id(ids[order].tolist())}
    signatures: dict[int, tuple[np.ndarray, np.ndarray] | None] = {}
    for index in order:
        record = records.get(int(ids[index]))
        if record is None:
            signatures[index] = None
        else:
            signatures[index] = _colour_signature(record.thumbnail_path if record.thumbnail_path.exists()
                                                  else record.path)
    return signatures


def _same_colours(a: tuple[np.ndarray, np.ndarray] | None, b: tuple[np.ndarray, np.ndarray] | None,
                  pattern: bool = False) -> bool:
    """Within COLOUR_TOLERANCE in 4×4 cells and FINE_TOLERANCE in 8×8 (PATTERN_TOLERANCE for a pair `pattern`
    found by dHash); a picture that could not be read is judged by its hash alone."""
    if a is None or b is None:
        return True
    fine = float(np.abs(a[1] - b[1]).max())
    return float(np.abs(a[0] - b[0]).max()) <= COLOUR_TOLERANCE and \
        fine <= (PATTERN_TOLERANCE if pattern else FINE_TOLERANCE)


def same_picture(before: bytes, after: bytes, before_size: tuple[int, int], after_size: tuple[int, int]) -> bool:
    """Whether two thumbnails (PNG bytes, as files.make_thumbnail makes them) of pictures of these sizes show one
    picture, by the rules `find_groups` pairs images by: their pHashes within `max_distance()` bits (their dHashes
    when either pHash is fragile), and their colours alike. A flat or tiny picture (no hash) by its colours alone: a
    red square and a blue one are two pictures."""
    a, b = thumbnail_hashes(before, *before_size), thumbnail_hashes(after, *after_size)
    pattern = False
    if a is not None and b is not None:
        for x, y in zip(a, b):  # the pHashes; the dHashes when a pHash is fragile ("-")
            if x != "-" and y != "-":
                if int(np.bitwise_count(np.uint64(int(x, 16) ^ int(y, 16)))) > max_distance():
                    return False
                break
            pattern = True
    return _same_colours(_colour_signature(io.BytesIO(before)), _colour_signature(io.BytesIO(after)), pattern)


def _hex_values(hashes: list[str | None]) -> tuple[np.ndarray, np.ndarray]:
    """The 64-bit values of hashes, and which of them are values (not "-", "" or None: 0 in their place)."""
    usable = np.array([bool(h) and h != "-" for h in hashes], bool)
    values = np.array([int(h, 16) if h and ok else 0 for h, ok in zip(hashes, usable)], np.uint64)
    return values, usable


def find_groups(library: "Library", distance: int | None = None,
                progress: Callable[[int, int], None] | None = None,
                cancel: Callable[[], bool] | None = None) -> list[DuplicateGroup]:
    """Groups of the account's images (not in the trash) that are the same picture, the largest group first.

    Two images are paired when their pHashes are within `distance` bits, or, when either's pHash is fragile,
    their dHashes are; then when their colours agree. `progress(done, total)` is told after each of the
    2 × (distance + 1) + 1 steps (the comparison blocks of either hash, and reading the groups' records);
    `cancel()` answering True stops it with `Cancelled`."""
    distance = max_distance() if distance is None else distance
    total = 2 * (distance + 1) + 1
    steps = [0]

    def step() -> None:
        if cancel is not None and cancel():
            raise Cancelled()
        if progress is not None:
            progress(steps[0], total)
        steps[0] += 1

    rows = [(i, p, d) for i, p, d in Image.select(Image.id, Image.phash, Image.dhash).where(
        library._mine(), Image.trashed_at.is_null(),
        (Image.phash.is_null(False) & Image.phash.not_in(["", "-"]))
        | (Image.dhash.is_null(False) & Image.dhash.not_in(["", "-"]))).tuples()]
    if len(rows) < 2:
        return []
    ids = np.array([i for i, _p, _d in rows], np.int64)
    phashes, by_phash = _hex_values([p for _i, p, _d in rows])
    dhashes, by_dhash = _hex_values([d for _i, _p, d in rows])
    fragile = ~by_phash & by_dhash  # compared by their dHash, with every image that has one
    parent = list(range(len(rows)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def pairs_of(values: np.ndarray, usable: np.ndarray, among: np.ndarray | None) -> list[tuple[int, int]]:
        where = np.flatnonzero(usable)
        found = _pairs_within(values[where], distance, step, None if among is None else among[where])
        return [(int(where[i]), int(where[j])) for i, j in found]

    by_p = set(pairs_of(phashes, by_phash, None))
    pairs = sorted(by_p | set(pairs_of(dhashes, by_dhash, fragile)))
    colours = _colour_signatures(library, ids, {k for pair in pairs for k in pair})
    lineage = _lineage(library, ids)
    for i, j in pairs:
        if ids[i] in lineage.get(int(ids[j]), ()) or ids[j] in lineage.get(int(ids[i]), ()):
            continue  # one is made from the other (its background removed, a cell of it): not a duplicate of it
        if not _same_colours(colours.get(i), colours.get(j), pattern=(i, j) not in by_p):
            continue  # one shape in other colours (an item set of one style), or another pattern: not the same picture
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
        kept = indexes[ids[indexes].tolist().index(keep.id)]
        far = max(_distance(phashes, by_phash, dhashes, by_dhash, kept, other) for other in indexes)
        groups.append(DuplicateGroup(keep, records[1:], far))
    groups.sort(key=lambda g: (-len(g.others), g.keep.id))
    if progress is not None:
        progress(total, total)
    return groups


def _lineage(library: "Library", ids: np.ndarray) -> dict[int, set[int]]:
    """The images each derived image among `ids` was made from (its parent, the parent's parent, ...)."""
    parents: dict[int, int] = dict(Image.select(Image.id, Image.parent).where(
        library._mine(), Image.parent.is_null(False)).tuples())
    out: dict[int, set[int]] = {}
    for image_id in set(ids.tolist()) & parents.keys():
        chain, step = set(), parents.get(image_id)
        while step is not None and step not in chain:
            chain.add(step)
            step = parents.get(step)
        out[image_id] = chain
    return out


def _distance(phashes: np.ndarray, by_phash: np.ndarray, dhashes: np.ndarray, by_dhash: np.ndarray,
              a: int, b: int) -> int:
    """The bits two images' hashes differ in: their pHashes', else their dHashes' (0 when neither compares:
    an image in the group through others)."""
    for values, usable in ((phashes, by_phash), (dhashes, by_dhash)):
        if usable[a] and usable[b]:
            return int(np.bitwise_count(values[a] ^ values[b]))
    return 0


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
