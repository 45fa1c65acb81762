"""The trace vocabulary: every event type a run's trace may hold, and its payload fields.

A run's trace is what a scientist reads to see why a recipe was proposed,
and what a client parses; its shape must not drift between the dry run, the
agent, the LLM client and the loop. So every writer builds events only with
the constructors below (one dataclass per event type, typed fields), and
``docs/API.md``'s event table is generated from them (``python -m core.trace``)
and checked by a test. Adding a field is allowed; renaming one is not.

A field marked ``optional`` is left out of the payload when it is ``None``;
every other field is always present (possibly ``null``).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar


def _field(doc: str, *, default: Any = dataclasses.MISSING, optional: bool = False,
           key: str | None = None, factory: Any = dataclasses.MISSING) -> Any:
    metadata = {"doc": doc, "optional": optional, "key": key}
    if factory is not dataclasses.MISSING:
        return dataclasses.field(default_factory=factory, metadata=metadata)
    if optional and default is dataclasses.MISSING:
        default = None
    return dataclasses.field(default=default, metadata=metadata)


@dataclass(frozen=True)
class TraceEvent:
    """Base of every event: its type name and its JSON payload."""

    event_type: ClassVar[str] = ""
    summary: ClassVar[str] = ""

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value is None and f.metadata.get("optional"):
                continue
            data[f.metadata.get("key") or f.name] = value
        return data


@dataclass(frozen=True)
class RunStarted(TraceEvent):
    event_type: ClassVar[str] = "run_started"
    summary: ClassVar[str] = "the run began executing"
    mode: str = _field("`dry_run` or `normal`")
    run_id: str = _field("the run")
    batch_id: str = _field("its batch")
    run_index: int = _field("position in the batch, from 0")
    recipes_per_run: int = _field("recipes the answer must hold")
    temperature: float = _field("LLM sampling temperature")
    user_request: str = _field("the scientist's request, as written")
    model: str | None = _field("LLM model (normal runs)", optional=True)
    bounds: dict | None = _field("agent bounds in force (normal runs)", optional=True)
    prompts: dict | None = _field("prompt template versions (normal runs)", optional=True)
    memory: dict | None = _field("the lab memory as this worker applies it: `{enabled, top_k, search_max_k, "
                                 "embedder}` (normal runs; the batch's snapshot records the API's settings)",
                                 optional=True)


@dataclass(frozen=True)
class RecapInfo(TraceEvent):
    event_type: ClassVar[str] = "recap_info"
    summary: ClassVar[str] = ("a step of a reasoning node: `down` (a node starts on its task), "
                              "`act` (it planned or acted, and what remains), `up` (it "
                              "concluded), `repair` (its conclusion went back to it)")
    agent: str = _field("role: `orchestrator`, `tio2_expert`, `mof_expert`")
    state: str = _field("`down`, `act`, `up` or `repair`")
    depth: int = _field("0 for the orchestrator, +1 per delegation")
    task: Any = _field("what the node was asked", default=None)
    plan: Any = _field("the subtasks that remain, in order: `{step, by}`", default=None)
    result: Any = _field("what the node concluded; for `act` the outcome of its actions; for "
                         "`repair` the problems sent back", default=None)
    attempt: int | None = _field("repair attempt number", optional=True)
    node_id: str | None = _field("the node (`n1` is the orchestrator's task)", optional=True)
    parent_id: str | None = _field("the node that delegated this one", optional=True)
    role: str | None = _field("same as `agent`", optional=True)
    think: str | None = _field("the node's reasoning as it last stated it", optional=True)
    action: list | None = _field("`act`: the tool calls of this round, `{tool, arguments}`",
                                 optional=True)
    plan_revision: int | None = _field("`act`: how many times the plan was stated (0: acting "
                                       "without a plan)", optional=True)
    planned: list | None = _field("`act`: the plan exactly as stated in this round, when the "
                                  "node stated or revised it", optional=True)

    def payload(self) -> dict[str, Any]:
        data = super().payload()
        if self.node_id is not None:
            data.setdefault("parent_id", None)  # the root says so: it has no parent
        return data

    implicit_plan: bool | None = _field("`act`: true when the model acted without planning; "
                                        "its calls stand as a one-step plan", optional=True)


@dataclass(frozen=True)
class KbQuery(TraceEvent):
    event_type: ClassVar[str] = "kb_query"
    summary: ClassVar[str] = "a knowledge-base search and the chunks it returned (with aliases)"
    kb: str = _field("`kb_principles` or `kb_modulation`")
    query: str = _field("the search text")
    mode: str = _field("retrieval mode (`dry_run` for placeholders)")
    top_k: int = _field("chunks asked for")
    results: list = _field("`{alias, ref, source, content}` per chunk")
    latency_ms: float | None = _field("search time", optional=True)
    keywords: dict | None = _field("graph modes: `high_level`, `low_level` and `source` "
                                   "(`agent`: given in the call; `llm`: extracted by a traced "
                                   "LLM call)", optional=True)
    entities: list | None = _field("graph modes: `{name, type, description}`, at most 12",
                                   optional=True)
    relations: list | None = _field("graph modes: `{source, target, keywords, description}`, "
                                    "at most 12", optional=True)
    node_id: str | None = _field("the reasoning node that searched", optional=True)


@dataclass(frozen=True)
class KbGet(TraceEvent):
    event_type: ClassVar[str] = "kb_get"
    summary: ClassVar[str] = "the agent re-read a chunk it had retrieved"
    alias: str = _field("e.g. `C3`")
    ref: str = _field("`kb:<namespace>__<chunk id>`")
    source: str = _field("DOI or file name")


@dataclass(frozen=True)
class KbList(TraceEvent):
    event_type: ClassVar[str] = "kb_list"
    summary: ClassVar[str] = "the agent listed the aliases retrieved so far"
    aliases: list = _field("`{alias, source, kb}` per chunk")


@dataclass(frozen=True)
class NoteUpdate(TraceEvent):
    event_type: ClassVar[str] = "note_update"
    summary: ClassVar[str] = "an operation on the run note, and the whole note after it"
    operation: str = _field("`add_constraint`, `add_candidate`, `reject_candidate`, `add_question`")
    arguments: dict = _field("the operation's arguments")
    note: dict = _field("constraints, candidates, open questions, evidence aliases")


@dataclass(frozen=True)
class LlmRequest(TraceEvent):
    event_type: ClassVar[str] = "llm_request"
    summary: ClassVar[str] = "one attempt of an LLM call, exactly as sent (never a key)"
    model: str | None = _field("model name")
    parameters: dict = _field("sampling parameters")
    messages: list = _field("the full messages sent")
    tools: list = _field("tool schemas offered")
    attempt: int | None = _field("1 for the first try, +1 per retry", optional=True)
    placeholder: bool | None = _field("true in a dry run", optional=True)
    purpose: str | None = _field("`retrieval_keywords` when a search asked for keywords; "
                                 "absent for the agent's own calls", optional=True)
    node_id: str | None = _field("the reasoning node that made the call", optional=True)


@dataclass(frozen=True)
class LlmResponse(TraceEvent):
    event_type: ClassVar[str] = "llm_response"
    summary: ClassVar[str] = "the answer to one attempt, or its error"
    latency_ms: float = _field("time to the answer")
    content: str | None = _field("assistant text", default=None)
    tool_calls: list = _field("`{id, name, arguments}` per call", factory=list)
    usage: dict = _field("token counts the endpoint reported", factory=dict)
    attempt: int | None = _field("attempt number", optional=True)
    finish_reason: str | None = _field("as reported by the endpoint", optional=True)
    error: str | None = _field("why the attempt failed", optional=True)
    retry_in_s: float | None = _field("back-off before the next attempt", optional=True)
    placeholder: bool | None = _field("true in a dry run", optional=True)
    purpose: str | None = _field("as on the request", optional=True)
    node_id: str | None = _field("as on the request", optional=True)
    tool_calls_from_text: bool | None = _field(
        "true when the server sent the tool calls as text in `content` (no tool-call parser) and "
        "the program read them from it", optional=True)


@dataclass(frozen=True)
class CitationsResolved(TraceEvent):
    event_type: ClassVar[str] = "citations_resolved"
    summary: ClassVar[str] = "every alias the answer cites, mapped to its chunk or memory reference"
    citations: dict = _field("alias -> `kb:<namespace>__<chunk id>` ([C#]) or `mem:<memory id>` ([M#])")
    sources: dict | None = _field("alias -> DOI or file name", optional=True)


@dataclass(frozen=True)
class FinalOutput(TraceEvent):
    event_type: ClassVar[str] = "final_output"
    summary: ClassVar[str] = "the validated answer (also served by `/output`); the run completed"
    recipes_json: dict = _field("`{recipes: [...], overall_notes}`")
    citations: dict = _field("alias -> reference")
    memory_ids: list = _field("ids of the lab memories the answer cites ([M#])", factory=list)


@dataclass(frozen=True)
class RunFailed(TraceEvent):
    event_type: ClassVar[str] = "run_failed"
    summary: ClassVar[str] = "the run failed; terminal"
    error_code: str = _field("stable code (see the run error codes)")
    message: str = _field("what went wrong, for a person")
    details: dict = _field("merged into the payload: e.g. `traceback`, `bound`, `limit`, "
                           "`errors`, `lost_worker_id`", factory=dict)

    def payload(self) -> dict[str, Any]:
        return {"error_code": self.error_code, "message": self.message, **self.details}


@dataclass(frozen=True)
class RunCanceled(TraceEvent):
    event_type: ClassVar[str] = "run_canceled"
    summary: ClassVar[str] = "the run was canceled; terminal"
    reason: str | None = _field("the reason given with the cancel request")
    stage: str = _field("`queued` (never started) or `running`", key="while")
    started: bool = _field("whether the run had started")
    cancel_id: str | None = _field("the cancel request honoured", optional=True)


@dataclass(frozen=True)
class MemoryExposed(TraceEvent):
    event_type: ClassVar[str] = "memory_exposed"
    summary: ClassVar[str] = ("lab memories placed in a node's context (at its start) or returned "
                              "by `memory_search`, cited or not")
    node_id: str | None = _field("the node that was shown them")
    role: str = _field("that node's role")
    via: str = _field("`context` (retrieved for the node's task) or `search` (the agent asked)")
    query: str = _field("what the memories were ranked against: the node's task or the search")
    memories: list = _field("`{alias, memory_id, score, kind, polarity, role, title}`, best first")


@dataclass(frozen=True)
class MemoryStale(TraceEvent):
    event_type: ClassVar[str] = "memory_stale"
    summary: ClassVar[str] = ("the run started while memories were embedded by another model than the "
                              "one configured: those are left out of retrieval until re-embedded")
    stale: int = _field("active memories whose vector is missing or of another embedder")
    active: int = _field("active memories in the bank")
    embedder: str = _field("the embedder in force (`model@dim`)")
    fix: str = _field("what an operator runs to bring them back")


@dataclass(frozen=True)
class LandscapeShown(TraceEvent):
    event_type: ClassVar[str] = "landscape_shown"
    summary: ClassVar[str] = ("the summary of the lab's experiments placed at the start of a node "
                              "(SPEC 14): counts, best and worst results, metal pairs never tried")
    node_id: str | None = _field("the node that was shown it")
    role: str = _field("that node's role")
    objective: str = _field("the product whose share the summary ranks by")
    counts: dict = _field("`{measured, failed, pending, recipes}`")
    model_id: str | None = _field("the planner's model behind `predict`; null below the minimum of results")
    text: str = _field("the block as the model read it")


@dataclass(frozen=True)
class PredictionsMade(TraceEvent):
    event_type: ClassVar[str] = "predictions_made"
    summary: ClassVar[str] = "the agent asked the planner's model about recipes it considers (`predict`)"
    node_id: str | None = _field("the node that asked")
    objective: str = _field("the product whose share is predicted")
    model_id: str | None = _field("the model that answered; null when there is none yet")
    items: list = _field("`{recipe, recipe_key, mean, sd, low, high}` or `{recipe, problem}` per recipe")


EVENT_TYPES: dict[str, type[TraceEvent]] = {cls.event_type: cls for cls in (
    RunStarted, RecapInfo, KbQuery, KbGet, KbList, NoteUpdate, MemoryExposed, MemoryStale, LandscapeShown, PredictionsMade,
    LlmRequest, LlmResponse, CitationsResolved, FinalOutput, RunFailed, RunCanceled)}
TERMINAL_EVENT_TYPES = ("final_output", "run_failed", "run_canceled")


def markdown_table() -> str:
    """The event table of docs/API.md (regenerate with ``python -m core.trace``)."""
    lines = ["| event type | meaning | payload fields |", "|---|---|---|"]
    for name, cls in EVENT_TYPES.items():
        described = []
        for f in dataclasses.fields(cls):
            key = f.metadata.get("key") or f.name
            optional = " (optional)" if f.metadata.get("optional") else ""
            described.append(f"`{key}`{optional}: {f.metadata['doc']}")
        lines.append(f"| `{name}` | {cls.summary} | {'; '.join(described)} |")
    return "\n".join(lines)


START, END = "<!-- trace-vocabulary:start -->", "<!-- trace-vocabulary:end -->"


def update_document(path: str) -> None:
    """Rewrite the table between the markers of ``path`` (``python -m core.trace --update docs/API.md``)."""
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    before, rest = text.split(START, 1)
    after = rest.split(END, 1)[1]
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(f"{before}{START}\n{markdown_table()}\n{END}{after}")


if __name__ == "__main__":
    import sys

    if sys.argv[1:2] == ["--update"]:
        update_document(sys.argv[2])
    else:
        print(markdown_table())

