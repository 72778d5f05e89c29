"""The search language (query.py) as SQL for PostgreSQL: a WHERE clause and an ORDER BY.

Words and the folded text fields (query.FOLDED_FIELDS: negative, model, sampler, lora) are LIKE on the text folded
by the server's FOLD function (case and accents: lower(unaccent(normalize(NFKD))), migrations.create_fold_function),
the words folded by the same function; their pg_trgm indexes are of the folded text. owner, file and source: ILIKE.
Parameters are columns the database derives from the params text with a regular
expression, never cast to JSON (a damaged params value can never fail a search),
each with its index (param_columns.py). A library on SQLite answers from its
in-memory catalog instead (catalog.py); both give the same rows.
"""
from __future__ import annotations

import re

from peewee import SQL, Case, Expression, FieldAlias, NodeList, Ordering, Tuple, Value, fn

from .models import Image
from .query import DEFAULT_SORT, Parsed, Term, id_bounds


def _like(column, text: str):
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return NodeList((column, SQL("ILIKE"), Value(pattern)))


def param_sql(keys: tuple[str, ...], quoted: bool) -> str:
    """SQL for the first of these params keys' value, as text (a string value, or a number when not `quoted`).

    The pattern is a literal, not a parameter: it defines the generated columns (param_columns.py).
    """
    names = "|".join(re.escape(k) for k in keys)
    value = r'"((?:[^"\\]|\\.)*)"' if quoted else r'"?([0-9]+(?:\.[0-9]+)?)'
    pattern = f'"(?:{names})":\\s*{value}'
    assert "'" not in pattern and "%" not in pattern
    return f"SUBSTRING(params FROM '{pattern}')"


def number_sql(keys: tuple[str, ...]) -> str:
    return f"CAST({param_sql(keys, False)} AS NUMERIC)"


FOLD = "myimages_fold"  # the server's case and accent folding (migrations.create_fold_function), immutable
PHRASE_KEY = f"REPLACE({FOLD}(prompt), ' ', 'x')"  # what a phrase's candidates are found in (image_prompt_phrase_trgm)


def folded(column):
    """The column folded by the server (FOLD): what the folded fields' trigram indexes hold."""
    return fn.myimages_fold(column)


def _folded_pattern(text: str, spaces_as_x: bool = False):
    """LIKE's pattern for `text` anywhere, folded by the server as the column is (a constant the planner works out
    first, so the trigram index serves it), its %, _ and \\ escaped after folding."""
    inner = r"replace(replace(replace(myimages_fold(%s), '\', '\\'), '%%', '\%%'), '_', '\_')"
    if spaces_as_x:
        inner = f"replace({inner}, ' ', 'x')"
    return SQL(f"('%%' || {inner} || '%%')", [text])


def _folded_like(column, text: str):
    return NodeList((folded(column), SQL("LIKE"), _folded_pattern(text)))


def _folded_regex(before: str, text: str, after: str):
    """A regular expression (a constant): `before`, `text` folded by the server and taken literally, `after`."""
    escaped = r"regexp_replace(myimages_fold(%s), '([^[:alnum:][:space:]])', '\\\1', 'g')"
    return SQL(f"(%s || {escaped} || %s)", [before, text, after])

# Indexes for the fields and the orders (PostgreSQL; made by schema 7 and for every new library; the
# parameters' columns and their indexes by schema 11: param_columns.py).
SEARCH_INDEX_SQL = (
    # (of the text folded since schema 23)
    f"CREATE INDEX IF NOT EXISTS image_model_trgm ON image USING gin ({FOLD}(model) gin_trgm_ops)",
    f"CREATE INDEX IF NOT EXISTS image_negative_trgm ON image USING gin ({FOLD}(negative_prompt) gin_trgm_ops)",
    # a phrase (schema 17): the prompt with its spaces made letters, so that trigrams span a space and only
    # prompts holding the phrase's words next to each other are candidates (`_phrase`)
    f"CREATE INDEX IF NOT EXISTS image_prompt_phrase_trgm ON image USING gin ({PHRASE_KEY} gin_trgm_ops)",
    # (the imported, largest, random and prompt A-Z orders' indexes: param_columns.COVERING_ORDERS, since schema 18;
    # prompt A-Z's on image.prompt_key since schema 21)
    # is:cell, is:derived, is:clean newest first (schema 15): the few derived images in date order, where the
    # date index was walked past every other image to find them; holding the derivation and the trash mark
    # (schema 18), so their page and the count of up to ESTIMATE_ABOVE + 1 of them read no table row
    "CREATE INDEX IF NOT EXISTS image_derived_order ON image (owner_id, generated_at DESC, id DESC) "
    "INCLUDE (derivation, trashed_at) WHERE derivation <> ''",
)


