"""Reading the library: counts, pages, ids and records for a set of filters (part of the Library façade).

A query is answered by the in-memory catalog (store/catalog.py) on SQLite once it is built, and by
SQL otherwise (PostgreSQL, or SQLite before the catalog is built): `_catalog_query` decides. Rows
become ImageRecords (records.py) here: nothing above the store sees a Peewee row.
"""
from __future__ import annotations

import json
import threading
from collections import namedtuple
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence, cast

import numpy as np
from peewee import SQL, Case, NodeList, Ordering, chunked, fn

from .catalog import Ordered, Query
from .database import boundary
from .errors import InTrash, NoImage
from .image_collections import Collections
from .migrations import is_postgres
from .pieces import listed
from .selection import Selection
from .models import Account, Image, ImageCollection
from .query import DEFAULT_SORT, HINT_WIDTH, SORTS, Parsed, cut, parse
from .query_sql import COVERING_SORTS, after, before, covered_term, order_by, order_parts, precedes, where_clause
from .text import disk_path
from .records import (FAVORITES_ONLY, NON_FAVORITES, SCOPE_MINE, SCOPE_PUBLIC, Count, Filters, ImageRecord, PageMark,
                      to_local)

FEW_MATCHES = 5000  # PostgreSQL: below this many matches a search's page is sorted, not walked in date order
# PostgreSQL: a result of more images than this is counted by the planner's estimate ("about N"): an exact
# count reads every match (0.1-5 s at 1,000,000 images), where the first page needs only 60 of them; finding
# that many matches costs ~20 ms where a condition is a text match on every row read (5,000: ~100 ms)
ESTIMATE_ABOVE = 1000
# PostgreSQL: where the planner expects this many times ESTIMATE_ABOVE matches, its estimate is given without
# the count of ESTIMATE_ABOVE + 1 matches, which would only confirm it (for a condition matching one image in 20
# that count reads 20,000 rows, 100-200 ms at 1,000,000 images; for three conditions that together match one image
# in 300, the planner's 2,700 were confirmed by a bitmap of each, 100-130 ms); the grid still counts a result it
# reads to its end, and a first page that is short makes it exact
SURE_TIMES = 2
# What a record is made of (`Search._record`), as `_records_by_id` reads it with plain SQL: a named tuple each
_RECORD_COLUMNS = ("id", "prompt", "negative_prompt", "model", "text_accuracy", "generated_at", "imported_at", "width",
                   "height", "file_size", "sha256", "ext", "favorite", "params", "source_name", "parent_id",
                   "derivation", "location", "batch")
_RecordRow: Any = cast(Any, namedtuple)("_RecordRow", (*_RECORD_COLUMNS, "owner_name"))  # (fields not literal)
_RECORDS_SQL = ("SELECT " + ", ".join(f"i.{c}" for c in _RECORD_COLUMNS) + ", a.name FROM image i JOIN account a "
                "ON a.id = i.owner_id WHERE i.id IN ({})")
# PostgreSQL: and each image's collections of the account (its names in order), in the same statement: one round
# trip to the server fewer for every page (`_collections_of` asked for them apart)
_RECORDS_WITH_COLLECTIONS_SQL = _RECORDS_SQL.replace(" FROM image i", ", ARRAY(SELECT c.name FROM image_collection ic "
                                                     "JOIN collection c ON c.id = ic.collection_id WHERE ic.image_id = "
                                                     "i.id AND c.owner_id = %s ORDER BY c.name) FROM image i", 1)

# What a stacked result groups by (SQL): the batch key, or the image alone when it is in no batch.
_STACK_KEY = Case(None, [(Image.batch.is_null() | (Image.batch == 0), 0 - Image.id)], Image.batch)


def _from_end(total: int | None, offset: int, limit: int, mark: PageMark | None) -> tuple[int, int] | None:
    """Where a page of a result of exactly `total` rows is read from its end, the order reversed (offset and limit
    counted from there), when it is nearer the end than the nearest page read before it (`mark`, else the start):
    End, or a jump of the scroll bar; None to read it forward."""
    if total is None or offset == 0 or offset + limit <= total - (offset - (mark.offset if mark else 0)):
        return None
    back = total - offset - limit
    return max(0, back), max(0, limit + min(0, back))


