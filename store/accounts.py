"""Accounts, and who owns and sees which image: the base of the Library façade (store/library.py).

Every read and write is scoped to the acting account: its own images (`_mine`), and the public
ones of free accounts (`_public`); a change needs the image to be its own (`_own_ids`).
"""
from __future__ import annotations

import shutil
import threading
from pathlib import Path
from collections.abc import Set
from typing import TYPE_CHECKING, Iterable, Sequence, overload

import numpy as np

from peewee import Database, IntegrityError, chunked, fn

from . import settings
from .database import boundary
from .errors import Duplicate, InTrash, NoImage, NoSuchAccount, NotFound, NotYours, StoreError
from .file_lock import FilesLock
from .files import DISK_RESERVE, FileStore
from .history import history_path
from .models import PLANS, Account, Collection, Image, LostImage, Source
from .records import AccountRecord, utc_now
from .selection import Selection
from .text import plural

if TYPE_CHECKING:
    from .catalog import Catalog

MAX_NAME = 100
# What a new account name does when the library opens (Library(unknown_account=…)): made (a command that adds or
# changes something, the app), refused with NoSuchAccount (a command that only reads: a typo in --account made a
# permanent account, new-user test 10 #5), or stood in for by an account of no images, made nowhere (account delete,
# doctor; and any command on a library opened read only, where nothing can be made: it sees the public images)
MAKE, REFUSE, STAND_IN = "make", "refuse", "stand in"
NAMES_SHOWN = 10  # the accounts a sentence names, at most


def default_account_name() -> str:
    """MYIMAGES_ACCOUNT, else `account` in the settings file, else the login name."""
    return settings.current().account


def _article(word: str) -> str:
    return "An" if word[:1].lower() in "aeiou" else "A"


def check_name(kind: str, name: str) -> str:
    """A collection's or account's name with its spaces tidied; StoreError when empty or too long."""
    name = " ".join((name or "").split())
    if not name:
        raise StoreError(f"{_article(kind)} {kind} name cannot be empty.")
    if len(name) > MAX_NAME:
        raise StoreError(f"{_article(kind)} {kind} name can have at most {MAX_NAME} characters.")
    return name


ON_A_FULL_DISK = "is on a full disk"  # a read_only_reason: SQLite could not even open the database for writing


