"""The ReCAP loop: plan -> act -> recap, recursively through expert delegation.

One *agent loop* is a conversation of one role: ask the LLM, run the tools it
calls, feed the results back, until it answers in plain content. The
orchestrator may ``delegate`` a focused task to an expert, which runs its own
loop one level deeper and returns its conclusion as the tool's result. Bounds
(depth, steps, LLM calls, tool calls) are enforced here and end the run with
``agent_bounds_exceeded`` naming the bound; cancellation and worker shutdown
are checked before every LLM call and every tool call.
"""
from __future__ import annotations

from core import trace
from core.errors import AgentBoundsExceeded, InvalidOutput
from core.prompts import template_versions
from core.settings import AgentBounds
from store.records import RunOutput
from worker.agent.answer import read_final_answer
from worker.agent.context import Conversation, ToolResult
from worker.agent.prompts import repair_prompt, role_prompt
from worker.agent.tools import ALL_TOOL_DEFINITIONS, KB_TOOLS, ToolBox, openai_tools
from worker.llm.client import LlmClient, parse_arguments
from worker.run_context import RunContext

EXPERTS = ("tio2_expert", "mof_expert")
DELEGATE_TOOL = {"name": "delegate", "description": "Ask an expert a focused question; returns "
                 "the expert's cited conclusion.",
                 "parameters": {"type": "object", "properties": {
                     "expert": {"type": "string", "enum": list(EXPERTS)},
                     "task": {"type": "string"}}, "required": ["expert", "task"]}}


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

    def before_llm_call(self) -> None:
        if self.llm.calls >= self.bounds.max_llm_calls:
            raise self._exceeded("LLM calls", self.bounds.max_llm_calls)


class RecipeAgent:
    def __init__(self, ctx: RunContext, llm: LlmClient, tools: ToolBox, bounds: AgentBounds):
        self.ctx, self.llm, self.tools, self.bounds = ctx, llm, tools, bounds
        self.budget = Budget(bounds, llm)
        tools.extract_keywords = self._extract_keywords

    def _extract_keywords(self, prompt: str) -> str:
        """LightRAG's keyword prompt, answered through our traced, bounded, cancel-checked client."""
        reply = self.llm.chat([{"role": "user", "content": prompt}], temperature=0.0,
                              trace=self.ctx.emit, before_attempt=self._before_llm,
                              purpose="retrieval_keywords")
        return reply.content or ""

    def _before_llm(self) -> None:
        self.ctx.checkpoint()
        self.budget.before_llm_call()

    def run(self) -> RunOutput:
        run = self.ctx.run
        self.ctx.emit(trace.RunStarted(
            mode="normal", run_id=run.run_id, batch_id=run.batch_id, run_index=run.run_index,
            recipes_per_run=run.recipes_per_run, temperature=run.temperature,
            user_request=run.user_request, model=self.llm.settings.llm_model,
            bounds=vars(self.bounds), prompts=template_versions()))
        conversation = Conversation(role_prompt("orchestrator", recipes_per_run=run.recipes_per_run),
                                    run.user_request)
        tools = openai_tools(ALL_TOOL_DEFINITIONS + [DELEGATE_TOOL])
        for attempt in range(self.bounds.max_repairs + 1):
            text = self._agent_loop("orchestrator", conversation, tools, depth=0)
            checked = read_final_answer(text, recipes_per_run=run.recipes_per_run,
                                        refs=self.tools.refs())
            errors = checked.errors
            if not errors:
                self.ctx.emit(trace.CitationsResolved(citations=checked.citations, sources={
                    a: self.tools.evidence[a].source for a in checked.citations}))
                self.ctx.checkpoint()
                return RunOutput(recipes_json=checked.recipes_json, citations=checked.citations,
                                 memory_ids=[])

            self.ctx.emit(trace.RecapInfo(agent="orchestrator", state="repair", depth=0,
                                          task="final answer failed validation", result=errors,
                                          attempt=attempt + 1))
            conversation.add_user(repair_prompt(errors, self.tools.aliases))
        raise InvalidOutput(f"the final answer failed validation after {self.bounds.max_repairs} "
                            f"repair(s): {'; '.join(errors)}", {"errors": errors})

    def _agent_loop(self, role: str, conversation: Conversation, tools: list[dict],
                    depth: int) -> str:
        self.ctx.emit(trace.RecapInfo(agent=role, state="down", depth=depth,
                                      task=conversation.task))
        while True:
            self.budget.step()
            reply = self.llm.chat(conversation.to_send(), tools=tools,
                                  temperature=self.ctx.run.temperature, trace=self.ctx.emit,
                                  before_attempt=self._before_llm)
            conversation.add_reply(reply)
            if not reply.tool_calls:
                self.ctx.emit(trace.RecapInfo(agent=role, state="up", depth=depth,
                                              result=reply.content))
                return reply.content or ""
            self.ctx.emit(trace.RecapInfo(agent=role, state="act", depth=depth,
                                          plan=[c.name for c in reply.tool_calls]))

            for call in reply.tool_calls:
                self.budget.tool_call()
                self.ctx.checkpoint()
                result = (self._delegate(call, depth) if call.name == "delegate"
                          else self.tools.dispatch(call))
                conversation.add_tool_result(call.call_id, result)

    def _delegate(self, call, depth: int) -> ToolResult:
        try:
            args = parse_arguments(call)
        except ValueError as exc:
            return ToolResult.plain(f"error: {exc}")
        expert, task = args.get("expert"), args.get("task")
        if expert not in EXPERTS or not isinstance(task, str) or not task.strip():
            return ToolResult.plain(f"error: delegate needs expert in {list(EXPERTS)} and a "
                                    "non-empty task")
        if depth + 1 >= self.bounds.max_depth:
            return ToolResult.plain("error: maximum delegation depth reached; continue without "
                                    "delegating")
        # experts research and conclude: the run note and delegation are the orchestrator's
        conversation = Conversation(role_prompt(expert), task)
        return ToolResult.plain(self._agent_loop(expert, conversation, openai_tools(KB_TOOLS),
                                                 depth + 1))
