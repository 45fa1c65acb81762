"""A learn job: a measured or failed experiment becomes memory the next runs are shown.

The subject is the experiment (SPEC 14): a run's feedback is the experiment
of the recipe it names; a result entered by hand, imported, or planned and
then measured is learned the same way.

1. **Lab result, no LLM.** One ``lab_result`` memory from the experiment's
   numbers (:mod:`worker.memory.lab_result`). Its polarity comes from the
   score against ``C2XC_MEMORY_PREFER_SCORE`` / ``C2XC_MEMORY_AVOID_SCORE``;
   a failed synthesis is one to avoid. A replicate — another experiment's
   result with the same recipe key — is supported or contradicted by it
   instead of standing alone.
2. **Lessons, when an LLM is configured and the experiment came from a run.**
   Up to three ``lesson`` items from the run's output, a digest of its
   reasoning and the result (:mod:`worker.memory.lessons`). A lesson nearly
   identical (cosine ≥ ``C2XC_MEMORY_NEAR_DUPLICATE``) to an active lesson of
   another experiment corroborates that lesson instead of adding a copy (checked
   at the commit, under the bank's lock, so two workers keep one copy). An
   LLM that fails costs the lessons, never the lab result. The embedding
   endpoint is tried first, so a job that cannot store anything never asks
   the model.
3. **One commit** (:func:`store.memory_learning.commit_learning`): items,
   vectors, corroborations, the undoing of this experiment's previous
   learning and the job's end, in one transaction. An archived experiment's
   job only withdraws what was learned from it.

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

from core.embedding import Embedder
from core.errors import LeaseLost, RunFailure, ServiceError
from core.metrics import count_learn_job
from core.settings import RunSettings
from store import events, learn_jobs, runs
from store.batches import get_batch
from store.experiments import get_experiment
from store.memory_items import encode_vector, same_recipe_results
from store.memory_learning import OPPOSITE, Corroboration, LearnOutcome, NewMemory, Subject, commit_learning
from worker.agent.context import snippet
from worker.memory.lab_result import lab_result
from worker.llm.client import LlmClient
from worker.memory.lessons import Lesson, distil_lessons

log = logging.getLogger("c2xc.worker.learn")
DIGEST_CONCLUSIONS = 6


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
    """Executes learn jobs for one worker."""

    def __init__(self, settings: RunSettings,
                 llm_factory: Callable[[RunSettings], LlmClient] = LlmClient,
                 clock: Callable[[], float] = time.time):
        self.settings = settings
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
            log.info("learn job %s (experiment %s, run %s): %s%s", job.job_id, job.experiment_id,
                     job.run_id or "-", outcome.status,
                     f", delta {outcome.delta_id}" if outcome.delta_id else
                     ", unchanged" if outcome.unchanged else "")
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
        if job.experiment_id is None:
            raise RunFailure(f"learn job {job.job_id} names no experiment (queued before migration v13 "
                             "for a run without feedback); queue learning again")
        experiment = get_experiment(conn, job.experiment_id)
        found = learn_jobs.learn_input(conn, experiment)
        input_hash = job.input_hash or found.fingerprint  # a job queued before v13 learns what is there
        subject = Subject(experiment.experiment_id, found.run_id,
                          found.feedback["version"] if found.feedback else None)
        notes: dict[str, Any] = {"input_hash": input_hash, "experiment_version": experiment.version}
        new_items: list[NewMemory] = []
        corroborations: list[Corroboration] = []
        embedder = Embedder(s)
        try:
            if found.learnable:
                new_items, corroborations = self._prepare(conn, found, embedder, notes)
        finally:
            embedder.close()
        self._progress()
        return commit_learning(
            conn, job=job, worker_id=worker_id, subject=subject, input_hash=input_hash,
            current_hash=lambda: learn_jobs.learn_input(
                conn, get_experiment(conn, experiment.experiment_id)).fingerprint,
            embedder=embedder.stamp, new_items=new_items, corroborations=corroborations,
            now=self.clock(), notes=notes, near_duplicate=s.memory.near_duplicate)

    def _prepare(self, conn: sqlite3.Connection, found: learn_jobs.LearnInput, embedder: Embedder,
                 notes: dict[str, Any]) -> tuple[list[NewMemory], list[Corroboration]]:
        """The new items with their vectors, and the corroborations of existing ones."""
        s, experiment = self.settings, found.experiment
        lab = lab_result(experiment, found.run_id, found.feedback or {}, s.memory.prefer_score,
                         s.memory.avoid_score)
        self._progress()
        [lab_vector] = embedder.embed([f"{lab['title']}\n{lab['content']}"])  # fails before any LLM call
        new_items = [NewMemory(kind="lab_result", role="global", polarity=lab["polarity"],
                               title=lab["title"], content=lab["content"], recipe=lab["recipe"],
                               outcome=lab["outcome"], vector=encode_vector(lab_vector))]
        # a replicate (the same recipe key, another experiment): the earlier results are supported
        # when the lab's verdict agrees and contradicted when it does not
        corroborations = [Corroboration(earlier.memory_id, agrees=(lab["polarity"], earlier.polarity)
                                        not in OPPOSITE)
                          for earlier in same_recipe_results(conn, lab["recipe"], experiment.experiment_id)]
        lessons = self._lessons(conn, found, lab, notes)
        self._progress()
        vectors = embedder.embed([f"{l.title}\n{l.content}" for l in lessons]) if lessons else []
        # a lesson that repeats one in the bank becomes a corroboration at the commit, under its lock
        new_items += [NewMemory(kind="lesson", role=lesson.role, polarity=lesson.polarity, title=lesson.title,
                                content=lesson.content, vector=encode_vector(vector))
                      for lesson, vector in zip(lessons, vectors)]
        notes["lessons"] = len(lessons)
        return new_items, corroborations

    def _lessons(self, conn: sqlite3.Connection, found: learn_jobs.LearnInput, lab: dict[str, Any],
                 notes: dict[str, Any]) -> list[Lesson]:
        """Lessons need a run to reason about and a model to ask; else none, and the notes say why."""
        s = self.settings
        output = runs.get_output(conn, found.run_id) if found.run_id else None
        why_not = ("C2XC_MEMORY_LESSONS=0" if not s.memory.lessons else
                   "no LLM configured" if not s.api_key else
                   "the result came from no run's output" if output is None else None)
        if why_not:
            notes["lessons_skipped"] = why_not
            return []
        run = runs.get_run(conn, found.run_id)
        text = digest(conn, found.run_id, get_batch(conn, run.batch_id).user_request,
                      output.recipes_json, lab)
        self._progress()
        lessons, lesson_notes = self._ask_lessons(text)
        notes.update(lesson_notes)
        return lessons

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
