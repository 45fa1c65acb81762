"""Records from the store turned into response dicts (the schemas then document them).

Optional heavy fields (event payloads, chunk content) are left out of the
dict entirely unless asked for, so they are absent from the JSON, not null.
"""
from __future__ import annotations

from typing import Any

from store import events
from store.cancels import ALREADY_FINISHED, ALREADY_REQUESTED, CancelOutcome
from store.cursor import encode_cursor
from store.records import Batch, Event, EvidenceItem, Preset, Run, RunOutput

_CANCEL_MESSAGES = {
    "requested": "cancel recorded; queued runs will not start, a running run stops at its next step",
    ALREADY_REQUESTED: "a cancel was already recorded; nothing more to do",
    ALREADY_FINISHED: "already finished; nothing was changed",
}


def batch_dict(batch: Batch) -> dict[str, Any]:
    return {"batch_id": batch.batch_id, "created_at": batch.created_at, "status": batch.status,
            "user_request": batch.user_request, "n_runs": batch.n_runs,
            "recipes_per_run": batch.recipes_per_run, "temperature": batch.temperature,
            "dry_run": batch.dry_run, "run_counts": batch.run_counts,
            "config_snapshot": batch.config_snapshot, "schema_version": batch.schema_version,
            "extra": batch.extra}


def output_dict(output: RunOutput) -> dict[str, Any]:
    return {"recipes_json": output.recipes_json, "citations": output.citations,
            "memory_ids": output.memory_ids}


def run_dict(run: Run) -> dict[str, Any]:
    error = {"code": run.error_code, "message": run.error_message} if run.error_code else None
    return {"run_id": run.run_id, "batch_id": run.batch_id, "run_index": run.run_index,
            "status": run.status, "dry_run": run.dry_run, "created_at": run.created_at,
            "started_at": run.started_at, "finished_at": run.finished_at,
            "worker_id": run.worker_id, "error": error,
            "cancel_requested": run.cancel_requested,
            "cancel_requested_at": run.cancel_requested_at, "cancel_reason": run.cancel_reason,
            "trace_pruned_at": run.trace_pruned_at, "schema_version": 1, "extra": {}}


def event_dict(event: Event, with_payload: bool) -> dict[str, Any]:
    """A list item; ``cursor`` continues a list (or a stream) right after this event."""
    item = {"event_id": event.event_id, "run_id": event.run_id, "created_at": event.created_at,
            "event_type": event.event_type, "payload_bytes": event.payload_bytes,
            "cursor": encode_cursor(events.CURSOR_KIND, event.seq)}
    if with_payload:
        item["payload"] = event.payload
    return item


def evidence_dict(item: EvidenceItem, with_content: bool) -> dict[str, Any]:
    result = {"alias": item.alias, "ref": item.ref, "source": item.source,
              "kb_namespace": item.kb_namespace, "lightrag_chunk_id": item.lightrag_chunk_id,
              "created_at": item.created_at}
    if with_content:
        result["content"] = item.content
    return result


def cancel_dict(outcome: CancelOutcome) -> dict[str, Any]:
    return {"cancel_id": outcome.cancel_id, "status": outcome.status,
            "target_type": outcome.target_type, "target_id": outcome.target_id,
            "target_status": outcome.target_status, "message": _CANCEL_MESSAGES[outcome.status]}


_FACTS = ("canonical_smiles", "formula", "molecular_weight", "inchikey", "carboxylic_acid_groups",
          "heavy_atoms", "name_check", "name_check_note")


def modifier_checks(output: RunOutput) -> list[dict[str, Any]]:
    """Per recipe, the structure facts the worker checked and stored with the output."""
    items = []
    for rank, recipe in enumerate(output.recipes_json.get("recipes") or [], start=1):
        facts = recipe.get("modifier_structure") or {}
        items.append({"rank": recipe.get("rank", rank), "name": recipe.get("small_molecule_modifier"),
                      "smiles": recipe.get("modifier_smiles"),
                      **{key: facts.get(key) for key in _FACTS},
                      "structure_checked": bool(facts)})
    return items


def page_dict(items: list, next_cursor: str | None, has_more: bool) -> dict[str, Any]:

    return {"items": items, "next_cursor": next_cursor, "has_more": has_more}


def preset_dict(preset: Preset) -> dict[str, Any]:
    return {"preset_id": preset.preset_id, "name": preset.name, "status": preset.status,
            "product_ids": [p.product_id for p in preset.products], "products": preset.products,
            "created_at": preset.created_at, "updated_at": preset.updated_at,
            "schema_version": preset.schema_version, "extra": preset.extra}
