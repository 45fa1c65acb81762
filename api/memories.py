"""`/memories`: the lab memory a chemist can search, read with its provenance, add to and correct.

Every change here (a note, an edit, an archive) is a delta that can be rolled
back (``/memory/deltas``). A note or a text edit needs its vector before it
is stored — no memory without its vector — so the API embeds it with the
configured embedding endpoint *before* taking the write lock; without a
usable endpoint the answer is 503 ``dependency_unavailable`` and nothing is
written. Learning from feedback never happens here: the worker does it.
"""
from __future__ import annotations

import time
from typing import Any

from flask.views import MethodView

from api.blueprint import Blueprint
from api.context import conn, services
from api.schemas.memory import (MemoryChangedSchema, MemoryCreateSchema, MemoryDetailSchema,
                                MemoryListArgsSchema, MemoryListSchema,
                                MemoryPatchSchema)
from api.serializers import page_dict
from core.embedding import Embedder
from store import memory_changes, memory_deltas, memory_exposures
from store.memory_items import (MemoryItem, contradicting_results, encode_vector, get_item, get_items,
                                list_items, with_recipe)

blp = Blueprint("memories", __name__, description="Lab memory: what the agent learned from the lab")


def _embed(text: str) -> bytes:
    embedder = Embedder(services().run_settings)
    try:
        return encode_vector(embedder.embed_one(text))
    finally:
        embedder.close()


def _search(args: dict[str, Any]) -> dict[str, Any]:
    settings = services().run_settings
    embedder = Embedder(settings)
    try:
        query = embedder.embed_one(args["q"])
    finally:
        embedder.close()
    roles = (args["role"], "global") if args.get("role") else None
    hits = services().memory_index.search(conn(), query, embedder=embedder.stamp, dim=embedder.dim,
                                          k=args["limit"] * 4, roles=roles)
    items = get_items(conn(), [h.memory_id for h in hits])
    matching = with_recipe(conn(), list(items), args.get("metal"), args.get("modifier"))
    found = []
    for hit in hits:
        item = items[hit.memory_id]
        if hit.memory_id in matching and all(args.get(k) in (None, getattr(item, k))
                                             for k in ("kind", "polarity")):
            found.append({**vars(item), "score": hit.score})
    return page_dict(found[:args["limit"]], None, False)


def provenance(item: MemoryItem) -> dict[str, Any]:
    deltas, _, _ = memory_deltas.list_deltas(conn(), run_id=None, status=None,
                                             memory_id=item.memory_id, limit=50, cursor=None)
    return {"source_run_id": item.source_run_id, "feedback_version": item.feedback_version,
            "source_experiment_id": item.source_experiment_id,
            "contradicting": [{"memory_id": other.memory_id, "title": other.title, "polarity": other.polarity}
                              for other in contradicting_results(conn(), item)],
            "deltas": [{"delta_id": d.delta_id, "source": d.source, "status": d.status,
                        "summary": d.summary, "created_at": d.created_at} for d in deltas],
            "exposed_to_runs": memory_exposures.runs_exposed_to(conn(), item.memory_id),
            "cited_by_runs": memory_exposures.runs_citing(conn(), item.memory_id)}


@blp.route("/memories")
class Memories(MethodView):
    @blp.arguments(MemoryListArgsSchema, location="query")
    @blp.response(200, MemoryListSchema)
    @blp.alt_response(503, description="q given, and no usable embedding endpoint")
    def get(self, args):
        """List memories newest first (filters `status`, `kind`, `role`, `polarity`, `metal`,
        `modifier`), or search them by similarity with `q` (active memories only, whatever
        `status` says; ranked, one bounded page; the other filters apply)."""
        if args.get("q"):
            return _search(args)
        items, next_cursor, has_more = list_items(
            conn(), status=args.get("status"), kind=args.get("kind"), role=args.get("role"),
            polarity=args.get("polarity"), limit=args["limit"], cursor=args.get("cursor"),
            metal=args.get("metal"), modifier_smiles=args.get("modifier"))
        return page_dict(items, next_cursor, has_more)

    @blp.arguments(MemoryCreateSchema)
    @blp.response(201, MemoryChangedSchema)
    @blp.alt_response(422, description="validation failed; details.fields lists the fields")
    @blp.alt_response(503, description="no usable embedding endpoint: nothing was written")
    def post(self, body):
        """Add a chemist's note to the memory (active at once, shown to `role`); undoable."""
        vector = _embed(f"{body['title']}\n{body['content']}")
        item, delta_id = memory_changes.create_note(
            conn(), title=body["title"].strip(), content=body["content"].strip(), role=body["role"],
            polarity=body["polarity"], extra=body["extra"], vector=vector,
            embedder=services().run_settings.embedder_stamp, now=time.time())
        return {"memory": item, "delta_id": delta_id}


@blp.route("/memories/<string:memory_id>")
class MemoryDetail(MethodView):
    @blp.response(200, MemoryDetailSchema)
    @blp.alt_response(404, description="no such memory")
    def get(self, memory_id):
        """One memory with its provenance: where it came from, every change, who saw and cited it."""
        item = get_item(conn(), memory_id)
        return {**vars(item), "provenance": provenance(item)}

    @blp.arguments(MemoryPatchSchema)
    @blp.response(200, MemoryChangedSchema)
    @blp.alt_response(404, description="no such memory")
    @blp.alt_response(422, description="validation failed; details.fields lists the fields")
    @blp.alt_response(409, description="the memory changed while this edit was being embedded: reload")
    @blp.alt_response(503, description="the text changed and no embedding endpoint is usable")
    def patch(self, body, memory_id):
        """Correct a memory (title, content, polarity, role) or archive/restore it (`status`).

        The change is a delta (`delta_id`) that `POST /memory/deltas/{id}/rollback` undoes."""
        stamp = services().run_settings.embedder_stamp
        changes = {k: v.strip() if k in ("title", "content") else v for k, v in body.items()}
        item = get_item(conn(), memory_id)
        vector, text = None, memory_changes.edited_text(item, changes)
        if memory_changes.needs_new_vector(item, changes, stamp):
            vector = _embed(text)  # outside the lock: the store checks the text is still this
        item, delta_id = memory_changes.patch_item(conn(), memory_id, changes, time.time(),
                                                   vector=vector, embedder=stamp, embedded_text=text)
        return {"memory": item, "delta_id": delta_id}


