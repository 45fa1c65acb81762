"""Where a normal run's models can come from: the pairs of endpoint and model this product knows.

The defaults (``core.settings``) must be one of these pairs: a default that
names a model its endpoint does not serve fails only at the first normal
run, after the user has done everything right. docs/OPERATIONS.md lists the
same pairs with the variables to set; ``tests/test_configuration.py`` holds
the defaults to them.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Provider:
    name: str
    base_url: str
    chat_models: tuple[str, ...]       # examples it serves, with tool calling
    embedding: tuple[str, int] | None  # (model, dimension), or None: take embeddings elsewhere
    local: bool = False


PROVIDERS = (
    Provider("DashScope (Alibaba Cloud, mainland China)", "https://dashscope.aliyuncs.com/compatible-mode/v1",
             ("qwen-plus", "qwen-max", "qwen-turbo"), ("text-embedding-v3", 1024)),
    Provider("DashScope international", "https://dashscope-intl.aliyuncs.com/compatible-mode/v1",
             ("qwen-plus", "qwen-max", "qwen-turbo"), ("text-embedding-v3", 1024)),
    Provider("OpenAI", "https://api.openai.com/v1", ("gpt-4o-mini", "gpt-4.1-mini"),
             ("text-embedding-3-small", 1536)),
    Provider("DeepSeek", "https://api.deepseek.com/v1", ("deepseek-chat",), None),
    Provider("Ollama (local)", "http://127.0.0.1:11434/v1", ("qwen2.5:14b", "llama3.1:8b"),
             ("bge-m3", 1024), local=True),
    Provider("vLLM (local)", "http://127.0.0.1:8001/v1", ("Qwen/Qwen2.5-7B-Instruct",), None, local=True),
    Provider("llama.cpp server (local)", "http://127.0.0.1:8080/v1", ("(the loaded GGUF model)",), None,
             local=True),
)
DEFAULT_PROVIDER = PROVIDERS[0]


def provider_for(base_url: str) -> Provider | None:
    url = base_url.rstrip("/")
    return next((p for p in PROVIDERS if p.base_url == url), None)
