"""v5: lab feedback — the product catalogue, presets, one feedback per run with its products.

The rules of SPEC section 10 are held by the database itself, not only by
the API, so no other writer can break them:

* product names are unique compared trimmed and case-insensitively (a
  generated key with a unique index), and so are preset names;
* ``status`` is ``active`` or ``archived``; nothing has a DELETE path;
* at most one feedback per run (the run id is the key), and only for a
  completed run (trigger);
* a product appears at most once per feedback and per preset, must exist,
  and must be active when it is added (triggers);
* values are finite and at least 0, fractions in [0, 1], the score finite in
  [0, 10]; texts are bounded.

The sum of the fractions (1, or all 0 when the values sum to 0) is computed
by the store when it writes them; a CHECK cannot span rows.
"""
from store.migrations.postgres_ddl import refuse_unless_active, translate_all

VERSION = 5
DESCRIPTION = "products, product_presets, preset_products, run_feedback, feedback_products"

MAX_FLOAT = "1.7976931348623157e308"  # a column compared against this rejects +Infinity
STATUS = "CHECK (status IN ('active', 'archived'))"


def _named_catalogue(table: str, id_column: str) -> tuple[str, ...]:
    """Products and presets alike: a name unique without case, a status, never deleted."""
    return (
        f"""
        CREATE TABLE {table} (
            seq            INTEGER PRIMARY KEY,
            {id_column:<14} TEXT NOT NULL UNIQUE,
            name           TEXT NOT NULL CHECK (length(trim(name)) BETWEEN 1 AND 100),
            name_key       TEXT GENERATED ALWAYS AS (lower(trim(name))) STORED,
            status         TEXT NOT NULL {STATUS},
            created_at     REAL NOT NULL,
            updated_at     REAL NOT NULL,
            schema_version INTEGER NOT NULL,
            extra_json     TEXT NOT NULL
        )
        """,
        f"CREATE UNIQUE INDEX {table}_by_name ON {table} (name_key)",
        f"CREATE INDEX {table}_by_status ON {table} (status, seq)",
    )


STATEMENTS = (
    *_named_catalogue("products", "product_id"),
    *_named_catalogue("product_presets", "preset_id"),

    """
    CREATE TABLE preset_products (
        preset_id  TEXT NOT NULL REFERENCES product_presets(preset_id),
        position   INTEGER NOT NULL CHECK (position >= 0),
        product_id TEXT NOT NULL REFERENCES products(product_id),
        PRIMARY KEY (preset_id, position),
        UNIQUE (preset_id, product_id)
    )
    """,
    f"""
    CREATE TABLE run_feedback (
        run_id             TEXT PRIMARY KEY REFERENCES runs(run_id),
        feedback_id        TEXT NOT NULL UNIQUE,
        score              REAL NOT NULL CHECK (score >= 0 AND score <= 10),
        pros               TEXT NOT NULL CHECK (length(pros) <= 4000),
        cons               TEXT NOT NULL CHECK (length(cons) <= 4000),
        other              TEXT NOT NULL CHECK (length(other) <= 4000),
        recipe_index       INTEGER CHECK (recipe_index IS NULL OR recipe_index >= 1),
        value_sum          REAL NOT NULL CHECK (value_sum >= 0 AND value_sum <= {MAX_FLOAT}),
        fractions_all_zero INTEGER NOT NULL CHECK (fractions_all_zero IN (0, 1)),
        created_at         REAL NOT NULL,
        updated_at         REAL NOT NULL,
        schema_version     INTEGER NOT NULL,
        extra_json         TEXT NOT NULL
    )
    """,
    f"""
    CREATE TABLE feedback_products (
        run_id     TEXT NOT NULL REFERENCES run_feedback(run_id) ON DELETE CASCADE,
        position   INTEGER NOT NULL CHECK (position >= 0),
        product_id TEXT NOT NULL REFERENCES products(product_id),
        value      REAL NOT NULL CHECK (value >= 0 AND value <= {MAX_FLOAT}),
        fraction   REAL NOT NULL CHECK (fraction >= 0 AND fraction <= 1),
        PRIMARY KEY (run_id, product_id),
        UNIQUE (run_id, position)
    )
    """,
    "CREATE INDEX feedback_products_by_product ON feedback_products (product_id)",
    """
    CREATE TRIGGER feedback_only_for_completed_runs BEFORE INSERT ON run_feedback
    WHEN (SELECT status FROM runs WHERE run_id = NEW.run_id) IS NOT 'completed'
    BEGIN SELECT RAISE(ABORT, 'feedback is only for a completed run'); END
    """,
    """
    CREATE TRIGGER feedback_products_are_active BEFORE INSERT ON feedback_products
    WHEN (SELECT status FROM products WHERE product_id = NEW.product_id) IS NOT 'active'
    BEGIN SELECT RAISE(ABORT, 'feedback may name active products only'); END
    """,
    """
    CREATE TRIGGER preset_products_are_active BEFORE INSERT ON preset_products
    WHEN (SELECT status FROM products WHERE product_id = NEW.product_id) IS NOT 'active'
    BEGIN SELECT RAISE(ABORT, 'a preset may name active products only'); END
    """,
)

# PostgreSQL: the same tables; its triggers are functions.
POSTGRES = (
    *translate_all(s for s in STATEMENTS if "CREATE TRIGGER" not in s),
    """
    CREATE FUNCTION run_feedback_require_completed_run() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF (SELECT status FROM runs WHERE run_id = NEW.run_id) IS DISTINCT FROM 'completed' THEN
            RAISE EXCEPTION 'feedback is only for a completed run' USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END $$;
    CREATE TRIGGER feedback_only_for_completed_runs BEFORE INSERT ON run_feedback
        FOR EACH ROW EXECUTE FUNCTION run_feedback_require_completed_run();
    """,
    refuse_unless_active("feedback_products", "feedback may name active products only"),
    refuse_unless_active("preset_products", "a preset may name active products only"),
)
