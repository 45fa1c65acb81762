"""The trace vocabulary (core/trace.py) and the error codes are what docs/API.md says they are."""
import json
import re
from pathlib import Path

from core import trace
from core.errors import RUN_ERROR_CODES

API_DOC = Path(__file__).resolve().parents[1] / "docs" / "API.md"


def _between(text: str, start: str, end: str) -> str:
    return text[text.index(start) + len(start):text.index(end)].strip()


def test_the_event_table_in_the_api_guide_is_generated_from_the_vocabulary():
    documented = _between(API_DOC.read_text(), "<!-- trace-vocabulary:start -->",
                          "<!-- trace-vocabulary:end -->")
    assert documented == trace.markdown_table(), "run: python -m core.trace --update docs/API.md"


def test_every_run_error_code_is_documented():
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", API_DOC.read_text(), re.MULTILINE))
    assert set(RUN_ERROR_CODES) <= documented


def test_payloads_are_json_and_optional_fields_are_left_out_when_unset():
    canceled = trace.RunCanceled(reason=None, stage="queued", started=False)
    assert canceled.payload() == {"reason": None, "while": "queued", "started": False}
    failed = trace.RunFailed(error_code="kb_error", message="gone", details={"namespace": "kb_x"})
    assert failed.payload() == {"error_code": "kb_error", "message": "gone", "namespace": "kb_x"}
    response = trace.LlmResponse(latency_ms=3.0, error="RateLimitError")
    assert "placeholder" not in response.payload() and response.payload()["error"] == "RateLimitError"
    for event in (canceled, failed, response):
        json.dumps(event.payload())


def test_every_event_type_has_a_unique_name_and_a_summary():
    names = [cls.event_type for cls in trace.EVENT_TYPES.values()]
    assert len(names) == len(set(names)) and all(names)
    assert all(cls.summary for cls in trace.EVENT_TYPES.values())
    assert set(trace.TERMINAL_EVENT_TYPES) <= set(trace.EVENT_TYPES)
