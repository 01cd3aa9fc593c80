"""Small helpers shared by the JSON views: body parsing and error responses."""

from __future__ import annotations

import functools
import json
import logging

from django.http import JsonResponse
from django.views.decorators.http import require_http_methods

from training.spec import SpecError
from webapp.runs.services import ApiError

log = logging.getLogger(__name__)


def json_body(request, key: str | None = "spec"):
    """The request's JSON object (or its ``key`` member); 400 naming what is wrong."""
    if request.content_type not in ("application/json", ""):
        raise ApiError(415, "send the body as application/json")
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, f"the body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise ApiError(400, "the body must be a JSON object")
    if key is None:
        return body
    if key not in body:
        raise ApiError(400, [{"path": f"/{key}", "message": f"the body must have a {key!r} member"}])
    return body[key]


def api(*methods: str):
    """JSON endpoint: allowed methods, ApiError/SpecError → 4xx with ``errors``."""

    def deco(view):
        @require_http_methods(list(methods))
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            try:
                return view(request, *args, **kwargs)
            except SpecError as exc:
                return JsonResponse({"errors": exc.errors}, status=400)
            except ApiError as exc:
                return JsonResponse({"errors": exc.errors}, status=exc.status)

        return wrapper

    return deco
