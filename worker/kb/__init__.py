"""Knowledge-base access: LightRAG working directories, read-only, searched without an LLM."""
