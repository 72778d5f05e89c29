"""Clean background: rembg removes it, the result is a new image in the library.

One rembg session per process and model, made lazily on first use (importing
rembg takes seconds: never at start-up, never on the UI thread). The session is
shared by threads; onnxruntime's `run` is thread-safe.

Generated item sheets usually sit on a plain background. When the picture's
border is one plain colour, rembg's mask is refined by it: the parts of the
picture that differ from the background and touch what rembg found are kept
whole, with soft edges from the colour distance. That recovers thin parts
(blades, handles, outlines) the small u2netp model misses, and it keeps holes
open. On any other background rembg's own mask is used as it is.
"""
from __future__ import annotations

import io
import os
import struct
import threading
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, NamedTuple, TypeVar

import numpy as np
import pyspng  # type: ignore[import-untyped]
from PIL import Image, ImageChops

from . import png_writer
from .derived import add_derived, derived_image, open_original
from .errors import StoreError, first_line
from .files import display_image
from .library import Library
from .records import ImageRecord

PLAIN_TOLERANCE = 16  # max channel difference still counted as the background colour
PLAIN_SHARE = 0.9  # share of border pixels that must be that colour
EDGE_LOW, EDGE_HIGH = 10, 40  # colour distance ramp for soft edges

_sessions: dict[str, object] = {}
_lock = threading.Lock()

# Threads beside the caller's: for the work on the picture alone while rembg and the model work on it, and, while
# the cleaned picture's first half is PNG-encoded on the caller's, its second half and the thumbnail. Its tasks
# never wait for it.
_helper = ThreadPoolExecutor(max_workers=2, thread_name_prefix="myimages-clean")

T = TypeVar("T")
U = TypeVar("U")


class BackgroundError(StoreError):
    """Background removal is not possible (no model, no runtime)."""


def model_name() -> str:
    """MYIMAGES_REMBG_MODEL, else `rembg_model` in the settings file, else u2netp."""
    from .settings import current

    return current().rembg_model


def model_folders(model: str) -> list[str]:
    """The folders rembg looks in for MODEL.onnx, in its order, as rembg itself says.

    rembg 2.0.86 reads `<home>/models/<model>/` then its older flat folder; home is
    U2NET_HOME when set, else `$XDG_DATA_HOME/rembg` (or `~/.rembg`), and the flat folder
    `$XDG_DATA_HOME/.u2net` (or `~/.u2net`). Asked of rembg's session class, so a
    rembg that moves them is followed; without one (an unknown name), the fallback
    is where its default model is looked for.
    """
    folders: list[str] = []
    try:
        from rembg.sessions import sessions_class

        session_class = next((sc for sc in sessions_class if sc.name() == model), None)
        if session_class is None:
            session_class = next(sc for sc in sessions_class if sc.name() == "u2netp")
        folders = [session_class.model_dir(), session_class.legacy_home()]
    except Exception:  # noqa: BLE001 - an older rembg without these methods: its documented folder
        folders = [os.environ.get("U2NET_HOME") or os.path.join(os.path.expanduser("~"), ".u2net")]
    return list(dict.fromkeys(folders))


@contextmanager
def _quiet_download_log():
    """rembg's downloader (pooch) logs "Downloading data from …" straight to stderr: over the
    screen in the app, and before the app's own sentence when it fails offline."""
    import logging

    try:
        import pooch  # type: ignore[import-untyped]
    except ImportError:
        yield
        return
    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def _rembg_new_session():
    """rembg's `new_session`, without running `rembg/__init__.py`.

    That file imports `rembg.bg` (rembg's `remove` and its alpha matting), which imports
    pymatting, whose numba functions are compiled when first imported: a minute or more
    after a fresh install, for code the app never runs (it asks the session for the mask
    and cuts it itself). So the package is entered without its `__init__`, and only the
    session modules are loaded; anything else asked of `rembg` later (`rembg.remove`)
    runs the real `__init__` then.
    """
    import importlib.util
    import sys
    import types

    if "rembg" not in sys.modules:
        spec = importlib.util.find_spec("rembg")
        if spec is None or not spec.submodule_search_locations:
            raise ImportError("rembg is not installed")
        package = types.ModuleType("rembg")
        package.__spec__, package.__path__, package.__file__ = spec, list(spec.submodule_search_locations), spec.origin

        def load_all(name: str):  # the whole package, the first time something else is asked of it
            spec.loader.exec_module(package)
            del package.__getattr__
            return getattr(package, name)

        package.__getattr__ = load_all
        sys.modules["rembg"] = package
    from rembg.session_factory import new_session

    return new_session


