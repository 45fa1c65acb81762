"""The ReCAP engine: a tree of nodes that plan, act on their head subtask, and recap.

A node (``worker/agent/nodes.py``) is one role on one task. It states its
reasoning and an ordered plan with the ``plan`` tool, acts with its tools —
one round of tool calls completes the head subtask — and revises what
remains by planning again; a subtask for an expert is a ``delegate`` call,
which runs a child node one level deeper and returns only the child's
conclusion. Each call sends the node's bounded context
(``worker/agent/context.py``), so prompts stay flat as a run grows.

A node's conclusion must pass its check before its parent sees it: the
orchestrator's final answer (recipes, structure, citations) gets up to
``max_repairs`` repairs, then the run fails with ``invalid_output``; an
expert's conclusion must cite evidence retrieved in the run and goes back to
it once. Bounds (depth, steps, LLM calls, tool calls) end the run with
``agent_bounds_exceeded``; cancellation and shutdown are checked before
every LLM call and every tool call. Everything is in the trace, node by node.
"""
from __future__ import annotations

from typing import Callable

from core import trace
from core.errors import AgentBoundsExceeded, InvalidOutput
from core.prompts import template_versions
from core.settings import AgentBounds
from store.records import RunOutput
from worker.agent.answer import read_final_answer
from worker.agent.context import NodeContext, ToolResult, snippet, state_message
from worker.agent.nodes import Node, NodeCounter
from worker.agent.planning import parse_plan, plan_tool
from worker.agent.prompts import expert_repair_prompt, repair_prompt, role_prompt
from worker.agent.tools import ALL_TOOL_DEFINITIONS, KB_TOOLS, ToolBox, openai_tools
from worker.citations import read_citations
from worker.recipe_validation import never_seen
from worker.llm.client import LlmClient, ToolCall, parse_arguments
from worker.agent.landscape import PREDICT_TOOL, Landscape
from worker.memory.recall import MEMORY_REF_PREFIX, MEMORY_SEARCH_TOOL, MemoryRecall
from worker.run_context import RunContext

EXPERTS = ("tio2_expert", "mof_expert")
EXPERT_REPAIRS = 1
DELEGATE_TOOL = {"name": "delegate", "description": "Give an expert a focused subtask; returns "
                 "the expert's cited conclusion.",
                 "parameters": {"type": "object", "properties": {
                     "expert": {"type": "string", "enum": list(EXPERTS)},
                     "task": {"type": "string"}}, "required": ["expert", "task"]}}
ORCHESTRATOR_TOOLS = openai_tools(ALL_TOOL_DEFINITIONS + [DELEGATE_TOOL,
                                                           plan_tool(("self", *EXPERTS))])
EXPERT_TOOLS = openai_tools(KB_TOOLS + [plan_tool(("self",))])
KEYWORDS = "retrieval_keywords"  # the purpose of LightRAG's keyword-extraction calls
Check = Callable[[str], list[str]]  # a conclusion -> the problems that send it back


class Budget:
    """Counts steps and tool calls; the LLM client counts its own calls (retries included)."""

    def __init__(self, bounds: AgentBounds, llm: LlmClient):
        self.bounds, self.llm, self.steps, self.tool_calls = bounds, llm, 0, 0

    def _exceeded(self, what: str, limit: int) -> AgentBoundsExceeded:
        return AgentBoundsExceeded(f"the agent reached its limit of {limit} {what} without a "
                                   "final answer", {"bound": what, "limit": limit})

    def step(self) -> None:
        self.steps += 1
        if self.steps > self.bounds.max_steps:
            raise self._exceeded("steps", self.bounds.max_steps)

    def tool_call(self) -> None:
        self.tool_calls += 1
        if self.tool_calls > self.bounds.max_tool_calls:
            raise self._exceeded("tool calls", self.bounds.max_tool_calls)

    def agent_calls(self) -> int:
        """The agent's own calls (retries included); keyword extractions are bounded apart."""
        return self.llm.calls - self.keyword_calls()

    def keyword_calls(self) -> int:
        return self.llm.calls_by_purpose.get(KEYWORDS, 0)

    def before_llm_call(self) -> None:
        if self.agent_calls() >= self.bounds.max_llm_calls:
            raise self._exceeded("LLM calls", self.bounds.max_llm_calls)

    def keyword_calls_left(self) -> bool:
        return self.keyword_calls() < self.bounds.max_keyword_calls


def _outcome(call: ToolCall, result: ToolResult) -> str:
    """One line saying what a tool call gave, for the node's record of what it did."""
    cited = read_citations(result.text, "result").aliases
    if call.name == "kb_search":
        return " ".join(f"[{a}]" for a in cited) or snippet(result.text, 60)
    return snippet(result.text, 120)


def _action(call: ToolCall) -> dict:
    try:
        arguments = parse_arguments(call)
    except ValueError:
        arguments = {"unparsed": call.arguments}
    return {"tool": call.name, "arguments": arguments}


