"""A learn job: the lab's feedback on a run becomes memory the next runs are shown.

1. **Lab result, no LLM.** One ``lab_result`` memory from the feedback's
   numbers: the recipe the lab made (or the run's only one), its score and
   product fractions, the chemist's pros and cons. Its polarity comes from
   the score against ``C2XC_MEMORY_PREFER_SCORE`` / ``C2XC_MEMORY_AVOID_SCORE``.
2. **Lessons, when an LLM is configured.** Up to three ``lesson`` items from
   the run's output, a digest of its reasoning and the feedback
   (:mod:`worker.memory.lessons`). A lesson nearly identical (cosine ≥
   ``C2XC_MEMORY_NEAR_DUPLICATE``) to an active lesson of another run
   corroborates that lesson (support or contra) instead of adding a copy; a
   recipe the lab made before (another run's lab result with the same metals,
   ratio and structure) is supported or contradicted the same way.
   An LLM that fails costs the lessons, never the lab result.
3. **One commit** (:func:`store.memory_learning.commit_learning`): items,
   vectors, corroborations, the undoing of this run's previous learning and
   the job's end, in one transaction.

Everything slow (the LLM, the embedding endpoint) happens before the commit
and outside any transaction. Without a usable embedding endpoint the job
fails with ``dependency_unavailable`` and can be re-queued: no memory is ever
stored without its vector.
"""
from __future__ import annotations

import json
import logging
import sqlite3
import time
from typing import Any, Callable

from core.aliases import neutralise_aliases
from core.embedding import Embedder
from core.errors import LeaseLost, RunFailure, ServiceError
from core.metrics import count_learn_job
from core.settings import RunSettings
from store import events, learn_jobs, runs
from store.batches import get_batch
from store.feedback import get_feedback
from store.memory_items import encode_vector, get_items, same_recipe_results
from store.memory_learning import Corroboration, LearnOutcome, NewMemory, commit_learning
from store.memory_search import MemoryIndex
from store.records import Feedback
from worker.agent.context import snippet
from worker.llm.client import LlmClient
from worker.memory.lessons import Lesson, distil_lessons

log = logging.getLogger("c2xc.worker.learn")
DIGEST_CONCLUSIONS, NOTE_CHARS = 6, 600
OPPOSITE = {("prefer", "avoid"), ("avoid", "prefer")}


def polarity_of(score: float, prefer: float, avoid: float) -> str:
    return "prefer" if score >= prefer else "avoid" if score <= avoid else "neutral"


def made_recipe(recipes: list[dict[str, Any]], recipe_index: int | None) -> tuple[int | None, dict | None]:
    """(rank, recipe) the lab made: the one the feedback names, or the run's only recipe."""
    if recipe_index is not None and 1 <= recipe_index <= len(recipes):
        return recipe_index, recipes[recipe_index - 1]
    if len(recipes) == 1:
        return 1, recipes[0]
    return None, None


def describe_recipe(recipe: dict[str, Any]) -> str:
    return (f"{recipe.get('M1')}–{recipe.get('M2')} {recipe.get('atomic_ratio')} with "
            f"{recipe.get('small_molecule_modifier')}")


def lab_result(run_id: str, recipes: list[dict[str, Any]], feedback: Feedback,
               prefer: float, avoid: float) -> dict[str, Any]:
    """The lab result memory's fields, from numbers alone."""
    rank, recipe = made_recipe(recipes, feedback.recipe_index)
    polarity = polarity_of(feedback.score, prefer, avoid)
    products = ", ".join(f"{p.name} {p.fraction:.0%}" for p in feedback.products) or "none recorded"
    made = describe_recipe(recipe) if recipe else "a recipe of the run (which one was not recorded)"
    lines = [f"The lab made {made} from run {run_id}" + (f" (rank {rank})." if rank else "."),
             f"Score {feedback.score:g}/10 ({polarity}). Products: {products}."]
    if recipe and recipe.get("modifier_smiles"):
        lines.append(f"Modifier SMILES {recipe['modifier_smiles']}.")
    for label, text in (("Pros", feedback.pros), ("Cons", feedback.cons), ("Other", feedback.other)):
        if text.strip():  # a [C3] typed by the chemist must not become a later run's citation
            lines.append(f"{label}: {snippet(neutralise_aliases(text), NOTE_CHARS)}")
    structured = None
    if recipe:
        structured = {"rank": rank, "M1": recipe.get("M1"), "M2": recipe.get("M2"),
                      "atomic_ratio": recipe.get("atomic_ratio"),
                      "modifier": recipe.get("small_molecule_modifier"),
                      "modifier_smiles": (recipe.get("modifier_structure") or {}).get("canonical_smiles")
                      or recipe.get("modifier_smiles")}
    return {"title": snippet(f"Lab result: {made} — score {feedback.score:g}/10", 200),
            "content": "\n".join(lines)[:4000], "polarity": polarity, "recipe": structured,
            "outcome": {"score": feedback.score, "fractions": {p.name: p.fraction for p in feedback.products},
                        "product_ids": [p.product_id for p in feedback.products],
                        "fractions_all_zero": feedback.fractions_all_zero}}


