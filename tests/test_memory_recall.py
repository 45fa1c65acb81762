"""What a node is shown of the lab memory (SPEC 12 round 2; issue 30 item 7).

The block a node starts with keeps a place for the best and the worst lab
result among the memories close to its task, so wording alone cannot hide
them; ``memory_search`` reads a memory whole on request; a line is cut at a
line boundary and says that more can be read. Run in process on a claimed
run, embedding through the fake OpenAI-compatible server on loopback.
"""
import threading
import time

import pytest

from core.embedding import Embedder
from store import runs
from store.memory_search import Hit, MemoryIndex
from tests.agent_fixtures import SECRET
from tests.memory_helpers import CU_MO, learner, learner_settings, normal_run_with_feedback, work_learn_jobs
from tests.store_helpers import queue_batch
from worker.memory.recall import MemoryRecall, memory_line, with_extremes
from worker.run_context import RunContext


@pytest.fixture(autouse=True)
def key(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)


def _item(memory_id, kind="lesson", score=None, status="measured"):
    from store.memory_items import MemoryItem
    outcome = {"score": score, "status": status} if kind == "lab_result" else None
    return MemoryItem(memory_id=memory_id, status="active", kind=kind, role="global", polarity="neutral",
                      title=memory_id, content="x", recipe=None, outcome=outcome, source_run_id=None,
                      feedback_version=None, support_run_ids=[], contra_run_ids=[], created_at=0,
                      updated_at=0, schema_version=1, extra={})


def test_the_best_and_the_worst_lab_result_always_have_a_place():
    hits = [Hit(f"m{i}", "global", 1 - i / 10) for i in range(8)]
    items = {"m0": _item("m0"), "m1": _item("m1", "lab_result", 5.0), "m2": _item("m2"),
             "m3": _item("m3"), "m4": _item("m4", "lab_result", 9.5), "m5": _item("m5"),
             "m6": _item("m6", "lab_result", None, "failed"), "m7": _item("m7", "lab_result", 1.0)}
    chosen = [h.memory_id for h in with_extremes(hits, items, 3)]
    assert chosen == ["m0", "m4", "m6"]  # closest text, the best, the failed synthesis (worst)
    assert [h.memory_id for h in with_extremes(hits, items, 2)] == ["m0", "m1"]  # too few places: as ranked
    only_text = {k: _item(k) for k in items}
    assert [h.memory_id for h in with_extremes(hits, only_text, 3)] == ["m0", "m1", "m2"]


def test_a_line_ends_at_a_line_boundary_and_search_reads_a_memory_whole(conn, fake_llm):
    run_id = normal_run_with_feedback(conn, CU_MO, 8, {"C2H4": 3, "CO": 1},
                                      pros="clean ethylene " * 40, cons="slow " * 60)
    work_learn_jobs(conn, learner(fake_llm))
    queue_batch(conn, 1, dry_run=False)
    claimed = runs.claim_next_run(conn, "w", time.time())
    settings = learner_settings(fake_llm)
    ctx = RunContext(conn, claimed, settings, threading.Event())
    recall = MemoryRecall(ctx, Embedder(settings), MemoryIndex(), top_k=3, search_max_k=5, enabled=True)
    try:
        block = recall.block_for("n1", "orchestrator", "copper molybdenum ethylene")
        whole = recall.search({"query": "copper molybdenum", "full": True}, node_id="n1", role="orchestrator")
        with pytest.raises(ValueError, match="full must be"):
            recall.search({"query": "x", "full": "yes"}, node_id="n1", role="orchestrator")
    finally:
        recall.embedder.close()
    line = next(l for l in block.splitlines() if l.startswith("[M1]"))
    assert "C2H4 3 (75%), CO 1 (25%); total 4" in line and line.endswith("reads it whole)")
    assert "slow slow" not in line and run_id not in line  # cut between lines; the source at the end
    assert whole.count("slow") == 60 and f"run {run_id}" in whole
    assert memory_line("M9", recall._items["M1"]).startswith("[M9] lab_result · prefer · Lab result: Cu–Mo")