class Accounts:
    """The acting account and the accounts of the library; what the acting account owns and sees."""

    # Set when the library opens (store/library.py)
    root: Path
    db: Database
    account: AccountRecord
    _read_only: bool
    _erasing: threading.local  # .now: this thread erases on a full disk (Library.open_for_erasing)
    read_only_reason: str
    files: FileStore
    files_lock: FilesLock
    catalog: Catalog | None
    # Said once by the command line and the app: the acting account was made on opening, in a library that
    # had other accounts (a new name in --account or MYIMAGES_ACCOUNT, perhaps a typo); "" otherwise
    new_account_note: str = ""

    # -- the acting account ------------------------------------------------------------------------

    @boundary
    def read_only_remedy(self) -> str:
        """What the user can do about a library opened read only, to end a sentence ("" when nothing: the folder
        is not theirs). For a full disk, whether space came back since it was opened: it opens for writing then."""
        if not self.read_only or self.read_only_reason != ON_A_FULL_DISK:
            return ""
        try:
            free = shutil.disk_usage(self.root).free
        except OSError:
            free = 0
        if free >= 4 * DISK_RESERVE:
            return f"there is room again ({free // 1024:,} KB free): open the library again to change it"
        return ("free some space on its disk, or erase images in the trash to free theirs (t in the app, `myimages "
                "trash empty`), then open the library again")

    def require_writable(self) -> None:
        """Raise the read-only sentence unless this user may change the library."""
        self._check_writable()

    @property
    def read_only(self) -> bool:
        """The library may not be changed (`read_only_reason` says why); but for the thread erasing images on a full
        disk, while it erases (Library.open_for_erasing)."""
        return self._read_only and not getattr(self._erasing, "now", False)

    @read_only.setter
    def read_only(self, value: bool) -> None:
        self._read_only = value

    def may_erase(self) -> bool:
        """Whether images may be erased for good: in a library this user may change, and on a full disk too (erasing
        makes room: store/room.py)."""
        return not self.read_only or self.read_only_reason == ON_A_FULL_DISK

    def _check_erasable(self) -> None:
        """Raise the read-only sentence unless images may be erased (may_erase)."""
        if not self.may_erase():
            self._check_writable()

    def _check_writable(self) -> None:
        if self.read_only:
            remedy = self.read_only_remedy()
            raise StoreError(f"The library in {self.root} {self.read_only_reason}: you can browse, search and "
                             "download, not change it" + (f"; {remedy}." if remedy else "."))

    def _ensure_account(self, name: str, unknown: str = MAKE) -> AccountRecord:
        name = check_name("account", name)
        row = Account.get_or_none(Account.name == name)
        if row is None and (self.read_only or unknown == STAND_IN):  # a read-only library makes no account anyway
            return AccountRecord(0, name, "free")  # no images of its own; it sees the public ones
        if row is None and unknown == REFUSE:
            raise NoSuchAccount(f'There is no account "{name}" in this library ({self._accounts_there()}); an account '
                                "is made the first time it is used to add or change something (import, favorite, "
                                "collection create…), not by a command that only reads.", name)
        if row is None:
            others = [a for (a,) in Account.select(Account.name).order_by(Account.name).limit(6).tuples()]
            try:
                with self.db.atomic():
                    row = Account.create(name=name, plan="free", created_at=utc_now())
            except IntegrityError:  # another process made it a moment ago
                row = Account.get(Account.name == name)
            else:
                if others:  # the first account of a new library is no news
                    shown = ", ".join(others[:5]) + (", …" if len(others) > 5 else "")
                    self.new_account_note = (f'Account "{name}" is new, made just now: it is free, so its images '
                                             f"are public (the other accounts: {shown}).")
        return AccountRecord(row.id, row.name, row.plan)

    @staticmethod
    def _accounts_there() -> str:
        """"the accounts there are: alice, bob", or that there is none."""
        names = [a for (a,) in Account.select(Account.name).order_by(Account.name).limit(NAMES_SHOWN + 1).tuples()]
        if not names:
            return "it has no account yet"
        shown = ", ".join(names[:NAMES_SHOWN]) + (", …" if len(names) > NAMES_SHOWN else "")
        return f"the account{'s there are' if len(names) > 1 else ' there is'}: {shown}"

    @boundary
    def refresh_account(self) -> AccountRecord:
        if self.account.id == 0:
            return self.account
        row = Account.get_by_id(self.account.id)
        self.account = AccountRecord(row.id, row.name, row.plan)
        return self.account

    @boundary
    def accounts(self) -> list[AccountRecord]:
        return [AccountRecord(a.id, a.name, a.plan) for a in Account.select().order_by(Account.name)]

    @boundary
    def public_owners(self, limit: int = 4) -> list[str]:
        """The names of other accounts whose images are public (free, with images outside the trash), in name order, at
        most `limit`: an empty gallery says whose images the public gallery holds."""
        theirs = Image.select(Image.id).where(Image.owner == Account.id, Image.trashed_at.is_null())
        return [name for (name,) in Account.select(Account.name).where(
            Account.plan == "free", Account.id != self.account.id, fn.EXISTS(theirs)).order_by(Account.name)
            .limit(limit).tuples()]

    @boundary
    def create_account(self, name: str) -> AccountRecord:
        """A new free account (for example for a new user of a shared library)."""
        self._check_writable()
        name = check_name("account", name)
        if Account.select().where(Account.name == name).exists():
            raise Duplicate(f'An account named "{name}" already exists.')
        return self._ensure_account(name)

    @boundary
    def delete_account(self, name: str) -> None:
        """Remove an account that owns nothing: no images (in the trash or not), no collections, no source folders,
        nothing kept of images that left with a folder. Otherwise NotFound or a StoreError saying what it still owns;
        nothing else is ever deleted (a mistyped --account made a permanent account, new-user test 10 #5)."""
        self._check_writable()
        name = check_name("account", name)
        row = Account.get_or_none(Account.name == name)
        if row is None:
            raise NoSuchAccount(f'There is no account "{name}" in this library ({self._accounts_there()}): nothing '
                                "was deleted.")
        owned = self._owned_by(row.id)
        if not owned:
            with self.db.atomic():  # checked again in the delete itself: an import by it meanwhile keeps the account
                if self.db.for_update:  # PostgreSQL (SQLite has no FOR UPDATE, nor needs it): the row locked
                    # first, a write by the account not yet committed (holding a key lock on the row) is waited for,
                    # and the delete, a statement of its own, then sees it; without, the delete's check ran on a
                    # snapshot from before that write committed, and the cascade took what it had just made
                    list(Account.select(Account.id).where(Account.id == row.id).for_update())
                gone = Account.delete().where(Account.id == row.id, *[~fn.EXISTS(q) for q in self._owned_queries(row.id)]
                                              ).execute()
            if gone:  # committed: its searches go too, the one file the history keeps under its name
                try:
                    history_path(self.root, row.name).unlink(missing_ok=True)
                except OSError:
                    pass  # a file nobody reads any more; the account is gone, as asked
                return
            owned = self._owned_by(row.id) or ["something it was given meanwhile"]
        raise StoreError(f'Account "{name}" still owns {", ".join(owned[:-1]) + " and " if len(owned) > 1 else ""}'
                         f'{owned[-1]}: nothing was deleted (an account is deleted only when it owns nothing).')

    @staticmethod
    def _owned_queries(account_id: int) -> list:
        return [Image.select(Image.id).where(Image.owner == account_id),
                Collection.select(Collection.id).where(Collection.owner == account_id),
                Source.select(Source.id).where(Source.owner == account_id),
                LostImage.select(LostImage.sha256).where(LostImage.owner == account_id)]

    @staticmethod
    def _owned_by(account_id: int) -> list[str]:
        """What an account owns, in words ("3 images (1 in the trash)", "2 collections"…); [] for nothing."""
        images, trashed = (Image.select(fn.COUNT(Image.id), fn.COUNT(Image.trashed_at))
                           .where(Image.owner == account_id).tuples().get())
        owned = []
        if images:
            owned.append(plural(int(images), "image") + (f" ({int(trashed)} in the trash)" if trashed else ""))
        collections = Collection.select().where(Collection.owner == account_id).count()
        if collections:
            owned.append(plural(collections, "collection"))
        folders = Source.select().where(Source.owner == account_id).count()
        if folders:
            owned.append(plural(folders, "source folder"))
        kept = LostImage.select().where(LostImage.owner == account_id).count()
        if kept:
            owned.append(f"what {plural(kept, 'image')} that left with their files had (kept for their return)")
        return owned

    @boundary
    def set_plan(self, plan: str) -> AccountRecord:
        """Change the acting account's plan: all its images turn public (free) or private (premium) at once."""
        self._check_writable()
        if plan not in PLANS:
            raise StoreError(f"A plan is one of: {', '.join(PLANS)}.")
        with self.db.atomic():
            Account.update(plan=plan).where(Account.id == self.account.id).execute()
        return self.refresh_account()

    # -- what it owns and sees ---------------------------------------------------------------------

    def _mine(self, m=Image):
        return m.owner == self.account.id

    @staticmethod
    def _public(m=Image):
        """Images of free accounts: public. Visibility follows the owner's plan, nothing per image."""
        return m.owner.in_(Account.select(Account.id).where(Account.plan == "free"))

    def _visible(self):
        """What the acting account may read: its own images and every public one."""
        return self._mine() | self._public()

    @overload
    def _own_ids(self, image_ids: Selection, trashed: bool | None = False) -> Selection: ...  # type: ignore[overload-overlap]

    @overload
    def _own_ids(self, image_ids: Iterable[int], trashed: bool | None = False) -> list[int]: ...

    def _own_ids(self, image_ids: Iterable[int], trashed: bool | None = False) -> list[int] | Selection:
        """The ids, all of them the account's own; NotFound names the first that is not.

        `trashed`: False, images not in the trash (a trashed image is not found); True, only
        trashed ones; None, either. A Selection (a million selected: store/selection.py) is checked and handed back
        as it is, each id once already, without a list, a dict and a set of every id made and freed in single calls
        (each holds the interpreter lock, and so the UI thread, tens of milliseconds)."""
        if isinstance(image_ids, Selection):
            missing: Sequence[int] | Selection = image_ids - self.own_existing(image_ids, trashed)
            wanted: list[int] | Selection = image_ids
        else:
            wanted = list(dict.fromkeys(int(i) for i in image_ids))
            found = self.own_existing(wanted, trashed)
            missing = [i for i in wanted if i not in found]
        for image_id in missing[:1]:  # the first that is not
            if trashed and Image.select().where(self._mine(), Image.id == image_id).exists():
                raise NotFound(f"Image #{image_id} is not in the trash.")
            if trashed is False and Image.select().where(self._mine(), Image.id == image_id).exists():
                raise InTrash(image_id)
            if Image.select().where(Image.id == image_id, self._public(), Image.trashed_at.is_null()).exists():
                raise NotYours(f"Image #{image_id} belongs to another account: you can view and "
                               "download it, not change it.")
            raise NoImage(image_id)
        return wanted

    @boundary
    def own_existing(self, image_ids: Iterable[int], trashed: bool | None = False) -> Set[int]:
        """Those of the ids that are the account's own images (no error for the rest); `trashed` as in
        `_own_ids`: by default only images outside the trash. Of a Selection, a Selection (made of arrays, no set of
        a million ids)."""
        state = [] if trashed is None else [Image.trashed_at.is_null(not trashed)]
        if isinstance(image_ids, Selection):
            parts = [np.fromiter((i for (i,) in Image.select(Image.id).where(self._mine(), Image.id.in_(chunk), *state)
                                  .tuples()), dtype=np.int64) for chunk in chunked(image_ids, 500)]
            return Selection(np.concatenate(parts)) if parts else Selection()
        found: set[int] = set()
        for chunk in chunked(list(dict.fromkeys(int(i) for i in image_ids)), 500):
            found.update(i for (i,) in Image.select(Image.id).where(self._mine(), Image.id.in_(chunk), *state).tuples())
        return found

    @boundary
    def own_extent(self) -> tuple[int, int]:
        """How many images the account has outside the trash, and the highest id among them: a change of either
        says images were added or brought back (or went), for views that only follow what they show."""
        count, top = (Image.select(fn.COUNT(Image.id), fn.MAX(Image.id))
                      .where(self._mine(), Image.trashed_at.is_null()).tuples().get())
        return int(count or 0), int(top or 0)

    @boundary
    def require_own(self, image_id: int, trashed: bool | None = False) -> None:
        """Raise unless the image is the acting account's own (`trashed` as in `_own_ids`)."""
        self._own_ids([image_id], trashed)
