"""c2xc-kb: build, inspect and search LightRAG knowledge bases from the command line.

  c2xc-kb build SOURCE_DIR --kb kb_principles|kb_modulation --out WORKING_DIR [--chunk-size 512]
  c2xc-kb inspect WORKING_DIR
  c2xc-kb search WORKING_DIR "query" [--top-k 5] [--mode mix|naive|local|global|hybrid] [--keywords a,b]

It reads the same environment as the service (``.env.example``): the LLM
(entity extraction while building) and the embedding model, which must be
the one the service will search with.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import openai

from core import kb_folder
from core.errors import ConfigError, KbError
from core.settings import load_run_settings
from worker.kb.adapter import MODES
from worker.kb.builder import BuildReport, build


def _progress_printer(stream=sys.stderr):
    interactive = stream.isatty()

    def show(done: int, total: int, chunks: int, elapsed: float, current: str) -> None:
        eta = (elapsed / done * (total - done)) if done else 0.0
        line = (f"[{done}/{total} documents] {chunks} chunks, {elapsed:.0f}s elapsed, "
                f"ETA {eta:.0f}s {current}")
        if interactive:
            stream.write("\r" + line[:120].ljust(120))
            if done == total:
                stream.write("\n")
        else:
            stream.write(line + "\n")
        stream.flush()

    return show


def _print_report(report: BuildReport) -> None:
    print(f"added {len(report.added)}, updated {len(report.updated)}, "
          f"unchanged {len(report.unchanged)}, failed {len(report.failed)}; {report.chunks} new chunks")
    for path, error in report.failed.items():
        print(f"  FAILED {path}: {error}")


def _kb_name(value: str) -> str:
    """argparse type for --kb: one name per KB everywhere; the old spelling still works."""
    if value in kb_folder.KB_NAMESPACES:
        return value
    if value in kb_folder.LEGACY_KB_NAMES:
        print(f"c2xc-kb: --kb {value} is deprecated; use --kb {kb_folder.LEGACY_KB_NAMES[value]}",
              file=sys.stderr)
        return kb_folder.LEGACY_KB_NAMES[value]
    raise argparse.ArgumentTypeError(f"must be one of {', '.join(kb_folder.KB_NAMESPACES)}")


def _count_graph(working_dir: Path) -> tuple[int, int]:
    graph_file = working_dir / kb_folder.GRAPH_FILE
    if not graph_file.is_file():
        return 0, 0
    import networkx

    graph = networkx.read_graphml(graph_file)
    return graph.number_of_nodes(), graph.number_of_edges()


def inspect(working_dir: Path, settings) -> dict:
    absent = kb_folder.missing_markers(working_dir)
    if absent:
        raise SystemExit(f"c2xc-kb: {working_dir} is not a LightRAG working directory (no {', '.join(absent)})")
    metadata = kb_folder.read_metadata(working_dir)
    documents = metadata.get("documents", {})
    chunks = json.loads((working_dir / kb_folder.TEXT_CHUNKS_FILE).read_text())
    entities, relations = _count_graph(working_dir)
    return {
        "working_dir": str(working_dir), "kb": kb_folder.recorded_namespace(metadata),
        "documents": sum(1 for d in documents.values() if d.get("status") == "processed"),
        "failed_documents": sorted(p for p, d in documents.items() if d.get("status") != "processed"),
        "documents_with_doi": sum(1 for d in documents.values() if d.get("doi")),
        "chunks": len(chunks), "entities": entities, "relations": relations,
        "embedding": metadata.get("embedding"), "chunk_token_size": metadata.get("chunk_token_size"),
        "tokenizer": metadata.get("tokenizer"),
        "warning": kb_folder.embedding_mismatch(working_dir, settings.embedding_model,
                                                settings.embedding_dim),
    }


def _keyword_extractor(settings):
    """Keywords for the graph modes from the configured LLM, as the agent's run would get them."""
    import openai

    client = openai.OpenAI(base_url=settings.llm_base_url, api_key=settings.api_key,
                           timeout=settings.llm_timeout_s, max_retries=settings.llm_max_retries)

    def extract(prompt: str) -> str:
        reply = client.chat.completions.create(model=settings.llm_model, temperature=0,
                                               messages=[{"role": "user", "content": prompt}])
        return reply.choices[0].message.content or ""
    return extract


