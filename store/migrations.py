"""Schema versions. A library made by any earlier version opens in this one.

A new library gets the current tables at once and the latest version number.
An existing one runs each step after its recorded version, in one transaction.
To change the schema: change models.py, add a step here that brings an older
library to the new shape (playhouse.migrate for columns), and bump LATEST.
"""
from __future__ import annotations

import logging
import re
from typing import Callable

from peewee import Database, PostgresqlDatabase
from playhouse.migrate import PostgresqlMigrator, SchemaMigrator, SqliteMigrator

from .catalog import CHANGE_LOG_SQL, POSTGRES_CHANGE_LOG_SQL, WATCHED_COLUMNS
from .errors import StoreError
from .models import MODELS, Setting
from .text import SORT_KEY_BYTES, prompt_sort_key

LATEST = 23
VERSION_KEY = "schema_version"
# An upgrade of a library with this many images is said before it starts (a step that makes the image table
# again takes about a minute a million images): on the `myimages.upgrade` logger, which the command line
# prints on stderr, before the app opens.
LONG_UPGRADE_IMAGES = 50_000
log = logging.getLogger("myimages.upgrade")


def is_postgres(db: Database) -> bool:
    return isinstance(db, PostgresqlDatabase)


def create_search_support(db: Database) -> None:
    """What fast search needs: a trigram index on PostgreSQL, the catalog's change log on SQLite."""
    if is_postgres(db):
        from .param_columns import create_fold_function
        from .query_sql import FOLD

        db.execute_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        create_fold_function(db)
        db.execute_sql(  # (of the folded prompt since schema 23)
            f"CREATE INDEX IF NOT EXISTS image_prompt_trgm ON image USING gin ({FOLD}(prompt) gin_trgm_ops)"
        )
        create_field_indexes(db)
        create_change_log(db)
        return
    for sql in CHANGE_LOG_SQL:
        db.execute_sql(sql)


def create_field_indexes(db: Database) -> None:
    """PostgreSQL: indexes for the search language's fields (model, negative prompt, sampler, seed, steps)."""
    from .param_columns import create_fold_function
    from .query_sql import SEARCH_INDEX_SQL

    if is_postgres(db):
        create_fold_function(db)
        for sql in SEARCH_INDEX_SQL:
            db.execute_sql(sql)


def create_change_log(db: Database) -> None:
    """PostgreSQL: a small log of changes (one row per writing statement) that an open gallery polls."""
    if is_postgres(db):
        # an older schema on its way up lacks the newer columns (PostgreSQL refuses a trigger on a missing one);
        # the last step that adds one makes the triggers again with it
        present = {c.name for c in db.get_columns("image")}
        watched = ", ".join(c for c in WATCHED_COLUMNS.split(", ") if c in present)
        for sql in POSTGRES_CHANGE_LOG_SQL:
            db.execute_sql(sql.replace(WATCHED_COLUMNS, watched))


def _step_2_search_index(db: Database, migrator: SchemaMigrator) -> None:
    # Version 1 libraries searched with LIKE; version 2 added a search index
    # (on SQLite an FTS5 table, which step 3 replaces).
    if is_postgres(db):
        create_search_support(db)


def _step_3_catalog(db: Database, migrator: SchemaMigrator) -> None:
    # SQLite libraries search the in-memory catalog, which follows the change log.
    if is_postgres(db):
        return
    for trigger in ("image_fts_ai", "image_fts_ad", "image_fts_au"):
        db.execute_sql(f"DROP TRIGGER IF EXISTS {trigger}")
    db.execute_sql("DROP TABLE IF EXISTS image_fts")
    create_search_support(db)


def _step_4_change_log(db: Database, migrator: SchemaMigrator) -> None:
    # An open gallery follows changes made elsewhere; SQLite has had the change log since step 3.
    create_change_log(db)


def _step_5_sources(db: Database, migrator: SchemaMigrator) -> None:
    # Watched source folders: images linked where they are (Image.location), the files seen, lost favorites.
    from playhouse.migrate import migrate

    from .models import Image, LostImage, Source, SourceFile

    if "location" not in {c.name for c in db.get_columns("image")}:
        migrate(migrator.add_column("image", "location", Image.location))
    db.create_tables([Source, SourceFile, LostImage])


def _step_6_search_fields(db: Database, migrator: SchemaMigrator) -> None:
    # The search language filters on more columns (model, params, size...): the change log follows them too.
    if is_postgres(db):
        create_change_log(db)  # drops and makes its triggers again
        return
    db.execute_sql("DROP TRIGGER IF EXISTS image_change_au")
    create_search_support(db)


