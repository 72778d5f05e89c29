"""Errors the store raises. Each carries one sentence meant for the user."""


class StoreError(Exception):
    """Base class: the message is shown to the user as it is."""


class NotFound(StoreError):
    """An image or collection that does not exist for the acting account."""


class Duplicate(StoreError):
    """Something with that name or content already exists."""


class BadImage(StoreError):
    """A file that cannot be imported, with the reason."""


class LibraryLocked(StoreError):
    """The database stayed busy longer than we are willing to wait."""


class NotYours(StoreError):
    """A public image of another account: it can be read, never changed."""
