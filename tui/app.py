"""The My Images application: a thin App that opens the library and the gallery."""
from __future__ import annotations

import asyncio
import gc
import signal
import time
import weakref
from pathlib import Path

# Imported before the App starts: textual-image queries the terminal at import.
import widgets.thumbnails  # noqa: F401
from textual import events, on
from textual.app import App
from textual.binding import Binding
from textual.command import CommandList, CommandPalette
from textual.notifications import SeverityLevel
from textual.screen import ModalScreen
from textual.widgets import Button
from textual.worker import Worker, WorkerState, get_current_worker

from store import activity
from store.errors import StoreError, first_line, os_reason, translate
from store.library import DRIVER_ERRORS, Library
from store.settings import Settings, changed as changed_settings, current as current_settings, save as save_settings
from store.text import clipboard_safe, plural
from widgets.workers import work
from widgets.cell_colours import use_colour_system
from widgets.colour_codes import use_output
from widgets.card_grid import CardGrid
from widgets.dimmed_backdrop import DimAhead, dim_later, install as dim_backdrops_quickly
from widgets.textual_leaks import install as stop_textual_leaks
from widgets.textual_repaint import install as repaint_what_went

from .commands import GalleryCommands
from .following import error_text
from .gallery_screen import GalleryScreen
from .key_order import KeyOrder
from .keymap_check import with_followers
from .pointer import PointerLeave
from .terminal_replies import dropping_late_answers


GC_IDLE_AFTER = 0.5  # seconds without a key or mouse event before a full garbage collection may run
GC_FULL_AFTER = 2  # young (generation 1) collections before a full one is due in a pause (Python's own is 10):
#   each walks only what is newer than the last one's freeze, so a small step stays far under 50 ms
GC_FORCE_AFTER = 10  # young collections since the last full one, after which it runs anyway (no pause came)
GC_DEEP_AFTER = 30.0  # seconds without input before one collection may also walk the frozen objects (deep)
GC_DEEP_GROWTH = 2.0  # ... if they doubled since the first long pause or the last such one (see `_collect_when_idle`)
GC_DEEP_AWAY = 300.0  # ... and the user is away: the terminal's window is not in front, or this long without input
GC_DEEP_OVERDUE = 3.0  # ... or, what died frozen growing on, the frozen objects tripled: after GC_DEEP_AFTER then
GC_DIALOG_UNFROZEN = 150_000  # objects left unfrozen while a dialog is open; past it they are frozen unwalked
GC_LEAVING_WAIT = 6  # idle steps that wait for a closed screen to be gone (`_leaving_waits`)
FAILURE_TIMEOUT = 12  # seconds an error stays on screen: time to read it
BACKGROUND_SHARE = 0.25  # of the time an older library's background pass (perceptual hashes) may work: it rests the rest


# A worker's state changes are posted to the widget or screen that started it and,
# by default, go no further. Letting them bubble brings every worker's failure to
# the one handler below (`MyImagesApp._worker_failed`).
Worker.StateChanged.bubble = True


def failure_text(error: BaseException | None) -> str:
    """One sentence for the user: a StoreError says it itself; anything else is named."""
    if isinstance(error, StoreError):
        return error_text(error)
    if isinstance(error, DRIVER_ERRORS):  # raised outside the Library's methods (a raw query in a worker)
        return str(translate(error))
    detail = first_line(error, fallback="") if error is not None else ""  # never "None" (a bare SyntaxError)
    name = type(error).__name__ if error is not None else "error"
    return f"Something went wrong ({name}{': ' + detail if detail else ''}); the app goes on."


