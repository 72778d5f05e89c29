"""The settings: one TOML file in the platform's config folder, environment variables over it.

    library = "~/pictures/myimages"      # the library folder            MYIMAGES_LIBRARY
    downloads = "~/Downloads/myimages"   # where downloads go             MYIMAGES_DOWNLOADS
    account = "alice"                    # the acting account             MYIMAGES_ACCOUNT
    database_url = "postgresql://…"      # a shared PostgreSQL library    MYIMAGES_DATABASE_URL
    rembg_model = "u2netp"               # clean background's model       MYIMAGES_REMBG_MODEL
    images = "auto"                      # auto, kitty, sixel, halfcell, none
    colors = "auto"                      # auto, 16, 256, truecolor       MYIMAGES_COLORS
    icons = "auto"                       # auto, emoji, plain (card buttons) MYIMAGES_ICONS
    theme = "textual-dark"               # written back when picked in the command palette
    card_size = "medium"                 # small, medium, large (+ and - in the gallery)
    sort = "newest"                      # the gallery's order when it opens (o changes and keeps it)
    trash_days = 30                      # MYIMAGES_TRASH_DAYS
    duplicate_distance = 6               # MYIMAGES_DUPLICATE_DISTANCE
    stacks = true                        # batches (seed variations) as one stack card (S in the gallery)
    [keymap]
    "gallery.favorite" = "ctrl+f"        # binding id = keys (the help, ?, shows the ids)

Read with tomllib; what the app changes is written back with tomlkit, keeping the user's comments, to a
temporary file renamed over the old one. A file that cannot be read, an unknown key or a wrong value gives
`Settings.problem` (one sentence naming the key) and the settings are the defaults (and the environment):
the app starts all the same, and never writes over such a file.
"""
from __future__ import annotations

import getpass
import os
import re
import threading
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Mapping

import platformdirs

from .errors import SettingsNotSaved, os_reason
from .files import TMP_PREFIX
from .query import SORTS

APP_NAME = "myimages"
FILE_NAME = "settings.toml"
IMAGE_MODES = ("auto", "kitty", "sixel", "halfcell", "none")
ICON_SETS = ("auto", "emoji", "plain")  # the card buttons' icons; auto: plain where emoji are drawn narrower
COLOR_CHOICES = ("auto", "16", "256", "truecolor")  # how many colours the terminal shows (tui/terminal_colors.py)
CARD_SIZES = ("small", "medium", "large")
DEFAULT_CARD_SIZE = "medium"
TRASH_DAYS = 30
MAX_TRASH_DAYS = 36500  # a hundred years: "keep forever" for a person, and still a date the calendar can hold
MAX_DUPLICATE_DISTANCE = 16
DUPLICATE_DISTANCE = 6
DEFAULT_REMBG_MODEL = "u2netp"

# setting -> its environment variable (which wins over the file)
ENV = {
    "library": "MYIMAGES_LIBRARY",
    "downloads": "MYIMAGES_DOWNLOADS",
    "account": "MYIMAGES_ACCOUNT",
    "database_url": "MYIMAGES_DATABASE_URL",
    "rembg_model": "MYIMAGES_REMBG_MODEL",
    "trash_days": "MYIMAGES_TRASH_DAYS",
    "duplicate_distance": "MYIMAGES_DUPLICATE_DISTANCE",
    "colors": "MYIMAGES_COLORS",
    "icons": "MYIMAGES_ICONS",
}


def settings_path(environ: Mapping[str, str] | None = None) -> Path:
    """MYIMAGES_CONFIG, else settings.toml in the platform's config folder (~/.config/myimages on Linux)."""
    environ = os.environ if environ is None else environ
    override = environ.get("MYIMAGES_CONFIG", "").strip()
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_config_dir(APP_NAME)) / FILE_NAME


def _login_name() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name (some containers)
        return "me"


