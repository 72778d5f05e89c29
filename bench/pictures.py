"""The pictures a generated bench library's records share: 64 different ones that look like generated images.

Each is a crop of one of the real generator images in tests/fixtures/generators (pixels only: the metadata is
not copied), at a size generators write (512 to 1216 px), mirrored and hue-shifted in its variants, saved as a
PNG as a generator saves it; its thumbnail is made by the store's own `make_thumbnail`. Every part of them has
varied colour, so that reading and drawing a thumbnail costs what it costs on a user's library (the flat discs
they replace, 3 KB thumbnails, drew three times faster than a real picture).

`bench/search.py` links them to every record of a library it makes. A library made before them is brought over
in place, once, under the bench lock (no benchmark may run meanwhile):

    flock /tmp/wt-bench.lock nice -n 10 .venv/bin/python bench/pictures.py bench/cache/search-100 ...

Every shared file is rewritten through its own inode (opened and overwritten, never replaced), so that every
hard link to it, one per record, sees the new picture; the library's perceptual hashes are written again to
match; a marker (`.varied-pictures`) records that it was done.
"""
from __future__ import annotations

import io
import os
import random
import sqlite3
import sys
from pathlib import Path

from PIL import Image

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from store.files import make_mini, make_thumbnail  # noqa: E402

PICTURES = 64  # distinct pictures a generated library's records share (hard links: a file may have 65,000)
SOURCES = ROOT / "tests" / "fixtures" / "generators"
SIZES = [(512, 512), (768, 768), (1024, 1024), (832, 1216), (1216, 832), (640, 960), (896, 1152)]
MARKER = ".varied-pictures"


def _sources() -> list[Path]:
    """The real generator images large enough to crop (the tiny cropped fixtures left out), in name order."""
    found = []
    for path in sorted(SOURCES.iterdir()):
        if path.suffix.lower() not in {".png", ".jpg", ".jpeg", ".webp"}:
            continue
        with Image.open(path) as picture:
            if min(picture.size) >= 512:
                found.append(path)
    return found


def _hue_shifted(picture: Image.Image, shift: int) -> Image.Image:
    hue, saturation, value = picture.convert("HSV").split()
    hue = hue.point(lambda h: (h + shift) % 256)
    return Image.merge("HSV", (hue, saturation, value)).convert("RGB")


def picture(n: int, sources: list[Path]) -> Image.Image:
    """Picture n (0 <= n < PICTURES): a crop of source n % len(sources) (every source cut, sized and mirrored
    differently each time, and hue-shifted after its first use), so that no two are alike."""
    rng = random.Random(1000 + n)
    variant, source = divmod(n, len(sources))
    with Image.open(sources[source]) as original:
        whole = original.convert("RGB")
    width, height = SIZES[(n * 5 + variant) % len(SIZES)]
    # a part (half to all) of the largest box of the target's shape inside the source
    scale = min(whole.width / width, whole.height / height) * rng.uniform(0.5, 1.0)
    box_w, box_h = int(width * scale), int(height * scale)
    left, top = rng.randrange(whole.width - box_w + 1), rng.randrange(whole.height - box_h + 1)
    made = whole.crop((left, top, left + box_w, top + box_h)).resize((width, height), Image.Resampling.LANCZOS)
    if n % 2:
        made = made.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    if variant:
        made = _hue_shifted(made, rng.randrange(30, 226))
    return made


def encoded(n: int, sources: list[Path]) -> tuple[bytes, bytes]:
    """Picture n as a PNG (as a generator saves it) and its thumbnail as the store makes it."""
    made = picture(n, sources)
    out = io.BytesIO()
    made.save(out, "PNG")
    return out.getvalue(), make_thumbnail(made)


def write_new(shared: Path) -> list[tuple[Path, Path]]:
    """Writes the PICTURES pictures and thumbnails into a new library's shared folder: (original, thumbnail)."""
    shared.mkdir(exist_ok=True)
    sources, paths = _sources(), []
    for n in range(PICTURES):
        data, thumbnail = encoded(n, sources)
        original, small = shared / f"{n}.png", shared / f"{n}.thumb.png"
        original.write_bytes(data)
        small.write_bytes(thumbnail)
        paths.append((original, small))
    (shared.parent / MARKER).write_text("done\n")
    return paths


def _overwrite(path: Path, data: bytes) -> None:
    """The file's bytes replaced through its own inode: every hard link to it reads the new bytes."""
    with open(path, "r+b") as out:
        out.write(data)
        out.truncate()
        out.flush()
        os.fsync(out.fileno())


def write_hashes(library: Path) -> None:
    """The perceptual hashes of the shared pictures into every record (record id % PICTURES is its picture), as
    the app's background pass would record them (it would take hours at 1,000,000)."""
    from store.duplicates import picture_hashes

    hashes = []
    for n in range(PICTURES):
        with Image.open(library / "shared-pictures" / f"{n}.png") as shared:
            hashes.append(picture_hashes(shared))
    con = sqlite3.connect(library / "library.db")
    with con:
        for column, which in (("phash", 0), ("dhash", 1)):
            cases = " ".join(f"WHEN {n} THEN '{h[which]}'" for n, h in enumerate(hashes))
            con.execute(f"UPDATE image SET {column} = CASE id % {PICTURES} {cases} END")
    con.close()


def vary_in_place(library: Path) -> bool:
    """Brings a library made with the old flat pictures over to the varied ones (once): False if it was already."""
    if (library / MARKER).exists():
        return False
    shared = library / "shared-pictures"
    sources = _sources()
    for n in range(PICTURES):
        data, thumbnail = encoded(n, sources)
        _overwrite(shared / f"{n}.png", data)
        _overwrite(shared / f"{n}.thumb.png", thumbnail)
        if (shared / f"{n}.mini.png").exists():  # (bench/search.py share_minis)
            _overwrite(shared / f"{n}.mini.png", make_mini(thumbnail))
    write_hashes(library)
    (library / MARKER).write_text("done\n")
    return True


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] in {"-h", "--help"}:
        print(__doc__)
        sys.exit(0 if len(sys.argv) > 1 else 2)
    for name in sys.argv[1:]:
        library = Path(name)
        if not (library / "shared-pictures").is_dir():
            sys.exit(f"{library} has no shared-pictures folder: not a library made by bench/search.py.")
        print(f"{library}: {'varied pictures written in place' if vary_in_place(library) else 'already varied'}",
              flush=True)


if __name__ == "__main__":
    main()