def _step_7_field_indexes(db: Database, migrator: SchemaMigrator) -> None:
    # PostgreSQL searches the fields with indexes (SQLite's catalog reads them into memory).
    create_field_indexes(db)


def _step_8_trash(db: Database, migrator: SchemaMigrator) -> None:
    # Issue 16: delete moves to the trash (Image.trashed_at); linked files moved there are recorded (TrashFile).
    # The change log follows trashed_at, so a catalog and an open gallery see an image go and come back.
    from playhouse.migrate import migrate

    from .models import Image, TrashFile

    if "trashed_at" not in {c.name for c in db.get_columns("image")}:
        migrate(migrator.add_column("image", "trashed_at", Image.trashed_at),
                migrator.add_index("image", ("owner_id", "trashed_at"), False))
    db.create_tables([TrashFile])
    if is_postgres(db):
        create_change_log(db)  # drops and makes its triggers again
        return
    db.execute_sql("DROP TRIGGER IF EXISTS image_change_au")
    create_search_support(db)


def _step_9_perceptual_hash(db: Database, migrator: SchemaMigrator) -> None:
    # Issue 16: near-duplicates are found by a perceptual hash per image (made in the background, duplicates.py).
    from playhouse.migrate import migrate

    from .models import Image

    if "phash" not in {c.name for c in db.get_columns("image")}:
        migrate(migrator.add_column("image", "phash", Image.phash))


def _step_10_batches(db: Database, migrator: SchemaMigrator) -> None:
    # Issue 16: variation stacks group images by a batch key (made in the background, stacks.py); the change
    # log follows it, so the catalog (which groups by it) sees a key made after the image.
    from playhouse.migrate import migrate

    from .models import Image

    if "batch" not in {c.name for c in db.get_columns("image")}:
        migrate(migrator.add_column("image", "batch", Image.batch),
                migrator.add_index("image", ("owner_id", "batch"), False))
    if is_postgres(db):
        create_change_log(db)  # drops and makes its triggers again
        return
    db.execute_sql("DROP TRIGGER IF EXISTS image_change_au")
    create_search_support(db)


def _step_11_param_columns(db: Database, migrator: SchemaMigrator) -> None:
    # Issue 14/17: seed, steps, sampler and the LoRA list (and cfg on PostgreSQL) as columns the database derives
    # from params, indexed on PostgreSQL instead of schema 7's expression indexes (param_columns.py).
    from .param_columns import add_param_columns

    add_param_columns(db)


def _step_12_merges(db: Database, migrator: SchemaMigrator) -> None:
    # New-user test, items 3 and 4: a duplicates merge records what the kept image gained, so that restoring
    # the trashed duplicates takes it back.
    from .models import MergedImage, MergeGain

    db.create_tables([MergeGain, MergedImage])


def _step_13_ids_never_reused(db: Database, migrator: SchemaMigrator) -> None:
    # New-user test item 5: SQLite gave an erased image's id to the next new image; the table is made again
    # with AUTOINCREMENT (models.NeverReusedId). PostgreSQL's sequence never reused one.
    if not is_postgres(db):
        sqlite_autoincrement(db, "image")


def _step_14_random_order(db: Database, migrator: SchemaMigrator) -> None:
    # Issue 14/17: PostgreSQL walks the random order along an index of one fixed shuffle of the ids
    # (query_sql.order_parts), where it hashed and sorted every match (seconds at 1,000,000 images).
    create_field_indexes(db)


def _step_15_derived_order(db: Database, migrator: SchemaMigrator) -> None:
    # Issue 14/17: PostgreSQL reads the derived images (is:cell, is:derived, is:clean) newest first from an index
    # of them alone (query_sql.SEARCH_INDEX_SQL).
    create_field_indexes(db)


def _step_16_difference_hash(db: Database, migrator: SchemaMigrator) -> None:
    # New-user test item 15: a second perceptual hash (dHash) for the pictures whose pHash is fragile. Made in
    # the background with the pHash again (fill_hashes: the pHash of an older library may be a fragile one).
    from playhouse.migrate import migrate

    from .models import Image

    if "dhash" not in {c.name for c in db.get_columns("image")}:
        migrate(migrator.add_column("image", "dhash", Image.dhash))


