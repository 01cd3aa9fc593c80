"""A run's trained weights to take away: ``GET /api/runs/<id>/export/weights`` and ``/export/onnx``.

The worker keeps them under ``<DESCENT_MEDIA_ROOT>/runs/<public_id>/`` (training.weights):
``final.safetensors`` always, ``best.safetensors`` when early stopping remembered the best
epoch. Anyone with the link may download them, like the run's events. The ONNX file is
made on request from the saved weights (torch.onnx, the TorchScript exporter, which needs
no extra package) and cached beside them.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Optional

from django.conf import settings
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.http import FileResponse

from webapp.runs.api import api
from webapp.runs.models import Run
from webapp.runs.services import ApiError


def artifacts_dir(public_id: str) -> Path:
    """The folder the worker writes a run's weights to (``train(..., artifacts_dir=)``)."""
    return Path(settings.MEDIA_ROOT) / "runs" / public_id


def weights_file(public_id: str, which: str = "final") -> Optional[Path]:
    """The saved weights of a run, or None: the resolver ``model.init_from`` is checked with."""
    if which not in ("final", "best") or not Run.objects.filter(public_id=public_id).exists():
        return None
    path = artifacts_dir(public_id) / f"{which}.safetensors"
    return path if path.is_file() else None


def _which(request) -> str:
    which = request.GET.get("which", "final")
    if which not in ("final", "best"):
        raise ApiError(400, [{"path": "which", "message": "which is 'final' or 'best'"}])
    return which


def _saved(public_id: str, which: str) -> Path:
    if not Run.objects.filter(public_id=public_id).exists():
        raise ApiError(404, f"no run {public_id!r}")
    path = weights_file(public_id, which)
    if path is None:
        hint = " (best weights are kept when early stopping restores the best epoch)" if which == "best" else ""
        raise ApiError(404, f"run {public_id!r} has no {which} weights{hint}; only finished runs keep them")
    return path


def _download(path: Path, filename: str, content_type: str) -> FileResponse:
    response = FileResponse(path.open("rb"), content_type=content_type, as_attachment=True, filename=filename)
    response["Content-Length"] = str(path.stat().st_size)
    return response


@api("GET")
def run_export_weights(request, public_id: str):
    which = _which(request)
    path = _saved(public_id, which)
    return _download(path, f"descent_{public_id}_{which}.safetensors", "application/octet-stream")


@api("GET")
def run_export_onnx(request, public_id: str):
    from training.weights import OnnxUnavailable, export_onnx

    which = _which(request)
    path = _saved(public_id, which)
    out = path.with_suffix(".onnx")
    if not out.is_file() or out.stat().st_mtime < path.stat().st_mtime:
        try:
            export_onnx(path, out, upload_root=settings.UPLOAD_ROOT)
        except OnnxUnavailable as exc:
            raise ApiError(501, str(exc)) from None
    return _download(out, f"descent_{public_id}_{which}.onnx", "application/octet-stream")


@receiver(post_delete, sender=Run, dispatch_uid="runs.exports.delete_artifacts")
def delete_artifacts(sender, instance: Run, **_kwargs) -> None:
    """A deleted run (DELETE /api/runs/<id>, pruning) takes its weights with it."""
    shutil.rmtree(artifacts_dir(instance.public_id), ignore_errors=True)
