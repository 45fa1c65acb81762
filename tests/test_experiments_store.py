"""Experiments in the store (SPEC 14), on SQLite and PostgreSQL: rules held by the database itself."""
from __future__ import annotations

import threading
import time

import pytest

from core.errors import Conflict, NotFound, PreconditionFailed, ValidationFailed
from store import experiments
from store.db import INTEGRITY_ERRORS, write_transaction
from store.experiments import ExperimentFilters, NewExperiment
from tests.memory_helpers import CU_MO, product_id, put
from tests.store_helpers import completed_runs

HAND = {"M1": "Mo", "M2": "Cu", "atomic_ratio": "3:1", "small_molecule_modifier": "benzoic acid",
        "modifier_smiles": "c1ccccc1C(O)=O"}


def _new(**fields) -> NewExperiment:
    return NewExperiment(**{"recipe": HAND, **fields})


def test_an_experiment_from_a_runs_recipe_carries_its_source_and_key(conn):
    run_id = completed_runs(conn, 1, dry_run=False, recipes=[CU_MO])[0]
    made = experiments.create_experiment(conn, NewExperiment(source=(run_id, 1)), time.time())
    assert made.source == {"run_id": run_id, "rank": 1} and made.status == "planned"
    assert made.recipe["recipe_key"] == "Cu1Mo1|O=C(O)c1ccc(S)cc1" and made.recipe["metal_pair"] == "Cu-Mo"
    assert made.version == 1 and made.products == [] and made.score is None
    with pytest.raises(ValidationFailed, match="rank must be 1..1"):
        experiments.create_experiment(conn, NewExperiment(source=(run_id, 2)), time.time())
    dry = completed_runs(conn, 1, dry_run=True)[0]
    with pytest.raises(Conflict, match="dry run"):
        experiments.create_experiment(conn, NewExperiment(source=(dry, 1)), time.time())
    with pytest.raises(NotFound):
        experiments.create_experiment(conn, NewExperiment(source=("run_nope", 1)), time.time())


def test_status_moves_forward_only_and_measured_needs_a_result(conn):
    made = experiments.create_experiment(conn, _new(), time.time())
    with pytest.raises(ValidationFailed, match="needs its products or a score"):
        experiments.update_experiment(conn, made.experiment_id, if_version=1, changes={"status": "measured"},
                                      now=time.time())
    with pytest.raises(ValidationFailed, match="belong to a measured"):
        experiments.update_experiment(conn, made.experiment_id, if_version=1, changes={"score": 5.0},
                                      now=time.time())
    in_lab = experiments.update_experiment(conn, made.experiment_id, if_version=1,
                                           changes={"status": "in_lab"}, now=time.time())
    c2h4, co = product_id(conn, "C2H4"), product_id(conn, "CO")
    measured = experiments.update_experiment(
        conn, made.experiment_id, if_version=in_lab.version,
        changes={"status": "measured", "products": [(c2h4, 3.0), (co, 1.0)]}, now=time.time())
    assert [p.fraction for p in measured.products] == [0.75, 0.25] and measured.value_sum == 4.0
    assert measured.measured_at is not None and measured.version == 3
    for back in ("planned", "in_lab", "failed"):
        with pytest.raises(Conflict, match="forward only"):
            experiments.update_experiment(conn, made.experiment_id, if_version=None,
                                          changes={"status": back}, now=time.time())


def test_a_stale_version_is_refused_and_changes_nothing(conn):
    made = experiments.create_experiment(conn, _new(), time.time())
    experiments.update_experiment(conn, made.experiment_id, if_version=1, changes={"notes": "first"},
                                  now=time.time())
    with pytest.raises(PreconditionFailed) as refused:
        experiments.update_experiment(conn, made.experiment_id, if_version=1, changes={"notes": "second"},
                                      now=time.time())
    assert refused.value.details["version"] == 2
    assert experiments.get_experiment(conn, made.experiment_id).notes == "first"


