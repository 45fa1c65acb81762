"""Memory items and their vectors: reading them, and writing one item's whole state.

An item's *state* is every field a change may touch, vector included; deltas
(:mod:`store.memory_deltas`) record states before and after, and a rollback
writes a before-state back with :func:`write_state`. Nothing here opens a
transaction for a change: every change goes through a delta, which does.

Vectors are stored L2-normalised as little-endian float32, stamped with the
embedder (``model@dim``) that computed them; a search compares only vectors of
the embedder in force, so a changed embedder never ranks by mixed geometry.
"""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.errors import NotFound
from core.recipe_key import key_or_none
from store import dialect
from store.cursor import decode_cursor, page, where

CURSOR_KIND = "memories"
SCHEMA_VERSION = 1
GENERATION_KEY = "memory.generation"
# the fields a delta records (memory_id, seq and created_at never change)
STATE_FIELDS = ("status", "kind", "role", "polarity", "title", "content", "recipe", "outcome",
                "source_run_id", "feedback_version", "support_run_ids", "contra_run_ids",
                "updated_at", "extra", "embedder", "source_experiment_id", "support_experiment_ids",
                "contra_experiment_ids")


# what an item's state holds before anything is said about it; states recorded before v13
# lack the experiment fields (the migration added them to stored deltas; this keeps it whole)
EMPTY_STATE: dict[str, Any] = {
    "status": "active", "recipe": None, "outcome": None, "source_run_id": None,
    "feedback_version": None, "support_run_ids": [], "contra_run_ids": [], "extra": {},
    "source_experiment_id": None, "support_experiment_ids": [], "contra_experiment_ids": []}


def full_state(state: dict[str, Any]) -> dict[str, Any]:
    """``state`` with every field a state has (the defaults of a new item where it says nothing)."""
    return {**EMPTY_STATE, **state}


@dataclass(frozen=True)
class MemoryItem:
    memory_id: str
    status: str
    kind: str
    role: str
    polarity: str
    title: str
    content: str
    recipe: dict[str, Any] | None
    outcome: dict[str, Any] | None
    source_run_id: str | None
    feedback_version: int | None
    support_run_ids: list[str]
    contra_run_ids: list[str]
    created_at: float
    updated_at: float
    schema_version: int
    extra: dict[str, Any]
    embedder: str | None = None
    source_experiment_id: str | None = None
    # the experiments whose results agree / disagree (``*_run_ids``: the runs of those that have one)
    support_experiment_ids: list[str] = field(default_factory=list)
    contra_experiment_ids: list[str] = field(default_factory=list)
    seq: int = 0
    score: float | None = None  # set by a similarity search
    provenance: dict[str, Any] = field(default_factory=dict)

    def state(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in STATE_FIELDS}

    @property
    def search_text(self) -> str:
        """What is embedded: the title and the content, as a reader sees them."""
        return f"{self.title}\n{self.content}"


def encode_vector(vector: np.ndarray | list[float]) -> bytes:
    array = np.asarray(vector, dtype="<f4").reshape(-1)
    norm = float(np.linalg.norm(array))
    return (array / norm if norm else array).astype("<f4").tobytes()


def decode_vectors(blobs: list[bytes], dim: int) -> np.ndarray:
    if not blobs:
        return np.zeros((0, dim), dtype=np.float32)
    return np.frombuffer(b"".join(blobs), dtype="<f4").reshape(len(blobs), dim)


_SELECT = ("SELECT m.*, v.embedder FROM memory_items m"
           " LEFT JOIN memory_vectors v ON v.memory_id = m.memory_id")


def _item(row: sqlite3.Row) -> MemoryItem:
    return MemoryItem(
        memory_id=row["memory_id"], status=row["status"], kind=row["kind"], role=row["role"],
        polarity=row["polarity"], title=row["title"], content=row["content"],
        recipe=json.loads(row["recipe_json"]) if row["recipe_json"] else None,
        outcome=json.loads(row["outcome_json"]) if row["outcome_json"] else None,
        source_run_id=row["source_run_id"], feedback_version=row["feedback_version"],
        support_run_ids=json.loads(row["support_run_ids_json"]),
        contra_run_ids=json.loads(row["contra_run_ids_json"]), created_at=row["created_at"],
        updated_at=row["updated_at"], schema_version=row["schema_version"],
        extra=json.loads(row["extra_json"]), embedder=row["embedder"],
        source_experiment_id=row["source_experiment_id"],
        support_experiment_ids=json.loads(row["support_experiment_ids_json"]),
        contra_experiment_ids=json.loads(row["contra_experiment_ids_json"]), seq=row["seq"])


def get_item(conn: sqlite3.Connection, memory_id: str) -> MemoryItem:
    row = conn.execute(f"{_SELECT} WHERE m.memory_id = ?", (memory_id,)).fetchone()
    if row is None:
        raise NotFound(f"memory {memory_id!r} does not exist", {"memory_id": memory_id})
    return _item(row)


