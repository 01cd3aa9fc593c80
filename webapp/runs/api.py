"""Small helpers shared by the JSON views: body parsing and error responses."""

from __future__ import annotations

import functools
import json
import logging
import math
import re

from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse

from training.spec import SpecError
from training.spec_messages import MAX_DEPTH, bad_text, join_pointer
from webapp.runs.services import ApiError

log = logging.getLogger(__name__)

# Strings (which may hold brackets) or a bracket: enough to measure nesting without parsing.
_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def nesting_depth(raw: bytes, limit: int = MAX_DEPTH) -> int:
    """How deep ``raw`` JSON nests, counted without recursion; stops once past ``limit``."""
    depth = deepest = 0
    for m in _TOKENS.finditer(raw):
        c = m.group()[:1]
        if c in (b"[", b"{"):
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    break
        elif c in (b"]", b"}"):
            depth -= 1
    return deepest


def _unstorable(doc) -> list[dict[str, str]] | None:
    """The first NaN/Infinity (Python's json reads them) or text no database stores, or None."""
    stack = [(doc, ())]
    while stack:
        node, parts = stack.pop()
        if isinstance(node, float) and not math.isfinite(node):
            return [{"path": join_pointer(list(parts)), "message": "must be a finite number (NaN and Infinity are not JSON)"}]
        if isinstance(node, str) and bad_text(node):
            return [{"path": join_pointer(list(parts)), "message": bad_text(node)}]
        if isinstance(node, dict):
            for k, v in node.items():
                if bad_text(k):
                    return [{"path": join_pointer(list(parts)), "message": f"a field name {bad_text(k)}"}]
                stack.append((v, parts + (k,)))
        elif isinstance(node, list):
            stack.extend((v, parts + (i,)) for i, v in enumerate(node))
    return None


def json_body(request, key: str | None = "spec"):
    """The request's JSON object (or its ``key`` member); 400 naming what is wrong.

    Refused before anything recurses into it: JSON nested deeper than MAX_DEPTH. The
    ``spec`` member is checked field by field by training.spec (NaN, Infinity and text a
    database cannot store are reported on their field there); anywhere else here.
    """
    if request.content_type not in ("application/json", ""):
        raise ApiError(415, "send the body as application/json")
    try:
        raw = request.body or b"{}"
    except RequestDataTooBig:
        raise ApiError(413, "the request body is too large") from None
    if nesting_depth(raw) > MAX_DEPTH:
        raise ApiError(400, f"the body is nested more than {MAX_DEPTH} levels deep")
    try:
        body = json.loads(raw)
    except RecursionError:  # belt and braces: the depth check above should make this unreachable
        raise ApiError(400, "the body is nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, f"the body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise ApiError(400, "the body must be a JSON object")
    bad = _unstorable({k: v for k, v in body.items() if k != key})
    if bad is not None:
        raise ApiError(400, bad)
    if key is None:
        return body
    if key not in body:
        raise ApiError(400, [{"path": f"/{key}", "message": f"the body must have a {key!r} member"}])
    return body[key]


def api(*methods: str):
    """JSON endpoint: allowed methods (405 JSON otherwise), ApiError/SpecError → 4xx with ``errors``.

    Anything else a view raises is left to webapp.errors.ApiErrorMiddleware (logged, 500 JSON).
    """
    allowed = [m.upper() for m in methods]

    def deco(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method not in allowed and not (request.method == "HEAD" and "GET" in allowed):
                response = JsonResponse({"errors": [{"path": "", "message": f"{request.method} is not allowed "
                                                     f"here; use {', '.join(allowed)}"}]}, status=405)
                response["Allow"] = ", ".join(allowed)
                return response
            try:
                return view(request, *args, **kwargs)
            except SpecError as exc:
                return JsonResponse({"errors": exc.errors}, status=400)
            except ApiError as exc:
                response = JsonResponse({"errors": exc.errors}, status=exc.status)
                for name, value in getattr(exc, "headers", {}).items():  # Retry-After on 429/503
                    response[name] = value
                return response

        return wrapper

    return deco