def session_options():
    """onnxruntime's options for a session: rembg's defaults, but that the model's threads stop spinning when a
    run ends. By default they spin on after it (a core kept busy for 30 ms and more, measured on 2 cores), against
    the work that follows on the cleaned picture, the UI thread and the next image's decoding."""
    import onnxruntime  # type: ignore[import-untyped]

    options = onnxruntime.SessionOptions()
    options.add_session_config_entry("session.force_spinning_stop", "1")
    return options


def get_session(model: str | None = None):
    """The process's rembg session for a model, made on first use."""
    model = model or model_name()
    with _lock:
        if model in _sessions:
            return _sessions[model]
        try:
            new_session = _rembg_new_session()
            options = session_options()
        except Exception as exc:  # noqa: BLE001 - a broken or missing runtime
            raise BackgroundError(f"Background removal is not available: rembg cannot be loaded ({exc}).") from exc
        try:
            with _quiet_download_log():
                session = new_session(model, sess_opts=options)
        except Exception as exc:  # noqa: BLE001 - offline without the file, unknown name, bad file
            folders = model_folders(model)
            if "onnx" in type(exc).__name__.lower() or "ONNX" in str(exc):
                path = next((os.path.join(folder, f"{model}.onnx") for folder in folders
                             if os.path.exists(os.path.join(folder, f"{model}.onnx"))), folders[0])
                reason = f"the model file {path} is damaged ({exc})"
            elif isinstance(exc, (ValueError, KeyError)):
                reason = f'"{model}" is not a rembg model name'
            else:
                where = folders[0] + (f" (or {folders[1]})" if len(folders) > 1 else "")
                reason = (f"the model file {model}.onnx is not on this machine and could not be downloaded. "
                          f"Connect to the network once (rembg downloads it), or put {model}.onnx in "
                          f"{where}, or point U2NET_HOME at a folder holding it")
            raise BackgroundError(f"Cannot remove backgrounds: {reason}.") from exc
        _sessions[model] = session
        return session


def plain_background(rgb: np.ndarray) -> np.ndarray | None:
    """The background colour if the picture's border is one plain colour."""
    return _plain_border(np.concatenate([rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1]]))


def plain_background_of(picture: Image.Image) -> np.ndarray | None:
    """`plain_background` of an RGB picture, read from its border alone (not a copy of the whole: 3-5 ms at
    1824x1248)."""
    width, height = picture.size
    sides = [(0, 0, width, 1), (0, height - 1, width, height), (0, 0, 1, height), (width - 1, 0, width, height)]
    return _plain_border(np.concatenate([np.asarray(picture.crop(box)).reshape(-1, 3) for box in sides]))


def _plain_border(border: np.ndarray) -> np.ndarray | None:
    border = border.astype(np.int16)
    colour = np.median(border, axis=0)
    close = np.abs(border - colour).max(axis=1) <= PLAIN_TOLERANCE
    return colour if close.mean() >= PLAIN_SHARE else None


def _grow(mask: np.ndarray) -> np.ndarray:
    """The mask grown by one pixel in all eight directions."""
    grown = mask.copy()
    grown[1:] |= mask[:-1]
    grown[:-1] |= mask[1:]
    rows = grown.copy()
    grown[:, 1:] |= rows[:, :-1]
    grown[:, :-1] |= rows[:, 1:]
    return grown


# Alpha for each colour distance from the background: 0 below EDGE_LOW, 255 from EDGE_HIGH.
_RAMP = np.clip((np.arange(256) - EDGE_LOW) * (255 / (EDGE_HIGH - EDGE_LOW)), 0, 255).astype(np.uint8)
_RAMP_TABLE = _RAMP.tolist()


