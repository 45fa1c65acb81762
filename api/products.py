"""`/products` and `/product_presets`: the catalogue lab feedback picks its products from.

Products and presets are created and renamed here, and archived or restored
with ``PUT status=…``; nothing is deleted, so old feedback always resolves.
"""
from __future__ import annotations

import time

from flask.views import MethodView

from api.blueprint import Blueprint
from api.context import conn
from api.schemas import (
    PresetCreateSchema,
    PresetListSchema,
    PresetSchema,
    PresetUpdateSchema,
    ProductCreateSchema,
    ProductListSchema,
    ProductSchema,
    ProductUpdateSchema,
    StandardPresetSchema,
    StatusListArgsSchema,
)
from api.serializers import page_dict, preset_dict
from store import products

blp = Blueprint("products", __name__, description="Product catalogue and presets (lab feedback)")


@blp.route("/products")
class Products(MethodView):
    @blp.arguments(StatusListArgsSchema, location="query")
    @blp.response(200, ProductListSchema)
    def get(self, args):
        """List products in the order they were added; filter by `status`."""
        items, next_cursor, has_more = products.list_products(
            conn(), status=args.get("status"), limit=args["limit"], cursor=args.get("cursor"))
        return page_dict(items, next_cursor, has_more)

    @blp.arguments(ProductCreateSchema)
    @blp.response(201, ProductSchema)
    @blp.alt_response(409, description="a product has this name (compared without case)")
    @blp.alt_response(422, description="validation failed; details.fields lists the fields")
    def post(self, body):
        """Add a product to the catalogue."""
        return products.create_product(conn(), name=body["name"], status=body["status"],
                                       extra=body["extra"], now=time.time())


@blp.route("/products/<string:product_id>")
class ProductDetail(MethodView):
    @blp.response(200, ProductSchema)
    @blp.alt_response(404, description="no such product")
    def get(self, product_id):
        """One product."""
        return products.get_product(conn(), product_id)

    @blp.arguments(ProductUpdateSchema)
    @blp.response(200, ProductSchema)
    @blp.alt_response(404, description="no such product")
    @blp.alt_response(409, description="another product has this name")
    @blp.alt_response(422, description="validation failed")
    def put(self, body, product_id):
        """Rename a product, or archive (`status: archived`) or restore it; fields left out are kept."""
        return products.update_product(conn(), product_id, name=body.get("name"),
                                       status=body.get("status"), extra=body.get("extra"),
                                       now=time.time())


@blp.route("/product_presets")
class Presets(MethodView):
    @blp.arguments(StatusListArgsSchema, location="query")
    @blp.response(200, PresetListSchema)
    def get(self, args):
        """List presets; filter by `status`."""
        items, next_cursor, has_more = products.list_presets(
            conn(), status=args.get("status"), limit=args["limit"], cursor=args.get("cursor"))
        return page_dict([preset_dict(p) for p in items], next_cursor, has_more)

    @blp.arguments(PresetCreateSchema)
    @blp.response(201, PresetSchema)
    @blp.alt_response(409, description="a preset has this name")
    @blp.alt_response(422, description="an unknown, archived or repeated product; other validation")
    def post(self, body):
        """Create a named, ordered set of products (e.g. "gas products")."""
        return preset_dict(products.create_preset(
            conn(), name=body["name"], product_ids=body["product_ids"], status=body["status"],
            extra=body["extra"], now=time.time()))


@blp.route("/product_presets/standard")
class StandardPreset(MethodView):
    @blp.response(201, StandardPresetSchema)
    @blp.alt_response(503, description="the database is unavailable (details.missing)")
    def post(self):

        """Add the standard preset of common CO2-reduction products (explicitly, never by itself).

        CO, CH4, C2H4, C2H6, H2, HCOOH, CH3OH, C2H5OH: products that exist
        are reused (an archived one is restored), missing ones are created;
        asking twice changes nothing more.
        """
        preset, added = products.add_standard_preset(conn(), time.time())
        return {"preset": preset_dict(preset), "products_added": added}


@blp.route("/product_presets/<string:preset_id>")
class PresetDetail(MethodView):
    @blp.response(200, PresetSchema)
    @blp.alt_response(404, description="no such preset")
    def get(self, preset_id):
        """One preset with its products in order."""
        return preset_dict(products.get_preset(conn(), preset_id))

    @blp.arguments(PresetUpdateSchema)
    @blp.response(200, PresetSchema)
    @blp.alt_response(404, description="no such preset")
    @blp.alt_response(409, description="another preset has this name")
    @blp.alt_response(422, description="an unknown, archived or repeated product; other validation")
    def put(self, body, preset_id):
        """Rename, reorder or change the products (the whole ordered list), archive or restore."""
        return preset_dict(products.update_preset(
            conn(), preset_id, name=body.get("name"), product_ids=body.get("product_ids"),
            status=body.get("status"), extra=body.get("extra"), now=time.time()))