def _two_digits(n: int) -> int:
    """n rounded to two significant digits (136,412 is 140,000): an estimate says no more than it knows."""
    step = 10 ** max(0, len(str(n)) - 2)
    return (n + step // 2) // step * step


# Names a query resolves (in:COLLECTION, owner:NAME), looked up once per unit of work on a thread: the
# `looking_up_once` block (Library.connection) keeps what it found, by (library, kind, name), to its end.
_LOOKED_UP = threading.local()


class Search(Collections):
    # -- the query, read ---------------------------------------------------------------------------

    @boundary
    def parsed(self, filters: Filters) -> Parsed:
        """The filters' search in the query language (store/query.py), collection and owner names
        resolved to ids. Parts that cannot be read are left out (`search_problem` says what they are)."""
        parsed = parse(filters.search)
        if not any(t.field in ("in", "owner") for group in parsed.groups for t in group):
            return parsed
        groups = []
        for group in parsed.groups:
            terms = []
            for term in group:
                if term.field == "in":
                    found = self._collection_id(term.value)
                    term = replace(term, value=found if found is not None else -1)
                elif term.field == "owner":
                    names = self._looked_up(("owner",), lambda: list(Account.select(Account.id, Account.name).tuples()))
                    term = replace(term, value=tuple(i for i, n in names if term.value in n.casefold()))
                terms.append(term)
            groups.append(tuple(terms))
        return replace(parsed, groups=tuple(groups))

    @contextmanager
    def looking_up_once(self) -> Iterator[None]:
        """A unit of work (Library.connection) in which each name a query gives (in:COLLECTION, owner:NAME) is
        looked up once: the gallery's query asks search_problem, count, page and estimates of one search, each
        of which resolves it (five look-ups of one collection where one does)."""
        if getattr(_LOOKED_UP, "names", None) is not None:
            yield  # within an outer block: its look-ups serve
            return
        _LOOKED_UP.names = {}
        try:
            yield
        finally:
            _LOOKED_UP.names = None

    def _looked_up(self, key: tuple, look_up):
        """look_up(), or what it gave for `key` earlier in this thread's `looking_up_once` block."""
        names = getattr(_LOOKED_UP, "names", None)
        if names is None:
            return look_up()
        key = (self, *key)
        if key not in names:
            names[key] = look_up()
        return names[key]

    def _collection_id(self, name: str | int) -> int | None:
        """The id of the acting account's collection a query's in: names, None if it has none of that name. A
        name is matched as typed (any case) first, then with accents folded too, where one collection has it
        (`in:cafe` is "Café"; beside "Cafè" it is neither: `search_problem` says so)."""
        def look_up() -> int | None:
            row = self._collection_row(name)
            if row is not None:
                return row.id
            alike = self._collections_folding_to(name) if isinstance(name, str) else []
            return alike[0][0] if len(alike) == 1 else None

        return self._looked_up(("in", name), look_up)

    @boundary
    def search_problem(self, text: str, scope: str = SCOPE_MINE) -> str:
        """One sentence about what in a search cannot be read or found, or "" when it is all good. Favorites are
        each account's own: the public gallery (`scope`) takes neither is:fav nor sort:favorites."""
        parsed = parse(text)
        if parsed.error:
            return parsed.error
        if scope == SCOPE_PUBLIC and (parsed.sort == "favorites" or any(
                term.field == "is" and term.value == "fav" for group in parsed.groups for term in group)):
            return (f"Favorites are yours alone: {'sort:favorites' if parsed.sort == 'favorites' else 'is:fav'} "
                    "works in your own gallery, not the public one.")
        for group in parsed.groups:
            for term in group:
                if term.field == "in" and self._collection_id(term.value) is None:
                    alike = [n for _i, n in self._collections_folding_to(str(term.value))]
                    if len(alike) > 1:  # "Café" and "Cafè" for in:cafe: not one of them picked
                        return cut(f'in:{cut(str(term.value), 16)} could be "{cut(alike[0], 16)}" or '
                                   f'"{cut(alike[1], 16)}": write the name with its accents.', HINT_WIDTH)
                    # (names alone: counting every collection's images took 92 ms of the UI thread, where the
                    # search box keeps a search, for a collection of 1,000,000 images)
                    names = ", ".join(name for _i, name in self._collection_names()[:5])
                    problem = f'No collection named "{cut(str(term.value), 24)}"' + (f" (yours: {names}" if names else "")
                    return (cut(problem, HINT_WIDTH - 2) + ")" if names else problem) + "."
        return ""

    @staticmethod
    def _sort(filters: Filters) -> str:
        sort = parse(filters.search).sort or filters.sort
        if sort == "favorites" and filters.scope == SCOPE_PUBLIC:  # not the owners' favorites: see search_problem
            return DEFAULT_SORT
        return sort if sort in SORTS else DEFAULT_SORT

    def _order(self, filters: Filters, m=Image) -> list:
        return order_by(self._sort(filters), filters.seed, m)

    def _where(self, filters: Filters, m=Image, parsed: Parsed | None = None):
        """The filters' conditions on the image table `m` (Image, or an alias of it in a subquery); `parsed`: its
        search instead of the filters' own."""
        clauses = [self._public(m) if filters.scope == SCOPE_PUBLIC else self._mine(m), m.trashed_at.is_null()]
        search = where_clause(parsed if parsed is not None else self.parsed(filters), self.account.id, m)
        if search is not None:
            clauses.append(search)
        if filters.favorite == FAVORITES_ONLY:
            clauses.append(m.favorite == True)  # noqa: E712 - peewee expression
        elif filters.favorite == NON_FAVORITES:
            clauses.append(m.favorite == False)  # noqa: E712
        if filters.collection_id is not None:
            self._own_collection(filters.collection_id)
            members = ImageCollection.select(ImageCollection.image).where(
                ImageCollection.collection == filters.collection_id
            )
            clauses.append(m.id.in_(members))
        if filters.batch is not None:
            clauses.append(m.batch == filters.batch)
        return clauses

    def _first_of_batch(self, filters: Filters, m=Image):
        """A condition (PostgreSQL) on the image table `m` (Image, or the alias `_walk_where` tests a walked row's
        table row by): the image is the first of its batch in the result, so its card in a stacked result: no
        earlier image in the result's order (precedes) has its owner and batch and matches the same filters (NOT
        EXISTS, served by the (owner_id, batch) index). An image in no batch is its own card."""
        k = Image.alias("k")
        earlier = k.select(SQL("1")).where(k.owner == m.owner, k.batch == m.batch, *self._where(filters, k),
                                           precedes(self._order(filters, k), self._order(filters, m)))
        return m.batch.is_null() | (m.batch == 0) | NodeList((SQL("NOT EXISTS"), earlier))

    def _counted(self, filters: Filters) -> int | None:
        """The catalog's count (kept apart from its results), or None to ask SQL (see `_catalog_query`)."""
        query = self._catalog_query(filters)
        return None if query is None or self.catalog is None else self.catalog.count(query)

    def _selected(self, filters: Filters) -> np.ndarray | Ordered | None:
        """The catalog's answer (ids, newest first), or None to ask SQL (see `_catalog_order`)."""
        query = self._catalog_order(filters)
        return None if query is None or self.catalog is None else self.catalog.select(query)

    def _catalog_query(self, filters: Filters) -> Query | None:
        """The catalog's query for these filters, or None to ask SQL.

        SQL answers on PostgreSQL, and on SQLite before the catalog is built (and none was
        saved) when there is no search: as fast there, and start-up does not wait for the build.
        """
        parsed = self.parsed(filters)
        sort = self._sort(filters)
        if self.catalog is None:
            return None
        if parsed.empty and sort == DEFAULT_SORT and filters.batch is None and not self.catalog.open_saved():
            # SQL's date index until the catalog is built (a saved one is read in milliseconds), stacked too
            # (the gallery's first page: 3 ms at 1,000,000 images, where it waited 40 s for the build)
            return None
        if filters.scope == SCOPE_PUBLIC:
            owners = tuple(a for (a,) in Account.select(Account.id).where(Account.plan == "free").tuples())
        else:
            owners = (self.account.id,)
        if filters.collection_id is not None:
            self._own_collection(filters.collection_id)
        favorite = {FAVORITES_ONLY: True, NON_FAVORITES: False}.get(filters.favorite)
        return Query(owners, "", favorite, filters.collection_id, parsed, sort, filters.seed if sort == "random" else 0,
                     filters.stacked, filters.batch)

    def _catalog_order(self, filters: Filters) -> Query | None:
        """`_catalog_query` for reading the result in its order. Prompt A-Z of every image before the catalog has
        made that order (a command's catalog never has: orders are not saved) is None: SQL pages it along the
        stored key's index (schema 21) in the same order (text.prompt_sort_key), where the catalog would rank every
        prompt first (`list --sort prompt` at 1,000,000 images: 15-20 s)."""
        query = self._catalog_query(filters)
        if query is not None and self.catalog is not None and query.sort == "prompt" \
                and (query.parsed.empty if query.parsed is not None else not query.search) \
                and query.favorite is None and query.collection is None and not query.stacked and query.batch is None \
                and not self.catalog.has_order("prompt"):
            return None
        return query

    # -- answers -----------------------------------------------------------------------------------

    @boundary
    def count(self, filters: Filters | None = None) -> int:
        """How many images the filters let through."""
        filters = filters or Filters()
        counted = self._counted(filters)
        if counted is not None:
            return counted
        if filters.stacked:  # a batch counts once
            return Image.select(fn.COUNT(fn.DISTINCT(_STACK_KEY))).where(*self._where(filters)).scalar() or 0
        return Image.select(fn.COUNT(Image.id)).where(*self._where(filters)).scalar() or 0

    @boundary
    def total(self) -> int:
        """How many images the account has, unfiltered."""
        return self.count(Filters())

    @boundary
    def estimate(self, filters: Filters | None = None) -> Count:
        """How many images the filters let through, quickly: exact, except on PostgreSQL for a result of more
        than ESTIMATE_ABOVE images, which is the planner's estimate (Count.exact False).

        A count that stops at ESTIMATE_ABOVE + 1 matches decides which: a small result is counted exactly, a
        large one stops early; where the planner expects over SURE_TIMES times ESTIMATE_ABOVE matches, its
        estimate is given without that count (so a result the planner overestimates that much is "about N"). The estimate is rounded to two
        significant digits; where the planner guesses no more than ESTIMATE_ABOVE, the count says "over
        ESTIMATE_ABOVE" instead (Count.at_least). The catalog (SQLite) counts exactly and as fast.

        A stacked result counts cards (a batch once). On PostgreSQL the matches are read until ESTIMATE_ABOVE + 1
        of them are cards (`_images_to_cards`): fewer, and the cards are counted exactly; else the estimate is
        the planner's of the images times the cards per image read."""
        filters = filters or Filters()
        counted = self._counted(filters)
        if counted is not None:
            return Count(counted)
        if not is_postgres(self.db):
            return Count(self.count(filters))
        matches = Image.select(SQL("1")).where(*self._where(filters))
        if filters.stacked:  # cards: where the matches, read in the table's own order, reach ESTIMATE_ABOVE + 1 cards
            read = self._images_to_cards(filters, ESTIMATE_ABOVE + 1)
            if read is None:  # few cards (maybe many images): one distinct count of the batch keys
                return Count(self.count(filters))
            planned = round(self._planned(matches) * (ESTIMATE_ABOVE + 1) / read)
        else:
            planned = self._planned(matches)
            if planned > ESTIMATE_ABOVE * SURE_TIMES:  # surely more than ESTIMATE_ABOVE: not counted to confirm it
                return Count(_two_digits(planned), exact=False)
            bounded = Image.select(fn.COUNT(SQL("*"))).from_(matches.limit(ESTIMATE_ABOVE + 1).alias("m")).scalar()
            if bounded <= ESTIMATE_ABOVE:
                return Count(bounded)
        if planned <= ESTIMATE_ABOVE:  # the planner guessed fewer than are there: say what is known
            return Count(ESTIMATE_ABOVE + 1, exact=False, at_least=True)
        return Count(_two_digits(planned), exact=False)

    def _planned(self, query) -> int:
        """The planner's estimate of the rows a query gives (PostgreSQL's EXPLAIN; nothing is read)."""
        sql, params = query.sql()
        plan = self.db.execute_sql("EXPLAIN (FORMAT JSON) " + sql, params).fetchone()[0]
        return int(plan[0]["Plan"]["Plan Rows"]) if isinstance(plan, list) else 0

    def _images_to_cards(self, filters: Filters, cards: int) -> int | None:
        """How many matches of a stacked result, read in the table's own order (PostgreSQL; mostly import order,
        so mostly whole batches), hold `cards` cards (images first of their batch in the whole result), or None
        when the result has fewer. The reading stops there: a row number over the matches as they come."""
        numbered = Image.select(fn.ROW_NUMBER().over().alias("n"), self._first_of_batch(filters).alias("card")).where(
            *self._where(filters)).alias("numbered")
        row = (Image.select(numbered.c.n).from_(numbered).where(numbered.c.card).offset(cards - 1).limit(1)
               .tuples().first())
        return int(row[0]) if row else None

    @boundary
    def query(self, filters: Filters | None = None, offset: int = 0, limit: int = 50) -> tuple[Count, list[ImageRecord]]:
        """The count (an estimate for a large result on PostgreSQL: `estimate`) and one page together: the
        count picks the faster plan for the page. One unit of work: a collection the search names (in:NAME) is
        looked up once (`looking_up_once`), where the count and the page each resolved it (five statements on
        PostgreSQL, each a round trip)."""
        with self.looking_up_once():
            return self._query(filters or Filters(), offset, limit)

    def _query(self, filters: Filters, offset: int, limit: int) -> tuple[Count, list[ImageRecord]]:
        if filters.stacked and offset == 0 and limit > 0 and is_postgres(self.db) and self._counted(filters) is None:
            counted = self._stacked_from_page(filters, limit)
            if counted is not None:
                return counted
        count = self.estimate(filters)
        if count.exact and count.n <= offset:  # nothing there (a phrase no prompt holds): not read a second time
            return count, []
        return count, self.page(filters, offset, limit, count_hint=count.hint)

    def _stacked_from_page(self, filters: Filters, limit: int) -> tuple[Count, list[ImageRecord]] | None:
        """A stacked result's count and first page (PostgreSQL) where the planner expects over SURE_TIMES times
        ESTIMATE_ABOVE images: the page walked first, and the count the planner's images times the page's cards
        per image (its stacks' sizes), instead of `estimate` reading matches until ESTIMATE_ABOVE + 1 cards
        (`_images_to_cards`: 0.4-0.6 s for a rare combination at 1,000,000 images, where the page takes 25-110 ms).
        A short page is the whole result, counted exactly; None where the cards may be ESTIMATE_ABOVE or fewer
        (`estimate` counts them)."""
        planned = self._planned(Image.select(SQL("1")).where(*self._where(filters)))
        if planned <= ESTIMATE_ABOVE * SURE_TIMES:
            return None
        page = self.page(filters, 0, limit)
        if len(page) < limit:
            return Count(len(page)), page
        cards = round(planned * len(page) / max(1, sum(r.stack for r in page)))
        return (Count(_two_digits(cards), exact=False), page) if cards > ESTIMATE_ABOVE else None

    @boundary
    def warm_up(self) -> None:
        """Build or refresh the catalog now, and its sort orders (call it from a background thread)."""
        if self.catalog is not None:
            self.catalog.sync()
            self.catalog.prepare_orders()

    def _select(self):
        return Image.select(Image, Account.name).join(Account, on=(Image.owner == Account.id), attr="owner_account")

    def _records_by_id(self, ids: Sequence[int] | np.ndarray) -> list[ImageRecord]:
        """Records of these images, in the order given. Read with plain SQL as named tuples, not as Peewee model
        rows joined to their account: Peewee's building of the query and of the rows was half of a page's time."""
        if not len(ids):
            return []
        wanted = [int(i) for i in ids]
        rows: dict[int, Any] = {}
        names: dict[int, list[str]] | None = {} if is_postgres(self.db) else None  # read with the rows
        date = Image.generated_at.python_value  # text on SQLite, a datetime on PostgreSQL: a naive datetime
        for chunk in chunked(wanted, 500):
            marks = ", ".join([self.db.param] * len(chunk))
            if names is None:
                found = self.db.execute_sql(_RECORDS_SQL.format(marks), chunk).fetchall()
            else:
                found = self.db.execute_sql(_RECORDS_WITH_COLLECTIONS_SQL.format(marks), [self.account.id, *chunk])
            for row in found:
                if names is not None:
                    names[row[0]] = list(row[-1] or [])
                    row = row[:-1]
                record = _RecordRow._make(row)
                rows[record.id] = record._replace(generated_at=date(record.generated_at),
                                                  imported_at=date(record.imported_at))
        return self._records([rows[i] for i in wanted if i in rows], names)

    @boundary
    def page(self, filters: Filters | None = None, offset: int = 0, limit: int = 50,
             count_hint: int | None = None) -> list[ImageRecord]:
        """One page of images in the filters' order (newest first by default: generation date, then id).

        On PostgreSQL, a search that matches few images (count_hint) reads and
        sorts the matches rather than walking the whole date index looking for them.
        """
        return self.page_after(filters, offset, limit, count_hint)[0]

    @boundary
    def page_after(self, filters: Filters | None = None, offset: int = 0, limit: int = 50,
                   count_hint: int | None = None, mark: PageMark | None = None
                   ) -> tuple[list[ImageRecord], PageMark | None]:
        """`page`, and where it ended: a page read along the order's index (PostgreSQL, a result counted by an
        estimate) gives the mark of its last row, and a later page of the same result given a mark at or
        before its offset is read from that row on by the order's keys (an index range) instead of counting
        past every row before it (store/pages.py keeps the marks). Other pages give None."""
        filters = filters or Filters()
        offset, limit = max(0, offset), max(0, limit)
        query = self._catalog_order(filters)
        if query is not None and self.catalog is not None:
            records = self._records_by_id(self.catalog.select(query)[offset:offset + limit])
            sizes = self.catalog.stack_sizes(query) if filters.stacked else None
            if sizes is not None:
                for record, size in zip(records, sizes[offset:offset + limit].tolist()):
                    record.stack = size
            return records, None
        if filters.stacked:
            # PostgreSQL walks the order's index for a result counted by an estimate; the windows over every
            # match are quicker for a small result
            # (SQLite: only before its catalog is built, no search in the newest-first order: the walk)
            if not is_postgres(self.db) or count_hint is None or count_hint > FEW_MATCHES:
                back = _from_end(count_hint, offset, limit, mark)
                with self._serial():
                    if back is not None:  # the cards from the end: a card is the first of its batch either way
                        found, end = self._stacked_page(filters, *back, reverse=True)
                        found.reverse()
                    else:
                        found, end = self._stacked_page(filters, offset, limit, mark)
            else:
                found, end = self._stacked_sql(filters, offset, limit), None
            records = self._records_by_id([i for i, _ in found])
            for record, (_, size) in zip(records, found):
                record.stack = size
            return records, end
        few = count_hint is not None and count_hint <= FEW_MATCHES and bool(filters.search.strip())
        if few:  # COALESCE(x, x) keeps PostgreSQL's planner off the date index (both back ends accept it)
            newest = fn.COALESCE(Image.generated_at, Image.generated_at).desc()
            order = [newest, Image.id.desc()] if self._sort(filters) == DEFAULT_SORT else self._order(filters)
            return self._records(self._select().where(*self._where(filters)).order_by(*order).offset(offset)
                                 .limit(limit)), None
        # the page's ids along the order's index, then their records: the index holds the fields a search tests
        # most (`_walk_where`; not the prompt order's), so the walk reads no table row for an image those rule out
        clauses = self._walk_where(filters) if is_postgres(self.db) else self._where(filters)

        def select(part: list):
            return Image.select(Image.id).where(*clauses, *part).tuples()

        back = _from_end(count_hint, offset, limit, mark)
        with self._serial():
            if back is not None:  # read from the end, the order reversed
                rows, _ = self._walked(select, filters, *back, reverse=True)
                return self._records_by_id([i for (i,) in reversed(rows)]), None
            rows, end = self._walked(select, filters, offset, limit, mark)
        return self._records_by_id([i for (i,) in rows]), end

    @contextmanager
    def _serial(self) -> Iterator[None]:
        """A block whose queries PostgreSQL runs without parallel workers: a walk that stops after a page's rows
        is quick alone, where the planner's Gather of two workers (processes started for the query) gave its
        first row only after 70-110 ms on a busy machine (database.ReconnectingPostgres.serial: each read with its
        own SET LOCAL, no transaction around the block)."""
        serial = getattr(self.db, "serial", None)  # (SQLite: none)
        if serial is None:
            yield
            return
        with serial():
            yield

    def _walk_where(self, filters: Filters, stacked: bool = False) -> list:
        """`_where` for a page walked in an order whose index holds the fields (query_sql.COVERING_SORTS: newest,
        oldest, imported, largest, random) on PostgreSQL: the conditions on what the order's index holds
        (param_columns.LIVE_ORDER_INDEX, COVERING_ORDERS: COVERED_FIELDS, and the favorites and collection filters)
        tested on the walked row, the others on its table row (EXISTS on the same id), so the walk reads a table
        row only for an image that passes the first. A query of alternatives (OR), or one all of whose
        conditions need the table row, is `_where` itself. `stacked`: and the image is the first of its batch
        (`_first_of_batch`), tested on the table row too, which holds the batch (so a stacked page of a rare
        combination walks the index as the plain page does: 650 -> 25-110 ms at 1,000,000 images)."""
        parsed = self.parsed(filters)
        first = [self._first_of_batch(filters)] if stacked else []
        if self._sort(filters) not in COVERING_SORTS or len(parsed.groups) != 1 or filters.batch is not None:
            return [*self._where(filters), *first]
        covered = tuple(t for t in parsed.groups[0] if covered_term(t))
        rest = tuple(t for t in parsed.groups[0] if not covered_term(t))
        filtered = filters.favorite in (FAVORITES_ONLY, NON_FAVORITES) or filters.collection_id is not None
        if not (covered or filtered) or not (rest or stacked):
            return [*self._where(filters), *first]
        j = Image.alias("j")
        on_row = [where_clause(replace(parsed, groups=(rest,)), self.account.id, j)] if rest else []
        if stacked:
            on_row.append(self._first_of_batch(filters, j))
        return [*self._where(filters, parsed=replace(parsed, groups=(covered,))),
                NodeList((SQL("EXISTS"), j.select(SQL("1")).where(j.id == Image.id, *on_row)))]

    def _walked(self, select, filters: Filters, offset: int, limit: int,
                mark: PageMark | None = None, reverse: bool = False) -> tuple[list, PageMark | None]:
        """Rows `offset` to `offset + limit` of select() (a query of the filters' matches) in the filters' order,
        read part by part of the order (query_sql.order_parts: one walk along the order's index; the random
        order's two) with OFFSET and LIMIT in each, so that a page stops after `limit` rows; from `mark` on
        when it is given (at or before `offset`). select(conditions) is the query with these conditions added;
        its rows (a tuple's last values: the keys) and the mark of the last one are returned. `reverse`: the
        order read from its end (`offset` counted from there; no mark)."""
        if limit <= 0:
            return [], None
        parts = order_parts(self._sort(filters), filters.seed)
        if reverse:  # the order from its end: each walk the other way, the last walk first
            parts = [(condition, [Ordering(k.node, "ASC" if k.direction.upper() == "DESC" else "DESC") for k in keys])
                     for condition, keys in reversed(parts)]
            mark = None
        first, at = 0, offset
        if mark is not None and mark.offset <= offset and mark.part < len(parts):
            first, offset = mark.part, offset - mark.offset
        else:
            mark = None
        rows: list = []
        end = None
        for n, (condition, keys) in enumerate(parts[first:], first):
            conditions = [] if condition is None else [condition]
            if mark is not None and n == mark.part:
                conditions.append(after(keys, mark.keys))
            part = select(conditions)
            marked = part.select_extend(*[k.node.alias(f"mark{i}") for i, k in enumerate(keys)])
            got = list(marked.order_by(*keys).offset(offset).limit(limit - len(rows)))
            if got:
                last = got[-1]
                values = tuple(last[-len(keys):]) if isinstance(last, tuple) else tuple(
                    getattr(last, f"mark{i}") for i in range(len(keys)))
                end = (n, values)
                if isinstance(last, tuple):
                    got = [row[:-len(keys)] for row in got]
            rows += got
            if len(rows) >= limit:
                break
            if got or offset == 0:  # this part ended on the page: the next starts at its first row
                offset = 0
            else:  # the page is past this part's end: how far (it has fewer than `offset` rows)
                counted = Image.select(fn.COUNT(SQL("*"))).from_(part.select(SQL("1")).limit(offset).alias("part"))
                offset -= counted.scalar() or 0
        return rows, (None if end is None or reverse else PageMark(at + len(rows), *end))

    def _stacked_page(self, filters: Filters, offset: int, limit: int, mark: PageMark | None = None,
                      reverse: bool = False) -> tuple[list[tuple[int, int]], PageMark | None]:
        """(id, stack size) of one page of a stacked result (PostgreSQL), as `_stacked_sql` gives it: the images
        that are the first of their batch (`_first_of_batch`), read along the order's index so the page stops
        after `limit` cards (from `mark` on: `_walked`), then the sizes of the page's batches; and the page's
        mark. `reverse`: read from the result's end (`_walked`)."""
        b = Image.alias("b")  # each card's batch read from its table row: the walk itself may read the index alone
        batch = b.select(b.batch).where(b.id == Image.id)
        clauses = self._walk_where(filters, stacked=True)
        found, end = self._walked(lambda part: Image.select(Image.id, batch).where(*clauses, *part).tuples(), filters,
                                  offset, limit, mark, reverse)
        batches = [key for _, key in found if key]
        sizes = dict(Image.select(Image.batch, fn.COUNT(Image.id)).where(*self._where(filters), Image.batch.in_(batches))
                     .group_by(Image.batch).tuples()) if batches else {}
        return [(int(i), int(sizes.get(b, 1)) if b else 1) for i, b in found], end

    def _stacked_sql(self, filters: Filters, offset: int = 0, limit: int | None = None) -> list[tuple[int, int]]:
        """(id, stack size) of a stacked result, in its order, by SQL (PostgreSQL): each batch's first image
        in the order stands for it (a window over the batch key), where it stands in the order."""
        order = [Image.generated_at.desc(), Image.id.desc()] if self._sort(filters) == DEFAULT_SORT \
            else self._order(filters)
        inner = (Image.select(Image.id.alias("sid"),
                              fn.ROW_NUMBER().over(partition_by=[_STACK_KEY], order_by=order).alias("rn"),
                              fn.COUNT(Image.id).over(partition_by=[_STACK_KEY]).alias("n"),
                              fn.ROW_NUMBER().over(order_by=order).alias("pos"))
                 .where(*self._where(filters)).alias("stacked"))
        query = (Image.select(inner.c.sid, inner.c.n).from_(inner).where(inner.c.rn == 1)
                 .order_by(inner.c.pos).offset(offset))
        if limit is not None:
            query = query.limit(limit)
        return [(int(i), int(n)) for i, n in query.tuples()]

    @boundary
    def iter_images(self, filters: Filters | None = None, batch: int = 500) -> Iterator[ImageRecord]:
        """Every image the filters let through (every one of a stack), in their order (newest first unless a
        sort says otherwise), read a batch at a time."""
        filters = replace(filters or Filters(), stacked=False)
        selected = self._selected(filters)
        if selected is not None:  # (a result read a page at a time: sliced, never iterated)
            for start in range(0, len(selected), batch):
                yield from self._records_by_id(selected[start:start + batch])
            return
        clauses = self._where(filters)
        offset = 0
        mark: PageMark | None = None
        while True:  # each batch read from where the one before ended (its mark: `_walked`), in any order
            rows, mark = self._walked(lambda part: self._select().where(*clauses, *part), filters, offset, batch, mark)
            if not rows:
                return
            yield from self._records(rows)
            offset += len(rows)

    @boundary
    def ids(self, filters: Filters | None = None) -> list[int]:
        """The ids the filters let through, newest first (for "select all"): every image of a stack."""
        filters = replace(filters or Filters(), stacked=False)
        selected = self._selected(filters)
        if selected is not None:
            return listed(selected)  # (a piece at a time: select all's worker held the UI thread's lock with it)
        query = (
            Image.select(Image.id)
            .where(*self._where(filters))
            .order_by(*self._order(filters))
            .tuples()
        )
        return [i for (i,) in query]

    @boundary
    def selection(self, filters: Filters | None = None) -> Selection:
        """The ids the filters let through as a Selection (select all, invert): the catalog's array sorted, without a
        list of a million ids made (store/selection.py)."""
        filters = replace(filters or Filters(), stacked=False)
        selected = self._selected(filters)
        if selected is not None:
            return Selection(np.asarray(selected[0:len(selected)]))
        query = Image.select(Image.id).where(*self._where(filters)).tuples()
        return Selection(i for (i,) in query)

    @boundary
    def get(self, image_id: int) -> ImageRecord:
        """One image the account may read (its own or a public one); NotFound for anything else."""
        rows = list(self._select().where(self._visible(), Image.id == image_id, Image.trashed_at.is_null()))
        if not rows:
            if Image.select().where(self._mine(), Image.id == image_id).exists():
                raise InTrash(image_id)
            raise NoImage(image_id)
        record = self._records(rows)[0]
        record.also_at = tuple(self.other_files(record))
        return record

    @boundary
    def other_files(self, record: ImageRecord) -> list[Path]:
        """An image's other files in the watched folders (the same picture in several places is one image),
        besides `record.path`: `info` lists them ("Also at"). The library's own copy (an imported image) has them too
        when its picture is also a file in a watched folder (new-user test 10 #2: `file:` found it there, `info`
        did not name it)."""
        from .sources import other_files

        return other_files(self, record)  # type: ignore[arg-type]

    @boundary
    def position(self, image_id: int, filters: Filters | None = None) -> int | None:
        """The index of an image in the filtered result, in its order (None if not shown; in a stacked result,
        shown only as the first image of its batch: its stack's card)."""
        filters = filters or Filters()
        selected = self._selected(filters)
        if selected is not None and self.catalog is not None:
            return self.catalog.place_of(selected, image_id)
        clauses = self._where(filters)
        clauses_here = [*clauses, self._first_of_batch(filters)] if filters.stacked else clauses
        # the walks of the order (order_parts: the random order's two); the image is in one of them, by its keys
        parts = order_parts(self._sort(filters), filters.seed)
        located = None
        for n, (condition, keys) in enumerate(parts):
            row = Image.select(*[k.node for k in keys]).where(
                Image.id == image_id, *clauses_here, *([] if condition is None else [condition])).tuples().first()
            if row is not None:
                located = n, row
                break
        if located is None:
            return None
        n, found = located
        condition, keys = parts[n]
        # the matches before it: every one of the walks before its own, and those of its own walk whose keys
        # come before its keys (`before`: a range of the walk's index), never read in order
        earlier = [c for c, _ in parts[:n]]
        here = before(keys, found)
        if condition is not None:
            here = condition & here
        if filters.stacked:  # the cards whose first image comes before it: the distinct batches among those
            either = here
            for part in earlier:
                either = part | either
            return int(Image.select(fn.COUNT(fn.DISTINCT(_STACK_KEY))).where(*clauses, either).scalar() or 0)
        return sum(int(Image.select(fn.COUNT(SQL("*"))).where(*clauses, part).scalar() or 0) for part in [*earlier, here])

    # -- rows become records -----------------------------------------------------------------------

    def _records(self, rows: Iterable[Any], names: dict[int, list[str]] | None = None) -> list[ImageRecord]:
        """Records of these rows; `names`: each one's collections, when read with them (else asked for here)."""
        rows = list(rows)
        if names is None:
            names = self._collections_of([r.id for r in rows])
        return [self._record(r, names.get(r.id, [])) for r in rows]

    def _record(self, row: Any, collections: list[str]) -> ImageRecord:
        try:
            params = json.loads(row.params or "{}")
        except ValueError:
            params = {}
        owner = getattr(row, "owner_name", None)  # a named tuple of _RECORD_COLUMNS
        if owner is None:
            account = getattr(row, "owner_account", None)  # a model row joined to its account (`_select`)
            owner = account.name if account is not None else self.account.name
        thumbnail, mini = self._thumbnail_of(row)
        return ImageRecord(
            id=row.id,
            owner=owner,
            prompt=row.prompt,
            negative_prompt=row.negative_prompt,
            model=row.model,
            text_accuracy=row.text_accuracy,
            generated_at=to_local(row.generated_at),
            imported_at=to_local(row.imported_at),
            width=row.width,
            height=row.height,
            file_size=row.file_size,
            sha256=row.sha256,
            ext=row.ext,
            favorite=bool(row.favorite) and owner == self.account.name,  # a favorite is its owner's alone
            params=params if isinstance(params, dict) else {},
            source_name=row.source_name,
            parent_id=row.parent_id,
            derivation=row.derivation,
            path=Path(disk_path(row.location, True)) if row.location else self.files.original_path(row.sha256, row.ext),
            thumbnail_path=thumbnail,
            mini_path=mini,
            collections=collections,
            linked=bool(row.location),
            batch=row.batch or 0,
        )

    def _thumbnail_of(self, row: Any) -> tuple[Path, Path | None]:
        """The library's thumbnail and mini; for a linked image not yet given one, its file (the grid shrinks it)
        and no mini."""
        thumbnail = self.files.thumbnail_path(row.sha256)
        if row.location and not thumbnail.exists():
            return Path(disk_path(row.location, True)), None  # (plain SQL rows: as stored, models.PathField)
        return thumbnail, self.files.mini_path(row.sha256)
