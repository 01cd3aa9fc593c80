"""The /runs page (the visitor's runs) and /compare?runs=a,b,… (up to 8 side by side).

Both pages are shells: their modules read GET /api/runs, GET /api/runs/<id> and each
run's websocket, so a live run keeps updating on the compare page.
"""

from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET

MAX_COMPARE = 8


@require_GET
@ensure_csrf_cookie
def runs_page(request):
    return render(request, "runs.html", {"nav": "runs"})


@require_GET
@ensure_csrf_cookie
def compare_page(request):
    ids = [i for i in request.GET.get("runs", "").split(",") if i.strip()]
    return render(request, "compare.html", {"max_compare": MAX_COMPARE, "too_many": len(ids) > MAX_COMPARE})