@dataclass(frozen=True)
class Settings:
    library: Path = field(default_factory=lambda: Path(platformdirs.user_data_dir(APP_NAME)) / "library")
    downloads: Path = field(default_factory=lambda: default_downloads())
    account: str = field(default_factory=_login_name)
    database_url: str = ""
    rembg_model: str = DEFAULT_REMBG_MODEL
    images: str = "auto"
    colors: str = "auto"
    icons: str = "auto"
    theme: str = ""  # "": Textual's default
    card_size: str = DEFAULT_CARD_SIZE
    sort: str = "newest"
    trash_days: int = TRASH_DAYS
    duplicate_distance: int = DUPLICATE_DISTANCE
    stacks: bool = True
    keymap: dict[str, str] = field(default_factory=dict)
    path: Path = field(default_factory=settings_path)
    origins: dict[str, str] = field(default_factory=dict)  # setting -> "default", "file", "MYIMAGES_…"
    problem: str = ""  # why the file was not used (one sentence), or ""
    ignored: tuple[str, ...] = ()  # an environment variable's value not used, one sentence each

    def origin(self, name: str) -> str:
        return self.origins.get(name, "default")


SETTING_NAMES = [f.name for f in fields(Settings) if f.name not in ("path", "origins", "problem", "ignored")]


def default_downloads() -> Path:
    """The downloads folder when none is set: made with its parents when it is missing (files.output_folder)."""
    try:
        base = Path(platformdirs.user_downloads_dir())
    except Exception:  # pragma: no cover - platformdirs always answers on Linux
        base = Path.home() / "Downloads"
    return base / APP_NAME


class SettingError(ValueError):
    """One sentence naming the setting and what is wrong with it."""


def _check(name: str, value: object) -> object:
    """The value as the Settings object keeps it, or SettingError."""
    def want(kind: str) -> SettingError:
        shown = repr(value[:40] + "…" if isinstance(value, str) and len(value) > 40 else value)
        return SettingError(f'"{name}" must be {kind}, not {shown}')

    if name in ("library", "downloads"):
        if not isinstance(value, str) or not value.strip():
            raise want("a folder (a string)")
        return Path(value.strip()).expanduser()
    if name in ("account", "database_url", "rembg_model", "theme"):
        if not isinstance(value, str):
            raise want("a string")
        if name in ("account", "rembg_model") and not value.strip():
            raise want("a name")
        return value.strip()
    if name == "images":
        if value not in IMAGE_MODES:
            raise want("one of " + ", ".join(IMAGE_MODES))
        return value
    if name == "colors":
        value = str(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) else value
        if value not in COLOR_CHOICES:
            raise want("one of " + ", ".join(COLOR_CHOICES))
        return value
    if name == "icons":
        if value not in ICON_SETS:
            raise want("one of " + ", ".join(ICON_SETS))
        return value
    if name == "card_size":
        if value not in CARD_SIZES:
            raise want("one of " + ", ".join(CARD_SIZES))
        return value
    if name == "sort":
        if value not in SORTS:
            raise want("one of " + ", ".join(SORTS))
        return value
    if name == "trash_days":
        if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
            value = int(value.strip())
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_TRASH_DAYS:
            raise want(f"a whole number of days from 1 to {MAX_TRASH_DAYS}")
        return value
    if name == "duplicate_distance":
        if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
            value = int(value.strip())
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_DUPLICATE_DISTANCE:
            raise want(f"a whole number from 0 to {MAX_DUPLICATE_DISTANCE}")
        return value
    if name == "stacks":
        if not isinstance(value, bool):
            raise want("true or false")
        return value
    if name == "keymap":
        if not isinstance(value, dict):
            raise want("a table: [keymap] binding-id = \"keys\"")
        for binding_id, keys in value.items():
            if not isinstance(keys, str) or not keys.strip():
                raise SettingError(f'"keymap.{binding_id}" must be keys such as "ctrl+f" or "f,F", not {keys!r}')
        return {str(k): v.replace(" ", "") for k, v in value.items()}
    raise SettingError(f'"{name}" is not a setting (known: {", ".join(SETTING_NAMES)})')