CFG_NUMBER = r"^\s*[0-9]+(\.[0-9]*)?\s*$"  # a text-accuracy value that is a number (param_columns.py)


def _phrase(m, text: str):
    """The prompt holds `text`, which has a space: ILIKE, and the same on the prompt with its spaces made
    x's (PHRASE_KEY, which has its trigram index): implied by the first, and where pg_trgm's own trigrams stop
    at a space (every prompt holding both words is a candidate), this one's run across it ("pixel art" has
    "elx", "lxa", "xar", which "pixel, art" has not), so the planner reads only prompts that hold the words
    side by side, and the first rules out the few others (an x in the phrase: "pixelxart")."""
    key = fn.REPLACE(folded(m.prompt), SQL("' '"), SQL("'x'"))
    return _folded_like(m.prompt, text) & NodeList((key, SQL("LIKE"), _folded_pattern(text, spaces_as_x=True)))


def _between(expr, bounds: tuple):
    low, high, low_in, high_in = bounds
    parts = []
    if low is not None:
        parts.append(expr >= low if low_in else expr > low)
    if high is not None:
        parts.append(expr <= high if high_in else expr < high)
    clause = parts[0] if parts else (expr.is_null(False))
    for part in parts[1:]:
        clause &= part
    return clause


# a LoRA's name in the generator's list ("name: hash, folder/name2: hash2", query.lora_names): in one of its
# comma-separated items, before the item's colon and after its last slash; not its hash nor its folder (the
# ILIKE before it finds the rows through lora_list's trigram index, this rules out those whose match is not a name)
LORA_NAME_IN_LIST = ("(^|,)([^,:]*/)?[^,:/]*", "[^,:/]*(:|,|$)")  # (before and after the name searched for)
LORA_IN_PROMPT = "<(lora|lyco|locon):[^:>]*"


def _term(term: Term, account_id: int, m=Image):
    from .models import ImageCollection

    f, v = term.field, term.value
    model = Image.model if m is Image else FieldAlias.create(m, Image.model)  # an alias's .model is its model class
    if f == "source":  # linked from a folder whose path holds it, or read from one (a copying source)
        from .models import Source, SourceFile

        read_from = SourceFile.select(SourceFile.image).join(Source).where(
            _like(Source.path, term.text), SourceFile.image.is_null(False))
        return _like(m.location, term.text) | m.id.in_(read_from)
    if f == "file":  # the name it was read under, or any of its files' in the watched folders (one picture, many)
        from .models import SourceFile

        named = SourceFile.select(SourceFile.image).where(
            _like(fn.regexp_replace(SourceFile.relpath, "^.*/", ""), term.text), SourceFile.image.is_null(False))
        return _like(m.source_name, term.text) | m.id.in_(named)
    text = {"prompt": m.prompt, "model": model, "negative": m.negative_prompt, "sampler": SQL("sampler")}.get(f)
    if text is not None:
        if f == "prompt" and " " in term.text.strip():
            return _phrase(m, term.text)
        return _folded_like(text, term.text)
    if f == "lora":  # the prompt's own trigram index serves the regular expression
        in_prompt = NodeList((folded(m.prompt), SQL("~"), _folded_regex(LORA_IN_PROMPT, term.text, "")))
        if any(c in term.text for c in "/,:"):  # no name in the list holds one
            return in_prompt
        names = folded(SQL("lora_list"))
        return in_prompt | (_folded_like(SQL("lora_list"), term.text) & NodeList((names, SQL("~"), _folded_regex(
            LORA_NAME_IN_LIST[0], term.text, LORA_NAME_IN_LIST[1]))))
    if f == "owner":
        return m.owner.in_(list(v)) if v else SQL("FALSE")
    if f == "in":
        return m.id.in_(ImageCollection.select(ImageCollection.image).where(ImageCollection.collection == v))
    if f in ("seed", "steps", "cfg"):
        return _between(SQL(f), v)
    if f == "id":  # a range, or a list of ids and ranges (id:9,15,20-30)
        ranges = id_bounds(v)
        ids = [low for low, high, low_in, high_in in ranges if low == high and low_in and high_in]
        clause = m.id.in_(ids) if ids else None
        for bounds in ranges:
            if not (bounds[0] == bounds[1] and bounds[0] in ids):
                clause = _between(m.id, bounds) if clause is None else clause | _between(m.id, bounds)
        return clause
    if f in ("width", "height"):
        return _between({"width": m.width, "height": m.height}[f], v)
    if f == "size":
        clause = SQL("TRUE")
        for column, bounds in zip((m.width, m.height), v):
            if bounds is not None:
                clause &= _between(column, bounds)
        return clause
    if f in ("date", "imported"):
        column = m.generated_at if f == "date" else m.imported_at
        start, end = v
        clause = SQL("TRUE")
        if start is not None:
            clause &= column >= start
        if end is not None:
            clause &= column < end
        return clause
    if f == "is":
        if v == "fav":
            return m.favorite == True  # noqa: E712 - peewee expression
        derived = m.derivation != ""  # the few derived images have an index (param_columns.py)
        cell = NodeList((m.derivation, SQL("LIKE"), Value("cell%")))
        if v == "derived":
            return derived
        if v == "cell":
            return derived & cell
        return derived & ~cell & m.derivation.contains("background")
    if f == "from":
        return m.parent == v
    return SQL("TRUE")


