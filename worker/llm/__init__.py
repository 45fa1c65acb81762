"""LLM and embedding access over any OpenAI-compatible endpoint (the ``openai`` package)."""
