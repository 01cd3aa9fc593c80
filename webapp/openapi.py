"""The OpenAPI 3 document of the HTTP API (``GET /api/openapi.json``), from the pydantic models.

The spec's own JSON Schema (training.spec.Spec) is a component, next to the shapes of
the requests and responses below, so the document and the validation cannot disagree.

Adding an endpoint is one call, placed beside the view or in :func:`_core` here::

    openapi.register("/api/things/{id}", "post", "Do a thing", request=ThingIn,
                     responses={201: ThingOut, 400: ERRORS, 404: ERRORS}, params=["id"])

``request`` and each response are a pydantic model, a JSON Schema dict, ``None`` (no
body) or a media type with a schema (``("text/csv", {"type": "string"})``).
``tests/api/test_openapi.py`` fails when an ``/api/`` URL has no entry here.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import models_json_schema

from training.spec import Spec

REF = "#/components/schemas/{model}"
Body = Union[type[BaseModel], dict, tuple, None]


# ---------------------------------------------------------------- shared shapes


class ErrorItem(BaseModel):
    path: str = Field(description="JSON pointer into the submitted document ('' for the whole request)")
    message: str = Field(description="a sentence about the field as the user sees it")


class Errors(BaseModel):
    """Every 4xx and 5xx answer of /api/."""

    errors: list[ErrorItem] = Field(min_length=1)


ERRORS = Errors


class SpecBody(BaseModel):
    model_config = ConfigDict(extra="allow")
    spec: Spec


class ForkBody(BaseModel):
    model_config = ConfigDict(extra="allow")
    spec: Optional[Spec] = Field(None, description="an edited spec; the parent's when left out")


class LayerRow(BaseModel):
    name: str
    kind: str
    path: Optional[str]
    depth: int
    output_shape: list[int]
    params: int


class Summary(BaseModel):
    params: int
    input_shape: list[int]
    layers: list[LayerRow]
    task: Literal["classification", "regression"]
    n_classes: int
    kind: str
    memory_mb: dict[str, float] = Field(description="estimated peak: train, landscape")


class ValidateOut(BaseModel):
    summary: Summary


class Preset(BaseModel):
    slug: str
    title: str
    lesson: str
    spec: dict


Status = Literal["queued", "running", "succeeded", "failed", "cancelled", "diverged", "timed_out"]


class RunCreated(BaseModel):
    id: str
    status: Status
    url: str
    ws: str
    queue_position: Optional[int] = None
    parent: Optional[str] = None


class SweepRef(BaseModel):
    """A run's place in its sweep (webapp/sweeps)."""

    id: str = Field(description="the sweep's public id")
    url: str = Field(description="its page, /s/<id>")
    name: str
    axes: dict[str, Any] = Field(description="this run's value of each axis, keyed by the axis's JSON pointer")
    point: int = Field(description="the point of the sweep (runs of one point differ only in their seed)")
    repeat: Optional[int] = Field(description="which repeat (seed index, from 0) of its point; null when a point has one run")


class Run(BaseModel):
    id: str
    name: str
    status: Status
    spec: dict
    created: str
    started: Optional[str]
    finished: Optional[str]
    seconds: Optional[float]
    queue_position: Optional[int]
    summary: Optional[dict]
    error: Optional[str]
    device: Optional[str]
    last_seq: int
    parent: Optional[str]
    is_owner: bool
    url: str
    ws: str
    sweep: Optional[SweepRef] = Field(None, description="the sweep this run is part of, or null (GET only)")


class RunRow(BaseModel):
    id: str
    name: str
    status: Status
    url: str
    created: str
    dataset: Optional[str]


class RunList(BaseModel):
    runs: list[RunRow]


class EventsPage(BaseModel):
    events: list[dict] = Field(description="persisted events in seq order (see GET /api/events/schema)")
    last_seq: int
    more: bool
    status: Status


class Upload(BaseModel):
    id: str
    task: Literal["classification", "regression"]
    n_classes: int
    input_shape: list[int]
    kind: str
    n_samples: int


class UploadForm(BaseModel):
    file: bytes = Field(description="a CSV or NPZ data set", json_schema_extra={"format": "binary"})


ANY_OBJECT = {"type": "object"}
JSON_SCHEMA = {"type": "object", "description": "a JSON Schema document"}


# ---------------------------------------------------------------- the registry


@dataclass
class Operation:
    path: str
    method: str
    summary: str
    request: Body = None
    responses: dict[int, Body] = field(default_factory=dict)
    params: list[str] = field(default_factory=list)
    query: dict[str, dict] = field(default_factory=dict)
    form: bool = False


_OPERATIONS: dict[tuple[str, str], Operation] = {}


