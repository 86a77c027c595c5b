"""/healthz: answers 200 when the database does, for load balancers and the README's check."""

from __future__ import annotations

from flask import Blueprint, jsonify
from werkzeug.wrappers import Response

from core.database import database_answers, get_session

blueprint = Blueprint("health", __name__)


@blueprint.get("/healthz")
def healthz() -> tuple[Response, int]:
    if database_answers(get_session()):
        return jsonify(status="ok"), 200
    return jsonify(status="unavailable"), 503