def get_items(conn: sqlite3.Connection, memory_ids: list[str]) -> dict[str, MemoryItem]:
    if not memory_ids:
        return {}
    marks = ",".join("?" * len(memory_ids))
    return {row["memory_id"]: _item(row)
            for row in conn.execute(f"{_SELECT} WHERE m.memory_id IN ({marks})", memory_ids)}


def get_vector(conn: sqlite3.Connection, memory_id: str) -> bytes | None:
    row = conn.execute("SELECT vector FROM memory_vectors WHERE memory_id = ?",
                       (memory_id,)).fetchone()
    return row["vector"] if row else None


def list_items(conn: sqlite3.Connection, *, status: str | None, kind: str | None,
               role: str | None, polarity: str | None, limit: int, cursor: str | None,
               metal: str | None = None, modifier_smiles: str | None = None
               ) -> tuple[list[MemoryItem], str | None, bool]:
    """Newest first, keyset-paged. ``metal`` (either metal) and ``modifier_smiles`` (canonical)
    find the memories learned from experiments with that recipe part: lab results and the
    lessons of those experiments."""
    by_recipe = bool(metal or modifier_smiles)  # then the recipe's keys drive the search
    clause, params = where([
        ("m.seq < ?", decode_cursor(CURSOR_KIND, cursor) if cursor else None),
        *((dialect.equals(conn, f"m.{name}", use_index=not by_recipe), value) for name, value in
          (("status", status), ("kind", kind), ("role", role), ("polarity", polarity)))])
    for sql, value in _recipe_conditions(conn, metal, modifier_smiles):
        clause += f" {'AND' if clause else 'WHERE'} {sql}"
        params += value
    rows = conn.execute(f"{_SELECT} {clause} ORDER BY m.seq DESC LIMIT ?",
                        (*params, limit + 1)).fetchall()
    items, next_cursor, has_more = page(rows, limit, CURSOR_KIND, lambda row: row["seq"])
    return [_item(row) for row in items], next_cursor, has_more


def _recipe_conditions(conn: sqlite3.Connection, metal: str | None,
                       modifier_smiles: str | None) -> list[tuple[str, list]]:
    """The items learned from experiments with ``metal`` (either one) / ``modifier_smiles``.

    The items' own keys come from index searches (experiments by metal or structure, then their
    items); the page is read by those keys in seq order — an OR or a join would sort every match
    to return one page (tests/test_query_plans.py)."""
    seq = "m.seq"  # searched by rowid from the IN list, in order: no sort, whatever the table's size
    learned_from = ("SELECT i.seq FROM memory_items i WHERE i.source_experiment_id IN"
                    " (SELECT experiment_id FROM experiments WHERE {})")
    found = []
    if metal:
        found.append((f"{seq} IN ({learned_from.format('m1 = ?')} UNION ALL "
                      f"{learned_from.format('m2 = ?')})", [metal, metal]))
    if modifier_smiles:
        found.append((f"{seq} IN ({learned_from.format('canonical_smiles = ?')})", [modifier_smiles]))
    return found


def with_recipe(conn: sqlite3.Connection, memory_ids: list[str], metal: str | None,
                modifier_smiles: str | None) -> set[str]:
    """Those of ``memory_ids`` learned from an experiment with that metal / modifier."""
    conditions = _recipe_conditions(conn, metal, modifier_smiles)
    if not memory_ids or not conditions:
        return set(memory_ids)
    marks = ",".join("?" * len(memory_ids))
    sql = " AND ".join(c for c, _ in conditions)
    params = [p for _, values in conditions for p in values]
    return {row[0] for row in conn.execute(
        f"SELECT m.memory_id FROM memory_items m WHERE m.memory_id IN ({marks}) AND {sql}",
        (*memory_ids, *params))}


def same_recipe_results(conn: sqlite3.Connection, recipe: dict[str, Any] | None,
                        other_than_experiment: str) -> list[MemoryItem]:
    """Active lab results of other experiments that made the same recipe, by the recipe key of
    SPEC 14 (``Mo:Cu 3:1`` is ``Cu:Mo 1:3``; ``Mo:Cu 1:3`` is another composition; names never
    compared): the replicates a new result corroborates."""
    def key(r: dict[str, Any] | None) -> str | None:
        found = key_or_none(r)
        return str(found) if found else None
    wanted = key(recipe)
    if wanted is None:
        return []
    rows = conn.execute(f"{_SELECT} WHERE m.kind = 'lab_result' AND m.status = 'active'"
                        " AND (m.source_experiment_id IS NULL OR m.source_experiment_id != ?)",
                        (other_than_experiment,)).fetchall()
    return [item for item in map(_item, rows) if key(item.recipe) == wanted]


