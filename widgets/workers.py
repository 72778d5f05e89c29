"""`work`: Textual's worker decorator, each worker described by its method's name.

Given no `description`, Textual's `@work` writes the repr of every argument into the worker's description, on the
calling thread, whether anyone reads it or not: a set of a million selected ids cost the UI thread 347 ms, an image
record its whole prompt (up to megabytes), a list of thumbnail keys a line per key (issue 11). Every worker of
`tui/` and `widgets/` is made through this one (tests/test_architecture.py checks that none imports Textual's).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, ParamSpec, TypeVar

from textual import work as textual_work

if TYPE_CHECKING:
    from textual.worker import Worker

P = ParamSpec("P")
R = TypeVar("R")


def work(*, name: str = "", group: str = "default", exit_on_error: bool = True, exclusive: bool = False,
         description: str | None = None,
         thread: bool = False) -> Callable[[Callable[P, R]], Callable[..., Worker[R]]]:
    """Textual's `work` (same arguments), described by `description` or else the method's name, never by its
    arguments. (A worker's call is typed as Textual's is: its arguments are not checked.)"""

    def decorator(method: Callable[P, R]) -> Callable[..., Worker[R]]:
        return textual_work(method, name=name, group=group, exit_on_error=exit_on_error, exclusive=exclusive,
                            description=description if description is not None else f"{method.__qualname__}()",
                            thread=thread)

    return decorator