class MyImagesApp(App):
    CSS_PATH = "app.tcss"
    TITLE = "My Images"
    HELP_TITLE = "Everywhere"
    BINDINGS = [
        Binding("question_mark,f1", "help", "Help", id="app.help"),
        # priority: a dialog (a progress bar) must not swallow it
        Binding("ctrl+q", "quit", "Quit", show=False, priority=True, id="app.quit"),
        # Every dialog's buttons, in one place: priority bindings are the only app keys a modal screen sees.
        Binding("left", "dialog_button(-1)", "Previous button (dialogs)", show=False, priority=True,
                id="app.previous_button"),
        Binding("right", "dialog_button(1)", "Next button (dialogs)", show=False, priority=True,
                id="app.next_button"),
    ]
    COMMANDS = App.COMMANDS | {GalleryCommands}

    def __init__(self, library: Library, *, images: str = "auto", downloads: Path | None = None,
                 settings: Settings | None = None, plain_icons: bool = False) -> None:
        super().__init__()
        stop_textual_leaks()  # lines of removed widgets kept alive and in cycles (widgets/textual_leaks.py)
        repaint_what_went()  # removed widgets left drawn on the terminal, e.g. timed-out notices (textual_repaint.py)
        dim_backdrops_quickly()  # a dialog's first paint blended the gallery under it twice (widgets/dimmed_backdrop.py)
        self.plain_icons = plain_icons  # the cards' buttons show their keys, not emoji (`--icons`)
        self.settings = settings if settings is not None else current_settings()
        self._gc_threshold = gc.get_threshold()
        self._failures_shown: dict[str, float] = {}  # each failure's sentence: when it was shown (`say_failure`)
        self.key_order = KeyOrder(self)
        # the colours of what is shown dimmed while idle, before a dialog over it asks for them (issue 11)
        self.dim_ahead = DimAhead(self, lambda: self._last_input, lambda screen: isinstance(screen, GalleryScreen))
        self._pointer = PointerLeave(self)
        self.library = library
        # binding id -> keys (the help shows them); the large view's keys follow the gallery's (keymap_check.FOLLOWS)
        self.keymap: dict[str, str] = with_followers(self.settings.keymap)
        self.image_mode = images
        self.downloads = downloads or self.settings.downloads
        self._downloads_given = downloads is not None  # --downloads: it wins over the settings at every start
        library.downloads = self.downloads  # what the sources' scans and imports leave out: where the app writes
        self.download_folder_told = False  # the first download's notice says how to choose another folder
        self.interrupted_by: int | None = None  # SIGINT or SIGTERM received: the app quit as Ctrl+Q quits (run)
        self._signals: dict[int, object] = {}  # the signals handled, and their handlers before

    def get_driver_class(self):
        """Textual's driver for this terminal, dropping terminal answers that come too late (they came as keys)."""
        return dropping_late_answers(super().get_driver_class())

    def on_mount(self) -> None:
        # 16 colours: pictures keep their hues (widgets/cell_colours.py); headless (tests) draws nothing
        use_colour_system(None if self.is_headless else self.console.color_system)
        use_output(None if self.is_headless else self.console.color_system)  # (widgets/colour_codes.py)
        self._apply_settings()
        if self.library.new_account_note:  # a new name in --account or MYIMAGES_ACCOUNT: perhaps a typo
            self.notify(self.library.new_account_note, title="New account", severity="warning", markup=False,
                        timeout=FAILURE_TIMEOUT)
        self._idle_gc()
        self.screen_change_signal.subscribe(self, lambda _screen: self.dim_ahead.changed())
        self._pointer.start()
        self.push_screen(GalleryScreen(self.library, self.image_mode, sort=self.settings.sort,
                                       stacks=self.settings.stacks))
        self._follow_sources()
        self._expire_trash()
        self._make_minis()
        self._quit_on_signals()

    def _quit_on_signals(self) -> None:
        """SIGINT (`kill -INT`, a Ctrl+C sent from outside: in the app Ctrl+C is a key) and SIGTERM quit as Ctrl+Q
        does: slow work on a progress dialog stops after its item, then the app ends and says how far it got.
        Without this asyncio cancelled the app's task: the screen went blank while a thread worker (an import)
        went on to its end, and only then did the process exit."""
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            before = signal.getsignal(signum)
            try:
                loop.add_signal_handler(signum, self._signalled, signum)
            except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or no such signals
                continue
            self._signals[signum] = before

    def _signalled(self, signum: int) -> None:
        self.interrupted_by = signum
        self.call_next(self.action_quit)

    # -- the settings file (store/settings.py) --------------------------------------------

    def _apply_settings(self) -> None:
        settings = self.settings
        if settings.problem:
            self.notify(settings.problem, title="Settings", severity="error", markup=False, timeout=FAILURE_TIMEOUT)
        if settings.ignored:
            self.notify(" ".join(settings.ignored), title="Settings", severity="warning", markup=False,
                        timeout=FAILURE_TIMEOUT)
        if settings.theme:
            if settings.theme in self.available_themes:
                self.theme = settings.theme
            else:
                self.notify(f'Settings: "theme" {settings.theme!r} is not a theme (ctrl+p, "theme" lists them).',
                            title="Settings", severity="warning", markup=False, timeout=FAILURE_TIMEOUT)
        if self.keymap:
            from .help_screen import binding_table
            from .keymap_check import keymap_problems

            # unknown ids, a key given to two actions (as the classes declare them now): one notification
            problems = keymap_problems(self.keymap, binding_table())
            if problems:
                self.notify("Settings: " + " ".join(problems), title="Settings", severity="warning", markup=False,
                            timeout=FAILURE_TIMEOUT)
            self.set_keymap(self.keymap)
        self.theme_changed_signal.subscribe(self, lambda theme: self.remember(theme=theme.name))

    def remember(self, **changes) -> None:
        """A setting the user changed in the app (theme, card size, order): kept in the settings file
        (written in a worker: the disk may be slow)."""
        if all(getattr(self.settings, name) == value for name, value in changes.items()):
            return
        before = self.settings
        self.settings = changed_settings(before, **changes)
        if not before.problem:
            self._write_settings(before, changes)

    def choose_downloads(self, folder: Path) -> None:
        """The downloads folder chosen in the app (tui/download_folder_screen.py): used from now on, and kept in the
        settings file, unless that file is not used."""
        self.downloads = self.library.downloads = folder
        origin = "--downloads" if self._downloads_given else self.settings.origin("downloads")
        self.remember(downloads=str(folder))
        kept = ("" if self.settings.problem else
                f" {origin} chooses again at the next start." if origin.startswith(("MYIMAGES_", "--")) else
                " Kept in the settings file.")
        self.notify(f"Downloads go to {folder} from now on.{kept}", title="Download folder", markup=False)

    @work(thread=True, group="settings", exit_on_error=False)
    def _write_settings(self, settings: Settings, changes: dict) -> None:
        try:
            save_settings(settings, **changes)
        except OSError as exc:
            self.call_from_thread(
                self.notify, f"The settings file {settings.path} cannot be written ({os_reason(exc)}); the change "
                "holds until the app quits.", title="Settings", severity="warning", markup=False)
        except StoreError as exc:  # SettingsNotSaved: the file broke since it was read
            self.call_from_thread(self.notify, str(exc), title="Settings", severity="warning", markup=False,
                                  timeout=FAILURE_TIMEOUT)

    @work(thread=True, group="trash-expiry", exit_on_error=False)
    def _expire_trash(self) -> None:
        """Images in the trash for longer than its days are erased at start-up (`doctor` does it too); then
        images without a perceptual hash get one (store/duplicates.py), a batch at a time until the app quits."""
        from store.trash import trash_days

        with self.library.connection():
            n = self.library.expire_trash()
        if n:
            self.call_from_thread(self.notify, f"{plural(n, 'image')} deleted more than {trash_days()} "
                                  "days ago erased from the trash.", markup=False)
        if not self.library.read_only:  # then, for a library older than them, the near-duplicates' hashes
            worker = get_current_worker()
            with self.library.connection():
                if self.library.fill_batches(cancel=lambda: worker.is_cancelled):  # variation stacks (stacks.py)
                    self.call_from_thread(self._batches_made)
                self.library.fill_perceptual_hashes(cancel=lambda: worker.is_cancelled, share=BACKGROUND_SHARE)

    @work(thread=True, group="minis", exit_on_error=False)
    def _make_minis(self) -> None:
        """A library older than mini thumbnails gets them (store/minis.py), from where the last run stopped, at most
        BACKGROUND_SHARE of the time: the cards read the thumbnails meanwhile. Nothing for a library that has them."""
        if self.library.read_only:
            return
        worker = get_current_worker()
        self.library.make_minis(cancel=lambda: worker.is_cancelled, share=BACKGROUND_SHARE)

    def _batches_made(self) -> None:
        """An older library got its batch keys: the gallery shows its stacks now."""
        for screen in self.screen_stack:
            if isinstance(screen, GalleryScreen):
                screen.reload(keep_position=True)

    # -- watched source folders: followed while the app runs (store/watcher.py) -----------

    def _follow_sources(self) -> None:
        self.watcher = None
        if self.library.read_only:
            return
        from store.watcher import SourceWatcher

        self.watcher = SourceWatcher(self.library, lambda reports: self._from_watcher(self._sources_reported, reports),
                                     lambda text: self._from_watcher(self._source_notice, text),
                                     full_scans_apart=True,
                                     on_database_failure=lambda text: self._from_watcher(self._database_notice, text)
                                     ).start()

    def library_writable_again(self) -> None:
        """The library, opened read only on a full disk, became writable (an erase made room: store/room.py): its
        sources are followed from now on, as they would have been from the start (new-user test 10, K3)."""
        if getattr(self, "watcher", None) is None and not self.library.read_only:
            self._follow_sources()

    def _from_watcher(self, callback, *args) -> None:
        try:
            self.call_from_thread(callback, *args)
        except RuntimeError:  # the app is closing
            pass

    def sources_changed(self) -> None:
        """A source was added or removed here: the watcher follows the new set."""
        if self.watcher is not None:
            self.watcher.sources_changed()

    def _sources_reported(self, reports) -> None:
        from store.text import one_line

        galleries = [s for s in self.screen_stack if isinstance(s, GalleryScreen)]
        for report in reports:
            where = one_line(str(report.source))
            if report.problem:
                self.notify(report.problem, title="Source folder", severity="warning", markup=False)
                continue
            if report.added:
                new, back = len(report.added) - report.back, report.back
                said = ([plural(new, "new image")] if new else []) + ([plural(back, "image") + " back"] if back else [])
                text = f"{' and '.join(said)} from {where}" + (
                    "" if not back else " (a file that had gone came back: the image it was, with its favorite and "
                    "collections)" if back == 1 else " (files that had gone came back: the images they were, with "
                    "their favorites and collections)")
                title = "New images" if new else "Images back"  # "1 image back" titled so (new-user test 8 #10)
                if galleries:  # the gallery says it once it shows them, with where they are
                    galleries[-1].images_arrived(list(report.added), text, title)
                else:
                    self.notify(text, title=title, markup=False)
            if report.replaced:  # a name used again for another picture (latest.png): the image it held left
                self.notify("".join(report.replaced_sentences()).strip(), title="Source folder", markup=False)
            left = report.removed - len(report.replaced)  # files deleted or moved away outside the app
            if left > 0:  # the count fell: why, and that they come back (NEWUSER12 F9: 498 left without a word)
                one = left == 1
                self.notify(f"{plural(left, 'image')} left the library: {'its file' if one else 'their files'} in "
                            f"{where} {'was' if one else 'were'} deleted or moved away; if {'it comes' if one else 'they come'} "
                            f"back, so {'does the image' if one else 'do the images'}, with "
                            f"{'its favorite' if one else 'their favorites'} and collections.", title="Images gone",
                            markup=False)
            if report.unreadable:  # a folder in it that cannot be read (its mode): its images stay, it is said
                self.notify("".join(report.unreadable_sentences()).strip(), title="Source folder", severity="warning",
                            markup=False)
            if report.bad:
                n = len(report.bad)
                self.notify(f"{plural(n, 'file')} skipped in {where} (w shows why)",
                            title="Source folder", severity="warning", markup=False)
        if galleries and not any(report.added for report in reports):
            galleries[-1].action_refresh()

    def _source_notice(self, text: str) -> None:
        self.notify(text, title="Source folders", severity="warning", markup=False, timeout=FAILURE_TIMEOUT)

    def _database_notice(self, text: str) -> None:
        """The watcher's one notice that the library database failed (cannot be reached, a full disk): titled for
        what it is, not "Source folders", which an account following no folder got too (new-user test 10, note)."""
        self.say_failure(text, "Library database", "warning")

    # Every repaint leaves cyclic garbage (Textual's strips cache themselves), and
    # a full collection walks every object: 50-150 ms on a large library, a
    # visible stall when it lands between a keystroke and the new results. Full
    # collections therefore wait for a pause in the user's input; young ones run as usual.
    # What survives a full collection is frozen (gc.freeze), so the next one walks only
    # what is newer (a few milliseconds instead of ~100): the long-lived objects (the
    # catalog's records, the widgets, the modules) are not walked again and again. The first freeze, of what
    # start-up made, comes without a full collection.
    # What dies after being frozen stays until a collection walks everything (unfreeze, collect, freeze):
    # every object the app has (100,000 to 200,000: 100 to 400 ms on a loaded 2-core machine), far over the
    # 50 ms a key may wait. Little dies frozen now: drawn lines are freed at once by reference counting and
    # removed widgets' lines no longer stay alive (widgets/textual_leaks.py; thumbnails: widgets/cell_lines.py);
    # what does is a closed dialog's widgets (cycles), without their lines (`_drop_closed_screens_lines`). So
    # that collection (after GC_DEEP_AFTER without input) runs only once the frozen objects doubled since
    # the first such pause or the last one: not in a usual session. And then only when the user is away (a key
    # that came during it waited): the terminal says its window went to the back, or GC_DEEP_AWAY without
    # input; past GC_DEEP_OVERDUE times (what dies frozen grows on), GC_DEEP_AFTER without input will do.
    # Thumbnails drawn as lines (a page's: 25,000 objects at 160x48, acyclic: reference counting frees them) were
    # most of what each full collection walked. Once a batch is drawn (CardGrid.ThumbnailsDrawn) the next step
    # freezes without a full collection (a young one first), so full collections walk what came after them.
    # A dialog (any screen over the gallery) is cycles too: frozen while it was open, its widgets died frozen
    # when it closed (2,000-4,000 objects each; the deep collection was due after ~40 dialogs and took ~285 ms).
    # So while one is open no full collection runs and nothing is frozen: its objects (its drawn lines: 40,000 to
    # 130,000 at 160x48) stay in the oldest generation, walked by none; the first full collection after it
    # closed frees its widgets (its lines went at once, `_drop_closed_screens_lines`), walking little. Young
    # collections run as usual. Only past GC_DIALOG_UNFROZEN objects (a dialog used for long) they are frozen,
    # without a walk: what of them dies is left to the deep collection. A closed screen is alive for a moment
    # after: no full collection runs while Textual removes it, none freezes while it is still alive after
    # (`_leaving_waits`).

    def _idle_gc(self) -> None:
        self._last_input = time.monotonic()
        self._deep_collected = True  # nothing frozen yet: no deep collection is due
        self._frozen_after_deep = 0  # objects frozen at the first long pause or after the last deep collection
        self._settled = False  # the first long pause came (below)
        self._started_frozen = False  # start-up's objects are frozen without a full collection (below)
        self._lines_drawn = False  # thumbnails were drawn since the last step (`on_card_grid_thumbnails_drawn`)
        self._window_left: float | None = None  # when the terminal said its window went to the back (`on_app_blur`)
        self._top_screen = self.screen
        self._leaving: list[weakref.ref] = []  # closed screens not yet collected
        self._leaving_waited = 0  # steps that waited for them
        self.screen_change_signal.subscribe(self, self._drop_closed_screens_lines, immediate=True)
        gc.set_threshold(self._gc_threshold[0], self._gc_threshold[1], 1_000_000)
        self.set_interval(GC_IDLE_AFTER, self._collect_when_idle)

    def on_card_grid_thumbnails_drawn(self, message: CardGrid.ThumbnailsDrawn) -> None:
        self._lines_drawn = True
        for lines in message.grid.shown_thumbnails():  # theirs dimmed soon (only those on screen: those a page
            dim_later(lines)  # away too were 300,000 colours dimmed while scrolling a million images, thrice KEPT)
        self.dim_ahead.changed()

    def _drop_closed_screens_lines(self, screen) -> None:
        """A closed screen's widgets drop the lines they drew (Textual's line caches): those go at once, by
        reference counting, while the widgets themselves (cycles) may have been frozen and wait for a deep
        collection. A dialog's lines were most of what died frozen (120,000 objects a round at 160x48)."""
        closed, self._top_screen = self._top_screen, screen
        if closed is not None and closed not in self.screen_stack:
            for widget in closed.walk_children(with_self=True):
                widget.refresh()  # empties its line cache
            self._leaving.append(weakref.ref(closed))

    def _leaving_waits(self, collected: bool) -> bool:
        """Wait for a closed screen, at most GC_LEAVING_WAIT idle steps in all: before a full collection while
        Textual still removes it (its objects, a picture's lines, are alive: walked and frozen for nothing), after
        one while it is still alive (something lets it go a moment later: frozen now, it would die frozen)."""
        self._leaving = [ref for ref in self._leaving if ref() is not None]
        waiting = [screen for ref in self._leaving if (screen := ref()) is not None and (collected or screen.is_running)]
        if waiting and self._leaving_waited < GC_LEAVING_WAIT:
            self._leaving_waited += 1
            return True
        return False

    def _dialog_open(self) -> bool:
        """A screen (a dialog, the trash, the public gallery...) is over the gallery the app opened with."""
        return any(isinstance(screen, GalleryScreen) for screen in self.screen_stack[:-1])

    def _collect_when_idle(self) -> None:
        pending = gc.get_count()[2]
        idle = time.monotonic() - self._last_input
        if self._started_frozen and self._dialog_open():
            if pending > GC_FORCE_AFTER and len(gc.get_objects(generation=2)) > GC_DIALOG_UNFROZEN:
                gc.freeze()  # no walk: it only moves the generations' lists
                self._deep_collected = False
            return
        if self._lines_drawn and self._started_frozen and not any(ref() is not None for ref in self._leaving):
            # thumbnails were drawn (CardGrid.ThumbnailsDrawn): freed by reference counting alone, they need no
            # walk; frozen now, the next full collection walks what came after them (at 160x48 the 25,000 objects
            # of a page's thumbnails were most of what each full collection walked: 20-40 ms at load 5)
            self._lines_drawn = False
            gc.collect(1)  # what died young goes first (a few milliseconds)
            gc.freeze()
            self._deep_collected = False
            return
        away = idle > GC_DEEP_AWAY or (self._window_left is not None and min(idle, time.monotonic() - self._window_left)
                                        > GC_IDLE_AFTER)
        if (idle > GC_DEEP_AFTER or away) and not self._deep_collected and not self._deep_waits(away):
            self._deep_collected = True
        elif (pending >= GC_FULL_AFTER and idle > GC_IDLE_AFTER) or pending > GC_FORCE_AFTER:
            if not self._started_frozen:
                # the first time: what start-up made (modules, the catalog, the widgets) is long-lived but for a
                # little garbage left to the first deep collection; walking it now took 75 ms at 100,000 images
                gc.collect(1)
                gc.freeze()
                self._started_frozen = True
                return
            if self._leaving_waits(collected=False):
                return
            gc.collect()
            if self._leaving_waits(collected=True):
                return
            self._leaving, self._leaving_waited = [], 0
            gc.freeze()
            self._deep_collected = False

    def _deep_waits(self, away: bool) -> bool:
        """After a long pause: the deep collection if it is due and the user is away (it walks every object: 60 ms
        at load 6 and 250-300 ms at load 10-16 at 160x48, a stall if a key came meanwhile); True if it is due
        but waits for that. The first long pause only takes the measure."""
        frozen = gc.get_freeze_count()
        if not self._settled:
            # the first long pause: the gallery has drawn its thumbnails and read its pages; what is frozen
            # now is what it lives with (start-up's freeze came before: at 160x48 half of it, so a deep
            # collection of 210-280 ms was due in the first minute of a session)
            self._settled = True
            self._frozen_after_deep = frozen
        elif frozen > self._frozen_after_deep * GC_DEEP_GROWTH:
            if not away and frozen <= self._frozen_after_deep * GC_DEEP_OVERDUE:
                return True
            gc.unfreeze()
            gc.collect()
            gc.freeze()
            self._frozen_after_deep = gc.get_freeze_count()
        return False

    def on_unmount(self) -> None:
        gc.set_threshold(*self._gc_threshold)  # as it was: other apps may run in this process (tests)
        gc.unfreeze()  # what this app froze may be collected again
        watcher = getattr(self, "watcher", None)
        if watcher is not None:
            watcher.stop()
        loop = asyncio.get_running_loop()
        for signum, before in self._signals.items():  # as they were: another app, or pytest, may run after it
            loop.remove_signal_handler(signum)
            signal.signal(signum, before)  # type: ignore[arg-type]
        self._signals.clear()

    def _button_row(self) -> list[Button]:
        """The buttons beside the focused one in a dialog (the focused one among them); else none."""
        focused = self.focused
        if not isinstance(focused, Button) or not isinstance(self.screen, ModalScreen) or focused.parent is None:
            return []
        return [b for b in focused.parent.children if isinstance(b, Button) and b.focusable]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "dialog_button":  # only on a dialog's button: elsewhere ← and → are the widgets' own
            return len(self._button_row()) > 1
        if action == "command_palette" and self.screen_stack:
            from .progress_screen import ProgressScreen

            return not isinstance(self.screen, ProgressScreen)  # the gallery's commands, under a running job
        return True

    def action_dialog_button(self, step: int) -> None:
        """← and → move between a dialog's buttons (no wrapping: Right then Enter in [Cancel] [Delete] deletes)."""
        row = self._button_row()
        if self.focused in row:
            index = max(0, min(len(row) - 1, row.index(self.focused) + step))
            self.screen.set_focus(row[index])  # at once: an Enter typed right after presses it

    async def action_quit(self) -> None:
        """Quit; slow work on a progress dialog is cancelled first, after the item it is on (nothing is left
        half-written), and the app ends once it has stopped, saying how far it got."""
        from .progress_screen import ProgressScreen

        running = [screen for screen in self.screen_stack if isinstance(screen, ProgressScreen)]
        if running:
            running[-1].quit_when_stopped()
        else:
            self.exit()

    def action_help(self) -> None:
        """Every key of the screen on top, and the search syntax (first on screen from the search box)."""
        from textual.widgets import Input

        from .help_screen import HelpScreen

        self.push_screen(HelpScreen(self.screen, at_search=isinstance(self.focused, Input)))

    def copy_to_clipboard(self, text: str) -> None:
        """Every copy (Copy buttons, Textual's own text selection) loses its control characters."""
        super().copy_to_clipboard(clipboard_safe(text))

    def _palette_not_laid_out(self, event: events.Key) -> bool:
        """PageUp/PageDown in the command palette before its list is laid out: Textual 8.2 fails on it
        (KeyError in OptionList._move_page; found by the fuzz test). Such a key does nothing here."""
        if event.key not in ("pageup", "pagedown") or not isinstance(self.screen, CommandPalette):
            return False
        lists = self.screen.query(CommandList)
        return not lists or lists.first().scrollable_content_region.height == 0

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        """Every worker runs with exit_on_error=False; a failure is shown here, the app goes on."""
        if event.state != WorkerState.ERROR:
            return
        self.log.error(f"worker {event.worker.name!r} failed: {event.worker.error!r}")
        self.say_failure(failure_text(event.worker.error), "Not done")

    def say_failure(self, text: str, title: str, severity: SeverityLevel = "error") -> None:
        """A failure's sentence as a notice, unless it is still on the screen (shown less than FAILURE_TIMEOUT ago,
        alone or within a longer notice): one failure met by two parts of the app is one notice, under the first
        one's title (a folder added on a full disk: the add's own failure and the watcher's, which read the folder
        next, NEWUSER12 F7)."""
        now = time.monotonic()
        self._failures_shown = {said: when for said, when in self._failures_shown.items()
                                if now - when < FAILURE_TIMEOUT}
        if any(text in said for said in self._failures_shown):  # (a sentence said within a longer notice too)
            return
        self._failures_shown[text] = now
        self.notify(text, title=title, severity=severity, markup=False, timeout=FAILURE_TIMEOUT)

    def on_app_blur(self) -> None:
        self._pointer.left()  # another window has the focus: no hover, no tooltip left behind
        self._window_left = time.monotonic()  # the user is away: a deep collection may run (`_deep_waits`)

    def on_app_focus(self) -> None:
        self._window_left = None

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.InputEvent):
            self._last_input = time.monotonic()
            activity.note()  # a scan in a child process gives way meanwhile (store/scan_child.py)
            if isinstance(event, events.MouseMove) and not event.is_forwarded:
                self._pointer.moved(event)
        if not isinstance(event, events.Key):
            await super().on_event(event)
        elif not self.is_running:
            return  # the app is closing (its screens go): a key held or on its way meanwhile has nothing to act on
        elif not event.is_forwarded:  # from the terminal
            if self._palette_not_laid_out(event):
                return
            if not self.key_order.arriving(event):
                await super().on_event(event)
                self.key_order.handed_on(event)
        elif not self.key_order.went_astray(event):  # back from its widget (sent again if the focus left it)
            await super().on_event(event)  # its bindings run now
            self.key_order.returned(event)


def run(library_path: Path, *, account: str | None = None, database_url: str | None = None,
        images: str = "auto", downloads: Path | None = None, settings: Settings | None = None,
        plain_icons: bool = False) -> int:
    library = Library(library_path, account=account, database_url=database_url)
    try:
        app = MyImagesApp(library, images=images, downloads=downloads, settings=settings, plain_icons=plain_icons)
        app.run()
    finally:
        library.close()
    return 0 if app.interrupted_by is None else 128 + app.interrupted_by  # 130 after SIGINT, as a shell says
