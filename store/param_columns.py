"""Generation parameters kept in `params` (JSON text) as real columns of the image table (schema 11).

The database derives them itself (generated columns), so no writer can leave one stale and nothing in
Python writes them; they are not fields of the Peewee model (a model field would be written by inserts
and made by create_tables as a plain column), and SQL refers to them by name.

- PostgreSQL: stored columns with their own indexes, which the search language's fields use
  (query_sql.py): seed, steps and cfg as numbers (btree), the sampler and the LoRA list as text
  (trigram). They read params with the same regular expressions as before (a damaged params value
  gives NULL, never an error). Adding them rewrites the table once (about a minute at 1,000,000 images).
- SQLite: virtual columns (computed when read, nothing stored) of what the in-memory catalog reads
  (catalog.py), with JSON1 as before; no indexes, since SQL never filters on them there (the catalog
  holds them in memory).
"""
from __future__ import annotations

from peewee import Database, PostgresqlDatabase

from .query import LORA_KEYS, SAMPLER_KEYS, SEED_KEYS, STEPS_KEYS
from .query_sql import CFG_NUMBER, FOLD, number_sql, param_sql


def _json_first(keys: tuple[str, ...]) -> str:
    return "CASE WHEN json_valid(params) THEN COALESCE(" + ", ".join(
        f"json_extract(params, '$.\"{k}\"')" for k in keys) + ") END"


SQLITE_COLUMNS = {
    "seed": _json_first(SEED_KEYS),
    "steps": _json_first(STEPS_KEYS),
    "sampler": _json_first(SAMPLER_KEYS),
    "lora_list": _json_first(LORA_KEYS),
}

# The LoRA list: a text ("name: hash, folder/name2: hash2", A1111) as it is, or a JSON list (Fooocus: [["name", 0.5],
# ...], or of texts) as its items' names (an item's first text) apart by commas, as query.lora_names reads it (schema
# 22; before, NULL for a list: lora: never found those images). Lists in a list go one deep.
_LORA_LIST = (
    f"COALESCE({param_sql(LORA_KEYS, True)}, regexp_replace(SUBSTRING(params FROM "
    """'"(?:Lora hashes|loras|lora_name)":\\s*\\[((?:[^\\[\\]"]|"(?:[^"\\\\]|\\\\.)*"|\\[(?:[^\\[\\]"]|"(?:[^"\\\\]|\\\\.)*")*\\])*)\\]'), """
    """'\\s*(?:\\[\\s*"((?:[^"\\\\]|\\\\.)*)"(?:[^\\[\\]"]|"(?:[^"\\\\]|\\\\.)*")*\\]|"((?:[^"\\\\]|\\\\.)*)"|\\[[^\\[\\]]*\\]|"""
    """[^,\\[\\]"]*)\\s*(,|$)', '\\1\\2\\3', 'g'))"""
)
assert set(LORA_KEYS) == {"Lora hashes", "loras", "lora_name"}  # (the list's keys, written out above)

POSTGRES_COLUMNS = {
    "seed": ("NUMERIC", number_sql(SEED_KEYS)),
    "steps": ("NUMERIC", number_sql(STEPS_KEYS)),
    "cfg": ("NUMERIC", f"CASE WHEN text_accuracy ~ '{CFG_NUMBER}' THEN CAST(TRIM(text_accuracy) AS NUMERIC) END"),
    "sampler": ("TEXT", param_sql(SAMPLER_KEYS, True)),
    "lora_list": ("TEXT", _LORA_LIST),
}

