"""`/structures/svg`: a 2D drawing of a molecule (RDKit), for recipe cards and clients.

Drawn from a SMILES, cached in the process and by the browser (the drawing
of a SMILES never changes). RDKit is imported on the first drawing, not at
start-up. The SVG carries no script and is served with a CSP that forbids
one, so it is safe in an ``<img>`` and on its own.
"""
from __future__ import annotations

import hashlib

from flask import Response, request
from flask.views import MethodView

from api.blueprint import Blueprint
from api.schemas import StructureArgsSchema
from core.chemistry.structure import structure_svg
from core.errors import InvalidArgument

blp = Blueprint("structures", __name__, description="Molecule drawings")
ONE_DAY_S = 86_400


@blp.route("/structures/svg")
class StructureSvg(MethodView):
    @blp.arguments(StructureArgsSchema, location="query")
    @blp.doc(responses={"200": {"description": "an SVG drawing of the molecule",
                                "content": {"image/svg+xml": {"schema": {"type": "string"}}}}})
    @blp.alt_response(400, description="the SMILES does not parse")
    @blp.alt_response(422, description="missing or over-long smiles, unknown theme")
    def get(self, args):
        """Draw a molecule from its SMILES (light or dark theme), cached for a day."""
        svg = structure_svg(args["smiles"], dark=args["theme"] == "dark")
        if svg is None:
            raise InvalidArgument("smiles does not parse", {"fields": {"smiles": ["not a SMILES"]}})
        etag = hashlib.sha1(svg.encode()).hexdigest()
        if etag in request.if_none_match:
            return Response(status=304)
        return Response(svg, mimetype="image/svg+xml", headers={
            "Cache-Control": f"public, max-age={ONE_DAY_S}", "ETag": f'"{etag}"',
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"})
