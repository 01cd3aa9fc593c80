"""Every event a run emits, as typed models: the one definition of the event protocol.

The trainer emits plain dicts (``{"type": ..., ...}``) to its sink; these models say what
each type carries. ``GET /api/events/schema`` serves :func:`json_schema`, the websocket
and ``/api/runs/<id>/events`` carry exactly these (plus ``seq``), and the tests validate
every event a run emits against its model (:func:`validate_event`). Payloads that grow
optional extras (landscape, summary, ...) allow extra fields; the fields named here are
the contract (DESIGN.md, "Events"), and the statuses below are the only ones there are.

Wire-only messages (coalesced steps, ``live``, ``queue``, ``pong``, ``error``) are never
persisted; they are described in :data:`WIRE_MESSAGES`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

ACTIVE = ("queued", "running")
FINISHED = ("succeeded", "failed", "cancelled", "diverged", "timed_out")
STATUSES = ACTIVE + FINISHED

Status = Literal[STATUSES]  # type: ignore[valid-type]
Number = Optional[float]  # NaN and infinities travel as null (JSON has no such numbers)


class _Event(BaseModel):
    # extras allowed: an event may carry more than its contract names (docs/protocol.md)
    model_config = ConfigDict(extra="allow")
    seq: Optional[int] = Field(None, ge=1, description="set by the sink: contiguous from 1 per run")


class StatusEvent(_Event):
    type: Literal["status"] = "status"
    status: Status
    message: str = ""
    queue_position: Optional[int] = Field(None, ge=1)


class DatasetEvent(_Event):
    type: Literal["dataset"] = "dataset"
    task: Literal["classification", "regression"]
    n_classes: int = Field(ge=0)
    input_shape: list[int]
    feature_names: list[str] = []
    points: Optional[dict[str, Any]] = None
    device: str
    n_train: int = Field(ge=0)
    n_val: int = Field(ge=0)
    n_test: int = Field(ge=0)
    label_noise: int = Field(0, ge=0, description="number of flipped labels")


class StepEvent(_Event):
    model_config = ConfigDict(extra="forbid")  # the hot path: nothing beyond these
    type: Literal["step"] = "step"
    step: int = Field(ge=1)
    epoch: int = Field(ge=1)
    loss: Number
    lr: Number


class EpochEvent(_Event):
    type: Literal["epoch"] = "epoch"
    epoch: int = Field(ge=1)
    train_loss: Number
    val_loss: Number = None
    train_acc: Number = None
    val_acc: Number = None
    lr: Number = None
    seconds: Number = None
    train_r2: Number = Field(None, description="regression only (also val_r2, train_rmse, val_rmse)")
    val_r2: Number = None
    train_rmse: Number = None
    val_rmse: Number = None
    penalty: Optional[dict[str, Number]] = Field(None, description="{l1, l2} when those regularizers are on, "
                                                                    "reported apart from the data loss")
    swa_val_loss: Number = Field(None, description="SWA: the averaged weights on the validation split "
                                 "(also swa_val_acc / swa_val_r2 ...), on epochs that add a snapshot")


class LayerDiagnostics(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str
    grad_norm: Number = None
    weight_norm: Number = None
    update_ratio: Number = None
    act_mean: Number = None
    act_std: Number = None
    dead_frac: Number = None
    saturated_frac: Number = None
    grad_mean_abs: Number = None
    grad_max_abs: Number = None
    hist: Optional[list[int]] = Field(None, description="weight histogram: 41 counts over hist_range")
    hist_range: Optional[list[Number]] = Field(None, description="[-r, r], fixed for the whole run")
    hist_out: Optional[list[int]] = Field(None, description="[below, above] the range")
    near_zero_frac: Number = Field(None, description="share of weights with |w| < 1e-3")


class DiagnosticsEvent(_Event):
    type: Literal["diagnostics"] = "diagnostics"
    epoch: int = Field(ge=0)
    step: Optional[int] = None
    layers: list[LayerDiagnostics]


class BoundaryEvent(_Event):
    type: Literal["boundary"] = "boundary"
    epoch: int = Field(ge=0)
    kind: Optional[Literal["probability", "class", "value"]] = None
    x: Optional[list[Number]] = None
    y: Optional[list[Number]] = None
    z: Optional[list[list[Number]]] = None
    zprob: Optional[list[list[Number]]] = None
    curve: Optional[dict[str, list[Number]]] = Field(None, description="1-D regression: {x, y} instead of a grid")


class LandscapeEvent(_Event):
    type: Literal["landscape"] = "landscape"
    mode: Literal["1d", "2d"]
    surface: str = Field(description="random, pca, random1d or interpolation")
    alphas: list[Number]
    betas: Optional[list[Number]] = None
    loss: list[Any] = Field(description="rows of the grid (2d) or values (1d); partial events carry rows from row_start")
    partial: bool = False
    done: bool = True
    row_start: Optional[int] = None
    progress: Number = None
    trajectory: Optional[dict[str, Any]] = Field(None, description="{x, y, steps} of the checkpoints, projected")
    center_loss: Number = None
    final: Optional[bool] = Field(None, description="computed at the end of training")
    seed: Optional[int] = None
    explained_variance: Optional[list[Number]] = Field(None, description="pca surface: share of each component")
    log_scale_hint: Optional[bool] = None
    eval_samples: Optional[int] = None
    epoch: Optional[int] = None
    step: Optional[int] = None


class LrFinderEvent(_Event):
    type: Literal["lr_finder"] = "lr_finder"
    lrs: list[Number]
    losses: list[Number]
    suggestion: Number = None
    smoothed: Optional[list[Number]] = None
    suggestion_min10: Number = None
    stopped_early: Optional[bool] = None


class SummaryEvent(_Event):
    type: Literal["summary"] = "summary"
    epochs_run: int = Field(ge=0)
    best_epoch: Optional[int] = None
    params: int = Field(ge=0)
    seconds: Number = None
    early_stopped: bool = False
    steps: Optional[int] = None
    train_loss: Number = Field(None, description="train_/val_/test_ + loss, acc (classification) or r2, rmse")
    val_loss: Number = None
    test_loss: Number = None
    train_acc: Number = None
    val_acc: Number = None
    test_acc: Number = None
    confusion_matrix: Optional[list[list[int]]] = Field(None, description="test split, rows = true class")
    per_class_acc: Optional[list[Number]] = None
    sharpness: Optional[dict[str, Any]] = Field(None, description="{top_eigenvalue, trace, ...} with a landscape")
    lr_suggestion: Number = Field(None, description="LR-finder mode")
    swa: Optional[dict[str, Any]] = Field(None, description="SWA: {snapshots, start_epoch, train_/val_/test_ metrics "
                                          "of the averaged weights}, beside the raw ones")


class ControlEvent(_Event):
    """A pause, step, resume or hyperparameter change as the trainer applied it."""
    type: Literal["control"] = "control"
    action: str = Field(description="pause, resume, step or set; its values ride along")
    step: Optional[int] = None


class NeuronsEvent(_Event):
    """The neuron view (training.neurons): per hidden neuron of a small 2-D net its output
    grid and the weights per edge, or ``available: false`` with a ``reason``."""
    type: Literal["neurons"] = "neurons"
    epoch: int = Field(ge=0)


EVENT_MODELS: dict[str, type[_Event]] = {
    m.model_fields["type"].default: m
    for m in (StatusEvent, DatasetEvent, StepEvent, EpochEvent, DiagnosticsEvent, BoundaryEvent,
              LandscapeEvent, LrFinderEvent, SummaryEvent, ControlEvent, NeuronsEvent)
}
EVENT_TYPES = tuple(EVENT_MODELS)

Event = Annotated[Union[tuple(EVENT_MODELS.values())], Field(discriminator="type")]  # type: ignore[valid-type]
_event_adapter: TypeAdapter = TypeAdapter(Event)


# -- wire-only messages (websocket) ---------------------------------------------------

class StepBatch(BaseModel):
    """Consecutive step events coalesced: ``seq`` is the last, ``seqs`` lists them all."""
    type: Literal["step"] = "step"
    seq: int
    seqs: list[int]
    step: list[int]
    epoch: list[int]
    loss: list[Number]
    lr: list[Number]


class LiveNotice(BaseModel):
    type: Literal["live"] = "live"
    last_seq: int


class QueueNotice(BaseModel):
    type: Literal["queue"] = "queue"
    queue_position: int


class Pong(BaseModel):
    type: Literal["pong"] = "pong"
    last_seq: int


class ErrorNotice(BaseModel):
    type: Literal["error"] = "error"
    message: str


WIRE_MESSAGES = (StepBatch, LiveNotice, QueueNotice, Pong, ErrorNotice)
STEP_FIELDS = ("step", "epoch", "loss", "lr")  # what a StepBatch carries as lists


def validate_event(event: dict) -> _Event:
    """The event as its typed model; raises pydantic.ValidationError if it breaks the contract."""
    return _event_adapter.validate_python(event)


def json_schema() -> dict:
    """JSON Schema of every event (``oneOf`` by ``type``) and of the wire-only messages."""
    schema = _event_adapter.json_schema(ref_template="#/$defs/{model}")
    defs = schema.setdefault("$defs", {})
    wire = []
    for model in WIRE_MESSAGES:
        sub = model.model_json_schema(ref_template="#/$defs/{model}")
        defs.update(sub.pop("$defs", {}))
        defs[model.__name__] = sub
        wire.append({"$ref": f"#/$defs/{model.__name__}"})
    schema["$id"] = "https://descent.local/events/v1"
    schema["title"] = "Descent run events, version 1"
    schema["x-descent"] = {
        "statuses": list(STATUSES),
        "active": list(ACTIVE),
        "final": list(FINISHED),
        "event_types": list(EVENT_TYPES),
        "step_fields": list(STEP_FIELDS),
        "wire_messages": wire,
    }
    return schema