def sqlite_autoincrement(db: Database, table: str) -> None:
    """Make a SQLite table's "id" INTEGER PRIMARY KEY an AUTOINCREMENT one: SQLite's own way to change a
    table (sqlite.org/lang_altertable.html): a new table from the old one's definition, its rows copied,
    the old one dropped, the new one renamed, its indexes and triggers made again. Inside the migration's
    transaction, with foreign keys off (migrate_to_latest): dropping the old table must not delete what
    refers to it (collections, source files), and the check after it must find every reference whole."""
    found = db.execute_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).fetchone()
    if found is None or "AUTOINCREMENT" in found[0].upper():
        return
    new = f"{table}_autoincrement"
    sql, n = re.subn(r'^CREATE TABLE\s+("?)' + table + r'\1(\s*\()', f'CREATE TABLE "{new}"\\2', found[0], count=1)
    sql, m = re.subn(r'("id"\s+INTEGER\s+NOT\s+NULL\s+PRIMARY\s+KEY)', r"\1 AUTOINCREMENT", sql, count=1,
                     flags=re.IGNORECASE)
    if (n, m) != (1, 1):
        raise StoreError(f"The {table} table of {_where(db)} is not as this version of My Images made it; "
                         "nothing was changed.")
    columns = ", ".join(f'"{row[1]}"' for row in db.execute_sql(f'PRAGMA table_xinfo("{table}")').fetchall()
                        if row[6] == 0)  # generated columns (hidden 2, 3) are made, not copied
    again = [sql for (sql,) in db.execute_sql(
        "SELECT sql FROM sqlite_master WHERE type IN ('index', 'trigger') AND tbl_name = ? AND sql IS NOT NULL "
        "ORDER BY type", (table,)).fetchall()]
    db.execute_sql(sql)
    db.execute_sql(f'INSERT INTO "{new}" ({columns}) SELECT {columns} FROM "{table}"')
    db.execute_sql(f'DROP TABLE "{table}"')
    db.execute_sql(f'ALTER TABLE "{new}" RENAME TO "{table}"')
    for statement in again:
        db.execute_sql(statement)
    if db.execute_sql("PRAGMA foreign_key_check").fetchone() is not None:
        raise StoreError(f"{_where(db)} has references that point nowhere; nothing was changed.")


def _step_17_covering_order(db: Database, migrator: SchemaMigrator) -> None:
    # Issue 14/17: PostgreSQL pages newest first along an index of the images not in the trash that holds the
    # short fields a search tests (param_columns.LIVE_ORDER_INDEX), and finds a phrase's candidates by an index
    # whose trigrams span its spaces (query_sql.PHRASE_KEY). SQLite searches its catalog: nothing to make.
    from .param_columns import add_param_columns

    if is_postgres(db):
        create_field_indexes(db)
        add_param_columns(db)


def _step_18_covering_orders(db: Database, migrator: SchemaMigrator) -> None:
    # Issue 14/17: PostgreSQL's imported, largest and random orders are indexes of the images not in the trash
    # that hold the fields a search tests, as the newest-first one is since schema 17 (param_columns.COVERING_ORDERS),
    # and the derived images' order holds their derivation (query_sql.SEARCH_INDEX_SQL): made again under their
    # names where they hold nothing. SQLite sorts in its catalog: nothing to make.
    from .param_columns import COVERING_ORDERS, add_param_columns

    if is_postgres(db):
        made = dict(db.execute_sql("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'image'").fetchall())
        for name in (*COVERING_ORDERS, "image_derived_order"):
            if "INCLUDE" not in made.get(name, "INCLUDE"):
                db.execute_sql(f"DROP INDEX {name}")
        create_field_indexes(db)
        add_param_columns(db)


def _step_19_mounted_sources(db: Database, migrator: SchemaMigrator) -> None:
    # A source folder that is a mount point: while its disk is not mounted, the empty folder left is not there
    # (a scan dropped every image as deleted). Sources added before are marked at their next scan.
    from playhouse.migrate import migrate

    from .models import Source

    if "mounted" not in {c.name for c in db.get_columns("source")}:
        migrate(migrator.add_column("source", "mounted", Source.mounted))


def _step_20_collection_changes(db: Database, migrator: SchemaMigrator) -> None:
    # New-user test 5, items 10 and 11: a collection made, renamed or deleted elsewhere (an empty one too) is a
    # change the open app follows (its dropdown, its "in NAME" status, the collections dialog): the change log
    # gains triggers on the collection table.
    if is_postgres(db):
        create_change_log(db)
        return
    create_search_support(db)


