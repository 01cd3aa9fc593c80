"""Run a preset's sweep through the engine, without Django: expansion as the API does it."""

from __future__ import annotations

import torch

from training.loop import ListSink, train
from training.spec import dump, validate
from webapp.sweeps import expand


def expand_sweep(preset: dict) -> list[tuple[dict, int, dict]]:
    """(axis values, repeat, spec document) for every run of a preset's sweep."""
    sweep = preset["sweep"]
    base = preset["spec"]
    defaults = dump(validate(base))
    axes = expand.parse_axes(sweep["axes"], sweep.get("method", "grid"))
    pts = expand.points(axes, sweep.get("method", "grid"), sweep.get("samples"), sweep.get("seed", base.get("seed", 0)))
    out = []
    for values in pts:
        doc = base
        for path, value in values.items():
            doc = expand.set_pointer(doc, defaults, path, value)
        for r in range(sweep.get("repeats", 1)):
            out.append((values, r, {**doc, "seed": doc.get("seed", 0) + r}))
    return out


def run(doc: dict) -> dict:
    """Train one spec; its epoch events and summary."""
    torch.set_num_threads(1)
    sink = ListSink()
    status = train(validate(doc), sink)
    epochs = [e for e in sink.events if e["type"] == "epoch"]
    summary = next((e for e in sink.events if e["type"] == "summary"), {})
    return {"status": status, "epochs": epochs, "summary": summary}


def final(result: dict, metric: str) -> float:
    if metric in result["summary"]:
        return result["summary"][metric]
    return result["epochs"][-1][metric]
