"""Tool calls sent as text by local servers without a tool-call parser (issue 23 item 9).

The samples are the formats the common open models write when the server
passes their tokens through as content: Hermes/Qwen 2.5/Qwen 3 (`<tool_call>`),
Llama 3.x (bare JSON, `<|python_tag|>`, "parameters"), Mistral (`[TOOL_CALLS]`,
old list form and v11 `name[ARGS]`), and a Markdown fence. The end-to-end test
replays one through the fake OpenAI server and the real agent.
"""
import json

import pytest

from tests.agent_fixtures import agent_env
from tests.agent_fixtures import finished as _finished
from tests.agent_fixtures import submit as _submit
from tests.agent_script import final, recipe
from tests.processes import running_service
from worker.llm.text_tool_calls import extract_tool_calls

TOOLS = {"kb_search", "kb_get", "plan", "delegate", "note"}
ARGS = {"kb": "kb_principles", "query": "copper molybdenum ethylene OCCO", "top_k": 1,
        "keywords": {"low_level": ["copper"], "high_level": ["ethylene"]}}

SAMPLES = {
    "qwen2.5 / hermes": f"<tool_call>\n{json.dumps({'name': 'kb_search', 'arguments': ARGS})}\n</tool_call>",
    "qwen3 with its thinking": "<think>\nI should search first.\n</think>\n\n<tool_call>\n"
                               + json.dumps({"name": "kb_search", "arguments": ARGS}) + "\n</tool_call>",
    "hermes, two calls": "<tool_call>" + json.dumps({"name": "kb_search", "arguments": ARGS}) + "</tool_call>\n"
                         "<tool_call>" + json.dumps({"name": "kb_get", "arguments": {"alias": "C1"}}) + "</tool_call>",
    "hermes, unterminated (stopped at the stop token)":
        "<tool_call>\n" + json.dumps({"name": "kb_search", "arguments": ARGS}),
    "llama 3.1 json": json.dumps({"name": "kb_search", "parameters": ARGS}),
    "llama 3.1 python_tag": "<|python_tag|>" + json.dumps({"name": "kb_search", "parameters": ARGS}),
    "llama 3.2 list": json.dumps([{"name": "kb_search", "parameters": ARGS}]),
    "mistral list": "[TOOL_CALLS] " + json.dumps([{"name": "kb_search", "arguments": ARGS}]),
    "mistral v11": "[TOOL_CALLS]kb_search[ARGS]" + json.dumps(ARGS),
    "markdown fence": "I will search.\n```json\n" + json.dumps({"name": "kb_search", "arguments": ARGS}) + "\n```",
    "openai-shaped object": json.dumps({"type": "function", "function": {"name": "kb_search",
                                                                        "arguments": json.dumps(ARGS)}}),
}


@pytest.mark.parametrize("name", SAMPLES)
def test_each_format_is_read_as_the_call_it_is(name):
    rest, calls = extract_tool_calls(SAMPLES[name], TOOLS)
    assert calls and calls[0].name == "kb_search" and json.loads(calls[0].arguments) == ARGS
    assert rest is None or "kb_search" not in rest
    if name == "hermes, two calls":
        assert [c.name for c in calls] == ["kb_search", "kb_get"]
    if name == "qwen3 with its thinking":
        assert "I should search first." in rest


@pytest.mark.parametrize("text", [
    json.dumps({"recipes": [{"M1": "Cu"}], "overall_notes": "x"}),       # a final answer
    json.dumps({"name": "rm_rf", "arguments": {}}),                        # a tool not offered
    "The answer is Cu-Mo [C1]. {not json}",                                 # prose
    json.dumps({"name": "kb_search", "arguments": "not an object"}),       # bad arguments
    "<tool_call>{\"name\": \"kb_search\", \"arguments\": {\"kb\": </tool_call>",  # truncated
])
def test_text_that_is_not_a_call_of_an_offered_tool_stays_text(text):
    assert extract_tool_calls(text, TOOLS) == (text, [])


@pytest.mark.parametrize("fmt", ["qwen2.5 / hermes", "llama 3.1 json", "mistral v11"])
def test_an_agent_run_completes_when_every_call_arrives_as_text(llm, kbs, tmp_path, fmt):
    search = {"kb": "kb_principles", "query": "copper molybdenum ethylene OCCO", "top_k": 1,
              "keywords": {"low_level": ["copper"], "high_level": ["ethylene"]}}
    as_text = SAMPLES[fmt].replace(json.dumps(ARGS), json.dumps(search))
    script = [{"content": as_text},
              final(recipe("Cu", "Mo", "1:1", "4-mercaptobenzoic acid", "Cu-Mo stabilises OCCO [C1]."))]
    with running_service(tmp_path, agent_env(llm, kbs)) as svc:
        run_id = _submit(svc, llm, script, recipes_per_run=1)
        run = _finished(svc, run_id)
        assert run["status"] == "completed", run
        responses = svc.all_events(run_id, event_type="llm_response", include_payload="true")
        first = responses[0]["payload"]
        assert first["tool_calls_from_text"] is True and first["content"] == as_text  # the trace keeps the raw text
        assert first["tool_calls"][0]["name"] == "kb_search"
        assert svc.get(f"/runs/{run_id}/evidence/C1").status_code == 200
