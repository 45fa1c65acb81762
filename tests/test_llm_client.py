"""The LLM client against the fake OpenAI-compatible server over loopback."""
from dataclasses import replace

import pytest

from core.errors import RunFailure
from core.settings import load_run_settings
from tests.fake_openai import FakeOpenAI
from worker.llm.client import LlmClient

MESSAGES = [{"role": "user", "content": "propose a recipe"}]
TOOLS = [{"type": "function", "function": {"name": "kb_search", "parameters": {"type": "object"}}}]
SECRET = "sk-test-LLM-SECRET-9"


@pytest.fixture
def fake():
    with FakeOpenAI() as server:
        yield server


def _client(fake, monkeypatch, retries=3):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    settings = replace(load_run_settings(), llm_base_url=fake.base_url, llm_model="fake-qwen",
                       llm_max_retries=retries, llm_timeout_s=5)
    sleeps = []
    return LlmClient(settings, sleep=sleeps.append, backoff_base_s=0.01), sleeps


def test_tool_calls_and_usage_come_back_and_every_attempt_is_traced(fake, monkeypatch):
    client, sleeps = _client(fake, monkeypatch)
    fake.script = [{"status": 429}, {"status": 503},
                   {"tool_calls": [{"name": "kb_search", "arguments": {"kb": "kb_principles",
                                                                       "query": "Cu Mo"}}]}]
    trace = []
    reply = client.chat(MESSAGES, tools=TOOLS, temperature=0.3,
                        trace=lambda event: trace.append((event.event_type, event.payload())))
    assert [c.name for c in reply.tool_calls] == ["kb_search"]
    assert reply.usage["total_tokens"] == 120
    assert len(sleeps) == 2
    assert [k for k, _ in trace] == ["llm_request", "llm_response"] * 3
    assert [p["messages"] for k, p in trace if k == "llm_request"] == \
        [r["messages"] for r in fake.chat_requests()]
    assert all(r["has_key"] for r in fake.requests)
    assert SECRET not in repr(trace)


def test_an_endpoint_that_stays_down_fails_the_run_clearly(fake, monkeypatch):
    client, sleeps = _client(fake, monkeypatch, retries=2)
    fake.script = [{"status": 500}] * 3
    with pytest.raises(RunFailure) as failure:
        client.chat(MESSAGES, temperature=0.3, trace=lambda *_: None)
    assert failure.value.code == "llm_unavailable" and "3 time(s)" in failure.value.message
    assert len(fake.chat_requests()) == 3


def test_a_client_error_is_not_retried(fake, monkeypatch):
    client, sleeps = _client(fake, monkeypatch)
    fake.script = [{"status": 400, "error": "bad tool schema"}]
    with pytest.raises(RunFailure) as failure:
        client.chat(MESSAGES, temperature=0.3, trace=lambda *_: None)
    assert failure.value.code == "llm_error" and sleeps == []


def test_an_unreachable_endpoint_is_reported(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    settings = replace(load_run_settings(), llm_base_url="http://127.0.0.1:9/v1",
                       llm_max_retries=1, llm_timeout_s=2)
    client = LlmClient(settings, sleep=lambda _: None)
    with pytest.raises(RunFailure) as failure:
        client.chat(MESSAGES, temperature=0.3, trace=lambda *_: None)
    assert failure.value.code == "llm_unavailable" and "APIConnectionError" in failure.value.message
