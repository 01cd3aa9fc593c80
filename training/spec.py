"""The experiment spec (version 1): typed models, defaults, validation, JSON Schema.

One JSON document describes a whole experiment and everything has a default, so ``{}``
is valid. Validation lives here, in one place: :func:`validate` returns the parsed spec
or raises :class:`SpecError` carrying *every* problem as ``{"path", "message"}`` with a
JSON-pointer path into the submitted document. Limits come in as a :class:`Limits`
value; this module never reads Django settings.
"""

from __future__ import annotations

import copy
from typing import Annotated, Any, Literal, NamedTuple, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from training import spec_messages as msg

SPEC_VERSION = 1

from training.vocab import DATASETS_2D, DATASETS_IMAGE, DATASETS_REGRESSION  # noqa: E402  (shared with optim, losses)

DATASETS = DATASETS_2D + DATASETS_REGRESSION + DATASETS_IMAGE + ("mnist1d", "modular", "upload")
MODULAR_OPERATIONS = ("add", "sub")
FEATURES = ("x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)")
ACTIVATIONS = ("linear", "sigmoid", "tanh", "relu", "leaky_relu", "prelu", "elu", "selu", "gelu")
INITS = (
    "default", "zeros", "constant", "normal", "uniform", "xavier_uniform", "xavier_normal",
    "kaiming_uniform", "kaiming_normal", "lecun_normal", "orthogonal",
)
OPTIMIZERS = (
    "sgd", "momentum", "nesterov", "adagrad", "adadelta", "rmsprop", "adam", "adamw",
    "nadam", "radam", "lamb",
)
SCHEDULES = ("constant", "step", "multistep", "exponential", "cosine", "cyclic", "onecycle", "plateau")
LOSSES = ("cross_entropy", "bce", "mse", "mae", "huber")
NORMALIZATIONS = ("none", "center", "standardize", "minmax")

Activation = Literal[ACTIVATIONS]  # type: ignore[valid-type]
InitName = Literal[INITS]  # type: ignore[valid-type]


class _Model(BaseModel):
    # Unknown fields are errors: a typo such as "untis" must not silently fall back.
    # Every float is finite: NaN/Infinity (which Python's json reads) never reach the engine
    # or the database.
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class Limits(_Model):
    """Server-side limits, checked at validation and reported like any other error."""

    max_params: int = 2_000_000
    max_epochs: int = 2000
    max_samples: int = 20_000
    max_seconds: float = 900.0
    max_layers: int = 64
    max_batch_size: int = 4096
    max_landscape_resolution: int = 51
    max_upload_bytes: int = 8 * 1024 * 1024
    max_memory_mb: int = 2048  # estimated peak of training and landscape (training/check.py)
    max_pause_seconds: float = 600.0  # one pause of a live run (training/control.py)


# ---------------------------------------------------------------- data


class Split(_Model):
    train: float = Field(0.7, gt=0, lt=1)
    val: float = Field(0.15, ge=0, lt=1)
    test: float = Field(0.15, ge=0, lt=1)

    @model_validator(mode="after")
    def _sums_to_one(self) -> "Split":
        if abs(self.train + self.val + self.test - 1.0) > 1e-6:
            raise ValueError("train + val + test must add up to 1")
        return self


# Each dataset's own defaults for the fields a spec may leave unset (None): digits uses
# all 1,797 images without pixel noise, mnist1d the paper's 4,000 training samples (and
# 1,000 held out, half for validation, half for test); the toy sets keep 500 points.
_GENERIC_DATA_DEFAULTS = {"n_samples": 500, "noise": 0.1, "split": {"train": 0.7, "val": 0.15, "test": 0.15}}
DATASET_DEFAULTS = {
    "digits": {"n_samples": 1797, "noise": 0.0},
    "mnist1d": {"n_samples": 5000, "noise": 0.1, "split": {"train": 0.8, "val": 0.1, "test": 0.1}},
}


def dataset_defaults(name: str) -> dict:
    """``{n_samples, noise, split}`` that a spec leaving them unset gets for ``name``."""
    return {**_GENERIC_DATA_DEFAULTS, **DATASET_DEFAULTS.get(name, {})}