def test_of_two_concurrent_edits_of_one_version_exactly_one_wins(database, conn):
    made = experiments.create_experiment(conn, _new(), time.time())
    outcomes, start = [], threading.Barrier(2)

    def edit(note):
        own = database.connection()  # this thread's own connection
        start.wait()
        try:
            experiments.update_experiment(own, made.experiment_id, if_version=1, changes={"notes": note},
                                          now=time.time())
            outcomes.append(("won", note))
        except PreconditionFailed:
            outcomes.append(("stale", note))

    threads = [threading.Thread(target=edit, args=(n,)) for n in ("a", "b")]
    [t.start() for t in threads]
    [t.join(30) for t in threads]
    assert sorted(o for o, _ in outcomes) == ["stale", "won"]
    winner = next(n for o, n in outcomes if o == "won")
    final = experiments.get_experiment(conn, made.experiment_id)
    assert (final.notes, final.version) == (winner, 2)


def test_feedback_is_the_measured_experiment_of_the_recipe_it_names(conn):
    run_id = completed_runs(conn, 1, dry_run=False, recipes=[CU_MO, {**CU_MO, "rank": 2, "M2": "Zn"}])[0]
    put(conn, run_id, 6.0, {"C2H4": 1.0, "H2": 1.0}, recipe_index=1)
    first = experiments.list_experiments(conn, ExperimentFilters(run_id=run_id), limit=10, cursor=None)[0]
    assert len(first) == 1 and first[0].source == {"run_id": run_id, "rank": 1} and first[0].score == 6.0
    put(conn, run_id, 8.0, {"C2H4": 3.0, "H2": 1.0}, recipe_index=2)  # re-saved: the same experiment
    again = experiments.list_experiments(conn, ExperimentFilters(run_id=run_id), limit=10, cursor=None)[0]
    assert [e.experiment_id for e in again] == [first[0].experiment_id]
    assert again[0].source["rank"] == 2 and again[0].recipe["M2"] == "Zn" and again[0].version == 2
    assert [p.fraction for p in again[0].products] == [0.75, 0.25]
    with pytest.raises(Conflict, match="PUT /runs/"):
        experiments.update_experiment(conn, first[0].experiment_id, if_version=None,
                                      changes={"score": 1.0}, now=time.time())
    noted = experiments.update_experiment(conn, first[0].experiment_id, if_version=None,
                                          changes={"notes": "made twice", "conditions": "300 W Xe, 4 h"},
                                          now=time.time())
    assert noted.notes == "made twice"
    put(conn, run_id, 5.0, {"C2H4": 1.0}, recipe_index=None)  # which one was made: unknown
    unknown = experiments.get_experiment(conn, first[0].experiment_id)
    assert unknown.recipe is None and unknown.source is None and unknown.feedback_run_id == run_id


def test_a_second_experiment_of_a_feedback_recipe_is_a_replicate(conn):
    run_id = completed_runs(conn, 1, dry_run=False, recipes=[CU_MO])[0]
    put(conn, run_id, 6.0, {"C2H4": 1.0}, recipe_index=1)
    again = experiments.create_experiment(conn, NewExperiment(source=(run_id, 1), status="measured",
                                                              score=7.0), time.time())
    key = again.recipe["recipe_key"]
    same, _, _ = experiments.list_experiments(conn, ExperimentFilters(recipe_key=key), limit=10, cursor=None)
    assert len(same) == 2


def test_list_filters_and_pages_newest_first(conn):
    made = [experiments.create_experiment(conn, _new(recipe={**HAND, "M2": m}), time.time()).experiment_id
            for m in ("Cu", "Zn", "Ni", "Cu", "Ag")]
    seen, cursor = [], None
    while True:
        page, cursor, has_more = experiments.list_experiments(conn, ExperimentFilters(), limit=2, cursor=cursor)
        seen += [e.experiment_id for e in page]
        if not has_more:
            break
    assert seen == made[::-1]
    copper = experiments.list_experiments(conn, ExperimentFilters(metal="Cu"), limit=10, cursor=None)[0]
    assert [e.experiment_id for e in copper] == [made[3], made[0]]
    experiments.update_experiment(conn, made[1], if_version=None, changes={"archived": True}, now=time.time())
    assert made[1] not in [e.experiment_id for e in experiments.list_experiments(
        conn, ExperimentFilters(), limit=10, cursor=None)[0]]
    assert [e.experiment_id for e in experiments.list_experiments(
        conn, ExperimentFilters(archived=True), limit=10, cursor=None)[0]] == [made[1]]