def digest(conn: sqlite3.Connection, run_id: str, user_request: str, recipes_json: dict,
           lab: dict[str, Any]) -> str:
    """What the lesson prompt reads: request, recipes, the experts' conclusions, the lab's result."""
    conclusions = []
    for event in events.iter_events(conn, run_id, ["recap_info"]):
        payload = event.payload or {}
        if payload.get("state") == "up" and payload.get("depth", 0) > 0:
            conclusions.append(f"- {payload.get('agent')}: {snippet(payload.get('result') or '', 400)}")
    recipes = [{k: r.get(k) for k in ("rank", "M1", "M2", "atomic_ratio", "small_molecule_modifier",
                                       "rationale")} for r in recipes_json.get("recipes", [])]
    parts = [f"Request: {snippet(user_request, 600)}",
             "Recipes proposed (rationales cite run-local aliases; do not repeat them):",
             json.dumps(recipes, ensure_ascii=False)[:4000],
             f"Ranking notes: {snippet(recipes_json.get('overall_notes') or '', 600)}"]
    if conclusions:
        parts += ["Experts' conclusions:", *conclusions[-DIGEST_CONCLUSIONS:]]
    parts += ["What the lab measured:", lab["content"]]
    return "\n".join(parts)


class Learner:
    """Executes learn jobs for one worker; keeps the memory index warm between jobs."""

    def __init__(self, settings: RunSettings, index: MemoryIndex | None = None,
                 llm_factory: Callable[[RunSettings], LlmClient] = LlmClient,
                 clock: Callable[[], float] = time.time):
        self.settings, self.index = settings, index or MemoryIndex()
        self.llm_factory, self.clock = llm_factory, clock
        self._progress: Callable[[], None] = lambda: None

    def execute(self, conn: sqlite3.Connection, job: learn_jobs.LearnJob, worker_id: str,
                progress: Callable[[], None] = lambda: None) -> LearnOutcome | None:
        """Run the job to its end; every failure is recorded on the job, never raised.

        ``progress`` is called between its slow steps, so the worker's hang detection sees a
        long lesson call as work, as it does an agent's steps."""
        self._progress = progress
        try:
            outcome = self._learn(conn, job, worker_id)
            count_learn_job(outcome.status)
            log.info("learn job %s (run %s, feedback v%d): %s%s", job.job_id, job.run_id,
                     job.feedback_version, outcome.status,
                     f", delta {outcome.delta_id}" if outcome.delta_id else "")
            return outcome
        except LeaseLost as lost:
            log.error("learn job %s was taken from this worker: %s", job.job_id, lost.message)
        except ServiceError as failure:
            self._fail(conn, job, worker_id, failure.code, failure.message)
        except Exception as exc:  # a bug must not kill the loop; the job says what happened
            log.exception("learn job %s crashed", job.job_id)
            self._fail(conn, job, worker_id, RunFailure.code, f"{type(exc).__name__}: {exc}")
        return None

    def _fail(self, conn, job, worker_id: str, code: str, message: str) -> None:
        log.warning("learn job %s failed: %s: %s", job.job_id, code, message)
        count_learn_job("failed")
        try:
            learn_jobs.end_job(conn, job.job_id, worker_id, status=learn_jobs.FAILED,
                               now=self.clock(), error_code=code, error_message=message)
        except LeaseLost:
            log.error("learn job %s was taken from this worker", job.job_id)

    def _learn(self, conn: sqlite3.Connection, job: learn_jobs.LearnJob, worker_id: str) -> LearnOutcome:
        s = self.settings
        feedback = get_feedback(conn, job.run_id)
        output = runs.get_output(conn, job.run_id)
        run = runs.get_run(conn, job.run_id)
        recipes_json = output.recipes_json if output else {"recipes": []}
        lab = lab_result(job.run_id, recipes_json.get("recipes", []), feedback,
                         s.memory.prefer_score, s.memory.avoid_score)
        notes: dict[str, Any] = {"feedback_version_read": feedback.version}
        embedder = Embedder(s)
        self._progress()
        try:
            lessons: list[Lesson] = []
            if s.memory.lessons and s.api_key:
                text = digest(conn, job.run_id, get_batch(conn, run.batch_id).user_request,
                              recipes_json, lab)
                lessons, lesson_notes = self._ask_lessons(text)
                notes.update(lesson_notes)
            else:
                notes["lessons_skipped"] = "no LLM configured" if not s.api_key else \
                    "C2XC_MEMORY_LESSONS=0"
            self._progress()
            vectors = embedder.embed([f"{lab['title']}\n{lab['content']}",
                                      *(f"{l.title}\n{l.content}" for l in lessons)])
        finally:
            embedder.close()
        self._progress()
        new_items = [NewMemory(kind="lab_result", role="global", polarity=lab["polarity"],
                               title=lab["title"], content=lab["content"], recipe=lab["recipe"],
                               outcome=lab["outcome"], vector=encode_vector(vectors[0]))]
        # the same recipe made again (from another run): its earlier results are supported when the
        # lab's verdict agrees and contradicted when it does not
        corroborations = [Corroboration(earlier.memory_id, agrees=(lab["polarity"], earlier.polarity)
                                        not in OPPOSITE)
                          for earlier in same_recipe_results(conn, lab["recipe"], job.run_id)]
        for lesson, vector in zip(lessons, vectors[1:]):
            twin = self._near_duplicate(conn, vector, job.run_id, embedder.stamp)
            if twin is None:
                new_items.append(NewMemory(kind="lesson", role=lesson.role, polarity=lesson.polarity,
                                           title=lesson.title, content=lesson.content,
                                           vector=encode_vector(vector)))
            else:
                corroborations.append(Corroboration(
                    twin.memory_id, agrees=(lesson.polarity, twin.polarity) not in OPPOSITE))
        notes["lessons"] = len(lessons)
        return commit_learning(conn, job=job, worker_id=worker_id, embedder=embedder.stamp,
                               new_items=new_items, corroborations=corroborations,
                               now=self.clock(), notes=notes)

    def _ask_lessons(self, text: str) -> tuple[list[Lesson], dict[str, Any]]:
        llm = self.llm_factory(self.settings)
        calls: list[dict[str, Any]] = []

        def keep(event) -> None:  # a learn job has no run trace: its calls go in its notes
            payload = event.payload()
            calls.append({"type": event.event_type, **{k: payload.get(k) for k in (
                "attempt", "content", "error", "latency_ms", "usage") if payload.get(k) is not None}})

        def ask(messages: list[dict[str, str]]) -> str | None:
            return llm.chat(messages, temperature=0.2, trace=keep, purpose="memory_lessons",
                            before_attempt=self._progress).content

        try:
            lessons, notes = distil_lessons(ask, text)
        except RunFailure as failure:  # the LLM is down or refused: keep the lab result
            lessons, notes = [], {"lessons_skipped": f"{failure.code}: {failure.message}"}
        return lessons, {**notes, "llm_calls": calls[-6:]}

    def _near_duplicate(self, conn, vector, run_id: str, stamp: str):
        """An active lesson of another run this one nearly repeats, or None."""
        hits = self.index.search(conn, vector, embedder=stamp, dim=self.settings.embedding_dim, k=8)
        close = [h for h in hits if h.score >= self.settings.memory.near_duplicate]
        items = get_items(conn, [h.memory_id for h in close])
        for hit in close:
            item = items.get(hit.memory_id)
            if item and item.kind == "lesson" and item.source_run_id != run_id:
                return item
        return None
