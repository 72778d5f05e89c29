"""A demo library made locally with Pillow: game-item sheets in pixel art.

Every item is drawn on a small logical canvas (ITEM_PIXELS square) and scaled up
with nearest-neighbour, so it looks like a game-item generator's output. The
drawing code also gives the true shape of each item (its mask), which tests of
background removal and grid cutting compare against.
"""
from __future__ import annotations

import hashlib
import io
import os
import random
from dataclasses import dataclass
from datetime import timedelta
from typing import Callable, Iterator

from PIL import Image, ImageDraw, PngImagePlugin

from .duplicates import thumbnail_hashes
from .files import make_thumbnail
from .library import Library, NewImage
from .metadata import OWN_KEY, build_own_chunk
from .records import utc_now

ITEM_PIXELS = 32  # the logical pixel grid of one item

Draw = Callable[[ImageDraw.ImageDraw, tuple, tuple], None]


def _sword(d: ImageDraw.ImageDraw, main: tuple, dark: tuple) -> None:
    d.polygon([(26, 2), (30, 2), (30, 6), (13, 23), (9, 19)], fill=main, outline=dark)  # blade
    d.polygon([(5, 17), (8, 14), (18, 24), (15, 27)], fill=(150, 100, 50), outline=dark)  # guard
    d.polygon([(9, 21), (11, 23), (6, 28), (4, 26)], fill=(120, 80, 40), outline=dark)  # grip
    d.rectangle([2, 26, 6, 30], fill=main, outline=dark)  # pommel


def _gem(d: ImageDraw.ImageDraw, main: tuple, dark: tuple) -> None:
    d.polygon([(8, 4), (24, 4), (29, 11), (16, 28), (3, 11)], fill=main, outline=dark)
    d.line([(3, 11), (29, 11)], fill=dark)
    d.line([(12, 4), (10, 11), (16, 28), (22, 11), (20, 4)], fill=dark)


def _potion(d: ImageDraw.ImageDraw, main: tuple, dark: tuple) -> None:
    d.rectangle([13, 3, 19, 6], fill=(150, 100, 60), outline=dark)
    d.rectangle([14, 7, 18, 12], fill=(200, 220, 230), outline=dark)
    d.ellipse([6, 11, 26, 29], fill=main, outline=dark)
    d.rectangle([10, 15, 13, 18], fill=(190, 235, 255))


def _shield(d: ImageDraw.ImageDraw, main: tuple, dark: tuple) -> None:
    d.polygon([(5, 4), (27, 4), (27, 15), (16, 29), (5, 15)], fill=main, outline=dark)
    d.line([(16, 5), (16, 27)], fill=dark, width=2)
    d.line([(6, 12), (26, 12)], fill=dark, width=2)


def _coin(d: ImageDraw.ImageDraw, main: tuple, dark: tuple) -> None:
    d.ellipse([4, 4, 28, 28], fill=main, outline=dark, width=2)
    d.rectangle([14, 10, 18, 22], fill=dark)


def _key(d: ImageDraw.ImageDraw, main: tuple, dark: tuple) -> None:
    d.ellipse([3, 3, 15, 15], fill=main, outline=dark, width=2)
    d.ellipse([7, 7, 11, 11], fill=dark)
    d.polygon([(12, 14), (15, 11), (29, 25), (26, 28)], fill=main, outline=dark)
    d.rectangle([22, 22, 25, 28], fill=main, outline=dark)


def _heart(d: ImageDraw.ImageDraw, main: tuple, dark: tuple) -> None:
    d.ellipse([3, 5, 17, 19], fill=main, outline=dark)
    d.ellipse([15, 5, 29, 19], fill=main, outline=dark)
    d.polygon([(4, 14), (28, 14), (16, 28)], fill=main, outline=dark)
    d.rectangle([7, 9, 10, 12], fill=(255, 230, 230))


def _star(d: ImageDraw.ImageDraw, main: tuple, dark: tuple) -> None:
    d.polygon([(16, 2), (20, 12), (30, 12), (22, 18), (25, 29), (16, 22), (7, 29), (10, 18), (2, 12), (12, 12)],
              fill=main, outline=dark)


def _ring(d: ImageDraw.ImageDraw, main: tuple, dark: tuple) -> None:
    d.ellipse([5, 9, 27, 30], outline=main, width=4)
    d.ellipse([5, 9, 27, 30], outline=dark, width=1)
    d.polygon([(12, 3), (20, 3), (23, 7), (16, 12), (9, 7)], fill=(120, 220, 255), outline=dark)