LIVE_ORDER_INDEX = "image_live_order"
COVERED = "favorite, seed, steps, cfg, width, height, model, sampler"  # query_sql.COVERED_FIELDS' columns
# the imported, largest and random orders (schema 18; before it, of every image and holding no field): the images
# not in the trash in the order, with the fields a search tests, as LIVE_ORDER_INDEX is for newest first, so a
# search in these orders tests them in the index too (search.py `_walk_where`); the random order's holds the date
COVERING_ORDERS = {
    "image_imported_order": "(owner_id, imported_at DESC, generated_at DESC, id DESC)",
    "image_largest_order": "(owner_id, (width * height) DESC, generated_at DESC, id DESC)",
    # one fixed shuffle of the ids (schema 14), which a seed enters at a place of its own (query_sql.random_walks)
    "image_random_order": "(owner_id, hashint4(id), id)",
    # prompt A-Z (schema 21): the stored key (text.prompt_sort_key; the column is COLLATE "C")
    "image_prompt_order": "(owner_id, prompt_key, generated_at DESC, id DESC)",
}
POSTGRES_INDEXES = (
    "CREATE INDEX IF NOT EXISTS image_seed_column ON image (seed)",
    "CREATE INDEX IF NOT EXISTS image_steps_column ON image (steps)",
    "CREATE INDEX IF NOT EXISTS image_cfg_column ON image (cfg)",
    # (of the text folded since schema 23: query_sql.FOLD)
    f"CREATE INDEX IF NOT EXISTS image_sampler_column_trgm ON image USING gin ({FOLD}(sampler) gin_trgm_ops)",
    f"CREATE INDEX IF NOT EXISTS image_lora_list_trgm ON image USING gin ({FOLD}(lora_list) gin_trgm_ops)",
    # is:cell (derivation LIKE 'cell%'): the few derived images, not a read of the table
    "CREATE INDEX IF NOT EXISTS image_derivation ON image (derivation text_pattern_ops) WHERE derivation <> ''",
    # newest first (schema 17): the images not in the trash in date order, with the short fields a search tests
    # (COVERED_FIELDS), so a page's walk tests them in the index, reading no table row for those that fail
    # (an index-only scan: a page's ids, then their records); `in:` tests the id
    f"CREATE INDEX IF NOT EXISTS {LIVE_ORDER_INDEX} ON image (owner_id, generated_at DESC, id DESC) "
    f"INCLUDE ({COVERED}) WHERE trashed_at IS NULL",
    *(f"CREATE INDEX IF NOT EXISTS {name} ON image {keys} INCLUDE ({COVERED}"
      f"{', generated_at' if 'generated_at' not in keys else ''}) WHERE trashed_at IS NULL"
      for name, keys in COVERING_ORDERS.items()),
)
# schema 7's indexes over the same expressions, which the columns' indexes replace
OLD_INDEXES = ("image_seed", "image_steps", "image_sampler_trgm")


def present(db: Database) -> set[str]:
    """The image table's columns, generated ones included (SQLite's table_info leaves those out)."""
    if isinstance(db, PostgresqlDatabase):
        return {c.name for c in db.get_columns("image")}
    return {row[1] for row in db.execute_sql("PRAGMA table_xinfo(image)").fetchall()}


def create_fold_function(db: Database) -> None:
    """PostgreSQL: the search's case and accent folding (query_sql.FOLD, schema 23), an immutable function, so that
    trigram indexes can hold what it gives: lower(unaccent(normalize(text, NFKD))), ASCII lower() alone. NFKD first,
    as text.fold does, so that a mark unaccent's rules do not name is apart and left out too ("й" -> "и"); unaccent's
    rules then also fold a few letters NFKD keeps (ø -> o, æ -> ae, ł -> l, đ -> d: such a word typed finds its plain
    form on PostgreSQL alone). unaccent is in PostgreSQL's contrib, as pg_trgm is, and trusted (no superuser needed)."""
    if not isinstance(db, PostgresqlDatabase):
        return
    db.execute_sql("CREATE EXTENSION IF NOT EXISTS unaccent")
    (schema,) = db.execute_sql("SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
                               "WHERE e.extname = 'unaccent'").fetchone()
    (encoding,) = db.execute_sql("SHOW server_encoding").fetchone()
    quoted = '"' + schema.replace('"', '""') + '"'
    dictionary = "'" + quoted.replace("'", "''") + ".unaccent'"
    text = "normalize($1, NFKD)" if encoding.upper() in ("UTF8", "UTF-8") else "$1"  # (normalize wants UTF-8)
    # PL/pgSQL with ASCII apart (NFKD and unaccent leave it as it is): a walk or a recheck folds each row it tests, and
    # at 1,000,000 prompts of 53 characters (load 6-8) this took 0.5 us more a row than ILIKE, where a SQL function
    # (not inlined: unaccent is STABLE) took 5-6 and one with the same CASE 1.8
    db.execute_sql(f"CREATE OR REPLACE FUNCTION {FOLD}(text) RETURNS text LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL "
                   f"SAFE AS $$ BEGIN IF octet_length($1) = char_length($1) THEN RETURN lower($1); END IF; "
                   f"RETURN lower({quoted}.unaccent({dictionary}::regdictionary, {text})); END $$")


def add_param_columns(db: Database) -> None:
    """Give the image table its parameter columns (and, on PostgreSQL, their indexes) if it lacks them."""
    have = present(db)
    if not isinstance(db, PostgresqlDatabase):
        for name, expression in SQLITE_COLUMNS.items():
            if name not in have:
                db.execute_sql(f"ALTER TABLE image ADD COLUMN {name} GENERATED ALWAYS AS ({expression}) VIRTUAL")
        return
    missing = [f"ADD COLUMN {name} {kind} GENERATED ALWAYS AS ({expression}) STORED"
               for name, (kind, expression) in POSTGRES_COLUMNS.items() if name not in have]
    if missing:  # one statement: the table is rewritten once
        db.execute_sql(f"ALTER TABLE image {', '.join(missing)}")
    create_fold_function(db)
    for index in OLD_INDEXES:
        db.execute_sql(f"DROP INDEX IF EXISTS {index}")
    for sql in POSTGRES_INDEXES:
        if "prompt_key" in sql and "prompt_key" not in have:
            continue  # an older schema on its way up: the step that adds the column (schema 21) makes it
        db.execute_sql(sql)
