"""POST /api/runs/<id>/control: pause, resume, step N batches, set lr / weight_decay."""

from __future__ import annotations

from django.http import JsonResponse

from webapp.controls import services
from webapp.runs.api import api, json_body
from webapp.runs.models import Run
from webapp.runs.services import ApiError


@api("POST")
def control(request, public_id: str):
    run = Run.objects.filter(public_id=public_id).first()
    if run is None:
        raise ApiError(404, f"no run {public_id!r}")
    if not run.is_owned_by(request):
        raise ApiError(403, "only the owner of a run may control it")
    command = services.submit(run, json_body(request, key=None))
    return JsonResponse({"id": command.pk, "command": command.command, "status": "sent"}, status=202)
