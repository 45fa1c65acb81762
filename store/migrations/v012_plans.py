"""v12: plans — the next experiments the planner proposed, and whether the lab accepted them (SPEC 14).

A plan is stored whole as it was answered (its items with their predictions,
acquisition values and citations, as JSON: it is a record of a decision, read
back as it was, never queried inside), with the request that made it and the
model that ranked it. ``status`` goes ``proposed → accepted`` once; accepting
creates the planned experiments (``experiments.plan_id``) in the same
transaction.
"""
from store.migrations.postgres_ddl import translate_all

VERSION = 12
DESCRIPTION = "plans"

STATEMENTS = (
    """
    CREATE TABLE plans (
        seq            INTEGER PRIMARY KEY,
        plan_id        TEXT NOT NULL UNIQUE,
        status         TEXT NOT NULL CHECK (status IN ('proposed', 'accepted')),
        objective      TEXT NOT NULL CHECK (length(objective) BETWEEN 1 AND 100),
        goal           TEXT NOT NULL CHECK (goal IN ('balanced', 'best', 'learn')),
        model_id       TEXT,
        n_results      INTEGER NOT NULL CHECK (n_results >= 0),
        request_json   TEXT NOT NULL,
        answer_json    TEXT NOT NULL,
        created_at     REAL NOT NULL,
        accepted_at    REAL,
        accepted_json  TEXT,
        schema_version INTEGER NOT NULL,
        CHECK ((status = 'accepted') = (accepted_at IS NOT NULL))
    )
    """,
    "CREATE INDEX plans_newest ON plans (seq)",
)

POSTGRES = translate_all(STATEMENTS)