def _apple(d: ImageDraw.ImageDraw, main: tuple, dark: tuple) -> None:
    d.ellipse([5, 8, 27, 29], fill=main, outline=dark)
    d.rectangle([15, 3, 17, 9], fill=(110, 70, 30))
    d.ellipse([18, 3, 25, 8], fill=(60, 170, 60), outline=dark)


def _axe(d: ImageDraw.ImageDraw, main: tuple, dark: tuple) -> None:
    d.polygon([(7, 27), (22, 6), (25, 8), (10, 29)], fill=(140, 90, 50), outline=dark)
    d.polygon([(17, 4), (29, 6), (27, 18), (20, 12)], fill=main, outline=dark)


def _mushroom(d: ImageDraw.ImageDraw, main: tuple, dark: tuple) -> None:
    d.pieslice([3, 4, 29, 26], 180, 360, fill=main, outline=dark)
    d.rectangle([12, 15, 20, 28], fill=(205, 170, 120), outline=dark)
    d.ellipse([8, 7, 12, 11], fill=(255, 235, 120))
    d.ellipse([19, 8, 23, 12], fill=(255, 235, 120))


def _scroll(d: ImageDraw.ImageDraw, main: tuple, dark: tuple) -> None:
    d.rectangle([7, 6, 25, 26], fill=(240, 225, 180), outline=dark)
    d.ellipse([4, 3, 10, 9], fill=main, outline=dark)
    d.ellipse([22, 23, 28, 29], fill=main, outline=dark)
    for y in (11, 15, 19):
        d.line([(10, y), (22, y)], fill=dark)


ITEMS: dict[str, tuple[Draw, list[str]]] = {
    "sword": (_sword, ["diamond", "iron", "golden", "crystal", "flame"]),
    "gem": (_gem, ["ruby", "emerald", "sapphire", "amethyst", "diamond"]),
    "potion": (_potion, ["health", "mana", "poison", "speed", "invisibility"]),
    "shield": (_shield, ["wooden", "iron", "royal", "dragon"]),
    "coin": (_coin, ["gold", "silver", "ancient"]),
    "key": (_key, ["golden", "rusty", "skeleton", "crystal"]),
    "heart": (_heart, ["red", "golden", "crystal"]),
    "star": (_star, ["gold", "magic", "fallen"]),
    "ring": (_ring, ["diamond", "silver", "enchanted"]),
    "apple": (_apple, ["red", "golden", "poison"]),
    "axe": (_axe, ["battle", "iron", "diamond"]),
    "mushroom": (_mushroom, ["red", "glowing", "poison"]),
    "scroll": (_scroll, ["magic", "ancient", "fire"]),
}

COLOURS = {
    "diamond": (110, 230, 235), "iron": (190, 195, 205), "golden": (240, 200, 60), "gold": (240, 200, 60),
    "crystal": (180, 140, 255), "flame": (255, 110, 40), "ruby": (220, 30, 60), "emerald": (40, 200, 90),
    "sapphire": (40, 90, 230), "amethyst": (160, 80, 220), "health": (230, 40, 50), "mana": (50, 90, 240),
    "poison": (110, 200, 40), "speed": (250, 230, 60), "invisibility": (200, 220, 240), "wooden": (170, 110, 60),
    "royal": (60, 60, 200), "dragon": (180, 40, 40), "silver": (200, 200, 215), "ancient": (170, 140, 80),
    "rusty": (170, 90, 50), "skeleton": (230, 230, 210), "red": (220, 40, 40), "magic": (200, 90, 255),
    "fallen": (255, 240, 150), "enchanted": (120, 255, 200), "battle": (160, 160, 170), "glowing": (120, 255, 160),
    "fire": (255, 120, 40),
}

BACKGROUNDS = [(245, 245, 245), (30, 34, 48), (250, 236, 210), (214, 236, 250), (60, 90, 70), (255, 255, 255)]
MODELS = ["ItemForge v2", "PixelDiffusion XL", "SDXL Turbo", "ItemForge v3"]
TEXT_ACCURACY = ["5", "7", "7.5", "9", "12"]
STYLES = ["pixel art icon", "16-bit game sprite", "pixel art, white outline", "retro RPG item, pixel art"]
COLLECTIONS = ["Weapons", "Potions", "Shop inventory"]


@dataclass(frozen=True)
class ItemSpec:
    kind: str
    variant: str


