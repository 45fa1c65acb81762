"""Lab feedback: products, presets, feedback, export."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from api.schemas.common import (
    MAX_PRODUCTS,
    MAX_TEXT,
    STATUS_VALUES,
    PageArgsSchema,
    StrictFloat,
    StrictSchema,
    list_schema,
    name_field,
)


class _CatalogueEntrySchema(ma.Schema):
    """What products and presets share: a unique name, a status, nothing ever deleted."""

    name = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(STATUS_VALUES))
    created_at = fields.Float(required=True)
    updated_at = fields.Float(required=True)
    schema_version = fields.Integer(required=True)
    extra = fields.Dict(required=True)


class _CatalogueCreateSchema(StrictSchema):
    name = name_field(required=True, metadata={"description": "unique, compared trimmed and without case"})
    status = fields.String(load_default="active", validate=validate.OneOf(STATUS_VALUES))
    extra = fields.Dict(load_default=dict)


class _CatalogueUpdateSchema(StrictSchema):
    """Only the fields given change."""

    name = name_field()
    status = fields.String(validate=validate.OneOf(STATUS_VALUES),
                           metadata={"description": "archived: kept where it was used, no longer offered"})
    extra = fields.Dict()


class ProductSchema(_CatalogueEntrySchema):
    product_id = fields.String(required=True)


class ProductCreateSchema(_CatalogueCreateSchema):
    pass


class ProductUpdateSchema(_CatalogueUpdateSchema):
    pass


class StatusListArgsSchema(PageArgsSchema):
    status = fields.String(validate=validate.OneOf(STATUS_VALUES))


ProductListSchema = list_schema(ProductSchema, "ProductList")


class PresetSchema(_CatalogueEntrySchema):
    preset_id = fields.String(required=True)
    product_ids = fields.List(fields.String(), required=True)
    products = fields.List(fields.Nested(ProductSchema), required=True,
                           metadata={"description": "in the preset's order"})


def _product_ids(**extra):
    return fields.List(fields.String(validate=validate.Length(1, 100)),
                       validate=validate.Length(max=MAX_PRODUCTS),
                       metadata={"description": "ordered; each an existing, active product, listed once"},
                       **extra)


class PresetCreateSchema(_CatalogueCreateSchema):
    product_ids = _product_ids(required=True)


class PresetUpdateSchema(_CatalogueUpdateSchema):
    product_ids = _product_ids()


PresetListSchema = list_schema(PresetSchema, "PresetList")


class StandardPresetSchema(ma.Schema):
    preset = fields.Nested(PresetSchema, required=True)
    products_added = fields.List(fields.String(), required=True,
                                 metadata={"description": "names of the products created now"})


_AMOUNT = dict(allow_nan=False, validate=validate.Range(min=0, max=1.7976931348623157e308))


class FeedbackProductInSchema(StrictSchema):
    product_id = fields.String(required=True, validate=validate.Length(1, 100))
    value = StrictFloat(required=True, **_AMOUNT, metadata={
        "description": "the measured amount (finite, ≥ 0), in any unit shared by the products"})


class FeedbackPutSchema(StrictSchema):
    score = StrictFloat(required=True, allow_nan=False, validate=validate.Range(0, 10),
                         metadata={"description": "the chemist's overall rating, 0..10"})
    pros = fields.String(load_default="", validate=validate.Length(max=MAX_TEXT))
    cons = fields.String(load_default="", validate=validate.Length(max=MAX_TEXT))
    other = fields.String(load_default="", validate=validate.Length(max=MAX_TEXT))
    recipe_index = fields.Integer(allow_none=True, load_default=None, strict=True,
                                  validate=validate.Range(min=1),
                                  metadata={"description": "which recipe of the run was made (1-based)"})
    products = fields.List(fields.Nested(FeedbackProductInSchema), load_default=list,
                           validate=validate.Length(max=MAX_PRODUCTS))
    schema_version = fields.Integer(load_default=1, strict=True, validate=validate.OneOf([1]))
    extra = fields.Dict(load_default=dict)


class FeedbackProductSchema(ma.Schema):
    product_id = fields.String(required=True)
    name = fields.String(required=True)
    status = fields.String(required=True)
    value = fields.Float(required=True)
    fraction = fields.Float(required=True, metadata={"description": "value / sum, computed by the server"})


class FeedbackSchema(ma.Schema):
    run_id = fields.String(required=True)
    feedback_id = fields.String(required=True)
    score = fields.Float(required=True)
    pros = fields.String(required=True)
    cons = fields.String(required=True)
    other = fields.String(required=True)
    recipe_index = fields.Integer(allow_none=True, required=True)
    products = fields.List(fields.Nested(FeedbackProductSchema), required=True)
    value_sum = fields.Float(required=True)
    fractions_all_zero = fields.Boolean(required=True, metadata={
        "description": "true when the values sum to 0: every fraction is 0"})
    created_at = fields.Float(required=True)
    updated_at = fields.Float(required=True)
    schema_version = fields.Integer(required=True)
    extra = fields.Dict(required=True)


class ExportArgsSchema(StrictSchema):
    format = fields.String(load_default="csv", validate=validate.OneOf(["csv", "jsonl"]),
                           metadata={"description": "csv (default) or jsonl (one JSON object per line)"})
    batch_id = fields.String(validate=validate.Length(1, 100),
                             metadata={"description": "only this batch's runs"})
    bom = fields.Boolean(load_default=False, metadata={
        "description": "csv only: start with a UTF-8 byte-order mark, so Excel reads non-ASCII "
                       "text (乙烯, Ä, µ) right"})