def _distance_image(picture: Image.Image, colour: np.ndarray) -> Image.Image:
    difference = ImageChops.difference(picture, Image.new("RGB", picture.size, tuple(int(c) for c in colour)))
    red, green, blue = difference.split()
    return ImageChops.lighter(ImageChops.lighter(red, green), blue)


def colour_distance(picture: Image.Image, colour: np.ndarray) -> np.ndarray:
    """Per pixel, the largest channel difference from `colour` (uint8; in C, not numpy: 15x faster)."""
    return np.asarray(_distance_image(picture, colour))


class _Plain(NamedTuple):
    """What the refinement needs of the picture alone (`plain_parts`)."""
    step: int
    labels: np.ndarray
    different: np.ndarray
    sizes: np.ndarray
    alpha: np.ndarray  # the alpha of the colour distance alone: to be cut to the kept objects


def plain_parts(picture: Image.Image, rgb: np.ndarray | None = None,
                colour: np.ndarray | None = None) -> _Plain | None:
    """The picture's objects on its plain background (`colour`, found if not given), or None (not plain, or
    nothing on it)."""
    if colour is None:
        colour = plain_background_of(picture) if rgb is None else plain_background(rgb)
    if colour is None:
        return None
    from scipy import ndimage

    distance_image = _distance_image(picture, colour)
    distance = np.asarray(distance_image)
    # Objects are found at half resolution on large pictures (4x less work); the
    # kept area is grown by a pixel there, two here, and the soft edge comes
    # from the full-resolution distance.
    step = 2 if min(distance.shape) >= 512 else 1
    coarse = distance[::step, ::step]
    different = coarse > (EDGE_LOW + EDGE_HIGH) // 2
    labels, count = ndimage.label(different, structure=np.ones((3, 3)))
    if count == 0:
        return None
    return _Plain(step, labels, different, np.bincount(labels.ravel(), minlength=count + 1),
                  np.asarray(distance_image.point(_RAMP_TABLE)))  # _RAMP[distance], in C: 5x faster


