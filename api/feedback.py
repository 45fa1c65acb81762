"""`/runs/{run_id}/feedback`: what the lab measured after making a run's recipe (one per run)."""
from __future__ import annotations

from flask.views import MethodView

from api.blueprint import Blueprint
from api.context import conn
from api.schemas import FeedbackPutSchema, FeedbackSchema
from store import feedback

blp = Blueprint("feedback", __name__, description="Lab feedback on a run")


@blp.route("/runs/<string:run_id>/feedback")
class RunFeedback(MethodView):
    @blp.response(200, FeedbackSchema)
    @blp.alt_response(404, description="no such run, or no feedback yet")
    def get(self, run_id):
        """The run's feedback, with each product's name, status, value and fraction."""
        return feedback.get_feedback(conn(), run_id)

    @blp.arguments(FeedbackPutSchema)
    @blp.response(200, FeedbackSchema)
    @blp.alt_response(404, description="no such run")
    @blp.alt_response(409, description="the run has not completed; details.status")
    @blp.alt_response(422, description="an unknown, archived or repeated product, a negative or "
                      "non-finite value or score, an over-long text, a recipe_index out of range")
    def put(self, body, run_id):
        """Create or replace the run's feedback, atomically; the server computes the fractions.

        Each product's fraction is its value over the sum of the values, or 0
        for all when the sum is 0 (`fractions_all_zero: true`).
        """
        return feedback.put_feedback(
            conn(), run_id, score=body["score"], pros=body["pros"], cons=body["cons"],
            other=body["other"], recipe_index=body["recipe_index"],
            products=[(p["product_id"], p["value"]) for p in body["products"]],
            extra=body["extra"])