class RecipeAgent:
    def __init__(self, ctx: RunContext, llm: LlmClient, tools: ToolBox, bounds: AgentBounds,
                 memory: MemoryRecall | None = None, landscape: Landscape | None = None):
        self.ctx, self.llm, self.tools, self.bounds = ctx, llm, tools, bounds
        self.memory = memory or MemoryRecall(ctx, None, None, top_k=0, search_max_k=1,
                                             enabled=False)
        self.landscape = landscape
        self.budget = Budget(bounds, llm)
        self.ids = NodeCounter()
        self.window = bounds.context_rounds
        tools.extract_keywords = self._extract_keywords
        tools.keyword_calls_left = self.budget.keyword_calls_left
        self._current: Node | None = None
        self._memory_tools: list[dict] = []

    def _before_llm(self) -> None:
        self.ctx.checkpoint()
        self.budget.before_llm_call()

    def _before_keyword_call(self) -> None:
        self.ctx.checkpoint()
        if not self.budget.keyword_calls_left():
            raise self.budget._exceeded("keyword extractions", self.bounds.max_keyword_calls)

    def _extract_keywords(self, prompt: str) -> str:
        """LightRAG's keyword prompt, answered through our traced, cancel-checked client and
        bounded by ``max_keyword_calls``, apart from the agent's own calls."""
        reply = self.llm.chat([{"role": "user", "content": prompt}], temperature=0.0,
                              trace=self.ctx.emit, before_attempt=self._before_keyword_call,
                              purpose=KEYWORDS,
                              node_id=self._current.node_id if self._current else None)
        return reply.content or ""

    # --- the run ---------------------------------------------------------------------------

    def run(self) -> RunOutput:
        run = self.ctx.run
        self.ctx.emit(trace.RunStarted(
            mode="normal", run_id=run.run_id, batch_id=run.batch_id, run_index=run.run_index,
            recipes_per_run=run.recipes_per_run, temperature=run.temperature,
            user_request=run.user_request, model=self.llm.settings.llm_model,
            bounds=vars(self.bounds), prompts=template_versions(), memory=self.memory.settings()))
        root = Node(self.ids.next_id(), None, "orchestrator", 0, run.user_request)
        context = NodeContext(role_prompt("orchestrator", recipes_per_run=run.recipes_per_run),
                              run.user_request, self.window, memory=self._lab_blocks(root))
        self._memory_tools = self._lab_tools()
        answers = []

        def final_answer_problems(text: str) -> list[str]:
            answers.append(read_final_answer(text, recipes_per_run=run.recipes_per_run,
                                             refs=self._known_refs()))
            return answers[-1].errors

        _, problems = self._work(root, context, ORCHESTRATOR_TOOLS + self._memory_tools,
                                 final_answer_problems, self.bounds.max_repairs, repair_prompt)
        if problems:
            raise InvalidOutput(f"the final answer failed validation after "
                                f"{self.bounds.max_repairs} repair(s): {'; '.join(problems)}",
                                {"errors": problems})
        checked = answers[-1]
        memories = self.memory.refs()
        self.ctx.emit(trace.CitationsResolved(citations=checked.citations, sources={
            a: (self.tools.evidence[a].source if a in self.tools.evidence else "lab memory")
            for a in checked.citations}))
        self.ctx.checkpoint()
        return RunOutput(recipes_json=checked.recipes_json, citations=checked.citations,
                         memory_ids=[memories[a][len(MEMORY_REF_PREFIX):]
                                     for a in checked.citations if a in memories])

    def _known_refs(self) -> dict[str, str]:
        """Every alias the run may cite: chunks retrieved and memories shown."""
        return {**self.tools.refs(), **self.memory.refs()}

    # --- one node ---------------------------------------------------------------------------

    def _state(self, node: Node) -> str | None:
        return state_message(think=node.think, done=node.done, remaining=node.remaining(),
                             note=self.tools.note.as_dict(self.tools.aliases),
                             evidence=[f"[{a}]" for a in self.tools.aliases + self.memory.aliases],
                             dropped=max(0, len(node.done) - self.window))

    def _work(self, node: Node, context: NodeContext, tools: list[dict], check: Check,
              max_repairs: int, repair_text: Callable) -> tuple[str, list[str]]:
        """Run a node until it concludes; (its conclusion, the problems left in it)."""
        self.ctx.emit(node.event("down", task=node.task))
        while True:
            self.budget.step()
            self._current = node
            reply = self.llm.chat(context.to_send(self._state(node)), tools=tools,
                                  temperature=self.ctx.run.temperature, trace=self.ctx.emit,
                                  before_attempt=self._before_llm, node_id=node.node_id)
            node.count_call(reply.usage)
            context.add_reply(reply)
            if reply.tool_calls:
                self._act(node, context, reply.tool_calls)
                continue
            text = reply.content or ""
            problems = check(text)
            if problems and node.repairs < max_repairs:
                node.repairs += 1
                self.ctx.emit(node.event("repair", task="its conclusion failed the check",
                                         result=problems, attempt=node.repairs))
                context.add_user(repair_text(problems, self.tools.aliases, self.memory.aliases))
                continue
            self.ctx.emit(node.event("up", result=text, think=node.think, plan=node.remaining(),
                                     plan_revision=node.plan_revision))
            return text, problems

    def _act(self, node: Node, context: NodeContext, calls: list[ToolCall]) -> None:
        """Run one round of tool calls; the round completes the node's head subtask."""
        actions, outcomes, planned = [], [], None
        for call in calls:
            self.budget.tool_call()
            self.ctx.checkpoint()
            if call.name == "plan":
                result = self._plan(node, call)
                if not result.text.startswith("error"):
                    planned = node.remaining()
            elif call.name == "delegate":
                result = self._delegate(node, call)
            elif call.name == "memory_search":
                result = self._memory_search(node, call)
            elif call.name == "predict" and self.landscape is not None:
                result = self._predict(node, call)
            else:
                self._current = node
                self.tools.current_node = node.node_id
                result = self.tools.dispatch(call)
            context.add_tool_result(call.call_id, result)
            if call.name != "plan":
                actions.append(_action(call))
                outcomes.append(f"{call.name}: {_outcome(call, result)}")
        implicit = bool(actions) and node.plan_revision == 0
        if actions:
            head = node.plan.pop(0).step if node.plan else ", ".join(a["tool"] for a in actions)
            node.done.append(f"{snippet(head, 100)} → {'; '.join(outcomes)}")
        self.ctx.emit(node.event("act", think=node.think, plan=node.remaining(), planned=planned,
                                 action=actions or None, result=outcomes or None,
                                 plan_revision=node.plan_revision, implicit_plan=implicit or None))

    def _plan(self, node: Node, call: ToolCall) -> ToolResult:
        performers = ("self", *EXPERTS) if node.role == "orchestrator" else ("self",)
        try:
            node.think, node.plan = parse_plan(parse_arguments(call), performers)
        except ValueError as exc:
            return ToolResult.plain(f"error: {exc}")
        node.plan_revision += 1
        return ToolResult.plain(f"plan {node.plan_revision} recorded: {len(node.plan)} subtask(s); "
                                "act on the first")

    def _delegate(self, node: Node, call: ToolCall) -> ToolResult:
        try:
            args = parse_arguments(call)
        except ValueError as exc:
            return ToolResult.plain(f"error: {exc}")
        expert, task = args.get("expert"), args.get("task")
        if expert not in EXPERTS or not isinstance(task, str) or not task.strip():
            return ToolResult.plain(f"error: delegate needs expert in {list(EXPERTS)} and a "
                                    "non-empty task")
        if node.depth + 1 >= self.bounds.max_depth:
            return ToolResult.plain("error: maximum delegation depth reached; do this subtask "
                                    "yourself or revise your plan")
        child = Node(self.ids.next_id(), node.node_id, expert, node.depth + 1, task.strip())
        context = NodeContext(role_prompt(expert), child.task, self.window, memory=self._lab_blocks(child))
        self._memory_tools = self._memory_tools or self._lab_tools()
        text, problems = self._work(child, context, EXPERT_TOOLS + self._memory_tools,
                                    self._expert_problems, EXPERT_REPAIRS, expert_repair_prompt)
        self._current = node
        if problems:
            return ToolResult.plain(f"the {expert} could not support its conclusion with "
                                    f"evidence ({'; '.join(problems)}); its unsupported answer "
                                    f"was: {text}")
        return ToolResult.plain(text)

    def _lab_blocks(self, node: Node) -> str | None:
        """What a node starts with from the lab: its memory block, then the landscape (SPEC 12, 14)."""
        blocks = [self.memory.block_for(node.node_id, node.role, node.task),
                  self.landscape.block_for(node.node_id, node.role) if self.landscape else None]
        return "\n\n".join(b for b in blocks if b) or None

    def _lab_tools(self) -> list[dict]:
        """memory_search once the bank has shown something; predict once the lab has experiments."""
        offered = [MEMORY_SEARCH_TOOL] if self.memory.aliases else []
        if self.landscape and self.landscape.active:
            offered.append(PREDICT_TOOL)
        return openai_tools(offered) if offered else []

    def _predict(self, node: Node, call: ToolCall) -> ToolResult:
        try:
            return ToolResult.plain(self.landscape.predict(parse_arguments(call), node.node_id))
        except ValueError as exc:
            return ToolResult.plain(f"error: {exc}")

    def _memory_search(self, node: Node, call: ToolCall) -> ToolResult:
        try:
            return ToolResult.plain(self.memory.search(parse_arguments(call), node_id=node.node_id,
                                                       role=node.role))
        except ValueError as exc:
            return ToolResult.plain(f"error: {exc}")

    def _expert_problems(self, text: str) -> list[str]:
        """An expert's conclusion must rest on evidence retrieved (or memory shown) in this run."""
        read = read_citations(text, "conclusion")
        known = self._known_refs()
        problems = list(read.problems)
        problems += [never_seen(alias) for alias in read.aliases if alias not in known]
        if not any(alias in known for alias in read.aliases):
            problems.append("the conclusion cites no retrieved evidence; cite the chunks it "
                            "rests on, e.g. [C3]")
        return problems