def refine_mask(rgb: np.ndarray | None, rembg_alpha: np.ndarray, picture: Image.Image | None = None,
                parts: _Plain | None | bool = True) -> np.ndarray:
    """rembg's alpha, refined by a plain background when there is one (`parts`: `plain_parts` made already; the
    picture's `rgb` or the `picture` itself are needed only when not)."""
    if parts is True:
        if picture is None:
            assert rgb is not None
            picture = Image.fromarray(rgb, "RGB")
        parts = plain_parts(picture, rgb)
    if not isinstance(parts, _Plain):
        return rembg_alpha
    step, labels, different = parts.step, parts.labels, parts.different
    touched = np.unique(labels[(rembg_alpha[::step, ::step] >= 128) & different])
    touched = touched[touched > 0]
    if touched.size == 0:
        return rembg_alpha
    # Objects like those rembg found count too: on a sheet it often finds one item of several.
    sizes = parts.sizes
    smallest = sizes[touched].min()
    chosen = sizes >= smallest * 0.25
    chosen[0] = False
    chosen[touched] = True
    keep = _grow(chosen[labels])
    height, width = parts.alpha.shape
    if step > 1 and height % step == 0 and width % step == 0:  # each kept place of `keep` is step × step pixels
        return (parts.alpha.reshape(height // step, step, width // step, step)
                * keep[:, None, :, None]).reshape(height, width)
    if step > 1:
        keep = keep.repeat(step, axis=0).repeat(step, axis=1)[:height, :width]
    return parts.alpha * keep  # 0 where not kept


def both(first: Callable[[], T], second: Callable[[], U]) -> tuple[T, U]:
    """`first()` on the helper thread while `second()` runs on this one; both results. A failure is raised once
    both have ended (nothing is left running)."""
    future = _helper.submit(first)
    try:
        other = second()
    except BaseException:
        wait([future])
        raise
    return future.result(), other


def _in_two(picture: Image.Image, size: tuple[int, int], by_rows: bool, apart: bool = True) -> Image.Image:
    """One pass of `picture.resize(size, LANCZOS)` (size differs from the picture's in width alone when `by_rows`,
    in height alone otherwise), its rows (or columns) in two halves resized at once when `apart`: one on a helper
    thread, one on this (Pillow's resize lets go of the GIL). A half is cut out whole, never resized with a `box`:
    Pillow weighs a box's pixels from the box's own origin, a rounding away from the whole picture's."""
    width, height = picture.size
    cut = height // 2 if by_rows else width // 2
    if cut == 0 or not apart:
        return picture.resize(size, Image.Resampling.LANCZOS)
    if by_rows:
        boxes = [(0, 0, width, cut), (0, cut, width, height)]
        sizes = [(size[0], cut), (size[0], height - cut)]
        places = [(0, 0), (0, cut)]
    else:
        boxes = [(0, 0, cut, height), (cut, 0, width, height)]
        sizes = [(cut, size[1]), (width - cut, size[1])]
        places = [(0, 0), (cut, 0)]
    halves = both(*(lambda box=box, part=part: picture.crop(box).resize(part, Image.Resampling.LANCZOS)
                    for box, part in zip(boxes, sizes)))
    out = Image.new(picture.mode, size)
    for half, place in zip(halves, places):
        out.paste(half, place)
    return out


_PILLOW_MAJOR = int(Image.__version__.split(".")[0])


def _columns_first(width: int, height: int, new_width: int, new_height: int) -> bool:
    """Whether Pillow resizes the columns first: Pillow 13 does when the height loses more than twice the pixels
    the width loses (its Resample.c); Pillow 10-12 never."""
    lost = height - new_height
    return _PILLOW_MAJOR >= 13 and lost > 0 and lost > (width - new_width) * 2


def _two_passes(picture: Image.Image, size: tuple[int, int], apart: bool) -> Image.Image:
    width, height = picture.size
    if _columns_first(width, height, *size):
        passes = [((width, size[1]), False), (size, True)]
    else:
        passes = [((size[0], height), True), (size, False)]
    for step, by_rows in passes:
        if step != picture.size:
            picture = _in_two(picture, step, by_rows, apart)
    return picture


_passes_as_pillow: bool | None = None


def _passes_are_pillows() -> bool:
    """Whether the two passes, one after the other, give what Pillow's one resize gives here: checked once, on a
    small picture, on both sides of Pillow 13's choice of which pass goes first (another Pillow that chooses
    otherwise: the plain resize is used)."""
    global _passes_as_pillow
    if _passes_as_pillow is None:
        probe = Image.fromarray(np.random.default_rng(17).integers(0, 256, (60, 24), np.uint8), "L")
        _passes_as_pillow = all(
            np.array_equal(np.asarray(probe.resize(size, Image.Resampling.LANCZOS)),
                           np.asarray(_two_passes(probe, size, apart=False)))
            for size in ((20, 51), (20, 53), (10, 12), (30, 90), (7, 61)))
    return _passes_as_pillow


def resize_on_two_threads(picture: Image.Image, size: tuple[int, int]) -> Image.Image:
    """`picture.resize(size, Image.Resampling.LANCZOS)`, pixel for pixel (an RGB or L picture), in about half the
    time.

    Pillow resizes in two passes: every row to its new width (into an 8-bit picture), and every column to its new
    height, one pass on the other's result (which goes first: `_columns_first`); each pass weighs the pixels by
    the sizes alone. So the row pass may be done on any whole rows apart, the column pass on any whole columns
    apart, with the very same result (tests/test_background.py compares them on many sizes)."""
    if picture.mode not in ("RGB", "L") or not _passes_are_pillows():  # RGBA, LA: resized premultiplied
        return picture.resize(size, Image.Resampling.LANCZOS)
    return _two_passes(picture, size, apart=True)


# rembg's sessions whose `predict(img)` is: img resized to a fixed size (LANCZOS), the model, its mask resized to
# img.size (LANCZOS). For them the app does the two resizes itself, on two threads, pixel for pixel as rembg would
# (at 1824x1248: 21 + 11 ms on one thread, 13 + 7.5 on two); rembg does the rest on a picture of that size, which it
# then does not resize.
_MODEL_INPUT = {"U2netpSession": (320, 320), "U2netSession": (320, 320)}


def predict(session, picture: Image.Image) -> list[Image.Image]:
    """`session.predict(picture)`, the same masks: the resizes on two threads when rembg's session is one of
    `_MODEL_INPUT`'s."""
    return predict_beside(session, picture, lambda: None)[0]


def predict_beside(session, picture: Image.Image, beside: Callable[[], T]) -> tuple[list[Image.Image], T]:
    """`predict`, and `beside()` run on a helper thread while the model runs (not while the picture is resized for
    it, which takes both threads): the masks and what `beside` gave."""
    size = _MODEL_INPUT.get(type(session).__name__) if type(session).__module__.startswith("rembg.") else None
    if size is None or picture.mode != "RGB":
        other, masks = both(beside, lambda: session.predict(picture))
        return masks, other
    small = resize_on_two_threads(picture, size)
    other, masks = both(beside, lambda: session.predict(small))
    if any(mask.size != size or mask.mode != "L" for mask in masks):  # not the rembg this was written for
        return session.predict(picture), other
    return [resize_on_two_threads(mask, picture.size) for mask in masks], other


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_SPNG_MODES = {2: "RGB", 6: "RGBA"}  # PNG colour type: the mode Pillow gives it at 8 bits
# Chunks after which Pillow's picture is not the plain pixels: a transparent colour (an RGB picture becomes RGBA)
# and an EXIF orientation (`display_image` turns the picture), which text chunks may carry too.
_PILLOWS_CHUNKS = (b"tRNS", b"eXIf")
_PILLOWS_TEXTS = (b"Raw profile type exif", b"Raw profile type APP1", b"XML:com.adobe.xmp")


def _pixels_alone(data: bytes) -> bool:
    """Whether the PNG's chunks say nothing that changes the picture Pillow makes of its pixels (see
    `_PILLOWS_CHUNKS`); False if they cannot be walked to the end."""
    at = 8
    while at + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        if kind in _PILLOWS_CHUNKS:
            return False
        keyword = data[at + 8:at + 8 + min(length, 80)].split(b"\0")[0]
        if kind in (b"tEXt", b"zTXt", b"iTXt") and keyword in _PILLOWS_TEXTS:
            return False
        if kind == b"IEND":
            return True
        at += 12 + length
    return False


def spng_picture(data: bytes) -> Image.Image | None:
    """The picture of PNG bytes decoded by libspng (pyspng: 19 ms where Pillow takes 31 on a 1824x1248 ComfyUI
    output), when its pixels are exactly Pillow's: 8-bit RGB or RGBA, not interlaced, nothing that Pillow or
    `display_image` would apply (`_pixels_alone`), no bigger than Pillow opens without a word. None for anything
    else (a palette, grey, 16 bits, interlaced, not a PNG) or if libspng fails: Pillow reads it then."""
    if data[:8] != _PNG_SIGNATURE or data[12:16] != b"IHDR" or len(data) < 33:
        return None
    width, height, depth, colour_type, _, _, interlace = struct.unpack(">IIBBBBB", data[16:29])
    mode = _SPNG_MODES.get(colour_type)
    limit = Image.MAX_IMAGE_PIXELS
    if mode is None or depth != 8 or interlace or (limit is not None and width * height > limit):
        return None
    if not _pixels_alone(data):
        return None
    try:
        pixels = pyspng.load(data)
    except Exception:  # noqa: BLE001 - whatever libspng refuses, Pillow reads (or says why not) in its turn
        return None
    if pixels.dtype != np.uint8 or pixels.shape != (height, width, len(mode)):
        return None
    return Image.fromarray(pixels, mode)


def original_to_clean(library: Library, image_id: int, record: ImageRecord) -> Image.Image:
    """Image `image_id`'s original as `open_original` gives it, decoded by libspng when it is a PNG whose pixels
    that gives exactly (`spng_picture`), else by Pillow (which also says, in one sentence, why it cannot be read)."""
    picture = None
    try:
        with open(record.path, "rb") as source:
            if source.read(8) == _PNG_SIGNATURE:  # another kind of file is not read twice
                picture = spng_picture(_PNG_SIGNATURE + source.read())
    except OSError:
        pass  # Pillow says why, below
    return open_original(library, image_id, record) if picture is None else picture


def _cut_parts(image: Image.Image, model: str | None) -> tuple[np.ndarray, np.ndarray]:
    """The picture's RGBA pixels, opaque (a new array, the picture's colours), and the alpha of its cut.

    The session's mask is what `rembg.remove` would cut with (its default options), refined here. What needs the
    picture alone (its RGBA copy, `plain_parts`) is made on a helper thread while the model works (after the
    resize for it: not three threads on two cores then).
    """
    session = get_session(model)
    picture = display_image(image)
    if picture.mode != "RGB":
        picture = picture.convert("RGB")
    picture.load()  # read by two threads from here on: nothing left to load lazily
    masks, (parts, rgba) = predict_beside(session, picture,
                                          lambda: (plain_parts(picture), np.array(picture.convert("RGBA"))))
    masks = [m if m.mode == "L" else m.convert("L") for m in masks]
    mask = masks[0]
    for other in masks[1:]:  # models that answer with several masks: keep what any of them keeps
        mask = ImageChops.lighter(mask, other)
    return rgba, refine_mask(None, np.asarray(mask), picture, parts=parts)


# Per alpha value, what an opaque RGBA pixel (as a little-endian 32-bit number) is ANDed with: its colour and that
# alpha, or transparent black where the alpha is 0.
_CUT = np.array([0] + [(value << 24) | 0x00FFFFFF for value in range(1, 256)], "<u4")


def cut_in_place(rgba: np.ndarray, alpha: np.ndarray) -> None:
    """Opaque RGBA pixels given the alpha of the cut, in place; the colours of the pixels nobody sees (alpha 0)
    cleared to transparent black, as rembg's own cut leaves them (see `without_hidden_colours`). The same pixels
    when done again: it may finish rows done in part. In numpy by a table: 2.8 ms at 1824x1248, where Pillow's
    putalpha and masked paste took 7.3 and a copy to numpy for the PNG 1.2 more."""
    pixels = rgba.view("<u4").reshape(alpha.shape)
    np.bitwise_and(pixels, np.take(_CUT, alpha), out=pixels)


def remove_background(image: Image.Image, model: str | None = None) -> Image.Image:
    """An RGBA copy of the picture with its background transparent (`_cut_parts`, `cut_in_place`)."""
    rgba, alpha = _cut_parts(image, model)
    cut_in_place(rgba, alpha)
    return Image.fromarray(rgba, "RGBA")


_VISIBLE = [0] + [255] * 255  # a point table: 255 where a pixel shows at all


def without_hidden_colours(picture: Image.Image, alpha: Image.Image) -> Image.Image:
    """The RGBA picture with the colours of its fully transparent pixels cleared to transparent black, as rembg's
    own cut leaves them: nobody sees them, and a real picture's colours kept under its removed background cost
    the PNG encode most of its time and the file most of its size (a 1824x1248 ComfyUI output: 112 -> 32-59 ms,
    1.6 MB -> 0.2-0.7 MB)."""
    out = Image.new("RGBA", picture.size, 0)
    out.paste(picture, mask=alpha.point(_VISIBLE))  # in C: 8 ms at 2.3 megapixels
    return out


def cleaned_before(library: Library, image_id: int, cleaned: Image.Image, sha256: str) -> int | None:
    """A cleaned copy of image `image_id` made before, with the same picture as `cleaned` but other bytes: one
    made before the colours under its transparent pixels were cleared (`without_hidden_colours`, 2026-11-27), so
    that cleaning it again says "cleaned before" as it did, not a second copy. None if there is none (the same
    bytes are found by `add_derived` itself)."""
    from .records import Filters

    wanted: np.ndarray | None = None
    for record in library.page(Filters(search=f"from:{image_id} is:cleaned"), limit=20):
        if record.sha256 == sha256 or (record.width, record.height) != cleaned.size:
            continue
        try:
            with Image.open(record.path) as stored:
                earlier = stored.convert("RGBA")
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
            continue  # gone or unreadable: not the same picture, as far as can be told
        if wanted is None:
            wanted = np.asarray(cleaned)
        if np.array_equal(np.asarray(without_hidden_colours(earlier, earlier.getchannel("A"))), wanted):
            return record.id
    return None


def clean_image(library: Library, image_id: int, model: str | None = None) -> int:
    """Remove the background of one image; returns the new image's id."""
    return clean_image_made(library, image_id, model)[0]


def clean_image_made(library: Library, image_id: int, model: str | None = None) -> tuple[int, bool]:
    """Remove the background of one image: (the cleaned image's id, whether it is new).
    Not new when the image was cleaned before: the same cleaned picture is in the library."""
    record = _record_to_clean(library, image_id)
    return _store_cut(library, record, *_cut_parts(original_to_clean(library, image_id, record), model))


def _record_to_clean(library: Library, image_id: int) -> ImageRecord:
    library.require_own(image_id)
    return library.get(image_id)  # read once (three times before: 1 ms each)


def _store_cut(library: Library, record: ImageRecord, rgba: np.ndarray, alpha: np.ndarray) -> tuple[int, bool]:
    """The cut (`_cut_parts`) of image `record` encoded and stored: `clean_image_made`'s answer."""
    image_id = record.id
    # the thumbnail on a helper thread while the picture is cut and encoded in two halves, here and on the other
    thumbnail, data = both(lambda: cleaned_thumbnail(record.thumbnail_path, Image.fromarray(alpha, "L")),
                           lambda: png_writer.array_png_bytes(
                               rgba, _helper, lambda start, stop, rows: cut_in_place(rows, alpha[start:stop])))
    cleaned = Image.frombuffer("RGBA", (alpha.shape[1], alpha.shape[0]), rgba, "raw", "RGBA", 0, 1)  # not a copy
    item = derived_image(library, image_id, cleaned, "background removed", thumbnail, data, record)
    earlier = cleaned_before(library, image_id, cleaned, item.sha256)
    if earlier is not None:
        return earlier, False
    ((new_id, created),) = add_derived(library, image_id, [item])
    return new_id, created


def cleaned_thumbnail(source_thumbnail: Path, cleaned: Image.Image) -> bytes | None:
    """The source's thumbnail with the cleaned image's alpha (`cleaned`: the cleaned image, or its alpha alone, an
    L picture): the same as making one from the cleaned image, for a fraction of the work. None if the source has
    none."""
    try:
        with Image.open(source_thumbnail) as stored:
            thumb = stored.convert("RGB")
    except (OSError, ValueError):
        return None
    alpha = cleaned if cleaned.mode == "L" else cleaned.getchannel("A")
    thumb.putalpha(alpha.resize(thumb.size, Image.Resampling.LANCZOS, reducing_gap=1.0))
    out = io.BytesIO()
    thumb.save(out, "PNG", compress_level=1)
    return out.getvalue()


def id_list(ids: list[int], most: int = 4) -> str:
    """"#4", "#4 and #5", "#4, #5 and #6", "#4, #5, #6, #7 and 8 more": a list that stays on one line."""
    shown = [f"#{i}" for i in ids[:most]]
    rest = len(ids) - len(shown)
    if rest:
        return ", ".join(shown) + f" and {rest:,} more"
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


@dataclass
class CleanReport:
    created: list[tuple[int, int]]  # (source id, new id)
    failed: list[tuple[int, str]]
    cancelled: bool = False
    existing: list[tuple[int, int]] = field(default_factory=list)  # (source id, its cleaned copy made before)
    asked: int = 0  # how many images were to be cleaned
    # (source id, the image it is): its cleaned picture is the same as another image's (identical pixels,
    # e.g. several 1×1 images), so the one cleaned image stands for both
    identical: list[tuple[int, int]] = field(default_factory=list)

    def summary(self) -> str:
        """What happened, for the user, in a line or two whatever the number of images (the failures are in
        `failures`)."""
        parts = []
        if self.created:
            made = [new for _, new in self.created]
            parts.append(f"Background removed: {'new image' if len(made) == 1 else f'{len(made):,} new images'} "
                         f"{id_list(made)} (the original{'s are' if len(made) > 1 else ' is'} unchanged).")
        if len(self.existing) == 1:
            ((source, existing),) = self.existing
            parts.append(f"#{source} was cleaned before: its cleaned copy is #{existing}, nothing new was made.")
        elif self.existing:
            parts.append(f"{id_list([s for s, _ in self.existing])} were cleaned before: nothing new was made "
                         "for them.")
        if self.identical:
            targets = sorted({t for _, t in self.identical})
            sources = [s for s, _ in self.identical]
            one = len(sources) == 1
            parts.append(f"{id_list(sources)} came out the same once cleaned: "
                         f"{'it shares' if one else 'they share'} {id_list(targets)}.")
        if self.cancelled:
            done = len(self.created) + len(self.existing) + len(self.identical) + len(self.failed)
            parts.append(f"Cancelled after {done:,} of {self.asked:,} images." if done else
                         "Cancelled: nothing was cleaned.")
        return " ".join(parts)

    def failures(self) -> list[str]:
        """The images not cleaned, one line each when they are few, else one line for all."""
        if len(self.failed) <= 2:
            return [f"#{image_id}: {reason}" for image_id, reason in self.failed]
        return [f"{id_list([i for i, _ in self.failed])} were not cleaned; the first: {self.failed[0][1]}"]


# The thread that reads and cuts the next image of a selection while this one is encoded and stored (never the
# helper's: its tasks wait for none of the helper's).
_ahead = ThreadPoolExecutor(max_workers=1, thread_name_prefix="myimages-clean-next")

Cut = tuple[ImageRecord, np.ndarray, np.ndarray]


def _cut_ahead(library: Library, image_id: int, model: str | None) -> Future[Cut]:
    """Image `image_id` read and cut on the `_ahead` thread (its record read here: the database is this thread's);
    a failure is the future's, raised when its result is asked for. It writes nothing."""
    try:
        record = _record_to_clean(library, image_id)
    except Exception as exc:  # noqa: BLE001 - said in its turn, as if it had been read then
        failed: Future[Cut] = Future()
        failed.set_exception(exc)
        return failed
    return _ahead.submit(lambda: (record, *_cut_parts(original_to_clean(library, image_id, record), model)))


def clean_images(library: Library, image_ids: list[int], model: str | None = None,
                 progress: Callable[[int, int, int], None] | None = None,
                 cancelled: Callable[[], bool] = lambda: False) -> CleanReport:
    """Clean several images; a failure on one is reported and the rest go on.

    The next image is read and cut (the model) on another thread while this one is encoded and stored: its
    stores stay on this thread, one after the other, and a cancel stops before the next store (the cut made ahead
    is dropped; it wrote nothing)."""
    report = CleanReport([], [], asked=len(image_ids))
    get_session(model)  # no model: one clear error before anything starts
    ahead: Future[Cut] | None = None
    try:
        for done, image_id in enumerate(image_ids, start=1):
            if cancelled():
                report.cancelled = True
                break
            cut = ahead if ahead is not None else _cut_ahead(library, image_id, model)
            ahead = _cut_ahead(library, image_ids[done], model) if done < len(image_ids) else None
            try:
                new_id, created = _store_cut(library, *cut.result())
                if created:
                    report.created.append((image_id, new_id))
                elif library.get(new_id).parent_id == image_id:
                    report.existing.append((image_id, new_id))
                else:  # the cleaned picture of another image (of this run or before) with the same pixels
                    report.identical.append((image_id, new_id))
            except BackgroundError:
                raise
            except StoreError as exc:
                report.failed.append((image_id, str(exc)))
            except Exception as exc:  # noqa: BLE001 - one bad image never stops the rest
                detail = first_line(exc, fallback="")  # "KeyError: 'x'"; a bare "ValueError" when it says nothing
                report.failed.append((image_id, f"{type(exc).__name__}{': ' + detail if detail else ''}"))
            if progress:
                progress(done, len(image_ids), image_id)
    finally:
        if ahead is not None:  # a cancel, or an error that ends the run: nothing left running
            wait([ahead])
    return report