def register(path: str, method: str, summary: str, request: Body = None, responses: Optional[dict[int, Body]] = None,
             params: Optional[list[str]] = None, query: Optional[dict[str, dict]] = None, form: bool = False) -> None:
    """Describe one endpoint. ``path`` in OpenAPI form (``/api/runs/{id}``); ``params`` name
    its path parameters (strings); ``query`` maps query parameters to their schemas;
    ``form`` sends ``request`` as multipart/form-data instead of JSON."""
    _OPERATIONS[(path, method.lower())] = Operation(path, method.lower(), summary, request, dict(responses or {}),
                                                    list(params or []), dict(query or {}), form)


def operations() -> list[Operation]:
    _core()
    return list(_OPERATIONS.values())


def _models(op: Operation) -> list[type[BaseModel]]:
    bodies = [op.request, *op.responses.values()]
    return [b for b in bodies if isinstance(b, type) and issubclass(b, BaseModel)]


def _media(body: Body, schemas: dict, form: bool = False) -> Optional[dict]:
    if body is None:
        return None
    if isinstance(body, tuple):
        media_type, schema = body
        return {media_type: {"schema": schema}}
    schema = schemas[body] if isinstance(body, type) else body
    return {("multipart/form-data" if form else "application/json"): {"schema": schema}}


_STATUS_TEXT = {200: "OK", 201: "Created", 204: "No content", 400: "Invalid input (every problem listed)",
                403: "Not allowed (not the owner, or no CSRF token)", 404: "Not found", 405: "Method not allowed",
                409: "Conflicts with the current state", 413: "Too large", 415: "Not JSON",
                429: "Too many requests (see Retry-After)", 500: "Internal error", 503: "Unavailable"}


def document() -> dict:
    """The whole OpenAPI 3.1 document."""
    ops = operations()
    models = {m for op in ops for m in _models(op)} | {Errors}
    pairs = [(m, "validation") for m in sorted(models, key=lambda m: m.__name__)]
    keys, defs = models_json_schema(pairs, ref_template=REF)
    schemas = {m: keys[(m, "validation")] for m in models}
    paths: dict[str, dict] = {}
    for op in ops:
        entry: dict[str, Any] = {"summary": op.summary, "operationId": _operation_id(op), "responses": {}}
        parameters = [{"name": p, "in": "path", "required": True, "schema": {"type": "string"}} for p in op.params]
        parameters += [{"name": q, "in": "query", "required": False, "schema": s} for q, s in op.query.items()]
        if parameters:
            entry["parameters"] = parameters
        content = _media(op.request, schemas, op.form)
        if content is not None:
            entry["requestBody"] = {"required": True, "content": content}
        responses = {**op.responses}
        for status in (405, 500):  # every /api/ path can answer these, always as the error shape
            responses.setdefault(status, Errors)
        if op.method in ("post", "put", "patch", "delete"):
            responses.setdefault(403, Errors)  # CSRF
        if op.request is not None and not op.form:
            responses.setdefault(400, Errors)
            responses.setdefault(413, Errors)
            responses.setdefault(415, Errors)
        for status, body in sorted(responses.items()):
            out: dict[str, Any] = {"description": _STATUS_TEXT.get(status, str(status))}
            media = _media(body, schemas)
            if media is not None:
                out["content"] = media
            entry["responses"][str(status)] = out
        paths.setdefault(op.path, {})[op.method] = entry
    components = copy.deepcopy(defs.get("$defs", {}))
    spec_schema = components.get("Spec")
    if spec_schema is not None:
        from training.spec import json_schema

        spec_schema["x-descent"] = json_schema().get("x-descent", {})
    return {
        "openapi": "3.1.0",
        "info": {"title": "Descent HTTP API", "version": "1",
                 "description": "Every error is {\"errors\": [{\"path\", \"message\"}]}. State-changing requests "
                                "send the csrftoken cookie's value in the X-CSRFToken header."},
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": components},
    }


def _operation_id(op: Operation) -> str:
    words = [w.strip("{}") for w in op.path.split("/") if w and w != "api"]
    return op.method + "_" + "_".join(words).replace("-", "_")


# ---------------------------------------------------------------- the endpoints


