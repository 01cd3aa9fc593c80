"""A sweep's body → the list of specs it runs (pure Python: no Django, no database).

Axes are JSON pointers into the spec. ``grid`` takes the Cartesian product of every
axis's values; ``random`` draws ``samples`` points independently per axis (Bergstra &
Bengio 2012: when only a few axes matter, random points cover each of them with as many
distinct values as there are samples, where a grid repeats the same few). Each point is
repeated ``repeats`` times with seeds ``seed, seed+1, ...``.
"""

from __future__ import annotations

import copy
import itertools
import math
import random
from dataclasses import dataclass
from typing import Any

METHODS = ("grid", "random")
KINDS = ("values", "log_uniform", "int_log_uniform", "uniform")
# metric → default goal; "best" over epochs exists for train_/val_ (epoch events), test_ is final only
METRICS = {
    "val_acc": "max", "val_loss": "min", "train_acc": "max", "train_loss": "min",
    "test_acc": "max", "test_loss": "min", "val_r2": "max", "val_rmse": "min",
    "train_r2": "max", "train_rmse": "min", "test_r2": "max", "test_rmse": "min",
}
MAX_GRID_COUNT = 64


class BodyError(Exception):
    def __init__(self, errors: list[dict]):
        self.errors = errors
        super().__init__(str(errors))


@dataclass
class Axis:
    path: str
    kind: str
    values: list | None = None  # kind "values", or the grid points of a range axis
    low: float | None = None
    high: float | None = None

    @property
    def log(self) -> bool:
        return self.kind in ("log_uniform", "int_log_uniform")

    def sample(self, rng: random.Random) -> Any:
        if self.kind == "values":
            return rng.choice(self.values)
        if self.kind == "uniform":
            return rng.uniform(self.low, self.high)
        x = math.exp(rng.uniform(math.log(self.low), math.log(self.high)))
        if self.kind == "int_log_uniform":
            # round in log space would favour the low end; round the value, stay in range
            return int(min(max(round(x), math.ceil(self.low)), math.floor(self.high)))
        return x

    def grid(self, count: int | None) -> list:
        if self.kind == "values":
            return list(self.values)
        n = count or 0
        if self.kind == "uniform":
            return [self.low + (self.high - self.low) * i / max(n - 1, 1) for i in range(n)]
        pts = [math.exp(math.log(self.low) + (math.log(self.high) - math.log(self.low)) * i / max(n - 1, 1))
               for i in range(n)]
        if n > 1:  # the ends exactly as given (exp(log(x)) drifts: 100 came out above a limit of 100)
            pts[0], pts[-1] = self.low, self.high
        if self.kind == "int_log_uniform":
            return sorted({int(round(p)) for p in pts})
        return pts

    def describe(self) -> dict:
        out: dict[str, Any] = {"path": self.path, "kind": self.kind, "log": self.log}
        if self.values is not None:
            out["values"] = self.values
        if self.low is not None:
            out["range"] = [self.low, self.high]
        return out


def parse_pointer(path: Any) -> list[str]:
    if not isinstance(path, str) or not path.startswith("/") or path == "/":
        raise ValueError("a JSON pointer such as /optimizer/lr")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def set_pointer(doc: dict, defaults: dict, path: str, value: Any) -> dict:
    """A copy of ``doc`` with ``value`` at ``path``.

    A container missing from ``doc`` (the spec left it to its defaults) is taken from
    ``defaults`` (the full spec), so ``/model/layers/0/units`` works on ``{}``.
    """
    out = copy.deepcopy(doc)
    node, dnode = out, defaults
    parts = parse_pointer(path)
    for i, key in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(node, list):
            if not key.isdigit() or int(key) >= len(node):
                raise KeyError(f"{'/' + '/'.join(parts[:i + 1])}: no item {key} (the list has {len(node)})")
            key = int(key)
        elif not isinstance(node, dict):
            raise KeyError(f"{'/' + '/'.join(parts[:i])} is not an object")
        dchild = None
        if isinstance(dnode, dict):
            dchild = dnode.get(key)
        elif isinstance(dnode, list) and isinstance(key, int) and key < len(dnode):
            dchild = dnode[key]
        if last:
            node[key] = value
            break
        if isinstance(node, dict) and (key not in node or node[key] is None):
            node[key] = copy.deepcopy(dchild) if isinstance(dchild, (dict, list)) else {}
        node, dnode = node[key], dchild
    return out


def _number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def parse_axes(raw: Any, method: str) -> list[Axis]:
    errors: list[dict] = []
    if not isinstance(raw, list) or not raw:
        raise BodyError([{"path": "/axes", "message": "a non-empty list of axes"}])
    axes: list[Axis] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        at = f"/axes/{i}"
        if not isinstance(item, dict):
            errors.append({"path": at, "message": "an object with a path and values, log_uniform or int_log_uniform"})
            continue
        unknown = set(item) - {"path", "count", *KINDS}
        if unknown:
            errors.append({"path": f"{at}/{sorted(unknown)[0]}", "message": "unknown field"})
        try:
            parse_pointer(item.get("path"))
        except ValueError as exc:
            errors.append({"path": f"{at}/path", "message": f"expected {exc}"})
            continue
        if item["path"] in seen:
            errors.append({"path": f"{at}/path", "message": f"{item['path']} is swept twice"})
        seen.add(item["path"])
        kinds = [k for k in KINDS if k in item]
        if len(kinds) != 1:
            errors.append({"path": at, "message": "exactly one of " + ", ".join(KINDS)})
            continue
        kind = kinds[0]
        if kind == "values":
            vals = item["values"]
            if not isinstance(vals, list) or not vals:
                errors.append({"path": f"{at}/values", "message": "a non-empty list"})
                continue
            axes.append(Axis(item["path"], kind, values=vals))
            continue
        rng = item[kind]
        if not (isinstance(rng, list) and len(rng) == 2 and all(_number(x) for x in rng) and rng[0] <= rng[1]):
            errors.append({"path": f"{at}/{kind}", "message": "expected [low, high] with low <= high"})
            continue
        if kind != "uniform" and rng[0] <= 0:
            errors.append({"path": f"{at}/{kind}/0", "message": "a log range needs low > 0"})
            continue
        if kind == "int_log_uniform" and math.floor(rng[1]) < math.ceil(rng[0]):
            errors.append({"path": f"{at}/{kind}", "message": "the range holds no integer"})
            continue
        count = item.get("count")
        if method == "grid":
            if not (isinstance(count, int) and not isinstance(count, bool) and 1 <= count <= MAX_GRID_COUNT):
                errors.append({"path": f"{at}/count", "message": f"a grid over a range needs count: 1..{MAX_GRID_COUNT} points"})
                continue
        axis = Axis(item["path"], kind, low=float(rng[0]), high=float(rng[1]))
        if method == "grid":
            axis.values = axis.grid(count)
        axes.append(axis)
    if errors:
        raise BodyError(errors)
    return axes


def points(axes: list[Axis], method: str, samples: int | None, seed: int) -> list[dict[str, Any]]:
    """Each point as ``{path: value}``, in a stable order."""
    if method == "grid":
        return [dict(zip((a.path for a in axes), combo)) for combo in itertools.product(*(a.values for a in axes))]
    rng = random.Random(seed)
    return [{a.path: a.sample(rng) for a in axes} for _ in range(samples or 0)]