class DataSpec(_Model):
    dataset: Literal[DATASETS] = "circle"  # type: ignore[valid-type]
    n_samples: Optional[int] = Field(None, ge=10, le=10_000_000, description="default: the dataset's (x-descent.dataset_defaults)")
    noise: Optional[float] = Field(None, ge=0, le=5, description="default: the dataset's (x-descent.dataset_defaults)")
    features: list[Literal[FEATURES]] = Field(  # type: ignore[valid-type]
        default_factory=lambda: ["x1", "x2"], min_length=1
    )
    degree: int = Field(3, ge=1, le=20, description="polynomial degree of poly1d's target")
    n_classes: int = Field(2, ge=2, le=10, description="classes of gauss/spiral")
    split: Optional[Split] = Field(None, description="default: the dataset's (x-descent.dataset_defaults)")
    normalize: Literal[NORMALIZATIONS] = "standardize"  # type: ignore[valid-type]
    label_noise: float = Field(0.0, ge=0, le=1, description="fraction of training labels flipped")
    random_labels: bool = False
    imbalance: float = Field(
        1.0, gt=0, le=1, description="keep this fraction of the training samples of every class but the first"
    )
    upload_id: Optional[str] = Field(None, pattern=r"^[A-Za-z0-9_-]{1,40}$", description="id from POST /api/uploads")
    modulus: int = Field(97, ge=2, le=127, description="modular: the prime (or any modulus) p of a ∘ b mod p")
    operation: Literal[MODULAR_OPERATIONS] = Field(  # type: ignore[valid-type]
        "add", description="modular: add (a + b mod p) or sub (a - b mod p)")
    classes: Optional[list[Annotated[int, Field(ge=0, le=9999)]]] = Field(
        None, min_length=2, description="keep only these classes, relabelled 0..k-1 in this order (classification)")
    per_class: Optional[int] = Field(None, ge=1, le=10_000_000, description="keep this many training samples of each class")

    @model_validator(mode="after")
    def _resolve_defaults(self) -> "DataSpec":
        """Unset fields take the dataset's defaults; explicit values are kept as they are."""
        defaults = dataset_defaults(self.dataset)
        if self.n_samples is None:
            self.n_samples = defaults["n_samples"]
        if self.noise is None:
            self.noise = defaults["noise"]
        if self.split is None:
            self.split = Split(**defaults["split"])
        return self

    @field_validator("classes")
    @classmethod
    def _distinct_classes(cls, v: Optional[list[int]]) -> Optional[list[int]]:
        if v is not None and (len(set(v)) != len(v) or min(v) < 0):
            raise ValueError("expected distinct class ids >= 0")
        return v


# ---------------------------------------------------------------- augmentation


class _Aug(_Model):
    p: float = Field(0.5, ge=0, le=1, description="probability per sample")


class HFlip(_Aug):
    type: Literal["hflip"]


class VFlip(_Aug):
    type: Literal["vflip"]


class Rotate(_Aug):
    type: Literal["rotate"]
    degrees: float = Field(15.0, ge=0, le=180)


class Translate(_Aug):
    type: Literal["translate"]
    shift: float = Field(0.1, ge=0, le=0.5, description="fraction of the image size")


class Scale(_Aug):
    type: Literal["scale"]
    scale: list[float] = Field(default_factory=lambda: [0.9, 1.1], min_length=2, max_length=2)


class Crop(_Aug):
    type: Literal["crop"]
    padding: int = Field(1, ge=1, le=8, description="pad then crop back at a random offset")


class Erase(_Aug):
    type: Literal["erase"]
    scale: list[float] = Field(default_factory=lambda: [0.02, 0.2], min_length=2, max_length=2)


class GaussianNoise(_Aug):
    type: Literal["gaussian_noise"]
    p: float = Field(1.0, ge=0, le=1)
    std: float = Field(0.05, ge=0, le=5)


class Mixup(_Aug):
    type: Literal["mixup"]
    p: float = Field(1.0, ge=0, le=1)
    alpha: float = Field(0.2, gt=0, le=10)


class CutMix(_Aug):
    type: Literal["cutmix"]
    p: float = Field(1.0, ge=0, le=1)
    alpha: float = Field(1.0, gt=0, le=10)


AugmentItem = Annotated[
    Union[HFlip, VFlip, Rotate, Translate, Scale, Crop, Erase, GaussianNoise, Mixup, CutMix],
    Field(discriminator="type"),
]
IMAGE_AUGMENTS = ("hflip", "vflip", "rotate", "translate", "scale", "crop", "erase", "cutmix")

# ---------------------------------------------------------------- model


