"""The Blueprint every resource module uses.

webargs ignores unknown query parameters by default; ours defers to each
schema's ``Meta.unknown`` instead, so a typo such as ``evnt_type=`` is a 422
naming the field rather than a silently unfiltered list. Header schemas opt
back into EXCLUDE (clients send many headers).
"""
from flask_smorest import Blueprint as _SmorestBlueprint
from webargs.flaskparser import FlaskParser


class Blueprint(_SmorestBlueprint):
    ARGUMENTS_PARSER = FlaskParser(unknown=None)
