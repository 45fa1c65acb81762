"""v11: experiments — every recipe the lab plans, is making, or has made (SPEC 14).

The rules hold in the database, not only in the API:

* ``status`` is ``planned``, ``in_lab``, ``measured`` or ``failed``; a measured
  experiment has products or a score; products and a score belong to a measured
  experiment only; nothing is deleted (``archived`` hides one);
* one source per experiment: a run's recipe (``source_run_id`` and
  ``source_rank`` together) or none (entered by hand, imported); a run's
  feedback is at most one experiment (``feedback_run_id`` is unique);
* the recipe is whole or absent: metals, ratio, the modifier's SMILES, its
  canonical SMILES and the recipe key are all set, or all null (a feedback that never said which
  recipe was made: the recipe is unknown, not guessed);
* products as for feedback (SPEC 10): each at most once, existing and active
  when added, finite values ≥ 0, fractions in [0, 1]; a score in [0, 10];
  texts bounded.

Every stored feedback becomes the measured experiment of the recipe it names,
in the same transaction as the tables (:func:`backfill`).
"""
from __future__ import annotations

import json
import time
import uuid

from store.migrations.postgres_ddl import translate_all
from store.migrations.v005_lab_feedback import MAX_FLOAT

VERSION = 11
DESCRIPTION = "experiments, experiment_products; every feedback becomes its measured experiment"

# the modifier's name may be missing (a notebook that gives the structure only); the rest may not
RECIPE_COLUMNS = ("m1", "m2", "atomic_ratio", "modifier_smiles", "canonical_smiles", "recipe_key",
                  "metal_pair")
_WHOLE_OR_ABSENT = " AND ".join(f"{c} IS NOT NULL" for c in RECIPE_COLUMNS)
_ALL_ABSENT = " AND ".join(f"{c} IS NULL" for c in RECIPE_COLUMNS)

STATEMENTS = (
    f"""
    CREATE TABLE experiments (
        seq              INTEGER PRIMARY KEY,
        experiment_id    TEXT NOT NULL UNIQUE,
        m1               TEXT CHECK (m1 IS NULL OR length(m1) BETWEEN 1 AND 3),
        m2               TEXT CHECK (m2 IS NULL OR length(m2) BETWEEN 1 AND 3),
        atomic_ratio     TEXT CHECK (atomic_ratio IS NULL OR length(atomic_ratio) BETWEEN 3 AND 40),
        modifier         TEXT CHECK (modifier IS NULL OR length(modifier) BETWEEN 1 AND 300),
        modifier_smiles  TEXT CHECK (modifier_smiles IS NULL OR length(modifier_smiles) BETWEEN 1 AND 500),
        canonical_smiles TEXT,
        recipe_key       TEXT,
        metal_pair       TEXT,
        source_run_id    TEXT REFERENCES runs(run_id),
        source_rank      INTEGER CHECK (source_rank IS NULL OR source_rank >= 1),
        feedback_run_id  TEXT UNIQUE REFERENCES runs(run_id),
        status           TEXT NOT NULL CHECK (status IN ('planned', 'in_lab', 'measured', 'failed')),
        archived         INTEGER NOT NULL CHECK (archived IN (0, 1)),
        score            REAL CHECK (score IS NULL OR (score >= 0 AND score <= 10)),
        value_sum        REAL CHECK (value_sum IS NULL OR (value_sum >= 0 AND value_sum <= {MAX_FLOAT})),
        fractions_all_zero INTEGER CHECK (fractions_all_zero IS NULL OR fractions_all_zero IN (0, 1)),
        conditions       TEXT NOT NULL CHECK (length(conditions) <= 2000),
        notes            TEXT NOT NULL CHECK (length(notes) <= 4000),
        plan_id          TEXT,
        created_at       REAL NOT NULL,
        updated_at       REAL NOT NULL,
        measured_at      REAL,
        version          INTEGER NOT NULL CHECK (version >= 1),
        schema_version   INTEGER NOT NULL,
        extra_json       TEXT NOT NULL,
        CHECK (({_WHOLE_OR_ABSENT}) OR ({_ALL_ABSENT})),
        CHECK ((source_run_id IS NULL) = (source_rank IS NULL)),
        CHECK (feedback_run_id IS NULL OR status = 'measured'),
        CHECK (status <> 'measured' OR score IS NOT NULL OR value_sum IS NOT NULL),
        CHECK (status = 'measured' OR (score IS NULL AND value_sum IS NULL)),
        CHECK ((value_sum IS NULL) = (fractions_all_zero IS NULL))
    )
    """,
    # Lists hide archived experiments unless asked, newest first: every filter's index carries
    # archived and ends in seq, so a page is an index walk in order (tests/test_query_plans.py).
    "CREATE INDEX experiments_newest ON experiments (archived, seq)",
    "CREATE INDEX experiments_by_status ON experiments (status, archived, seq)",
    "CREATE INDEX experiments_by_plan ON experiments (plan_id, archived, seq)",
    "CREATE INDEX experiments_by_key ON experiments (recipe_key, archived, seq)",
    "CREATE INDEX experiments_by_source ON experiments (source_run_id)",
    "CREATE INDEX experiments_by_m1 ON experiments (m1)",
    "CREATE INDEX experiments_by_m2 ON experiments (m2)",
    f"""
    CREATE TABLE experiment_products (
        experiment_seq INTEGER NOT NULL REFERENCES experiments(seq),
        position       INTEGER NOT NULL CHECK (position >= 0),
        product_id     TEXT NOT NULL REFERENCES products(product_id),
        value          REAL NOT NULL CHECK (value >= 0 AND value <= {MAX_FLOAT}),
        fraction       REAL NOT NULL CHECK (fraction >= 0 AND fraction <= 1),
        PRIMARY KEY (experiment_seq, product_id),
        UNIQUE (experiment_seq, position)
    )
    """,
    "CREATE INDEX experiment_products_by_product ON experiment_products (product_id)",
    # A feedback's experiment keeps the products the feedback was measured with (the feedback's
    # own trigger checked them then); any other experiment may add active products only.
    """
    CREATE TRIGGER experiment_products_are_active BEFORE INSERT ON experiment_products
    WHEN (SELECT status FROM products WHERE product_id = NEW.product_id) IS NOT 'active'
      AND (SELECT feedback_run_id FROM experiments WHERE seq = NEW.experiment_seq) IS NULL
    BEGIN SELECT RAISE(ABORT, 'an experiment may name active products only'); END
    """,
)