class InitSpec(_Model):
    weights: Optional[InitName] = None
    bias: Optional[InitName] = None
    gain: Optional[float] = Field(None, gt=0)
    std: Optional[float] = Field(None, gt=0, description="std of normal, half-width of uniform")
    value: Optional[float] = Field(None, description="the constant of 'constant'")


class _Layer(_Model):
    init: Optional[InitSpec] = None
    freeze: bool = Field(False, description="keep this layer's parameters as initialized or loaded "
                                            "(no gradient, no weight decay, no L1/L2, no max-norm)")


class Dense(_Layer):
    type: Literal["dense"]
    units: int = Field(8, ge=1, le=4096)
    activation: Activation = "relu"
    bias: bool = True


class Conv2d(_Layer):
    type: Literal["conv2d"]
    filters: int = Field(8, ge=1, le=512)
    kernel: int = Field(3, ge=1, le=11)
    stride: int = Field(1, ge=1, le=4)
    # bounded: a padding beyond the largest kernel only adds zeros, and a huge one made
    # shape inference spin (issue 8)
    padding: Union[Annotated[int, Field(ge=0, le=10)], Literal["same", "valid"]] = "same"
    activation: Activation = "relu"
    bias: bool = True


class MaxPool2d(_Layer):
    type: Literal["maxpool2d"]
    kernel: int = Field(2, ge=1, le=8)
    stride: Optional[int] = Field(None, ge=1, le=8)


class AvgPool2d(_Layer):
    type: Literal["avgpool2d"]
    kernel: int = Field(2, ge=1, le=8)
    stride: Optional[int] = Field(None, ge=1, le=8)


class Flatten(_Layer):
    type: Literal["flatten"]


class Dropout(_Layer):
    type: Literal["dropout"]
    p: float = Field(0.5, ge=0, lt=1)
    variant: Literal["bernoulli", "gaussian"] = "bernoulli"


class BatchNorm(_Layer):
    type: Literal["batchnorm"]


class LayerNorm(_Layer):
    type: Literal["layernorm"]


class GroupNorm(_Layer):
    type: Literal["groupnorm"]
    groups: int = Field(2, ge=1, le=64)


class ActivationLayer(_Layer):
    type: Literal["activation"]
    fn: Activation = "relu"


class Residual(_Layer):
    type: Literal["residual"]
    layers: list["Layer"] = Field(default_factory=list)
    drop_path: float = Field(0.0, ge=0, lt=1, description="stochastic depth: in training each sample skips the "
                             "block's branch with this probability (Huang et al. 2016); never in evaluation")


Layer = Annotated[
    Union[Dense, Conv2d, MaxPool2d, AvgPool2d, Flatten, Dropout, BatchNorm, LayerNorm,
          GroupNorm, ActivationLayer, Residual],
    Field(discriminator="type"),
]
Residual.model_rebuild()


def _default_layers() -> list:
    return [Dense(type="dense", units=8, activation="relu"), Dense(type="dense", units=8, activation="relu")]


class InitFrom(_Model):
    """Start from a finished run's weights: every layer whose name and shape match is loaded."""

    run: str = Field(pattern=r"^[A-Za-z0-9_-]{1,32}$", description="public id of a finished run")
    weights: Literal["final", "best"] = Field("final", description="best: the early-stopping epoch's weights")
    exclude: list[str] = Field(default_factory=list, description="layer names to initialize anew (e.g. output)")


class ModelSpec(_Model):
    layers: list[Layer] = Field(default_factory=_default_layers)
    init: InitSpec = Field(default_factory=lambda: InitSpec(weights="kaiming_normal", bias="zeros"))
    init_from: Optional[InitFrom] = Field(None, description="load matching layers from a run's saved weights")


# ---------------------------------------------------------------- optimisation


class OptimizerSpec(_Model):
    """Unset hyperparameters take the optimizer's own defaults (see training.optim)."""

    name: Literal[OPTIMIZERS] = "adam"  # type: ignore[valid-type]
    lr: float = Field(0.01, gt=0, le=100)
    momentum: Optional[float] = Field(None, ge=0, lt=1)
    nesterov: Optional[bool] = None
    betas: Optional[list[float]] = Field(None, min_length=2, max_length=2)
    eps: Optional[float] = Field(None, gt=0, le=1)
    rho: Optional[float] = Field(None, ge=0, lt=1)
    alpha: Optional[float] = Field(None, ge=0, lt=1)
    weight_decay: Optional[float] = Field(None, ge=0, le=10, description="default 0; adamw 0.01")

    @model_validator(mode="after")
    def _betas_range(self) -> "OptimizerSpec":
        if self.betas is not None and not all(0 <= b < 1 for b in self.betas):
            raise ValueError("betas must lie in [0, 1)")
        return self


