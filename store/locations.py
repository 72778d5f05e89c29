"""Every path the app uses is decided here (platformdirs), each overridable.

Environment variables keep tests hermetic (the first two and the settings file's
`library` and `downloads` are read by store/settings.py):
  MYIMAGES_LIBRARY    the library folder
  MYIMAGES_DEMO       the demo library folder
  MYIMAGES_DOWNLOADS  where downloads go
  MYIMAGES_CONFIG     the settings file
"""
from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "myimages"


def default_library() -> Path:
    """MYIMAGES_LIBRARY, else `library` in the settings file, else the user data folder."""
    from .settings import current

    return current().library


def demo_library() -> Path:
    env = os.environ.get("MYIMAGES_DEMO")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir(APP_NAME)) / "demo"


def downloads_folder() -> Path:
    """MYIMAGES_DOWNLOADS, else `downloads` in the settings file, else ~/Downloads/myimages."""
    from .settings import current

    return current().downloads


def settings_file() -> Path:
    """MYIMAGES_CONFIG, else settings.toml in the platform's config folder."""
    from .settings import settings_path

    return settings_path()