def search(working_dir: Path, query: str, top_k: int, settings, mode: str = "mix",
           keywords: dict[str, list[str]] | None = None) -> dict:
    from worker.kb.adapter import KnowledgeBase
    from worker.llm.embeddings import openai_embedder

    namespace = kb_folder.recorded_namespace(kb_folder.read_metadata(working_dir))
    kb = KnowledgeBase(namespace if namespace in kb_folder.KB_NAMESPACES else "kb_principles",
                       str(working_dir), openai_embedder(settings),
                       settings.embedding_dim, settings.embedding_model)
    try:
        found = kb.search(query, top_k, mode=mode, keywords=keywords,
                          extract_keywords=_keyword_extractor(settings))
        scores = kb.similarity_scores(query, top_k)
    finally:
        kb.close()
    return {"mode": mode, "keywords": found.keywords, "entities": found.entities,
            "relations": found.relations,
            "chunks": [{"chunk_id": c.chunk_id, "source": c.source,
                        "score": scores.get(c.chunk_id), "content": c.content}
                       for c in found.chunks]}


def configuration_problems(settings, command: str, mode: str = "mix", keywords=None) -> list[str]:
    """What the command needs from the configuration and does not have, checked before any work
    (LightRAG would otherwise fail document by document, each with a traceback)."""
    problems = []
    if not settings.api_key:
        problems.append(f"{settings.llm_api_key_env} is not set (the embedding endpoint "
                        f"{settings.embedding_base_url} needs it"
                        + (", and so does the LLM that extracts entities)" if command == "build" else ")"))
    if not settings.embedding_model:
        problems.append("C2XC_EMBEDDING_MODEL is not set")
    if (command == "build" or (mode != "naive" and not keywords)) and not settings.llm_model:
        problems.append("C2XC_LLM_MODEL is not set")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="c2xc-kb", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    b = commands.add_parser("build", help="ingest .md/.txt documents into a working directory")
    b.add_argument("source", type=Path)
    b.add_argument("--kb", required=True, type=_kb_name,
                   help=f"which knowledge base: {' or '.join(kb_folder.KB_NAMESPACES)}")
    b.add_argument("--out", required=True, type=Path)
    b.add_argument("--chunk-size", type=int, default=512, help="tokens per chunk (default 512)")
    i = commands.add_parser("inspect", help="counts and the embedding recorded at build time")
    i.add_argument("working_dir", type=Path)
    s = commands.add_parser("search", help="the chunks the agent's kb_search would see")
    s.add_argument("working_dir", type=Path)
    s.add_argument("query")
    s.add_argument("--top-k", type=int, default=5)
    s.add_argument("--mode", default="mix", choices=MODES,
                   help="LightRAG retrieval mode (default mix, as the agent)")
    s.add_argument("--keywords", help="comma-separated entities to look up (low-level keywords); "
                   "without it the graph modes ask the configured LLM, as the agent's run would")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    keywords = ({"low_level": [k.strip() for k in args.keywords.split(",") if k.strip()]}
                if getattr(args, "keywords", None) else None)
    try:
        settings = load_run_settings()
        if args.command != "inspect":
            problems = configuration_problems(settings, args.command, getattr(args, "mode", "mix"),
                                              keywords)
            if problems:
                print(f"c2xc-kb {args.command}: cannot start: {'; '.join(problems)} "
                      "(set them in the environment or .env; see .env.example)", file=sys.stderr)
                return 2
        if args.command == "build":
            if not args.source.is_dir():
                parser.error(f"{args.source} is not a directory")
            report = build(args.source, args.out, args.kb, settings,
                           chunk_tokens=args.chunk_size, progress=_progress_printer())
            _print_report(report)
            return 1 if report.failed else 0
        if args.command == "inspect":
            print(json.dumps(inspect(args.working_dir, settings), indent=2))
            return 0
        print(json.dumps(search(args.working_dir, args.query, args.top_k, settings,
                                mode=args.mode, keywords=keywords), indent=2, ensure_ascii=False))
        return 0
    except KbError as exc:
        print(f"c2xc-kb: {exc.message}", file=sys.stderr)
        return 1
    except (ConfigError, ValueError) as exc:
        print(f"c2xc-kb: {exc}", file=sys.stderr)
        return 2
    except openai.OpenAIError as exc:  # an endpoint that refuses or is down: one line, no traceback
        print(f"c2xc-kb {args.command}: the endpoint failed: {type(exc).__name__}: {str(exc)[:300]}",
              file=sys.stderr)
        return 1

