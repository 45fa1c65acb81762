"""A run's trace and evidence: events, the live stream, evidence items."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from api.schemas.common import PageArgsSchema, StrictSchema, list_schema

# --- events and evidence -------------------------------------------------------

class EventListArgsSchema(PageArgsSchema):
    event_type = fields.List(fields.String(validate=validate.Length(1, 64)),
                             validate=validate.Length(max=20),
                             metadata={"description": "repeatable; any of these types"})
    since = fields.Float(metadata={"description": "created_at >= since (epoch seconds)"})
    until = fields.Float(metadata={"description": "created_at < until (epoch seconds)"})
    include_payload = fields.Boolean(load_default=False)


class EventSchema(ma.Schema):
    event_id = fields.String(required=True)
    run_id = fields.String(required=True)
    created_at = fields.Float(required=True)
    event_type = fields.String(required=True)
    payload_bytes = fields.Integer(required=True)
    cursor = fields.String(metadata={"description": "pass as `cursor` (list) or `after` (stream) "
                                     "to continue right after this event"})
    payload = fields.Raw(metadata={"description": "only with include_payload=true; always on detail"})


EventListSchema = list_schema(EventSchema, "EventList")


class EventStreamArgsSchema(StrictSchema):
    event_type = fields.List(fields.String(validate=validate.Length(1, 64)),
                             validate=validate.Length(max=20),
                             metadata={"description": "repeatable; only these types"})
    after = fields.String(validate=validate.Length(1, 512),
                          metadata={"description": "continue after this cursor (an event's SSE id "
                                    "or a list page's next_cursor)"})


class LastEventIdHeaderSchema(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    last_event_id = fields.String(data_key="Last-Event-ID", validate=validate.Length(max=512),
                                  metadata={"description": "sent by browsers on reconnect"})


class EvidenceListArgsSchema(PageArgsSchema):
    include_content = fields.Boolean(load_default=False)


class EvidenceSchema(ma.Schema):
    alias = fields.String(required=True)
    ref = fields.String(required=True)
    source = fields.String(required=True)
    kb_namespace = fields.String(required=True)
    lightrag_chunk_id = fields.String(required=True)
    created_at = fields.Float(required=True)
    content = fields.String(metadata={"description": "only with include_content=true; always on detail"})


EvidenceListSchema = list_schema(EvidenceSchema, "EvidenceList")
