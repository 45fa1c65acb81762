"""v9: catalogue names compared as a chemist would (issue 23): one stored key, Unicode-aware.

v5 compared names with SQLite's ``lower(trim(name))``: ASCII only, so a name
that differed by a no-break space answered 500 (Python trimmed it, SQLite did
not) and "Äthylen"/"äthylen" or "C2H4"/"Ｃ２Ｈ４" were two products. The key is
now computed by :func:`core.catalogue_names.name_key` and stored in
``name_norm`` with a unique index; the store writes it with every name.

Existing names are re-keyed here (the function is registered on the
migrating connection). Two names that now collide are not refused: the
older keeps the key, each younger one gets its id appended to its key (so it
stays usable and visible), and the collisions are recorded in ``meta``
(``migration.v9.collisions``) and logged, for the lab to merge or rename.
The old generated ``name_key`` column stays (a column is never reused) but
no longer has an index or a reader.
"""
import json
from collections.abc import Callable
from typing import Any

from core.catalogue_names import name_key

VERSION = 9
DESCRIPTION = "products/product_presets.name_norm (Unicode NFKC + casefold key, unique)"
FUNCTIONS = {"c2xc_name_key": name_key}


def _rekey(table: str, id_column: str) -> tuple[str, ...]:
    older_twin = (f"EXISTS (SELECT 1 FROM {table} o WHERE c2xc_name_key(o.name) ="
                  f" c2xc_name_key(t.name) AND o.seq < t.seq)")
    return (
        f"ALTER TABLE {table} ADD COLUMN name_norm TEXT",
        f"""INSERT INTO meta (key, value) SELECT 'migration.v9.collisions.{table}',
               json_group_array(json_object('{id_column}', t.{id_column}, 'name', t.name))
            FROM {table} t WHERE {older_twin}""",
        f"""UPDATE {table} AS t SET name_norm = c2xc_name_key(t.name) ||
               CASE WHEN {older_twin} THEN ' #' || t.{id_column} ELSE '' END""",
        f"DROP INDEX {table}_by_name",
        f"CREATE UNIQUE INDEX {table}_by_name_norm ON {table} (name_norm)",
        f"""CREATE TRIGGER {table}_name_norm_required BEFORE INSERT ON {table}
            WHEN NEW.name_norm IS NULL OR NEW.name_norm = ''
            BEGIN SELECT RAISE(ABORT, '{table}.name_norm is required (core.catalogue_names)'); END""",
    )


STATEMENTS = (*_rekey("products", "product_id"), *_rekey("product_presets", "preset_id"))


def _rekey_in_python(table: str, id_column: str) -> Callable[[Any], None]:
    """PostgreSQL: the same keys and the same collision rule, computed here rather than in SQL."""
    def rekey(conn: Any) -> None:
        taken: set[str] = set()
        collisions = []
        for row in conn.execute(f"SELECT seq, {id_column}, name FROM {table} ORDER BY seq").fetchall():
            key = name_key(row["name"])
            if key in taken:
                collisions.append({id_column: row[id_column], "name": row["name"]})
                key = f"{key} #{row[id_column]}"
            taken.add(key)
            conn.execute(f"UPDATE {table} SET name_norm = ? WHERE seq = ?", (key, row["seq"]))
        if collisions:
            conn.execute("INSERT INTO meta (key, value) VALUES (?, ?)",
                         (f"migration.v9.collisions.{table}", json.dumps(collisions)))
    return rekey


def _rekey_postgres(table: str, id_column: str) -> tuple[Any, ...]:
    return (
        f"ALTER TABLE {table} ADD COLUMN name_norm TEXT",
        _rekey_in_python(table, id_column),
        f"DROP INDEX {table}_by_name",
        f"CREATE UNIQUE INDEX {table}_by_name_norm ON {table} (name_norm)",
        # SQLite's trigger, as a constraint: every row carries its key
        f"ALTER TABLE {table} ALTER COLUMN name_norm SET NOT NULL",
        f"ALTER TABLE {table} ADD CONSTRAINT {table}_name_norm_required CHECK (name_norm <> '')",
    )


POSTGRES = (*_rekey_postgres("products", "product_id"),
            *_rekey_postgres("product_presets", "preset_id"))
