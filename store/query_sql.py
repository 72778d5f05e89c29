"""The search language (query.py) as SQL for PostgreSQL: a WHERE clause and an ORDER BY.

Words and text fields are ILIKE (the prompt's served by the pg_trgm index).
Parameters are columns the database derives from the params text with a regular
expression, never cast to JSON (a damaged params value can never fail a search),
each with its index (param_columns.py). A library on SQLite answers from its
in-memory catalog instead (catalog.py); both give the same rows.
"""
from __future__ import annotations

import re

from peewee import SQL, NodeList, Value, fn

from .models import Image
from .query import DEFAULT_SORT, Parsed, Term


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


PROMPT_KEY = 'LEFT(LOWER(prompt), 100) COLLATE "C"'  # what the prompt A-Z order sorts by

# Indexes for the fields and the orders (PostgreSQL; made by schema 7 and for every new library; the
# parameters' columns and their indexes by schema 11: param_columns.py).
SEARCH_INDEX_SQL = (
    "CREATE INDEX IF NOT EXISTS image_model_trgm ON image USING gin (model gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS image_negative_trgm ON image USING gin (negative_prompt gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS image_imported_order ON image (owner_id, imported_at DESC, generated_at DESC, id DESC)",
    "CREATE INDEX IF NOT EXISTS image_largest_order ON image (owner_id, (width * height) DESC, generated_at DESC, "
    "id DESC)",
    f"CREATE INDEX IF NOT EXISTS image_prompt_order ON image (owner_id, ({PROMPT_KEY}), generated_at DESC, id DESC)",
)


CFG_NUMBER = r"^\s*[0-9]+(\.[0-9]*)?\s*$"  # a text-accuracy value that is a number (param_columns.py)


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


def _term(term: Term, account_id: int):
    from .models import ImageCollection

    f, v = term.field, term.value
    text = {"prompt": Image.prompt, "model": Image.model, "negative": Image.negative_prompt,
            "file": Image.source_name, "source": Image.location}.get(f)
    if text is not None:
        return _like(text, term.text)
    if f == "sampler":
        return _like(SQL("sampler"), term.text)
    if f == "lora":  # the prompt's own trigram index serves the regular expression
        in_prompt = NodeList((Image.prompt, SQL("~*"), Value("<(lora|lyco|locon):[^:>]*" + re.escape(term.text))))
        return in_prompt | _like(SQL("lora_list"), term.text)
    if f == "owner":
        return Image.owner.in_(list(v)) if v else SQL("FALSE")
    if f == "in":
        return Image.id.in_(ImageCollection.select(ImageCollection.image).where(ImageCollection.collection == v))
    if f in ("seed", "steps", "cfg"):
        return _between(SQL(f), v)
    if f in ("width", "height", "id"):
        return _between({"width": Image.width, "height": Image.height, "id": Image.id}[f], v)
    if f == "size":
        clause = SQL("TRUE")
        for column, bounds in zip((Image.width, Image.height), v):
            if bounds is not None:
                clause &= _between(column, bounds)
        return clause
    if f in ("date", "imported"):
        column = Image.generated_at if f == "date" else Image.imported_at
        start, end = v
        clause = SQL("TRUE")
        if start is not None:
            clause &= column >= start
        if end is not None:
            clause &= column < end
        return clause
    if f == "is":
        if v == "fav":
            return Image.favorite == True  # noqa: E712 - peewee expression
        derived = Image.derivation != ""  # the few derived images have an index (param_columns.py)
        cell = NodeList((Image.derivation, SQL("LIKE"), Value("cell%")))
        if v == "derived":
            return derived
        if v == "cell":
            return derived & cell
        return derived & ~cell & Image.derivation.contains("background")
    if f == "from":
        return Image.parent == v
    return SQL("TRUE")


def where_clause(parsed: Parsed, account_id: int):
    """A condition for the parsed (and resolved) query, or None when it has no terms."""
    result = None
    for group in parsed.groups:
        clause = None
        for term in group:
            part = _term(term, account_id)
            if term.negate:
                part = ~fn.COALESCE(part, False)  # an image without the value is "not" it
            clause = part if clause is None else clause & part
        if clause is not None:
            result = clause if result is None else result | clause
    return result


def order_by(sort: str, seed: int = 0) -> list:
    """ORDER BY for a sort (store/query.py SORTS); ties go newest first, like the catalog."""
    newest = [Image.generated_at.desc(), Image.id.desc()]
    if sort == "oldest":
        return [Image.generated_at.asc(), Image.id.asc()]
    if sort == "imported":
        return [Image.imported_at.desc()] + newest
    if sort == "prompt":  # the first PROMPT_KEY characters: the index holds them (prompts can be megabytes)
        return [SQL(PROMPT_KEY).asc()] + newest
    if sort == "largest":
        return [(Image.width * Image.height).desc()] + newest
    if sort == "random":  # PostgreSQL's own hash of the id with the seed: a stable order per seed
        return [fn.hashint8extended(Image.id, int(seed) % 2**63).asc(), Image.id.asc()]
    if sort == "favorites":
        return [Image.favorite.desc()] + newest
    return newest


def is_default(sort: str) -> bool:
    return sort == DEFAULT_SORT
