"""The picture formats the library takes, and how a sentence names them (light: the command line's help reads it).

GIF, TIFF and AVIF are taken beside PNG, JPEG and WebP (NEWUSER7 #30: a folder of them was counted and left out),
AVIF where Pillow reads it (its own plugin since Pillow 11.2). The original is kept as it is; an animation, or a
TIFF of several pages, is shown, exported and cut by its first frame.
"""
from __future__ import annotations

from PIL import features

AVIF = features.check("avif") is True
# Pillow's format -> the extension of the library's copy
FORMATS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp", "GIF": "gif", "TIFF": "tiff", **({"AVIF": "avif"} if AVIF else {})}
# the extensions of the library's copies (originals/), whatever this Pillow reads: doctor knows them as the library's
STORED_EXTENSIONS = ("png", "jpg", "webp", "gif", "tiff", "avif")
# .jfif, .jpe: JPEG as browsers save it
EXTENSIONS = {".png", ".jpg", ".jpeg", ".jfif", ".jpe", ".webp", ".gif", ".tif", ".tiff", *((".avif",) if AVIF else ())}
_NAMES = ["PNG", "JPEG", "WebP", "GIF", "TIFF", *(["AVIF"] if AVIF else [])]
FORMAT_NAMES, FORMAT_NAMES_OR = (", ".join(_NAMES[:-1]) + f" {word} " + _NAMES[-1] for word in ("and", "or"))
# pictures in formats the library does not take (no generator writes them): a folder import counts and names them
OTHER_IMAGE_EXTENSIONS = {".bmp", ".heic", ".heif", ".jxl", ".jp2", ".tga", ".psd", *(() if AVIF else (".avif",))}