# what the order indexes of the images not in the trash hold (param_columns.LIVE_ORDER_INDEX, COVERING_ORDERS) for
# a search's fields: a term on these is tested in the index (search.py `_walk_where`), in these orders (prompt A-Z
# since schema 21, whose key is a column: image.prompt_key)
COVERING_SORTS = ("newest", "oldest", "imported", "largest", "random", "prompt")
COVERED_FIELDS = ("seed", "steps", "cfg", "width", "height", "size", "date", "id", "model", "sampler", "owner", "in")


def covered_term(term: Term) -> bool:
    return term.field in COVERED_FIELDS or (term.field == "is" and term.value == "fav")


def where_clause(parsed: Parsed, account_id: int, m=Image):
    """A condition for the parsed (and resolved) query, or None when it has no terms; on the image table `m` (an
    alias of Image for a subquery over the same table: its bare column names, SQL("sampler"), are the
    innermost table's)."""
    result = None
    for group in parsed.groups:
        clause = None
        for term in group:
            part = _term(term, account_id, m)
            if term.negate:
                part = ~fn.COALESCE(part, False)  # an image without the value is "not" it
            clause = part if clause is None else clause & part
        if clause is not None:
            result = clause if result is None else result | clause
    return result


def order_by(sort: str, seed: int = 0, m=Image) -> list:
    """ORDER BY for a sort (store/query.py SORTS); ties go newest first, like the catalog. Every key is a column
    of `m` (qualified: `precedes` compares two tables' keys) and never NULL."""
    newest = [m.generated_at.desc(), m.id.desc()]
    if sort == "oldest":
        return [m.generated_at.asc(), m.id.asc()]
    if sort == "imported":
        return [m.imported_at.desc()] + newest
    if sort == "prompt":  # the stored key (text.prompt_sort_key): folded, its first bytes, compared by code point
        return [m.prompt_key.asc()] + newest
    if sort == "largest":
        return [(m.width * m.height).desc()] + newest
    if sort == "random":  # the seed's walks (random_walks) one after the other, each up or down the shuffle
        key, walks = shuffle_key(m).cast("bigint"), _walk_conditions(seed, m)  # (bigint: -hashint4 overflows int)
        down = [(condition, None) for condition, (_, _, is_down) in zip(walks, random_walks(seed)) if is_down]
        return [Case(None, [(condition, n) for n, condition in enumerate(walks)], len(walks)).asc(),
                Case(None, [(condition, 0 - key) for condition, _ in down], key).asc(),  # (peewee's -x is x DESC)
                Case(None, [(condition, 0 - m.id) for condition, _ in down], m.id).asc()]
    if sort == "favorites":
        return [m.favorite.desc()] + newest
    return newest


def shuffle_key(m=Image):
    """The random order's key: PostgreSQL's hash of the id, a fixed shuffle of the ids (its index:
    image_random_order)."""
    return fn.hashint4(m.id)


RANDOM_BLOCKS = 8  # the shuffle's hash range in blocks, which a seed walks in an order and directions of its own
_SPAN = 2**32 // RANDOM_BLOCKS