# The prompt key (text.prompt_sort_key) of an ASCII prompt, made by the server (whose lower() follows its locale:
# translate() is ASCII's alone); NULL for any other prompt, whose key Python makes (`_fill_prompt_keys`).
_SPACE = "E' \\t\\n\\r\\x0b\\x0c\\x1c\\x1d\\x1e\\x1f'"  # what str.strip() takes of ASCII
_ASCII_PROMPT_KEY_SQL = (
    "CASE WHEN octet_length(prompt) <> char_length(prompt) THEN NULL "
    f"WHEN btrim(prompt, {_SPACE}) = '' THEN chr(1114111) "  # NO_PROMPT_KEY
    f"ELSE left(translate(btrim(prompt, {_SPACE}), 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'), "
    f"{SORT_KEY_BYTES}) END"
)
SQLITE_PROMPT_ORDER = "CREATE INDEX IF NOT EXISTS image_prompt_order ON image (owner_id, prompt_key, generated_at DESC, id DESC)"


def _fill_prompt_keys(db: Database) -> None:
    """Give every image whose prompt key is NULL (PostgreSQL: a prompt that is not ASCII) or "" (SQLite: all) its
    key, made by Python (text.prompt_sort_key), a few thousand rows a statement."""
    if not is_postgres(db):
        db.connection().create_function("myimages_prompt_key", 1, prompt_sort_key, deterministic=True)
        db.execute_sql("UPDATE image SET prompt_key = myimages_prompt_key(prompt)")
        return
    last = 0
    while rows := db.execute_sql("SELECT id, prompt FROM image WHERE prompt_key IS NULL AND id > %s ORDER BY id "
                                 "LIMIT 5000", (last,)).fetchall():
        values = [v for image_id, prompt in rows for v in (image_id, prompt_sort_key(prompt))]
        db.execute_sql("UPDATE image SET prompt_key = v.key FROM (VALUES " + ", ".join(["(%s, %s)"] * len(rows))
                       + ") AS v(id, key) WHERE image.id = v.id", values)
        last = rows[-1][0]


def _step_21_prompt_sort_key(db: Database, migrator: SchemaMigrator) -> None:
    # New-user tests 4 (#21) and 5 (section 11): prompt A-Z collates case- and accent-folded ("Éclair" between "Eagle"
    # and "Zebra"), images without a prompt last, alike on SQLite, PostgreSQL and the catalog: a stored key
    # (image.prompt_key, text.prompt_sort_key) and its index, which on PostgreSQL holds the fields a search tests,
    # as the other orders' do (param_columns.COVERING_ORDERS), where it was LOWER(prompt) in C order and no field.
    from .param_columns import add_param_columns, present

    if "prompt_key" not in present(db):
        if is_postgres(db):  # one rewrite of the table, then Python's keys for the prompts that are not ASCII
            db.execute_sql('ALTER TABLE image ADD COLUMN prompt_key TEXT COLLATE "C" '
                           f"GENERATED ALWAYS AS ({_ASCII_PROMPT_KEY_SQL}) STORED")
            db.execute_sql("ALTER TABLE image ALTER COLUMN prompt_key DROP EXPRESSION")
        else:
            db.execute_sql("ALTER TABLE image ADD COLUMN prompt_key TEXT NOT NULL DEFAULT ''")
        _fill_prompt_keys(db)
        if is_postgres(db):
            db.execute_sql("ALTER TABLE image ALTER COLUMN prompt_key SET NOT NULL")
    if is_postgres(db):
        made = dict(db.execute_sql("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'image'").fetchall())
        if "prompt_key" not in made.get("image_prompt_order", "prompt_key"):
            db.execute_sql("DROP INDEX image_prompt_order")  # LOWER(prompt)'s (schema 7)
        add_param_columns(db)
    else:
        db.execute_sql(SQLITE_PROMPT_ORDER)


def _step_22_lost_records(db: Database, migrator: SchemaMigrator) -> None:
    # New-user test: a linked file that left its folder and came back (moved out and back, written again by its
    # generator) was a new image with a new id: what the image was (its id, dates, derived images) is kept with its
    # favorite and collections, and it comes back as it was.
    from playhouse.migrate import migrate

    from .models import LostImage

    if "record" not in {c.name for c in db.get_columns("lost_image")}:
        migrate(migrator.add_column("lost_image", "record", LostImage.record))


# schema 23's indexes of the folded text, which replace those of the text as it is
FOLDED_INDEXES = ("image_prompt_trgm", "image_prompt_phrase_trgm", "image_model_trgm", "image_negative_trgm",
                  "image_sampler_column_trgm", "image_lora_list_trgm")


def _step_23_folded_search(db: Database, migrator: SchemaMigrator) -> None:
    # New-user test 7 #2: a search folds accents as it folds case ("eclair" finds "Éclair"). SQLite: the catalog's
    # values are folded (text.fold; a saved catalog of the older format is built again). PostgreSQL: the trigram
    # indexes are of the text folded by the server (query_sql.FOLD, an immutable function over unaccent), and the
    # LoRA list column reads the names of a JSON list (Fooocus), where it was NULL: the table is rewritten once.
    from .param_columns import add_param_columns

    if not is_postgres(db):
        return
    for index in FOLDED_INDEXES:
        db.execute_sql(f"DROP INDEX IF EXISTS {index}")
    db.execute_sql("ALTER TABLE image DROP COLUMN IF EXISTS lora_list")
    add_param_columns(db)  # the column again (a rewrite) and its index, with the fold function first
    create_search_support(db)


