"""Slow work with a progress bar, a running count and Cancel.

The job runs in a thread worker; it receives `progress(done, total, text)` (shown as "350 of 400 deleted": the
text names what is counted, then "· the item" when it names one: "files · a.png"; it never waits for the screen:
the latest count is kept, and the screen shows it when it can: one message at a time however fast they come) and
`cancelled()` and returns a result. The screen answers with a `JobOutcome`.

The dialog takes only its own keys: Esc cancels (its key bar says so; no letter does: "/cat" typed blind
cancelled an import; Ctrl+C does, the key a terminal stops things with, as in every dialog: `Modal`), the help and Ctrl+Q work as
everywhere. Its Cancel button cannot take the focus, so Enter or Space typed out of habit (or meant for the
gallery) no longer cancels an import; every other key does nothing and is not kept for later (the gallery under
it changes when the job ends: a key typed blind would act on other cards); the command palette stays closed (it
would run the gallery's commands under a running job).
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Callable, cast

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, ProgressBar, Static
from textual.worker import Worker, WorkerState

from widgets.workers import work
from widgets.key_bar import KeyBar

from .dialog import Modal

Job = Callable[[Callable[[int, int, str], None], Callable[[], bool]], Any]


@dataclass
class JobOutcome:
    result: Any = None
    error: BaseException | None = None
    cancelled: bool = False


def _no_progress(done: int, total: int, text: str = "") -> None:
    """Progress nobody is shown."""


def run_without_progress(job: Job) -> JobOutcome:
    """Run a job right here (a worker thread: one image, no dialog); its failure is handed back, not raised."""
    try:
        return JobOutcome(result=job(_no_progress, lambda: False))
    except Exception as exc:  # noqa: BLE001 - handed to the caller, shown as a notification
        return JobOutcome(error=exc)


class ProgressScreen(Modal[JobOutcome]):
    # no letter: typing blind cancelled (Ctrl+C cancels too, as in every dialog: `Modal`'s; NEWUSER12 F4)
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="progress.cancel")]

    class Progressed(Message):
        """The job has a new count (`ProgressScreen._latest`)."""

    def __init__(self, title: str, job: Job, total: int | None = None, starting: str = "Starting…") -> None:
        super().__init__()
        self.title_text = title
        self.starting = starting  # what it says until the first count
        self.job = job
        self.total = total
        self._cancel = threading.Event()
        self._quitting = False
        self._done: tuple[int, int] | None = None  # the last progress shown (done, total)
        self._progress_lock = threading.Lock()
        self._latest: tuple[int, int, str] | None = None  # the job's last count, not shown yet

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="progress-dialog"):
            yield Static(Text(self.title_text), classes="title")
            yield ProgressBar(total=self.total, id="progress-bar", show_eta=False)
            yield Static(self.starting, id="progress-text")
            with Horizontal(classes="buttons"):
                cancel = Button("Cancel", id="cancel", variant="warning")
                cancel.can_focus = False  # a click or Esc/c: never an Enter or Space meant for something else
                yield cancel
        yield KeyBar(more_action=None)  # its own keys, over the gallery's (which do nothing here)

    def on_mount(self) -> None:
        self.run_job()

    def _update(self, done: int, total: int, text: str) -> None:
        self._done = (done, total)
        if self._cancel.is_set():
            return  # "Cancelling…" stays on screen
        bar = self.query_one("#progress-bar", ProgressBar)
        bar.update(total=total, progress=done)
        self.query_one("#progress-text", Static).update(Text(f"{done:,} of {total:,} {text}".rstrip()))

    def on_progress_screen_progressed(self, event: Progressed) -> None:
        event.stop()
        with self._progress_lock:
            latest, self._latest = self._latest, None
        if latest is not None:
            self._update(*latest)

    @work(thread=True, exclusive=True, group="job", exit_on_error=False)
    def run_job(self) -> JobOutcome:
        def progress(done: int, total: int, text: str = "") -> None:
            # Not call_from_thread, which waits for the UI thread (a repaint per item; 38 ms at worst under load):
            # the count is kept, and a message posted unless one is on its way (it will show this count).
            with self._progress_lock:
                on_its_way, self._latest = self._latest is not None, (done, total, text)
            if not on_its_way:
                self.post_message(self.Progressed())

        try:
            result = self.job(progress, self._cancel.is_set)
            return JobOutcome(result=result, cancelled=self._cancel.is_set())
        except Exception as exc:  # noqa: BLE001 - handed to the caller, shown as a notification
            return JobOutcome(error=exc, cancelled=self._cancel.is_set())

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # Closed once the job's worker has finished (closing from inside it would cancel it).
        if event.worker.group == "job" and event.state == WorkerState.SUCCESS:
            event.stop()
            if self._quitting:
                self.app.exit(message=self._quit_message(cast(JobOutcome, event.worker.result)))  # `_run`'s
            else:
                self.dismiss(event.worker.result)

    def action_cancel(self) -> None:
        self._cancel.set()
        self.query_one("#progress-text", Static).update("Cancelling after the current item…")
        self.query_one("#cancel", Button).disabled = True

    def quit_when_stopped(self) -> None:
        """Ctrl+Q: cancel after the current item, then end the app (not before: nothing is left half-done)."""
        self._quitting = True
        self.action_cancel()
        self.query_one("#progress-text", Static).update("Quitting: cancelling after the current item…")

    def _quit_message(self, outcome: JobOutcome) -> str:
        """What the terminal says after the app ended in the middle of this work."""
        if outcome.error is not None:
            from .app import failure_text

            return f"{self.title_text}: {failure_text(outcome.error)}"
        if not outcome.cancelled:
            return f"{self.title_text}: finished before the app quit."
        done = f" after {self._done[0]:,} of {self._done[1]:,}" if self._done and self._done[1] else ""
        return f"{self.title_text}: cancelled{done} when you quit; the rest was not touched and nothing was half-written."

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.action_cancel()
