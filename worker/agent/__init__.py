"""The recipe agent: a ReCAP-style plan -> act -> recap orchestrator written in this project.

Roles (orchestrator, tio2_expert, mof_expert) are prompts, not processes;
tools are plain functions; the program — never the LLM — writes the trace,
maps aliases to references and validates the final answer.
"""