def read_file(path: Path) -> dict[str, object]:
    """The file's settings, checked; {} when there is no file. SettingError (naming the key) when it is bad."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except UnicodeDecodeError:
        raise SettingError("it is not UTF-8 text") from None
    except OSError as exc:
        raise SettingError(f"it cannot be read ({os_reason(exc)})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SettingError(f"it is not valid TOML: {exc}") from None
    return {name: _check(name, value) for name, value in data.items()}


def load(environ: Mapping[str, str] | None = None, path: Path | None = None) -> Settings:
    """Defaults, then the file, then the environment."""
    environ = os.environ if environ is None else environ
    path = path or settings_path(environ)
    values: dict[str, Any] = {}  # checked by _check, one type per name
    origins: dict[str, str] = {}
    problem = ""
    try:
        values = read_file(path)
        origins = {name: "file" for name in values}
    except SettingError as exc:
        problem = f"Settings file {path} not used: {exc}; the app uses the defaults."
        values = {}
    refused: list[tuple[str, str, SettingError]] = []
    for name, variable in ENV.items():
        raw = environ.get(variable, "").strip()
        if not raw:
            continue
        try:
            values[name] = _check(name, raw)
            origins[name] = variable
        except SettingError as exc:  # the file's value (or the default) holds, and the user is told
            refused.append((name, variable, exc))
    settings = Settings(**values, path=path, origins=origins, problem=problem)
    if not refused:
        return settings
    return replace(settings, ignored=tuple(
        f"{variable} not used: {exc}; {name} stays {str(getattr(settings, name))[:80]}."
        for name, variable, exc in refused))


def for_demo(settings: Settings, folder: Path) -> Settings:
    """The settings of a demo run (`--demo`): the user's, with what earlier demo runs changed in the app over
    them (the demo library's own settings.toml), and that file the one the app writes what it changes to. A
    demo never changes the user's settings file. The environment still wins; a bad demo file is not used
    (nor written over) and said."""
    path = folder / FILE_NAME
    try:
        values = read_file(path)
    except SettingError as exc:
        return replace(settings, path=path, problem=settings.problem or
                       f"The demo's settings file {path} not used: {exc}; the demo uses your settings.")
    own: dict[str, Any] = {name: value for name, value in values.items()  # checked by _check, as in load
           if name not in ENV or settings.origin(name) != ENV[name]}
    return replace(settings, **own, path=path, origins={**settings.origins, **{name: "file" for name in own}})


_CACHE: dict[tuple, Settings] = {}


def current() -> Settings:
    """The settings now: read again only when the file or the environment changed (a stat per call)."""
    path = settings_path()
    try:
        stamp = path.stat()
        file_key = (stamp.st_mtime_ns, stamp.st_size)
    except OSError:
        file_key = None
    key = (str(path), file_key, tuple(os.environ.get(v, "") for v in ENV.values()))
    settings = _CACHE.get(key)
    if settings is None:
        _CACHE.clear()
        settings = _CACHE[key] = load(path=path)
    return settings


def changed(settings: Settings, **changes: object) -> Settings:
    """The settings with these changed (checked: SettingError), as they will be once `save` wrote them."""
    checked: dict[str, Any] = {name: _check(name, value) for name, value in changes.items()}
    if settings.problem:  # the file is not used: the change holds for this run only
        return replace(settings, **checked)
    return replace(settings, **checked, origins={**settings.origins, **{name: "file" for name in changes}})


_WRITING = threading.Lock()


def save(settings: Settings, **changes: object) -> Settings:
    """Write changed settings into the file, keeping its comments and order (tomlkit), through a temporary
    file renamed over it. A file that was not used (bad) is left as it is: the changes hold for this run."""
    updated = changed(settings, **changes)
    if not settings.problem:
        with _WRITING:
            _write(settings.path, changes)
    return updated


def _parse_problem(exc: Exception) -> str:
    """tomlkit's reason in a few words: "line 8: Unexpected end of file" (its own ends "at line 8 col 17")."""
    if isinstance(exc, UnicodeDecodeError):
        return "it is not UTF-8 text"
    line = getattr(exc, "line", None)
    reason = re.sub(r"\s+at line \d+ col \d+\s*$", "", str(exc)).strip().rstrip(".")
    return f"line {line}: {reason}" if line else reason


def _write(path: Path, changes: dict[str, object]) -> None:
    import tomlkit

    try:
        document = tomlkit.parse(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        document = tomlkit.document()
        document.add(tomlkit.comment("My Images settings (myimages config show: the effective values)"))
    except (tomlkit.exceptions.ParseError, UnicodeDecodeError) as exc:  # broken since it was read: left alone
        names = ", ".join(name.replace("_", " ") for name in changes)
        raise SettingsNotSaved(f"{names[:1].upper()}{names[1:]} not saved: the settings file {path} cannot be "
                               f"read ({_parse_problem(exc)}); the change holds until the app quits. Fix the file "
                               "and change it again to keep it.") from None
    for name, value in changes.items():
        document[name] = str(value) if isinstance(value, Path) else value
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f"{TMP_PREFIX}{path.name}.{os.getpid()}")
    try:
        with open(temp, "w", encoding="utf-8") as out:
            out.write(tomlkit.dumps(document))
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
    _CACHE.clear()
