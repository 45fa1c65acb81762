"""Idempotency-Key on POST /batches, against gunicorn with two worker processes."""
import uuid
from concurrent.futures import ThreadPoolExecutor

import requests

BODY = {"user_request": "idempotent Cu/Zn", "dry_run": True, "n_runs": 2}


def _post(service, body, key):
    return requests.post(f"{service.base_url}/batches", json=body,
                         headers={"Idempotency-Key": key}, timeout=30)


def _batch_count(service):
    count, cursor = 0, None
    while True:
        page = service.get("/batches", params={"limit": 200, **({"cursor": cursor} if cursor else {})}).json()
        count += len(page["items"])
        if not page["has_more"]:
            return count
        cursor = page["next_cursor"]


def test_same_key_same_body_returns_the_original_response(service):
    key = str(uuid.uuid4())
    first = _post(service, BODY, key)
    before = _batch_count(service)
    again = _post(service, dict(reversed(list(BODY.items()))), key)  # same body, other key order
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert _batch_count(service) == before


def test_same_key_different_body_is_a_conflict(service):
    key = str(uuid.uuid4())
    assert _post(service, BODY, key).status_code == 201
    clash = _post(service, {**BODY, "n_runs": 3}, key)
    assert clash.status_code == 409
    assert clash.json()["error"]["code"] == "conflict"


def test_concurrent_requests_with_one_key_create_exactly_one_batch(service):
    key = str(uuid.uuid4())
    before = _batch_count(service)
    with ThreadPoolExecutor(10) as pool:
        replies = list(pool.map(lambda _: _post(service, BODY, key), range(10)))
    assert {r.status_code for r in replies} == {201}
    assert len({r.json()["batch"]["batch_id"] for r in replies}) == 1
    assert _batch_count(service) == before + 1


def test_malformed_keys_are_rejected(service):
    for key in ("has space", "x" * 256):
        reply = _post(service, BODY, key)
        assert reply.status_code == 422
        assert "Idempotency-Key" in reply.json()["error"]["details"]["fields"]
