import base64
import json

import pytest

from core.errors import InvalidArgument
from store.cursor import decode_cursor, encode_cursor, page


@pytest.mark.parametrize("key", [0, 1, 42, 2**53])
def test_cursor_round_trips(key):
    assert decode_cursor("events", encode_cursor("events", key)) == key


@pytest.mark.parametrize("kind", ["events", "evidence", "runs", "batches", "memories", "memory_deltas",
                                  "products", "presets"])
@pytest.mark.parametrize("key", [0, 7, 10**6, 2**53])
def test_cursor_text_is_the_compact_json_it_always_was(kind, key):
    """Formatted directly for speed (issue 24): a cursor a client holds must still decode the same."""
    doc = json.dumps({"v": 1, "k": kind, "after": key}, separators=(",", ":"))
    assert encode_cursor(kind, key) == base64.urlsafe_b64encode(doc.encode()).decode().rstrip("=")


def test_cursor_is_url_safe_and_opaque():
    cursor = encode_cursor("events", 123456789)
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def _b64(doc) -> str:
    return base64.urlsafe_b64encode(json.dumps(doc).encode()).decode()


@pytest.mark.parametrize("garbage", [
    "", "!!!", "zzz", "not-base64-%%", "\u00e9\u00e9", _b64([1, 2]), _b64({"v": 1, "k": "events"}),
    _b64({"v": 2, "k": "events", "after": 1}), _b64({"v": 1, "k": "events", "after": -1}),
    _b64({"v": 1, "k": "events", "after": "1"}), _b64({"v": 1, "k": "events", "after": True}),
    base64.urlsafe_b64encode(b"\xff\xfe").decode(),
])
def test_garbage_cursor_is_invalid_argument(garbage):
    with pytest.raises(InvalidArgument) as caught:
        decode_cursor("events", garbage)
    assert caught.value.code == "invalid_argument"


def test_cursor_of_another_list_is_rejected():
    with pytest.raises(InvalidArgument):
        decode_cursor("runs", encode_cursor("events", 5))


def test_page_reports_more_only_when_an_extra_row_was_fetched():
    items, cursor, more = page([{"k": 1}, {"k": 2}, {"k": 3}], 2, "x", lambda r: r["k"])
    assert items == [{"k": 1}, {"k": 2}] and more and decode_cursor("x", cursor) == 2
    items, cursor, more = page([{"k": 1}, {"k": 2}], 2, "x", lambda r: r["k"])
    assert len(items) == 2 and cursor is None and not more


def test_batched_appends_keep_strict_order_after_single_appends(conn):
    import time

    from store import events
    from tests.store_helpers import queue_batch

    _, (run_id,) = queue_batch(conn, 1)
    events.append_event(conn, run_id, "a", {"i": 0}, time.time())
    batch = events.append_events(conn, run_id, [("b", {"i": i}) for i in range(1, 4)], time.time())
    events.append_event(conn, run_id, "c", {"i": 4}, time.time())
    listed, _, _ = events.list_events(conn, run_id, limit=10, cursor=None, include_payload=True)
    assert [e.payload["i"] for e in listed] == [0, 1, 2, 3, 4]
    assert [e.seq for e in batch] == [listed[i].seq for i in (1, 2, 3)]
