"""Rows of the /runs page (GET /api/runs): what a person recognizes a run by."""

from __future__ import annotations

from typing import Any

LIST_LIMIT = 200


def model_summary(spec: dict) -> str:
    """"dense 8 relu → dense 8 relu" style, folding repeats: "3 × dense 128 relu"."""
    layers = (spec.get("model") or {}).get("layers")
    if layers is None:
        return "dense 8 relu → dense 8 relu"  # the spec's default network
    parts: list[str] = []
    for layer in layers:
        kind = layer.get("type", "?")
        if kind == "dense":
            parts.append(f"dense {layer.get('units', '?')} {layer.get('activation', 'relu')}")
        elif kind == "conv2d":
            parts.append(f"conv {layer.get('filters', '?')}×{layer.get('kernel', 3)}")
        elif kind == "dropout":
            parts.append(f"dropout {layer.get('p', 0.5)}")
        elif kind == "residual":
            parts.append(f"residual[{model_summary({'model': {'layers': layer.get('layers', [])}})}]")
        elif kind == "activation":
            parts.append(layer.get("fn", "activation"))
        else:
            parts.append(kind)
    folded: list[str] = []
    count = 0
    for i, p in enumerate(parts):
        count += 1
        if i + 1 == len(parts) or parts[i + 1] != p:
            folded.append(f"{count} × {p}" if count > 1 else p)
            count = 0
    return " → ".join(folded) or "linear (no hidden layer)"


def best_val(summary: dict | None) -> dict | None:
    """The validation metric a person compares runs by: accuracy, else R², else loss."""
    if not summary:
        return None
    for key, name, goal in (("val_acc", "val accuracy", "max"), ("val_r2", "val R²", "max"),
                            ("val_loss", "val loss", "min")):
        value = summary.get(key)
        if isinstance(value, (int, float)):
            return {"name": name, "key": key, "value": value, "goal": goal, "epoch": summary.get("best_epoch")}
    return None


def run_row(run: Any) -> dict:
    spec = run.spec or {}
    return {"id": run.public_id, "name": run.name, "status": run.status, "url": run.url,
            "created": run.created.isoformat(), "dataset": (spec.get("data") or {}).get("dataset", "circle"),
            "model": model_summary(spec), "best_val": best_val(run.summary),
            "params": (run.summary or {}).get("params"), "lesson": spec.get("lesson")}
