"""Following the library while a screen is open: changes made elsewhere (another process, another user) show
by themselves.

Every POLL_SECONDS a worker asks for the library's change token (one index look-up); only a token other than
the one the screen's state was read at makes it read what the screen shows again (`read`), and the screen
shows that (`apply`) on the UI thread. The gallery, the compare view, the trash and the duplicates view follow
the library this way (the large view follows its gallery's grid).

A check reads in a worker while the user goes on: a swap, a step, or a reload of the screen's own may change
what it shows meanwhile. Each such change is counted (`changed`, `read_at`), and an answer read before one is
dropped (the next tick reads again): a check never puts back an older state over a newer one.
"""
from __future__ import annotations

from typing import Any, Callable, Generic, TypeVar

from textual.screen import Screen

from store.errors import NoImage
from store.library import Library

POLL_SECONDS = 1.0  # how often an open screen asks whether the library changed elsewhere



def gone_sentence(image_id: int) -> str:
    """An image shown a moment ago that the account can no longer read, as every part of the app says it (without
    its full stop): a following screen that drops it, an action on it that came too late."""
    return f"Image #{image_id} was deleted elsewhere, its file left its source folder, or it is no longer shared " \
        "with you"


def error_text(error: BaseException) -> str:
    """An error's sentence as a screen says it: the store's own, but for an image the app showed and cannot read any
    more (`NoImage`: the store says "No image #19.", the command line's words for an id typed), which went away
    meanwhile, said so (NEWUSER13: `s` on a public image its owner had just deleted said only "No image #19.")."""
    return f"{gone_sentence(error.image_id)}." if isinstance(error, NoImage) else str(error)


Token = tuple[int, int]
Seen = TypeVar("Seen")  # what the screen shows, as the check reads from (taken on the UI thread)
Answer = TypeVar("Answer")  # what the check read, for the screen to show


class LibraryFollower(Generic[Seen, Answer]):
    """One screen's following of the library. The screen calls `start` once mounted, `read_at(token)` when it
    has read its state itself (the token asked for before reading), and `changed()` when it changes what it
    shows without reading (a swap, a step). `ready()` says whether to look now (a change of the screen's own
    running: not now); `seen()` takes what the check reads from; `read(seen, force)` reads it in the worker
    (None: nothing to show); `apply(token, answer)` shows it. `rereads`: the screen reads its state again
    on an answer (the gallery reloads its grid), and that read records its own token; the answer's is not
    taken as the state's, and no answer is dropped (the screen's apply knows what to keep)."""

    def __init__(self, screen: Screen, library: Library, *, group: str,
                 read: Callable[[Seen, bool], Answer | None], apply: Callable[[Token, Answer], None],
                 seen: Callable[[], Seen] = lambda: None,  # type: ignore[assignment,return-value]
                 ready: Callable[[], bool] = lambda: True, rereads: bool = False) -> None:
        self.screen = screen
        self.library = library
        self.group = group  # the check's worker group
        self._read, self._apply, self._seen, self._ready = read, apply, seen, ready
        self.rereads = rereads
        self.token: Token | None = None  # the change token the screen's state was read at (None: not yet)
        self.version = 0  # counts the changes of what the screen shows: an answer read before one is stale
        self.checking = False

    def start(self) -> None:
        self.screen.set_interval(POLL_SECONDS, self.poll)

    def read_at(self, token: Token) -> None:
        """The screen's state is now as the library was at `token` (it read it itself)."""
        self.token = token
        self.version += 1

    def changed(self) -> None:
        """The screen changed what it shows (a swap, a step): a check under way read the state before."""
        self.version += 1

    def poll(self) -> None:
        if self.token is not None and not self.checking and self._ready():
            self.check()

    def check(self, force: bool = False) -> None:
        """Look now; `force`: read again even if the token did not change (a refresh key)."""
        self.checking = True
        seen, token, version = self._seen(), None if force else self.token, self.version
        self.screen.run_worker(lambda: self._check(seen, token, version), thread=True, exclusive=True,
                               group=self.group, exit_on_error=False)

    def _check(self, seen: Any, since: Token | None, version: int) -> None:
        try:
            with self.library.connection():
                token = self.library.change_token()
                if token == since:
                    return
                answer = self._read(seen, since is None)
        except Exception as exc:  # noqa: BLE001 - a busy or unreachable database: ask again at the next tick
            self.screen.log.warning(f"{self.group}: the check for changes failed: {exc!r}")
            return
        finally:
            self.checking = False
        if answer is not None:
            self.screen.app.call_from_thread(self._arrived, token, version, answer)

    def _arrived(self, token: Token, version: int, answer: Any) -> None:
        if version != self.version:  # read before a change of the screen's own: the next tick reads again
            return
        if not self.rereads:
            self.read_at(token)
        self._apply(token, answer)
