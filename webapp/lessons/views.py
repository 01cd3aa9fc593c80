"""The /lessons page: a card per lesson (GET /api/presets), to load or to run."""

from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET


@require_GET
@ensure_csrf_cookie
def lessons_page(request):
    return render(request, "lessons.html", {"nav": "lessons"})