class ScheduleSpec(_Model):
    name: Literal[SCHEDULES] = "constant"  # type: ignore[valid-type]
    warmup_epochs: float = Field(0, ge=0)
    step_size: int = Field(10, ge=1, le=1_000_000, description="epochs between decays (step); half-cycle (cyclic)")
    gamma: Optional[float] = Field(None, gt=0, le=1, description="decay factor")
    milestones: list[Annotated[int, Field(ge=0, le=1_000_000)]] = Field(default_factory=list, max_length=100)
    min_lr: float = Field(0.0, ge=0)
    max_lr: Optional[float] = Field(None, gt=0, description="peak of cyclic/onecycle (default 10x lr)")
    patience: int = Field(5, ge=0, le=1_000_000, description="plateau: epochs without val improvement")


class EarlyStopping(_Model):
    metric: Literal["val_loss", "val_acc", "train_loss"] = "val_loss"
    patience: int = Field(20, ge=1, le=1_000_000)
    min_delta: float = Field(0.0, ge=0)
    restore_best: bool = True


class SWASpec(_Model):
    """Stochastic weight averaging (Izmailov et al. 2018): average the weights of the last epochs."""

    start_epoch: int = Field(1, ge=1, le=1_000_000, description="first epoch whose weights join the average")
    lr: Optional[float] = Field(None, gt=0, le=100, description="constant lr from start_epoch on (unset: keep the schedule)")
    every: int = Field(1, ge=1, le=1_000_000, description="epochs between two snapshots")


class RegularizationSpec(_Model):
    l1: float = Field(0.0, ge=0, le=10)
    l2: float = Field(0.0, ge=0, le=10)
    weight_decay: float = Field(0.0, ge=0, le=10, description="decoupled: w -= lr * wd * w after each step")
    max_norm: Optional[float] = Field(None, gt=0)
    grad_clip_norm: Optional[float] = Field(None, gt=0)
    grad_clip_value: Optional[float] = Field(None, gt=0)
    label_smoothing: float = Field(0.0, ge=0, lt=1)
    early_stopping: Optional[EarlyStopping] = None
    swa: Optional[SWASpec] = None


class TrainingSpec(_Model):
    epochs: int = Field(60, ge=1, le=1_000_000)  # the server's limit (Limits) is lower
    batch_size: int = Field(32, ge=1, le=1_000_000)
    device: Literal["auto", "cpu", "cuda"] = "auto"
    repeated_augment: int = Field(1, ge=1, le=16, description="k augmented copies of each sample in a batch "
                                  "(repeated augmentation, Hoffer et al. 2019): batches hold k × batch_size inputs")
    max_seconds: Optional[float] = Field(None, gt=0)


class LandscapeSpec(_Model):
    mode: Literal["none", "1d", "2d"] = "2d"
    resolution: int = Field(31, ge=3, le=1001)
    resolution_y: Optional[int] = Field(None, ge=3, le=1001, description="rows of a rectangular grid")
    span: float = Field(1.0, gt=0, le=10)
    when: Literal["end", "every"] = "end"
    every_epochs: int = Field(10, ge=1, le=1_000_000)
    trajectory: bool = True
    interpolation: bool = True
    eval_samples: int = Field(1024, ge=16, le=20_000)
    seed: int = Field(0, ge=0, le=2**31 - 1)
    sharpness: bool = True
    checkpoint_every_steps: Optional[int] = Field(None, ge=1, le=10**9, description="default: every epoch")


class MonitorSpec(_Model):
    diagnostics: bool = True
    diagnostics_every: int = Field(1, ge=1, le=1_000_000, description="epochs")
    boundary: bool = True
    boundary_every: int = Field(1, ge=1, le=1_000_000, description="epochs")
    boundary_resolution: int = Field(40, ge=5, le=100)
    landscape: Optional[LandscapeSpec] = None
    neurons: bool = Field(True, description="neurons event each epoch (dense nets on 2-D data, first conv layer on images)")


