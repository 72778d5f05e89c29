"""Every path the app uses is decided here (platformdirs), each overridable.

Environment variables keep tests hermetic:
  MYIMAGES_LIBRARY    the library folder
  MYIMAGES_DEMO       the demo library folder
  MYIMAGES_DOWNLOADS  where downloads go
"""
from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "myimages"


def default_library() -> Path:
    env = os.environ.get("MYIMAGES_LIBRARY")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir(APP_NAME)) / "library"


def demo_library() -> Path:
    env = os.environ.get("MYIMAGES_DEMO")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir(APP_NAME)) / "demo"


def downloads_folder() -> Path:
    env = os.environ.get("MYIMAGES_DOWNLOADS")
    if env:
        return Path(env).expanduser()
    try:
        base = Path(platformdirs.user_downloads_dir())
    except Exception:  # pragma: no cover - platformdirs always answers on Linux
        base = Path.home() / "Downloads"
    return base / "myimages"