def contradicting_results(conn: sqlite3.Connection, item: MemoryItem) -> list[MemoryItem]:
    """Active lab results of the same recipe key whose verdict is the opposite of ``item``'s: a
    chemist should look (a replicate that failed, a result typed in wrong)."""
    if item.kind != "lab_result" or item.status != "active" or item.polarity == "neutral":
        return []
    opposite = "avoid" if item.polarity == "prefer" else "prefer"
    return [other for other in same_recipe_results(conn, item.recipe, item.source_experiment_id or "")
            if other.polarity == opposite and other.memory_id != item.memory_id]


def generation(conn: sqlite3.Connection) -> int:
    """Counts every committed change to the bank: a cache of vectors is valid while it holds."""
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (GENERATION_KEY,)).fetchone()
    return int(row["value"]) if row else 0


def bump_generation(conn: sqlite3.Connection) -> None:
    """Caller holds the write transaction of the change."""
    conn.execute("INSERT INTO meta (key, value) VALUES (?, '1') ON CONFLICT (key) DO UPDATE"
                 " SET value = CAST(CAST(meta.value AS INTEGER) + 1 AS TEXT)", (GENERATION_KEY,))


def searchable(conn: sqlite3.Connection, embedder: str, dim: int
               ) -> tuple[list[str], list[str], list[int], np.ndarray]:
    """(ids, roles, seqs, vectors) of every active item with a vector of ``embedder``."""
    rows = conn.execute(
        "SELECT m.memory_id, m.role, m.seq, v.vector FROM memory_items m"
        " JOIN memory_vectors v ON v.memory_id = m.memory_id"
        " WHERE m.status = 'active' AND v.embedder = ? AND v.dim = ? ORDER BY m.seq",
        (embedder, dim)).fetchall()
    return ([r["memory_id"] for r in rows], [r["role"] for r in rows], [r["seq"] for r in rows],
            decode_vectors([r["vector"] for r in rows], dim))


def stale_vector_count(conn: sqlite3.Connection, embedder: str) -> int:
    """Active items whose vector is missing or was computed by another embedder."""
    return conn.execute(
        "SELECT COUNT(*) FROM memory_items m LEFT JOIN memory_vectors v ON v.memory_id ="
        " m.memory_id WHERE m.status = 'active' AND (v.embedder IS NULL OR v.embedder != ?)",
        (embedder,)).fetchone()[0]


def active_count(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT COUNT(*) FROM memory_items WHERE status = 'active'").fetchone()[0]


def write_state(conn: sqlite3.Connection, memory_id: str, state: dict[str, Any],
                vector: bytes | None, *, created_at: float | None = None) -> None:
    """Make the item exactly ``state`` (inserting it when ``created_at`` is given), and its
    vector exactly ``vector`` (None: no vector). Caller holds the write transaction."""
    values = (state["status"], state["kind"], state["role"], state["polarity"], state["title"],
              state["content"], json.dumps(state["recipe"]) if state["recipe"] is not None else None,
              json.dumps(state["outcome"]) if state["outcome"] is not None else None,
              state["source_run_id"], state["feedback_version"],
              json.dumps(state["support_run_ids"]), json.dumps(state["contra_run_ids"]),
              state["updated_at"], json.dumps(state["extra"]), state["source_experiment_id"],
              json.dumps(state["support_experiment_ids"]), json.dumps(state["contra_experiment_ids"]))
    if created_at is not None:
        conn.execute(
            "INSERT INTO memory_items (status, kind, role, polarity, title, content, recipe_json,"
            " outcome_json, source_run_id, feedback_version, support_run_ids_json,"
            " contra_run_ids_json, updated_at, extra_json, source_experiment_id,"
            " support_experiment_ids_json, contra_experiment_ids_json, memory_id, created_at,"
            " schema_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (*values, memory_id, created_at, SCHEMA_VERSION))
    else:
        conn.execute(
            "UPDATE memory_items SET status = ?, kind = ?, role = ?, polarity = ?, title = ?,"
            " content = ?, recipe_json = ?, outcome_json = ?, source_run_id = ?,"
            " feedback_version = ?, support_run_ids_json = ?, contra_run_ids_json = ?,"
            " updated_at = ?, extra_json = ?, source_experiment_id = ?,"
            " support_experiment_ids_json = ?, contra_experiment_ids_json = ? WHERE memory_id = ?",
            (*values, memory_id))
    if vector is None:
        conn.execute("DELETE FROM memory_vectors WHERE memory_id = ?", (memory_id,))
    else:
        embedder = state["embedder"]
        conn.execute(
            "INSERT INTO memory_vectors (memory_id, embedder, dim, vector) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (memory_id) DO UPDATE SET embedder = excluded.embedder,"
            " dim = excluded.dim, vector = excluded.vector",
            (memory_id, embedder, len(vector) // 4, vector))