def random_walks(seed: int) -> list[tuple[int | None, int | None, bool]]:
    """A seed's random order as walks of the one indexed shuffle, each (low, high, down): hash values from low
    to before high (None: no bound), down or up. It starts at the seed's place (random_start) and goes to the end
    of that block, then the other blocks in an order and directions from the seed, and last the rest of the
    first block: another seed, another order of the shuffle's pieces (new-user test 4 item 7: a seed only moved
    the start of one cycle), each piece still a range of the index (image_random_order)."""
    import random

    start, down = random_start(seed)
    edges = [None] + [-2**31 + n * _SPAN for n in range(1, RANDOM_BLOCKS)] + [None]
    home = (start + 2**31) // _SPAN
    low, high = edges[home], edges[home + 1]
    chooser = random.Random(int(seed))  # the same walks for the same seed, in every process
    others = [b for b in range(RANDOM_BLOCKS) if b != home]
    chooser.shuffle(others)
    walks: list[tuple[int | None, int | None, bool]] = [(low, start + 1, True)] if down else [(start, high, False)]
    walks += [(edges[b], edges[b + 1], chooser.random() < 0.5) for b in others]
    walks += [(start + 1, high, True)] if down else [(low, start, False)]
    return walks


def _walk_conditions(seed: int, m=Image) -> list:
    key = shuffle_key(m)
    conditions = []
    for low, high, _ in random_walks(seed):
        bounds = ([] if low is None else [key >= low]) + ([] if high is None else [key < high])
        conditions.append(bounds[0] & bounds[1] if len(bounds) == 2 else bounds[0])
    return conditions


def random_start(seed: int) -> tuple[int, bool]:
    """Where a seed's random order enters the shuffle (a hash value) and whether it walks down from there: a
    view's order is stable while its seed is, and another seed starts elsewhere (and maybe the other way)."""
    mixed = (int(seed) * 0x9E3779B97F4A7C15) % 2**64  # Fibonacci hashing: nearby seeds land far apart
    return (mixed >> 32) - 2**31, bool(mixed >> 31 & 1)


def order_parts(sort: str, seed: int = 0, m=Image) -> list[tuple]:
    """The order as walks along an index one after the other, each (a condition or None, its ORDER BY): the
    order_by of the sort alone, but the random order's RANDOM_BLOCKS + 1 (random_walks: ranges of the shuffle,
    each up or down; order_by's first key, which no index holds, is which of them)."""
    if sort != "random":
        return [(None, order_by(sort, seed, m))]
    key = shuffle_key(m)
    return [(condition, [key.desc(), m.id.desc()] if down else [key.asc(), m.id.asc()])
            for condition, (_, _, down) in zip(_walk_conditions(seed, m), random_walks(seed))]


def after(keys: list, values: tuple):
    """A condition: the row comes after the one whose keys (ORDER BY `keys`, one walk of order_parts) are
    `values`. Where every key goes one way, a row comparison, which the order's index starts its walk at;
    else (prompt A-Z) the first key's bound, where the index starts, and `precedes` for the rows tied on it."""
    directions = {k.direction.upper() for k in keys}
    if len(directions) == 1:
        return Expression(Tuple(*[k.node for k in keys]), "<" if directions == {"DESC"} else ">",
                          Tuple(*[Value(v) for v in values]))
    first, value = keys[0].node, values[0]
    bound = first >= value if keys[0].direction.upper() == "ASC" else first <= value
    return bound & precedes([Ordering(Value(v), k.direction) for k, v in zip(keys, values)], keys)


def before(keys: list, values: tuple):
    """A condition: the row comes before the one whose keys (ORDER BY `keys`, one walk of order_parts) are
    `values` (`after` the other way round: a row comparison where every key goes one way, else `precedes`)."""
    directions = {k.direction.upper() for k in keys}
    if len(directions) == 1:
        return Expression(Tuple(*[k.node for k in keys]), ">" if directions == {"DESC"} else "<",
                          Tuple(*[Value(v) for v in values]))
    return precedes(keys, [Ordering(Value(v), k.direction) for k, v in zip(keys, values)])


def precedes(before: list, after: list):
    """A condition: the row of `before`'s table comes before the row of `after`'s in the order both lists are
    (order_by of one sort on two tables): the first key that differs decides, in its direction
    (a < b OR (a = b AND (...)), each key compared once)."""
    clause = None
    for first, second in reversed(list(zip(before, after))):
        a, b = first.node, second.node
        part = (a > b) if first.direction.upper() == "DESC" else (a < b)
        clause = part if clause is None else part | ((a == b) & clause)
    return clause


def is_default(sort: str) -> bool:
    return sort == DEFAULT_SORT
