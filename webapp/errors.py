"""JSON errors for every ``/api/`` path, never an HTML page.

Views under ``/api/`` answer ``{"errors": [{"path", "message"}]}`` themselves
(webapp.runs.api); this module covers what happens around them: an unknown URL (404),
a method a view does not take (405), a CSRF refusal (403), a body Django refuses before
any view runs (400), and any exception (500, logged, with a fixed message: the goal is
zero 5xx, but a bug must never show a traceback or an HTML page to an API client).
"""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.deprecation import MiddlewareMixin
from django.views import defaults

log = logging.getLogger("webapp.errors")

INTERNAL = "internal error"
# Headers of the original response that still mean something on the JSON one.
KEEP_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def error_response(status: int, message: str, path: str = "") -> JsonResponse:
    return JsonResponse({"errors": [{"path": path, "message": message}]}, status=status)


def _message(request: HttpRequest, response: HttpResponse) -> str:
    status = response.status_code
    if status == 404:
        return f"no API endpoint at {request.path}"
    if status == 405:
        allowed = response.get("Allow", "")
        return f"{request.method} is not allowed here" + (f"; use {allowed}" if allowed else "")
    if status == 403:
        return "forbidden"
    if status == 413:
        return "the request body is too large"
    if status >= 500:
        return INTERNAL
    return "bad request"


class ApiErrorMiddleware(MiddlewareMixin):
    """Outermost middleware: under /api/, an exception or a non-JSON error becomes JSON.

    MiddlewareMixin keeps it sync- and async-capable, so async views (healthz) stay on
    the event loop under ASGI.
    """

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if not is_api(request) or response.status_code < 400:
            return response
        if response.get("Content-Type", "").startswith("application/json"):
            return response
        out = error_response(response.status_code, _message(request, response))
        for header in KEEP_HEADERS:
            if header in response:
                out[header] = response[header]
        return out

    def process_exception(self, request: HttpRequest, exception: Exception):
        if not is_api(request):
            return None  # pages keep Django's own handling (handler500 / the debug page)
        log.error("unhandled exception on %s %s", request.method, request.path,
                  exc_info=(type(exception), exception, exception.__traceback__))
        return error_response(500, INTERNAL)


# URLconf handlers (webapp/urls.py): JSON under /api/, Django's pages elsewhere.

def handler400(request, exception=None):
    if is_api(request):
        return error_response(400, "bad request")
    return defaults.bad_request(request, exception)


def handler403(request, exception=None):
    if is_api(request):
        return error_response(403, "forbidden")
    return defaults.permission_denied(request, exception)


def handler404(request, exception=None):
    if is_api(request):
        return error_response(404, f"no API endpoint at {request.path}")
    return defaults.page_not_found(request, exception)


def handler500(request):
    if is_api(request):
        return error_response(500, INTERNAL)
    return defaults.server_error(request)


def csrf_failure(request, reason: str = ""):
    """settings.CSRF_FAILURE_VIEW: API clients learn what to send."""
    if is_api(request):
        return error_response(403, "CSRF check failed: send the csrftoken cookie's value in the "
                                   f"X-CSRFToken header ({reason})")
    from django.views.csrf import csrf_failure as page

    return page(request, reason)
