"""What every resource's schemas share: strictness, the error envelope, pages, text rules."""

from __future__ import annotations

import unicodedata

import marshmallow as ma
from marshmallow import fields, validate

from core.catalogue_names import display_name
from core.errors import HTTP_ERROR_CODES

MAX_LIMIT = 200
MAX_USER_REQUEST_CHARS = 20_000


def not_blank(value: str) -> bool:
    if not value.strip():
        raise ma.ValidationError("must not be blank")
    return True


class StrictSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE


# --- errors -----------------------------------------------------------------

class ErrorBodySchema(ma.Schema):
    code = fields.String(required=True, metadata={"description": "stable machine-readable code",
                                                  "enum": list(HTTP_ERROR_CODES)})

    message = fields.String(required=True)
    details = fields.Dict(required=True)


class ErrorEnvelopeSchema(ma.Schema):
    error = fields.Nested(ErrorBodySchema, required=True)


# --- pagination ---------------------------------------------------------------

class PageArgsSchema(StrictSchema):
    limit = fields.Integer(load_default=50, validate=validate.Range(1, MAX_LIMIT),
                           metadata={"description": f"page size, 1..{MAX_LIMIT} (larger is rejected)"})
    cursor = fields.String(validate=validate.Length(1, 512),
                           metadata={"description": "next_cursor of the previous page"})


def list_schema(item_schema: type[ma.Schema], name: str) -> type[ma.Schema]:
    return ma.Schema.from_dict({
        "items": fields.List(fields.Nested(item_schema), required=True),
        "next_cursor": fields.String(allow_none=True, required=True),
        "has_more": fields.Boolean(required=True),
    }, name=name)



# --- values shared by several resources ----------------------------------------

class StrictFloat(fields.Float):
    """A JSON number only: "7" and true are refused (a lab value typed as text is a mistake)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, (str, bool)):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


STATUS_VALUES = ("active", "archived")
MAX_NAME, MAX_TEXT, MAX_PRODUCTS = 100, 4000, 50


def no_control_characters(value: str) -> bool:
    """A name is one line of text. (A NUL would also end it early for SQLite's length()
    in the table's CHECK: found by the contract fuzzing as a 500.)"""
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        raise ma.ValidationError("must not contain control characters (tabs, line breaks, NUL, …)")
    return True


def bounded_text(max_chars: int):
    """Non-blank and at most ``max_chars``, said in one message (a blank "" used to get both
    "Length must be between 1 and …" and "must not be blank")."""
    def check(value: str) -> bool:
        if not value.strip():
            raise ma.ValidationError("must not be blank")
        if len(value) > max_chars:
            raise ma.ValidationError(f"must be at most {max_chars:,} characters (got {len(value):,})")
        return True
    return check


def visible_name(value: str) -> bool:
    """Blank is blank however it is spelled: spaces of any kind, zero-width characters."""
    if not display_name(value):
        raise ma.ValidationError("must not be blank (spaces and invisible characters do not count)")
    return True


def name_field(**extra):
    return fields.String(validate=[validate.Length(1, MAX_NAME), visible_name, no_control_characters],
                         **extra)