class LRFinderSpec(_Model):
    start_lr: float = Field(1e-7, gt=0)
    end_lr: float = Field(10.0, gt=0)
    steps: Optional[int] = Field(None, ge=5, le=2000, description="default: two epochs of batches, 100 to 300")
    beta: float = Field(0.98, ge=0, lt=1)
    diverge_factor: float = Field(4.0, gt=1)

    @model_validator(mode="after")
    def _increasing(self) -> "LRFinderSpec":
        if self.end_lr <= self.start_lr:
            raise ValueError("end_lr must be greater than start_lr")
        return self


class Spec(_Model):
    version: Literal[1] = 1
    name: str = Field("", max_length=200)
    seed: int = Field(0, ge=0, le=2**31 - 1)
    mode: Literal["train", "lr_finder"] = "train"
    data: DataSpec = Field(default_factory=DataSpec)
    augment: list[AugmentItem] = Field(default_factory=list)
    model: ModelSpec = Field(default_factory=ModelSpec)
    loss: Optional[Literal[LOSSES]] = Field(  # type: ignore[valid-type]
        None, description="default: cross_entropy for classification, mse for regression"
    )
    optimizer: OptimizerSpec = Field(default_factory=OptimizerSpec)
    schedule: ScheduleSpec = Field(default_factory=ScheduleSpec)
    regularization: RegularizationSpec = Field(default_factory=RegularizationSpec)
    training: TrainingSpec = Field(default_factory=TrainingSpec)
    monitor: MonitorSpec = Field(default_factory=MonitorSpec)
    lr_finder: LRFinderSpec = Field(default_factory=LRFinderSpec)
    lesson: Optional[str] = Field(None, pattern=r"^[a-z0-9][a-z0-9-]{0,59}$",
                                  description="slug of the lesson (GET /api/presets) the run came from")


# ---------------------------------------------------------------- validation


class SpecError(ValueError):
    """Every problem of a spec, each ``{"path": "/json/pointer", "message": str}``."""

    def __init__(self, errors: list[dict[str, str]]):
        self.errors = errors
        super().__init__("; ".join(f"{e['path']}: {e['message']}" for e in errors))


def _field_errors(exc: ValidationError, doc: Any) -> list[dict[str, str]]:
    """Pydantic's errors as ``{"path", "message"}``, the message a sentence (spec_messages)."""
    raw = []
    for err in exc.errors(include_url=False):
        path = msg.pointer(tuple(err["loc"]), doc)
        raw.append({"path": path, "message": msg.describe(err, path, doc), "_type": err["type"],
                    "_ctx": err.get("ctx") or {}, "_input": err.get("input"), "_subject": msg.subject(path, doc)})
    return [{"path": e["path"], "message": e["message"]} for e in msg.merge_union(raw)]


def _repair(doc: dict, paths: list[str]) -> Optional[dict]:
    """``doc`` with the value at each path taken out, so that its default applies.

    A broken item of a layer list becomes an identity layer and a broken augmentation a
    no-op, so that the indices (and paths) of the items after it do not move. None when
    there is nothing left to repair with.
    """
    for path in paths:
        parts = msg.split_pointer(path)
        if not parts:
            return None
        parent = msg._node(doc, parts[:-1])
        key = parts[-1]
        if isinstance(parent, dict):
            if key not in parent:
                return None
            del parent[key]
        elif isinstance(parent, list) and msg.is_index(key) and int(key) < len(parent):
            if len(parts) >= 2 and parts[-2] == "layers":
                parent[int(key)] = {"type": "activation", "fn": "linear"}
            elif parts[:1] == ["augment"] and len(parts) == 2:
                parent[int(key)] = {"type": "gaussian_noise", "std": 0.0}
            else:  # an item of a list of plain values: the whole list goes
                owner = msg._node(doc, parts[:-2])
                if not isinstance(owner, dict) or parts[-2] not in owner:
                    return None
                del owner[parts[-2]]
        else:
            return None
    return doc