@dataclass
class Sheet:
    """A rendered demo image and the truth about it."""

    image: Image.Image  # RGB
    rows: int
    cols: int
    items: list[ItemSpec]
    boxes: list[tuple[int, int, int, int]]  # each cell's item area (left, top, right, bottom)
    masks: list[Image.Image]  # "L" masks, full sheet size, 255 where the item is
    background: tuple[int, int, int]


def outline_for(background: tuple[int, int, int]) -> tuple[int, int, int]:
    """Outlines contrast with the background, as a generator's sprites do."""
    return (245, 245, 240) if sum(background) < 300 else (25, 22, 30)


def draw_item(spec: ItemSpec, background: tuple[int, int, int] = (245, 245, 245)) -> Image.Image:
    """One item on a transparent ITEM_PIXELS canvas (RGBA)."""
    canvas = Image.new("RGBA", (ITEM_PIXELS, ITEM_PIXELS), (0, 0, 0, 0))
    draw_fn, _ = ITEMS[spec.kind]
    main = COLOURS.get(spec.variant, (200, 200, 200))
    dark = outline_for(background)
    draw_fn(ImageDraw.Draw(canvas), main + (255,), dark + (255,))
    return canvas


def render_sheet(items: list[ItemSpec], rows: int, cols: int, size: int = 768,
                 background: tuple[int, int, int] = (245, 245, 245)) -> Sheet:
    """Items on a grid with uniform gutters (margin = gutter) on a plain background."""
    gutter = max(8, size // (cols * 8)) if rows * cols > 1 else size // 8
    cell = (size - gutter * (cols + 1)) // cols
    cell_h = (size - gutter * (rows + 1)) // rows
    cell = min(cell, cell_h)
    width = cols * cell + (cols + 1) * gutter
    height = rows * cell + (rows + 1) * gutter
    sheet = Image.new("RGB", (width, height), background)
    boxes, masks = [], []
    for index, spec in enumerate(items[: rows * cols]):
        r, c = divmod(index, cols)
        left = gutter + c * (cell + gutter)
        top = gutter + r * (cell + gutter)
        art = draw_item(spec, background).resize((cell, cell), Image.Resampling.NEAREST)
        sheet.paste(art, (left, top), art)
        mask = Image.new("L", sheet.size, 0)
        mask.paste(art.getchannel("A").point(lambda a: 255 if a >= 128 else 0), (left, top))
        boxes.append((left, top, left + cell, top + cell))
        masks.append(mask)
    return Sheet(sheet, rows, cols, list(items[: rows * cols]), boxes, masks, background)


def _prompt(rng: random.Random, items: list[ItemSpec], rows: int, cols: int) -> str:
    style = rng.choice(STYLES)
    if rows * cols == 1:
        spec = items[0]
        return f"{spec.variant} {spec.kind}, {style}"
    kinds = sorted({s.kind for s in items})
    if len(kinds) == 1:
        return f"set of {rows * cols} {kinds[0]}s in different styles, {style}, {rows}x{cols} sprite sheet"
    return f"{rows * cols} fantasy items: {', '.join(kinds[:4])}, {style}, {rows}x{cols} grid"


def demo_sheet(rng: random.Random, size: int = 768) -> tuple[Sheet, str]:
    n = rng.choice([1, 1, 2, 2, 3, 4])
    kind_pool = list(ITEMS)
    same_kind = rng.random() < 0.6
    kind = rng.choice(kind_pool)
    specs = []
    for _ in range(n * n):
        k = kind if same_kind else rng.choice(kind_pool)
        specs.append(ItemSpec(k, rng.choice(ITEMS[k][1])))
    sheet = render_sheet(specs, n, n, size=size, background=rng.choice(BACKGROUNDS))
    return sheet, _prompt(rng, specs, n, n)


def _png_bytes(image: Image.Image, own_chunk: str | None = None) -> bytes:
    out = io.BytesIO()
    info = None
    if own_chunk:
        info = PngImagePlugin.PngInfo()
        info.add_itxt(OWN_KEY, own_chunk)
    image.save(out, "PNG", pnginfo=info, optimize=False, compress_level=6)
    return out.getvalue()


def _insert_text(png: bytes, keyword: str, text: str) -> bytes:
    """Add a tEXt-like iTXt chunk after IHDR without re-encoding the pixels."""
    from .export import _itxt  # the one PNG chunk writer

    ihdr_end = 8 + 8 + 13 + 4
    return png[:ihdr_end] + _itxt(keyword, text) + png[ihdr_end:]


def generate(library: Library, count: int = 60, seed: int = 7,
             progress: Callable[[int, int], None] | None = None) -> int:
    """Add `count` demo images (plus collections and favorites) to the library."""
    rng = random.Random(seed)
    now = utc_now()
    span_days = max(180, count // 60)
    templates: list[tuple[bytes, bytes, Sheet, str, tuple[str, str] | None]] = []
    unique = count if count <= 200 else 96
    size = 768 if count <= 200 else 384
    collections = [library.ensure_collection(name) for name in COLLECTIONS]
    added = 0
    batch: list[tuple[NewImage, list[int], bool]] = []

    def flush() -> None:
        nonlocal added
        results = library.add_images([b[0] for b in batch])
        members: dict[int, list[int]] = {}
        favorites = []
        for (_item, cids, favorite), (image_id, created) in zip(batch, results):
            for cid in cids:
                members.setdefault(cid, []).append(image_id)
            if favorite:
                favorites.append(image_id)
            added += created
        for cid, ids in members.items():
            library.add_to_collection(ids, cid)
        if favorites:
            library.set_favorite(favorites, True)
        batch.clear()
        if progress:
            progress(added, count)

    library.files.durable = count <= 200  # bulk: one sync at the end instead of one per file
    try:
        _generate_into(library, count, rng, now, span_days, templates, unique, size, collections, batch, flush)
    finally:
        library.files.durable = True
        os.sync()
    return added


def _generate_into(library, count, rng, now, span_days, templates, unique, size, collections, batch, flush):
    for index in range(count):
        if index < unique:
            sheet, prompt = demo_sheet(rng, size)
            png = _png_bytes(sheet.image)
            thumb = make_thumbnail(sheet.image)
            # the perceptual hashes with the picture, as an import makes them: else the app would hash every
            # demo image in the background on first opening (throttled: hours on a million)
            templates.append((png, thumb, sheet, prompt,
                              thumbnail_hashes(thumb, sheet.image.width, sheet.image.height)))
            png_data, thumb, sheet, prompt, hashes = templates[-1]
        else:
            png_data, thumb, sheet, prompt, hashes = templates[index % unique]
            prompt = prompt.replace(", ", f", {rng.choice(['', 'detailed, ', 'simple, ', 'shiny, '])}", 1)
        generated = now - timedelta(days=rng.uniform(0, span_days), seconds=index)
        model = rng.choice(MODELS)
        accuracy = rng.choice(TEXT_ACCURACY)
        data = _insert_text(png_data, OWN_KEY, build_own_chunk(
            prompt, "blurry, text, watermark", model, accuracy, generated.isoformat() + "+00:00",
            {"seed": rng.randrange(2**32), "demo": index}))
        item = NewImage(
            sha256=hashlib.sha256(data).hexdigest(), ext="png", data=data, thumbnail=thumb,
            width=sheet.image.width, height=sheet.image.height, prompt=prompt,
            negative_prompt="blurry, text, watermark", model=model, text_accuracy=accuracy,
            generated_at=generated, params={"seed": rng.randrange(2**32), "layout": f"{sheet.rows}x{sheet.cols}"},
            source_name=f"demo-{index + 1:06d}.png",
            phash=hashes[0] if hashes else None, dhash=hashes[1] if hashes else None,
        )
        kinds = {s.kind for s in sheet.items}
        cids = []
        if kinds & {"sword", "axe", "shield"}:
            cids.append(collections[0].id)
        if "potion" in kinds:
            cids.append(collections[1].id)
        if rng.random() < 0.15:
            cids.append(collections[2].id)
        batch.append((item, cids, rng.random() < 0.2))
        if len(batch) >= (50 if count <= 200 else 1000):
            flush()
    if batch:
        flush()


def iter_layout_sheets(size: int = 768) -> Iterator[Sheet]:
    """One sheet of each demo layout (single, 2x2, 3x3, 4x4), for tests."""
    kinds = list(ITEMS)
    for n in (1, 2, 3, 4):
        specs = [ItemSpec(kinds[i % len(kinds)], ITEMS[kinds[i % len(kinds)]][1][i % 3 % len(ITEMS[kinds[i % len(kinds)]][1])])
                 for i in range(n * n)]
        yield render_sheet(specs, n, n, size=size, background=BACKGROUNDS[n % len(BACKGROUNDS)])