POSTGRES = (
    *translate_all(s for s in STATEMENTS if "CREATE TRIGGER" not in s),
    """
    CREATE FUNCTION experiment_products_require_active_product() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF (SELECT status FROM products WHERE product_id = NEW.product_id) IS DISTINCT FROM 'active'
           AND (SELECT feedback_run_id FROM experiments WHERE seq = NEW.experiment_seq) IS NULL THEN
            RAISE EXCEPTION 'an experiment may name active products only' USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END $$;
    CREATE TRIGGER experiment_products_are_active BEFORE INSERT ON experiment_products
        FOR EACH ROW EXECUTE FUNCTION experiment_products_require_active_product();
    """,
)


def _recipe_of(recipes_json: str | None, recipe_index: int | None) -> dict | None:
    if not recipes_json or recipe_index is None:
        return None
    recipes = json.loads(recipes_json).get("recipes", [])
    return recipes[recipe_index - 1] if 1 <= recipe_index <= len(recipes) else None


def backfill(conn) -> None:
    """Every stored feedback becomes the measured experiment of the recipe it names.

    Runs inside the migration's transaction, on both engines. A feedback without
    ``recipe_index`` (or naming a recipe whose structure no longer gives a key)
    becomes an experiment whose recipe is unknown. The feedback's products are
    copied as they are (an archived product stays: it was active when measured).
    """
    from store.experiment_rows import recipe_columns

    rows = conn.execute(
        "SELECT f.run_id, f.score, f.recipe_index, f.value_sum, f.fractions_all_zero, f.created_at,"
        " f.updated_at, f.version, o.recipes_json FROM run_feedback f"
        " LEFT JOIN run_outputs o ON o.run_id = f.run_id ORDER BY f.created_at, f.run_id").fetchall()
    for row in rows:
        recipe = _recipe_of(row["recipes_json"], row["recipe_index"])
        columns = recipe_columns(recipe)
        rank = row["recipe_index"] if recipe is not None else None
        seq = conn.execute(
            "INSERT INTO experiments (experiment_id, m1, m2, atomic_ratio, modifier, modifier_smiles,"
            " canonical_smiles, recipe_key, metal_pair, source_run_id, source_rank, feedback_run_id,"
            " status, archived, score, value_sum, fractions_all_zero, conditions, notes, plan_id,"
            " created_at, updated_at, measured_at, version, schema_version, extra_json)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'measured', 0, ?, ?, ?, '', '', NULL,"
            " ?, ?, ?, ?, 1, ?) RETURNING seq",
            (f"exp_{uuid.uuid4().hex}", *columns, row["run_id"] if rank else None, rank, row["run_id"],
             row["score"], row["value_sum"], row["fractions_all_zero"], row["created_at"],
             row["updated_at"], row["updated_at"], row["version"],
             json.dumps({"from_feedback_version": row["version"], "migrated_at": time.time()}))
        ).fetchone()[0]
        conn.execute(
            "INSERT INTO experiment_products (experiment_seq, position, product_id, value, fraction)"
            " SELECT ?, position, product_id, value, fraction FROM feedback_products WHERE run_id = ?",
            (seq, row["run_id"]))