def _check_limits(spec: Spec, limits: Limits) -> list[dict[str, str]]:
    errors = []

    def add(path: str, msg: str) -> None:
        errors.append({"path": path, "message": msg})

    if spec.data.n_samples > limits.max_samples:
        add("/data/n_samples", f"Number of samples must be at most {limits.max_samples} (the server's limit)")
    if spec.training.epochs > limits.max_epochs:
        add("/training/epochs", f"Epochs must be at most {limits.max_epochs} (the server's limit)")
    if spec.training.batch_size > limits.max_batch_size:
        add("/training/batch_size", f"Batch size must be at most {limits.max_batch_size} (the server's limit)")
    if spec.training.max_seconds is not None and spec.training.max_seconds > limits.max_seconds:
        add("/training/max_seconds", f"Time limit must be at most {limits.max_seconds:g} seconds (the server's limit)")

    def count(layers: list, path: str) -> int:
        n = 0
        for i, layer in enumerate(layers):
            n += 1
            if layer.type == "residual":
                n += count(layer.layers, f"{path}/{i}/layers")
        return n

    if count(spec.model.layers, "/model/layers") > limits.max_layers:
        add("/model/layers", f"The network may have at most {limits.max_layers} layers (the server's limit)")
    ls = spec.monitor.landscape
    if ls is not None:
        if ls.resolution > limits.max_landscape_resolution:
            add("/monitor/landscape/resolution", f"Landscape resolution must be at most {limits.max_landscape_resolution} "
                "(the server's limit)")
        if ls.resolution_y is not None and ls.resolution_y > limits.max_landscape_resolution:
            add("/monitor/landscape/resolution_y", f"Landscape rows must be at most {limits.max_landscape_resolution} "
                "(the server's limit)")
    return errors


def _check_combinations(spec: Spec) -> list[dict[str, str]]:
    """Rules that span fields (the per-field ones live on the models)."""
    errors = []
    d = spec.data

    def has_batchnorm(layers) -> bool:
        return any(lay.type == "batchnorm" or (lay.type == "residual" and has_batchnorm(lay.layers))
                   for lay in layers)

    if spec.training.batch_size < 2 and has_batchnorm(spec.model.layers):
        errors.append({"path": "/training/batch_size",
                       "message": "batch norm needs batches of at least 2 samples"})
    if d.dataset == "upload" and not d.upload_id:
        errors.append({"path": "/data/upload_id", "message": "an upload id is required for the 'upload' dataset"})
    if d.dataset in DATASETS_REGRESSION:
        if spec.loss in ("cross_entropy", "bce"):
            errors.append({"path": "/loss", "message": f"{spec.loss} needs a classification dataset; "
                           f"{d.dataset} is a regression task"})
        if d.label_noise or d.random_labels:
            errors.append({"path": "/data/label_noise", "message": "label noise applies to classification only"})
    # plane/multigauss are 2-D too; an upload is checked against its data (training.data.check)
    if d.dataset not in DATASETS_2D + ("plane", "multigauss", "upload") and d.features != ["x1", "x2"]:
        errors.append({"path": "/data/features", "message": "feature crosses apply to the 2-D datasets only"})
    if spec.training.repeated_augment > 1 and not spec.augment:
        errors.append({"path": "/training/repeated_augment",
                       "message": "repeated augmentation needs at least one augmentation: without one the copies are identical"})
    swa = spec.regularization.swa
    if swa is not None and swa.start_epoch > spec.training.epochs:
        errors.append({"path": "/regularization/swa/start_epoch",
                       "message": f"SWA starts after the last epoch ({spec.training.epochs}); start it earlier"})
    image = d.dataset in DATASETS_IMAGE
    for i, aug in enumerate(spec.augment):
        if aug.type in IMAGE_AUGMENTS and not image and d.dataset != "upload":
            errors.append({"path": f"/augment/{i}/type",
                           "message": f"{aug.type} needs an image dataset (digits), not {d.dataset}"})
        if aug.type in ("mixup", "cutmix") and d.dataset in DATASETS_REGRESSION:
            errors.append({"path": f"/augment/{i}/type", "message": f"{aug.type} needs a classification dataset"})
        if aug.type in ("scale", "erase") and aug.scale[0] > aug.scale[1]:
            errors.append({"path": f"/augment/{i}/scale", "message": "scale must be [low, high] with low <= high"})
    s = spec.schedule
    if s.name == "multistep" and any(b <= a for a, b in zip(s.milestones, s.milestones[1:])):
        errors.append({"path": "/schedule/milestones", "message": "milestones must increase"})
    if s.name == "multistep" and not s.milestones:
        errors.append({"path": "/schedule/milestones", "message": "multistep needs at least one milestone"})
    es = spec.regularization.early_stopping
    if es is not None and es.metric.startswith("val") and d.split.val == 0:
        errors.append({"path": "/regularization/early_stopping/metric",
                       "message": "early stopping on a validation metric needs a validation split "
                                  "(data split val > 0)"})
    from training import losses, optim  # their own rules; imported late to keep this module light

    return errors + optim.check(spec) + losses.check(spec)