def _core() -> None:
    """The endpoints of DESIGN.md and docs/protocol.md. Apps may register theirs here or beside their views."""
    if ("/api/spec/schema", "get") in _OPERATIONS:
        return
    e = Errors
    register("/api/openapi.json", "get", "This document", responses={200: ANY_OBJECT})
    register("/api/spec/schema", "get", "JSON Schema of the experiment spec", responses={200: JSON_SCHEMA})
    register("/api/spec/validate", "post", "Check a spec: a summary of its network, or every problem",
             request=SpecBody, responses={200: ValidateOut, 400: e})
    register("/api/events/schema", "get", "JSON Schema of the event protocol", responses={200: JSON_SCHEMA})
    register("/api/presets", "get", "Classroom presets", responses={200: {"type": "array", "items": Preset.model_json_schema()}})
    register("/api/uploads", "post", "Upload a data set (CSV or NPZ) for data.dataset = 'upload'",
             request=UploadForm, form=True, responses={201: Upload, 400: e, 413: e, 429: e})
    register("/api/runs", "get", "The caller's runs, newest first", responses={200: RunList})
    register("/api/runs", "post", "Queue a run of a spec", request=SpecBody, responses={201: RunCreated, 400: e, 429: e, 503: e})
    run = ["public_id"]
    register("/api/runs/{public_id}", "get", "A run: status, spec, timings, queue position, summary",
             params=run, responses={200: Run, 404: e})
    register("/api/runs/{public_id}", "delete", "Delete a finished run (owner only)", params=run,
             responses={204: None, 403: e, 404: e, 409: e})
    register("/api/runs/{public_id}/events", "get", "Persisted events with seq > after", params=run,
             query={"after": {"type": "integer", "minimum": 0}, "limit": {"type": "integer", "minimum": 1}},
             responses={200: EventsPage, 400: e, 404: e})
    register("/api/runs/{public_id}/cancel", "post", "Stop a run (owner only)", params=run,
             responses={200: Run, 403: e, 404: e, 409: e})
    register("/api/runs/{public_id}/fork", "post", "A new run of the same (or an edited) spec", params=run,
             request=ForkBody, responses={201: RunCreated, 400: e, 404: e, 429: e, 503: e})
    register("/api/runs/{public_id}/export/script", "get", "The spec as a standalone PyTorch script", params=run,
             query={"download": {"type": "string"}},
             responses={200: ("text/x-python", {"type": "string"}), 400: e, 404: e})
    register("/api/runs/{public_id}/export/csv", "get", "Per-epoch metrics, one row per epoch", params=run,
             query={"download": {"type": "string"}}, responses={200: ("text/csv", {"type": "string"}), 404: e})
    binary = {"type": "string", "format": "binary"}
    which = {"which": {"type": "string", "enum": ["final", "best"]}}
    register("/api/runs/{public_id}/export/weights", "get", "Trained weights (safetensors) of a finished run",
             params=run, query=which, responses={200: ("application/octet-stream", binary), 400: e, 404: e})
    register("/api/runs/{public_id}/export/onnx", "get", "The trained network as ONNX", params=run, query=which,
             responses={200: ("application/octet-stream", binary), 400: e, 404: e})
    # endpoints of other apps, described loosely until their owners register precise models
    loose_in = {"type": "object"}
    register("/api/runs/{public_id}/control", "post", "Pause, resume, step or set hyperparameters of a live run "
             "(owner only)", params=run, request=loose_in, responses={200: ANY_OBJECT, 202: ANY_OBJECT, 400: e,
                                                                      403: e, 404: e, 409: e, 429: e})
    register("/api/data/preview", "post", "A bounded preview of a spec's data", request=loose_in,
             responses={200: ANY_OBJECT, 400: e, 429: e})
    register("/api/sweeps", "post", "A base spec and axes → many runs", request=loose_in,
             responses={201: ANY_OBJECT, 400: e, 429: e, 503: e})
    register("/api/sweeps/lessons", "get", "Sweep lessons (ready-made base specs and axes)", responses={200: {}})
    sweep = ["public_id"]
    register("/api/sweeps/{public_id}", "get", "A sweep's live table", params=sweep, responses={200: ANY_OBJECT, 404: e})
    register("/api/sweeps/{public_id}/cancel", "post", "Stop every run of a sweep", params=sweep,
             responses={200: ANY_OBJECT, 403: e, 404: e, 409: e})
    register("/api/sweeps/{public_id}/export/csv", "get", "A sweep's table as CSV", params=sweep,
             responses={200: ("text/csv", {"type": "string"}), 404: e})
    register("/api/rooms", "post", "Open a classroom room", request=loose_in, responses={201: ANY_OBJECT, 400: e, 429: e})
    room = ["code"]
    register("/api/rooms/{code}", "get", "A room (the teacher's view)", params=room, responses={200: ANY_OBJECT, 403: e, 404: e})
    for action, text in (("join", "Join a room"), ("push", "Push a lesson to the room"),
                         ("lock", "Lock fields of the students' specs"), ("spotlight", "Show a student's run"),
                         ("close", "Close the room")):
        register(f"/api/rooms/{{code}}/{action}", "post", text, params=room, request=loose_in,
                 responses={200: ANY_OBJECT, 201: ANY_OBJECT, 400: e, 403: e, 404: e, 409: e, 429: e})
    register("/api/rooms/{code}/me", "get", "The caller's place in a room", params=room,
             responses={200: ANY_OBJECT, 403: e, 404: e})
    register("/api/rooms/current", "get", "The room this browser session joined, for its playground "
             "(the pushed lesson and the locks; 304 to a matching If-None-Match)",
             responses={200: ANY_OBJECT, 304: None})


# ---------------------------------------------------------------- the view


_cached: Optional[dict] = None


def view(request):
    """GET /api/openapi.json"""
    from django.http import JsonResponse

    from webapp.runs.api import api

    @api("GET")
    def answer(request):
        global _cached
        if _cached is None:
            _cached = document()
        return JsonResponse(_cached)

    return answer(request)
