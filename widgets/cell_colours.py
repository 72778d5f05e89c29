"""Half-block pictures on a terminal that shows only the 16 ANSI colours.

Rich maps each true colour to the nearest of the 16 by a distance in RGB that favours the greys: a lavender
(the demo's crystal heart, 180,140,255) becomes light grey, a light purple white, sky blue grey. The picture
then loses what a user recognises first, its hues. Here every pixel is mapped before drawing, in OKLab (a
perceptual space): a pixel with colour keeps its hue family (lavender becomes bright magenta, sky blue cyan,
a muted purple edge blue), and only pixels with little colour become black, grey or white, by lightness. Not
dithered: a thumbnail is a few dozen cells wide, and dithering at that size is noise.

The chosen colours are Rich's own triplets for the 16, which Rich's output then maps to exactly that index, so
the terminal draws each cell in its own palette's version of the colour.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
from PIL import Image
from rich._palettes import STANDARD_PALETTE  # the 16 colours' triplets Rich matches against (no public name)

GREY_CHROMA = 0.06  # OKLab chroma below which a pixel is grey: the demo's iron 0.02, dark green-grey 0.05, sky 0.08
HUE_WEIGHT = 4.0  # how much more a difference in hue counts than one in lightness or saturation
_LEVELS = 32  # the lookup table's steps per channel (8 values each)
_RGB = np.array([tuple(STANDARD_PALETTE[index]) for index in range(16)], dtype=np.uint8)
_GREYS = np.isin(np.arange(16), (0, 7, 8, 15))  # black, white (light grey), bright black (grey), bright white


@dataclass
class _State:
    sixteen: bool = False  # pictures are mapped to the 16 ANSI colours (`use_colour_system`)
    table: np.ndarray | None = None  # the nearest colour of every RGB, made once (`_table`)


_state = _State()
_lock = threading.Lock()


def _oklab(rgb: np.ndarray) -> np.ndarray:
    """sRGB (0-255, any shape ending in 3) to OKLab (Björn Ottosson's matrices)."""
    c = rgb.astype(np.float64) / 255
    c = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    lms = np.cbrt(c @ np.array([[0.4122214708, 0.5363325363, 0.0514459929],
                                [0.2119034982, 0.6806995451, 0.1073969566],
                                [0.0883024619, 0.2817188376, 0.6299787005]]).T)
    return lms @ np.array([[0.2104542553, 0.7936177850, -0.0040720468],
                           [1.9779984951, -2.4285922050, 0.4505937099],
                           [0.0259040371, 0.7827717662, -0.8086757660]]).T


def nearest(rgb: np.ndarray) -> np.ndarray:
    """The index (0-15) of the ANSI colour for each RGB triplet (shape (..., 3)).

    A pixel with colour (OKLab chroma above `GREY_CHROMA`) takes one of the twelve coloured entries, chosen
    mostly by hue; a pixel without takes black, grey, white or bright white by its lightness. Nearest in
    plain distance, a muted purple is nearer grey than any of the vivid ANSI colours, and that is how a purple
    heart became white and grey."""
    pixel, palette = _oklab(np.asarray(rgb)), _oklab(_RGB)
    chroma, palette_chroma = np.hypot(pixel[..., 1], pixel[..., 2]), np.hypot(palette[:, 1], palette[:, 2])
    lightness = (pixel[..., None, 0] - palette[:, 0]) ** 2
    colour = (pixel[..., None, 1] - palette[:, 1]) ** 2 + (pixel[..., None, 2] - palette[:, 2]) ** 2
    saturation = (chroma[..., None] - palette_chroma) ** 2
    hue = np.maximum(colour - saturation, 0)  # what is left of the colour difference once chroma is taken out
    coloured = np.where(_GREYS, np.inf, lightness + saturation + HUE_WEIGHT * hue)
    grey = np.where(_GREYS, lightness, np.inf)
    return np.where(chroma > GREY_CHROMA, coloured.argmin(axis=-1), grey.argmin(axis=-1)).astype(np.uint8)


def _table() -> np.ndarray:
    """Nearest colour index for every RGB rounded to `_LEVELS` steps per channel, made once (0.2 s, on a thread
    of its own started by `use_colour_system`; a picture drawn before it is ready waits for it)."""
    with _lock:
        if _state.table is None:
            step = 256 // _LEVELS
            axis = np.arange(_LEVELS) * step + step // 2
            grid = np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), axis=-1)
            _state.table = nearest(grid.reshape(-1, 3)).reshape(_LEVELS, _LEVELS, _LEVELS)
        return _state.table


def to_sixteen(picture: Image.Image) -> Image.Image:
    """The picture (RGB) with each pixel replaced by the nearest of the 16 ANSI colours (Rich's triplets)."""
    pixels = np.asarray(picture.convert("RGB")) // (256 // _LEVELS)
    indexes = _table()[pixels[..., 0], pixels[..., 1], pixels[..., 2]]
    return Image.fromarray(_RGB[indexes], "RGB")


def use_colour_system(system: str | None) -> None:
    """Say how many colours the app's output has (its console's `color_system`): "standard" maps pictures to
    the 16 ANSI colours from now on (`for_terminal`)."""
    _state.sixteen = system == "standard"
    if _state.sixteen and _state.table is None:
        threading.Thread(target=_table, name="sixteen-colour table", daemon=True).start()


def draws_true_colour() -> bool:
    """Pictures are drawn in their own colours (`for_terminal` leaves them unchanged)."""
    return not _state.sixteen


def for_terminal(picture: Image.Image) -> Image.Image:
    """The picture as half-block cells should draw it on this terminal: mapped to the 16 ANSI colours when those
    are all it shows, else unchanged (256 colours: Rich's own mapping keeps hues)."""
    return to_sixteen(picture) if _state.sixteen else picture
