"""Sending a response whose dict already has its documented schema's shape.

The hot reads (the lists a browser polls, a run, its events, evidence and
output) build their dicts in ``api.serializers`` with exactly the fields of
their response schema. Dumping such a dict through marshmallow again walked
every field of every item to produce the same dict, and the ETag then
serialized it a second time to hash it: together more than half of each page
(``bench/bare_stack.py``, docs/PERFORMANCE.md). Here the dict is encoded once
by the app's JSON provider (the same bytes ``jsonify`` sends) and the ETag is
the hash of those bytes.

The view keeps its ``@blp.response(200, Schema)``: the schema stays what the
OpenAPI spec documents, and ``tests/test_exact_json.py`` holds every hot
response to it (the schema's dump of the body is the body, and it loads).
"""
from __future__ import annotations

import hashlib
from typing import Any

from flask import Response, current_app, request
from flask_smorest.exceptions import NotModified


def send(data: dict[str, Any]) -> Response:
    """``data`` as JSON, without a schema dump; the caller guarantees the schema's shape."""
    return current_app.json.response(data)


def send_with_etag(data: dict[str, Any]) -> Response:
    """As :func:`send`, with an ETag from the body; 304 when the client already has it."""
    response = send(data)
    tag = hashlib.sha1(response.get_data()).hexdigest()
    if tag in request.if_none_match:
        raise NotModified
    response.set_etag(tag)
    return response
