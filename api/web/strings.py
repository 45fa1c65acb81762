"""Every string the pages' scripts show, in the reader's language.

The scripts receive this dictionary (key -> translated text) in a JSON data
block of the page, so their text goes through the same message catalogue as
the templates' (``pybabel extract`` finds these ``_l`` calls). Placeholders
in braces are filled by the script. ``tests/test_web_i18n.py`` checks that
every key a script uses exists here and that every message has a Chinese
translation.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

STATUSES = ("queued", "running", "completed", "failed", "canceled")
EVENT_LABELS = {
    "run_started": _l("Run started"), "recap_info": _l("Agent step"),
    "kb_query": _l("Knowledge-base search"), "kb_get": _l("Chunk re-read"),
    "kb_list": _l("Evidence listed"), "note_update": _l("Run note updated"),
    "llm_request": _l("LLM request"), "llm_response": _l("LLM response"),
    "citations_resolved": _l("Citations resolved"), "final_output": _l("Final output"),
    "run_failed": _l("Run failed"), "run_canceled": _l("Run canceled"),
}

_STRINGS = {
    "status.queued": _l("queued"), "status.running": _l("running"),
    "status.completed": _l("completed"), "status.failed": _l("failed"),
    "status.canceled": _l("canceled"),
    "mode.dry_run": _l("dry run"), "mode.normal": _l("normal run"),
    "preset.all": _l("All"), "preset.llm": _l("LLM calls"), "preset.retrieval": _l("Retrieval"),
    "preset.agent": _l("Agent steps"), "preset.errors": _l("Errors"),
    "kb.kb_principles": _l("Principles"), "kb.kb_modulation": _l("Modulation"),
    "loading": _l("Loading…"),
    "error.unreachable": _l("The service cannot be reached. Is it running?"),
    "time.seconds": _l("{n} s"), "time.minutes": _l("{m} min {s} s"),
    "nav.back_to_runs": _l("Back to the runs"),
    "confirm.text": _l("This starts {runs} normal run(s): the LLM ({model} at {endpoint}) will be "
                       "called and the knowledge bases searched. This costs tokens and time."),
    "preflight.title": _l("A normal run cannot start yet"),
    "preflight.intro": _l("The service is missing these settings. Set them in the environment of "
                          "both the API and the worker (for example in .env), restart both, and "
                          "try again:"),
    "preflight.hint_kb": _l("Point {name} at a knowledge-base folder built with c2xc-kb build."),
    "preflight.hint_env": _l("Set {name} in the environment."),
    "preflight.hint_model": _l("Set {name} to the model name your endpoint serves."),
    "preflight.hint_package": _l("Install the project again: make setup-run."),
    "preflight.system": _l("See the System page for what is configured."),
    "batch.created": _l("Batch created."), "batch.hide": _l("Hide"), "batch.unhide": _l("Unhide"),
    "batch.runs": _l("Runs of this batch"),
    "batch.shape": _l("{runs} run(s) × {recipes} recipe(s)"),
    "run.number": _l("Run {n}"), "run.title": _l("Run {n}"),
    "run.cancel_requested": _l("cancel requested"),
    "run.cancel_pending": _l("Cancel requested (reason: {reason}). The run stops at its next step."),
    "run.cancel_reason_ui": _l("canceled from the run page"),
    "run.created": _l("Created"), "run.started": _l("Started"), "run.finished": _l("Finished"),
    "run.duration": _l("Duration"), "run.recipes": _l("Recipes asked for"), "run.id": _l("Run id"),
    "run.not_found": _l("This run does not exist."),
    "run.rerun_started": _l("A new run with the same parameters was queued."),
    "output.none_queued": _l("The run has not started yet."),
    "output.none_running": _l("The run is still working; its recipes appear here when it completes."),
    "output.none_failed": _l("The run failed, so it has no recipes. The error is shown above."),
    "output.none_canceled": _l("The run was canceled before it produced recipes."),
    "output.copied": _l("Output copied as JSON."),
    "recipe.ratio": _l("ratio {ratio}"), "recipe.rationale": _l("Why"),
    "recipe.formula": _l("Formula"), "recipe.mw": _l("Molecular weight"),
    "recipe.mw_value": _l("{mw} g/mol"), "recipe.cooh": _l("-COOH groups"),
    "recipe.smiles": _l("SMILES"), "recipe.inchikey": _l("InChIKey"),
    "recipe.name_check": _l("Name"), "recipe.name_verified": _l("matches the structure (OPSIN)"),
    "recipe.name_not_verified": _l("not verified (the structure was checked)"),
    "recipe.no_structure": _l("No structure was recorded for this recipe."),
    "recipe.structure_of": _l("Structure of {name}"),
    "evidence.open": _l("Open evidence {alias}"), "evidence.title": _l("Evidence {alias}"),
    "evidence.source": _l("Source"), "evidence.kb": _l("Knowledge base"),
    "evidence.cited_by": _l("Cited by"), "evidence.not_cited": _l("not cited"),
    "evidence.ref": _l("Reference"), "evidence.show_text": _l("Show text"),
    "evidence.hide_text": _l("Hide text"),
    "trace.show_all": _l("Show all ({size})"),
    "trace.pruned": _l("This run's trace was deleted by retention on {when}; its recipes, evidence and "
                       "feedback are kept."),
    "role.orchestrator": _l("Orchestrator"), "role.tio2_expert": _l("TiO2 doping expert"),
    "role.mof_expert": _l("MOF modifier expert"),
    "reasoning.cost": _l("{calls} LLM call(s) · {tokens} tokens · {time} s"),
    "reasoning.think": _l("Reasoning"), "reasoning.first_plan": _l("Plan as first stated"),
    "reasoning.revision": _l("Plan revised (version {n})"), "reasoning.steps": _l("What it did"),
    "reasoning.unplanned": _l("acted without a plan"),
    "reasoning.remaining": _l("Still to do when it stopped"),
    "reasoning.repair": _l("Sent back (time {n})"), "reasoning.conclusion": _l("Conclusion"),
    "reasoning.final_answer": _l("The final answer: the recipes on the Output tab."),
    "reasoning.status_working": _l("working"), "reasoning.status_done": _l("done"),
    "reasoning.status_stopped": _l("stopped"),
    "reasoning.none": _l("No reasoning recorded yet."),
    "reasoning.argued_by": _l("Argued by:"),
    "feedback.not_completed": _l("Feedback can be given once the run has completed."),
    "feedback.choose_product": _l("Choose a product"),
    "feedback.archived_product": _l("{name} (archived)"),
    "feedback.product_n": _l("Product {n}"), "feedback.amount_n": _l("Amount of product {n}"),
    "feedback.remove": _l("Remove"), "feedback.no_recipe": _l("Not given"),
    "feedback.recipe_n": _l("Recipe #{n}"), "feedback.choose_preset": _l("Choose a preset"),
    "feedback.saved": _l("Feedback saved."),
    "catalogue.active": _l("active"), "catalogue.archived": _l("archived"),
    "catalogue.saved": _l("Saved."), "catalogue.added": _l("{name} added."),
    "catalogue.name_of": _l("Name of {name}"), "catalogue.rename": _l("Rename"),
    "catalogue.archive": _l("Archive"), "catalogue.restore": _l("Restore"),
    "catalogue.edit": _l("Edit"), "catalogue.remove": _l("Remove"),
    "catalogue.move_up": _l("Move {name} up"), "catalogue.move_down": _l("Move {name} down"),
    "catalogue.edit_preset": _l("Edit preset {name}"), "catalogue.new_preset": _l("New preset"),
    "catalogue.standard_added": _l("Standard preset ready ({n} product(s) added)."),
    "system.worker_alive": _l("running"), "system.worker_down": _l("not running"),
    "system.worker_hint": _l("Start a worker: make run, or c2xc-worker."),
    "system.heartbeat_age": _l("Last heartbeat"), "system.current_run": _l("Current run"),
    "system.idle": _l("idle"), "system.live_workers": _l("Live workers"),
    "system.pid_host": _l("Process"), "system.poll_interval": _l("Poll interval"),
    "system.reconciled": _l("Runs reconciled at start"),
    "system.normal_ready": _l("ready"), "system.normal_blocked": _l("cannot start"),
    "system.version_service": _l("Service"), "system.version_api": _l("API"),
    "system.version_schema": _l("Database schema (file / code)"),
    "system.not_configured": _l("not configured"), "system.kb_ready": _l("ready"),
    "system.kb_problem": _l("problem"),
    "system.llm_model": _l("LLM model"), "system.llm_endpoint": _l("LLM endpoint"),
    "system.llm_key": _l("LLM key"), "system.key_set": _l("{name} is set"),
    "system.key_missing": _l("{name} is not set"), "system.embedding": _l("Embedding model"),
    "system.embedding_endpoint": _l("Embedding endpoint"), "system.bounds": _l("Agent bounds"),
    "system.timeout": _l("LLM timeout"), "system.streams": _l("Live streams per API worker"),
}


def script_strings() -> dict[str, str]:
    """The dictionary for this request's language."""
    strings = {key: str(value) for key, value in _STRINGS.items()}
    strings.update({f"event.{name}": str(label) for name, label in EVENT_LABELS.items()})
    return strings
