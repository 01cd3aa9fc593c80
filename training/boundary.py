"""Decision boundary of a 2-D model (and the fitted curve of a 1-D regression).

The grid lives in the *raw* input plane (what the user sees); each grid point goes
through the same feature crosses and normalization as the training data.
"""

from __future__ import annotations

from typing import Optional

import torch

from training.data import DataBundle


def _extent(values: list[float], pad: float = 0.1) -> tuple[float, float]:
    lo, hi = min(values), max(values)
    margin = (hi - lo) * pad or 1.0
    return lo - margin, hi + margin


@torch.no_grad()
def compute(net: torch.nn.Module, data: DataBundle, resolution: int = 40) -> Optional[dict]:
    if data.points is None or data.featurize is None:
        return None
    pts = data.points["train"]
    was_training = net.training
    net.eval()
    device = data.x_train.device
    try:
        if "y" not in pts:  # 1-D regression: the fitted curve
            lo, hi = _extent(pts["x"])
            xs = torch.linspace(lo, hi, resolution * 4, device=device).reshape(-1, 1)
            pred = net(data.featurize(xs)).reshape(-1)
            return {"curve": {"x": xs.reshape(-1).tolist(), "y": pred.tolist()}}
        (x0, x1), (y0, y1) = _extent(pts["x"]), _extent(pts["y"])
        xs = torch.linspace(x0, x1, resolution, device=device)
        ys = torch.linspace(y0, y1, resolution, device=device)
        gy, gx = torch.meshgrid(ys, xs, indexing="ij")
        grid = torch.stack([gx.reshape(-1), gy.reshape(-1)], 1)
        out = net(data.featurize(grid))
        if data.task == "regression":
            z = out.reshape(resolution, resolution)
            return {"x": xs.tolist(), "y": ys.tolist(), "z": z.tolist(), "kind": "value"}
        probs = torch.softmax(out, 1)
        if data.n_classes == 2:
            z = probs[:, 1].reshape(resolution, resolution)
            return {"x": xs.tolist(), "y": ys.tolist(), "z": z.tolist(), "kind": "probability"}
        top, cls = probs.max(1)
        return {"x": xs.tolist(), "y": ys.tolist(), "z": cls.reshape(resolution, resolution).tolist(),
                "zprob": top.reshape(resolution, resolution).tolist(), "kind": "class"}
    finally:
        net.train(was_training)