STEPS: dict[int, Callable[[Database, SchemaMigrator], None]] = {
    2: _step_2_search_index,
    3: _step_3_catalog,
    4: _step_4_change_log,
    5: _step_5_sources,
    6: _step_6_search_fields,
    7: _step_7_field_indexes,
    8: _step_8_trash,
    9: _step_9_perceptual_hash,
    10: _step_10_batches,
    11: _step_11_param_columns,
    12: _step_12_merges,
    13: _step_13_ids_never_reused,
    14: _step_14_random_order,
    15: _step_15_derived_order,
    16: _step_16_difference_hash,
    17: _step_17_covering_order,
    18: _step_18_covering_orders,
    19: _step_19_mounted_sources,
    20: _step_20_collection_changes,
    21: _step_21_prompt_sort_key,
    22: _step_22_lost_records,
    23: _step_23_folded_search,
}


def _say_a_long_upgrade(db: Database, version: int) -> None:
    (images,) = db.execute_sql('SELECT count(*) FROM "image"').fetchone()
    if images >= LONG_UPGRADE_IMAGES:
        log.warning(f"Upgrading the library's records (schema {version} to {LATEST}, {images:,} images) for this "
                    "version of My Images, once: a minute or more for a million images; stopping it changes "
                    "nothing.")


def _where(db: Database) -> str:
    return f"The library database {db.database}" + (" (PostgreSQL)" if is_postgres(db) else "")


def schema_version(db: Database) -> int | None:
    """The schema version the database records; None for a new database (no tables at all).

    Every version of My Images has recorded its schema version since the first. A
    database with tables but no version (no `setting` table, no version row, or a
    value that is not a version number) is refused with what is wrong: migrating it
    on a guess could damage the records it holds.
    """
    tables = db.get_tables()
    if not tables:
        return None
    if "setting" not in tables:
        raise StoreError(f"{_where(db)} has tables but no schema version (no setting table): it is not a "
                         "My Images library, or it is damaged; nothing was changed.")
    row = Setting.get_or_none(Setting.key == VERSION_KEY)
    if row is None:
        raise StoreError(f"{_where(db)} has lost its schema version (the {VERSION_KEY} setting is missing): "
                         "restore it from a backup; nothing was changed.")
    value = row.value if isinstance(row.value, str) else ""
    if not (value.isascii() and value.isdigit() and int(value) >= 1):
        raise StoreError(f'{_where(db)} records schema version "{row.value}", which is not a version number '
                         "(1 or more): it is damaged; restore it from a backup; nothing was changed.")
    return int(value)


def _set_version(version: int) -> None:
    Setting.insert(key=VERSION_KEY, value=str(version)).on_conflict(
        conflict_target=[Setting.key], update={Setting.value: str(version)}
    ).execute()


def migrate_to_latest(db: Database) -> int:
    """Create or upgrade the schema; returns the version it started from (0 if new).

    On SQLite foreign keys are off meanwhile (a step may make a table again: sqlite_autoincrement); a
    pragma inside a transaction does nothing, so it is set around it."""
    if is_postgres(db):
        return _migrate_to_latest(db)
    db.execute_sql("PRAGMA foreign_keys = OFF")
    try:
        return _migrate_to_latest(db)
    finally:
        db.execute_sql("PRAGMA foreign_keys = ON")


def _migrate_to_latest(db: Database) -> int:
    with db.atomic():
        version = schema_version(db)
        if version is None:
            from .param_columns import add_param_columns

            db.create_tables(MODELS)
            create_search_support(db)
            add_param_columns(db)
            if not is_postgres(db):
                db.execute_sql(SQLITE_PROMPT_ORDER)
            _set_version(LATEST)
            return 0
        if version > LATEST:
            raise StoreError(
                f"This library was made by a newer version of My Images (schema {version}, "
                f"this version knows up to {LATEST}); update My Images to open it."
            )
        if version < LATEST:
            _say_a_long_upgrade(db, version)
        migrator = PostgresqlMigrator(db) if is_postgres(db) else SqliteMigrator(db)
        for step in range(version + 1, LATEST + 1):
            STEPS[step](db, migrator)
        if version < LATEST:
            _set_version(LATEST)
        return version