class Parsed(NamedTuple):
    """What :func:`parse` learned: the spec (or one with its broken fields set back to
    their defaults, see ``repaired``), every error found, and the repaired paths."""

    spec: Optional[Spec]
    errors: list[dict[str, str]]
    repaired: list[str]


# Sections whose values the cross-field rules read: after one of them was repaired, a
# rule could fire on the default instead of what the person wrote.
_SHARED_SECTIONS = {"data", "optimizer", "schedule", "training", "loss", "regularization", "mode", "version"}


def _section(path: str) -> str:
    parts = msg.split_pointer(path)
    return parts[0] if parts else ""


def touches(path: str, repaired: list[str]) -> bool:
    """Whether ``path`` is at, under or above one of the ``repaired`` paths."""
    return any(path == r or path.startswith(r + "/") or r.startswith(path + "/") or not r or not path
               for r in repaired)


def parse(doc: Any, limits: Optional[Limits] = None) -> Parsed:
    """Every problem of a spec document in one round.

    1. the raw JSON: depth and integer size (never recursion, never overflow);
    2. the fields (pydantic), as sentences with JSON-pointer paths;
    3. limits and cross-field rules, also when some fields were wrong: the broken values
       are taken out (their defaults apply) and only the rules that cannot have read a
       default in their place report.
    """
    limits = limits or Limits()
    if not isinstance(doc, dict):
        return Parsed(None, [{"path": "", "message": "The spec must be a JSON object"}], [])
    errors = msg.precheck(doc)
    if errors:
        return Parsed(None, errors, [])
    spec, repaired, work = None, [], doc
    for attempt in range(4):
        try:
            spec = Spec.model_validate(work)
            break
        except ValidationError as exc:
            found = _field_errors(exc, work)
            if attempt == 0:
                errors = found
                work = copy.deepcopy(doc)
            repaired += [e["path"] for e in found]
            if _repair(work, [e["path"] for e in found]) is None:
                break
    if spec is None:
        return Parsed(None, errors, repaired)
    errors += [e for e in _check_limits(spec, limits) if not touches(e["path"], repaired)]
    shared = {_section(r) for r in repaired} & _SHARED_SECTIONS
    errors += [e for e in _check_combinations(spec)
               if not shared and _section(e["path"]) not in {_section(r) for r in repaired}]
    return Parsed(spec, msg.polish(errors, doc), repaired)


def validate(doc: Any, limits: Optional[Limits] = None) -> Spec:
    """Parse and check a spec document; raise :class:`SpecError` listing every problem.

    Shape inference (an impossible layer stack, too many parameters, memory) needs the
    model builder and lives in :func:`training.check.check`, which runs both.
    """
    parsed = parse(doc, limits)
    if parsed.errors:
        raise SpecError(parsed.errors)
    return parsed.spec


def json_schema() -> dict:
    schema = Spec.model_json_schema()
    schema["$id"] = "https://descent.local/spec/v1"
    schema["title"] = "Descent experiment spec, version 1"
    # Which hyperparameters each optimizer and schedule reads (setting another is an
    # error), so that forms can show exactly those without keeping a copy of the rules.
    from training.optim import DEFAULTS, SCHEDULE_FIELDS

    schema["x-descent"] = {
        "optimizer_fields": {name: sorted(cfg) for name, cfg in DEFAULTS.items()},
        "schedule_fields": {name: list(fields) for name, fields in SCHEDULE_FIELDS.items()},
    }
    # each dataset's defaults for the fields a spec may leave unset, and the families the
    # builder groups them in (a dataset no family names is listed under "other")
    families = {"2d_classification": list(DATASETS_2D), "regression": list(DATASETS_REGRESSION),
                "images": list(DATASETS_IMAGE), "signals": ["mnist1d"], "upload": ["upload"]}
    named = {n for names in families.values() for n in names}
    families["other"] = [n for n in DATASETS if n not in named]
    schema["x-descent"]["dataset_defaults"] = {name: dataset_defaults(name) for name in DATASETS}
    schema["x-descent"]["dataset_families"] = {k: v for k, v in families.items() if v}
    return schema


def dump(spec: Spec) -> dict:
    """The full spec with every default filled in, as JSON-ready data."""
    return spec.model_dump(mode="json")
