"""The Blueprint every resource module uses, and the argument parser behind it.

webargs ignores unknown query parameters by default; ours defers to each
schema's ``Meta.unknown`` instead, so a typo such as ``evnt_type=`` is a 422
naming the field rather than a silently unfiltered list. Header schemas opt
back into EXCLUDE (clients send many headers).

Bodies are decoded by ``api.json_body.decode`` (strict JSON, or a 400 that
names the problem) instead of webargs' plain ``json.loads``.
"""
from flask_smorest import Blueprint as _SmorestBlueprint
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request

from api import json_body


class StrictJsonParser(FlaskParser):
    def _raw_load_json(self, req):
        if not is_json_request(req):
            return core.missing
        return json_body.decode(req.get_data(cache=True))


class Blueprint(_SmorestBlueprint):
    ARGUMENTS_PARSER = StrictJsonParser(unknown=None)

    def arguments(self, schema, *args, **kwargs):
        """Each arguments schema made once: given a class, webargs would make one per request."""
        return super().arguments(schema() if isinstance(schema, type) else schema, *args, **kwargs)

    def _set_etag_in_response(self, response):
        """Keep the ETag a hot read set from its body (``api.exact_json``); else smorest's own."""
        if response.get_etag()[0] is None:
            super()._set_etag_in_response(response)