@pytest.mark.parametrize("column, value", [
    ("status", "'done'"), ("score", "11"), ("source_rank", "NULL"), ("m1", "NULL"),
    ("feedback_run_id", "'run_x'"),
])
def test_the_database_itself_refuses_what_the_rules_forbid(conn, column, value):
    run_id = completed_runs(conn, 1, dry_run=False, recipes=[CU_MO])[0]
    made = experiments.create_experiment(conn, NewExperiment(source=(run_id, 1)), time.time())
    with pytest.raises(INTEGRITY_ERRORS):
        with write_transaction(conn):
            conn.execute(f"UPDATE experiments SET {column} = {value} WHERE experiment_id = ?",
                         (made.experiment_id,))
    with pytest.raises(INTEGRITY_ERRORS):  # measured with neither products nor a score
        with write_transaction(conn):
            conn.execute("UPDATE experiments SET status = 'measured' WHERE experiment_id = ?",
                         (made.experiment_id,))


def test_an_archived_product_is_refused_for_a_new_measurement(conn):
    from store import products

    gone = product_id(conn, "CH4")
    products.update_product(conn, gone, name=None, status="archived", extra=None, now=time.time())
    with pytest.raises(ValidationFailed) as refused:
        experiments.create_experiment(conn, _new(status="measured", products=[(gone, 1.0)]), time.time())
    assert "archived" in refused.value.details["fields"]["products[0].product_id"][0]
    made = experiments.create_experiment(conn, _new(), time.time())
    with pytest.raises(INTEGRITY_ERRORS):
        with write_transaction(conn):
            conn.execute("INSERT INTO experiment_products (experiment_seq, position, product_id, value,"
                         " fraction) SELECT seq, 0, ?, 1, 1 FROM experiments WHERE experiment_id = ?",
                         (gone, made.experiment_id))


def test_an_import_across_chunks_stores_every_row_in_order_or_none(conn, monkeypatch):
    """insert_many writes chunks of rows with a few statements each: the rows keep the file's
    order, each result gets its products and exactly one learn job, and a bad row in a later
    chunk (here a product archived after the file was checked) leaves nothing at all."""
    from store import learn_jobs, products

    monkeypatch.setattr(experiments, "IMPORT_CHUNK", 3)
    c2h4, co = product_id(conn, "C2H4"), product_id(conn, "CO")
    rows = [_new(status="measured", products=[(c2h4, 1.0 + i), (co, 1.0)], notes=f"row {i}") if i % 3
            else _new(status="planned", notes=f"row {i}") for i in range(8)]
    rows[4] = _new(status="failed", notes="row 4")
    assert experiments.insert_many(conn, iter(rows), time.time()) == 8
    stored = experiments.list_experiments(conn, ExperimentFilters(), limit=20, cursor=None)[0][::-1]  # oldest first
    assert [e.notes for e in stored] == [f"row {i}" for i in range(8)]
    for i, made in enumerate(stored):
        jobs = learn_jobs.jobs_of_experiment(conn, made.experiment_id)
        if made.status == "measured":
            assert [p.fraction for p in made.products] == [(1.0 + i) / (2.0 + i), 1 / (2.0 + i)]
        assert len(jobs) == (made.status in ("measured", "failed"))  # results only, one each
        if jobs:
            assert jobs[0].status == "queued" and jobs[0].reason == "experiment"
            assert jobs[0].input_hash == learn_jobs.learn_input(conn, made).fingerprint  # a re-save is a no-op

    products.update_product(conn, co, name=None, status="archived", extra=None, now=time.time())
    before = conn.execute("SELECT COUNT(*) FROM experiments").fetchone()[0]
    jobs_before = conn.execute("SELECT COUNT(*) FROM learn_jobs").fetchone()[0]
    late = [_new(status="measured", products=[(c2h4, 1.0)])] * 4 + [_new(status="measured", products=[(co, 1.0)])]
    with pytest.raises(ValidationFailed) as refused:
        experiments.insert_many(conn, iter(late), time.time())
    assert "archived" in refused.value.details["fields"]["products[0].product_id"][0]
    assert conn.execute("SELECT COUNT(*) FROM experiments").fetchone()[0] == before
    assert conn.execute("SELECT COUNT(*) FROM learn_jobs").fetchone()[0] == jobs_before
