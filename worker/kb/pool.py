"""The worker's open knowledge bases, kept across runs.

Opening a LightRAG working directory reads its graph, vectors and chunks
from disk (about half a second for a small KB, more for a real one); a
worker that reopened both KBs for every run paid that on every run. The
pool keeps each KB open and reopens it only when its folder changed on disk
(the builder rewrote it) or a run asks for another folder or embedding.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass

from core.settings import RunSettings
from worker.kb.adapter import KnowledgeBase
from worker.kb.workspace import folder_version
from worker.llm.embeddings import openai_embedder

log = logging.getLogger("c2xc.worker")


@dataclass(frozen=True)
class _Key:
    namespace: str
    real_path: str
    embedding_model: str
    embedding_dim: int
    embedding_base_url: str


class KnowledgeBasePool:
    def __init__(self):
        self._open: dict[_Key, KnowledgeBase] = {}
        self.opened = 0  # how many times a KB was (re)opened: for tests and logs

    def get(self, namespace: str, directory: str, settings: RunSettings) -> KnowledgeBase:
        key = _Key(namespace, os.path.realpath(directory) if directory else "",
                   settings.embedding_model, settings.embedding_dim, settings.embedding_base_url)
        kb = self._open.get(key)
        if kb is not None and kb.opened_version not in (None, folder_version(directory)):
            log.info("knowledge base %s changed on disk; reopening it", namespace)
            kb.close()
            kb = None
        if kb is None:
            for stale in [k for k in self._open if k.namespace == namespace]:
                self._open.pop(stale).close()  # one folder per KB name open at a time
            kb = KnowledgeBase(namespace, directory, openai_embedder(settings),
                               settings.embedding_dim, settings.embedding_model)
            self._open[key] = kb
            self.opened += 1
        return kb

    def for_run(self, settings: RunSettings) -> dict[str, KnowledgeBase]:
        return {namespace: self.get(namespace, directory, settings)
                for namespace, directory in settings.kb_dirs().items()}

    def close(self) -> None:
        for kb in self._open.values():
            kb.close()
        self._open.clear()
