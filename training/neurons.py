"""Inside the network: a ``neurons`` event per epoch (TensorFlow Playground's view).

Dense networks on 2-D data: every drawn neuron's output over the input plane as a
coarse grid, plus the weights of the edges between drawn neurons. Image networks: the
first conv layer's filters and its feature maps for one fixed validation image.

Wire size (docs/protocol.md, "neurons"): a grid is ``resolution``² integers in
[-100, 100] (the value divided by the neuron's ``scale``, the largest |value|), about
3.5 bytes each as JSON, so ~2 kB a neuron at 24×24. At most ``MAX_DRAWN`` neurons per
layer are sent (the panel draws that many and writes "+N"). Input features do not change,
so their grids travel in the first event only. When the estimate exceeds ``MAX_BYTES``
the view is off for the run and one event says so (``available: false``, ``reason``).
"""

from __future__ import annotations

from typing import Any, Optional

import torch

from training.boundary import _extent

RESOLUTION = 24
MAX_DRAWN = 8  # neurons per layer sent and drawn
MAX_BYTES = 50_000  # per epoch
BYTES_PER_CELL = 3.6  # "-57," on average for values spread over [-100, 100]
DENSE_FRIENDLY = ("dense", "dropout", "activation", "batchnorm", "layernorm", "groupnorm")
MAX_FILTERS = 16
MAX_MAPS = 8


def _quantize(t: torch.Tensor) -> tuple[list[int], float]:
    """Integers in [-100, 100] and the scale that maps them back (value = q / 100 * scale)."""
    t = torch.nan_to_num(t.detach().float(), nan=0.0, posinf=0.0, neginf=0.0)
    scale = float(t.abs().max()) if t.numel() else 0.0
    if scale == 0.0:
        return [0] * t.numel(), 0.0
    return torch.round(t / scale * 100).to(torch.int64).reshape(-1).tolist(), round(scale, 5)


def _r(t: torch.Tensor, digits: int = 3) -> list:
    return torch.round(torch.nan_to_num(t.detach().float()) * 10**digits).div(10**digits).tolist()


def estimate_bytes(drawn: list[int], n_inputs: int, resolution: int = RESOLUTION) -> int:
    """JSON bytes of one epoch's event: grids of drawn neurons, edges, overhead."""
    cells = resolution * resolution
    grids = sum(drawn) * cells * BYTES_PER_CELL
    sizes = [min(n_inputs, MAX_DRAWN)] + drawn
    edges = sum(a * b for a, b in zip(sizes, sizes[1:])) * 7
    return int(grids + edges + 200 * len(drawn) + 300)


class NeuronView:
    """Built once per run by :func:`build`; ``collect(epoch)`` returns the event payload."""

    def __init__(self, net: torch.nn.Module, data: Any, resolution: int = RESOLUTION):
        self.net, self.data, self.res = net, data, resolution
        self.sent_inputs = False

    def collect(self, epoch: int) -> dict:
        raise NotImplementedError


class DenseView(NeuronView):
    def __init__(self, net, data, resolution: int = RESOLUTION):
        super().__init__(net, data, resolution)
        self.dense = [u for u in net.units if u.kind == "dense"]
        pts = data.points["train"]
        (x0, x1), (y0, y1) = _extent(pts["x"]), _extent(pts["y"])
        self.extent = {"x": [round(x0, 4), round(x1, 4)], "y": [round(y0, 4), round(y1, 4)]}
        device = data.x_train.device
        xs = torch.linspace(x0, x1, resolution, device=device)
        ys = torch.linspace(y0, y1, resolution, device=device)
        gy, gx = torch.meshgrid(ys, xs, indexing="ij")  # rows follow y, like the boundary
        self.features = data.featurize(torch.stack([gx.reshape(-1), gy.reshape(-1)], 1))

    def drawn(self) -> list[int]:
        return [min(u.weight_module.out_features, MAX_DRAWN) for u in self.dense]

    @torch.no_grad()
    def collect(self, epoch: int) -> dict:
        was_training = self.net.training
        self.net.eval()
        try:
            # outputs just before each dense unit (after activations and norms) = the
            # neurons of the layer before it; the last unit's output = the output neurons
            outs, x, seen = [], self.features, 0
            for unit in self.net.units:
                if unit.kind == "dense":
                    if seen:
                        outs.append(x)
                    seen += 1
                x = unit(x)
            outs.append(x)
        finally:
            self.net.train(was_training)
        layers = []
        for unit, out in zip(self.dense, outs):
            k = min(out.shape[1], MAX_DRAWN)
            grids, scales = [], []
            for j in range(k):
                q, s = _quantize(out[:, j])
                grids.append(q)
                scales.append(s)
            w = unit.weight_module
            layers.append({
                "name": unit.name, "units": int(w.out_features),
                "activation": unit.activation or ("output" if unit.name == "output" else "linear"),
                "grids": grids, "scales": scales,
                # edges into this layer from the drawn neurons of the one before
                "weights": _r(w.weight[:k, :MAX_DRAWN]),
                "bias": _r(w.bias[:k]) if w.bias is not None else None,
            })
        event: dict[str, Any] = {"epoch": epoch, "kind": "dense", "resolution": self.res, **self.extent,
                                 "layers": layers}
        names = list(self.data.feature_names or [])
        event["input_names"] = names[:MAX_DRAWN]
        event["n_inputs"] = len(names)
        if not self.sent_inputs:  # they never change: first event only
            inputs = []
            for j in range(min(self.features.shape[1], MAX_DRAWN)):
                q, s = _quantize(self.features[:, j])
                inputs.append({"name": names[j] if j < len(names) else f"x{j + 1}", "grid": q, "scale": s})
            event["inputs"] = inputs
            self.sent_inputs = True
        return event


class ConvView(NeuronView):
    def __init__(self, net, data, resolution: int = RESOLUTION):
        super().__init__(net, data, resolution)
        self.conv = next(u for u in net.units if u.kind == "conv2d")
        x = data.x_val if len(data.x_val) else data.x_train
        self.image = x[:1]  # one fixed image: its feature maps change as the filters learn

    @torch.no_grad()
    def collect(self, epoch: int) -> dict:
        w = self.conv.weight_module.weight  # (out, in, k, k)
        filters = w[:MAX_FILTERS].mean(1)  # averaged over input channels (1 for digits)
        was_training = self.net.training
        self.net.eval()
        try:
            x = self.image
            for unit in self.net.units:
                x = unit(x)
                if unit is self.conv:
                    break
        finally:
            self.net.train(was_training)
        maps = x[0, :MAX_MAPS]
        event = {"epoch": epoch, "kind": "conv", "layer": self.conv.name, "filters_total": int(w.shape[0]),
                 "filters": [_r(f, 3) for f in filters], "maps": [_r(m, 2) for m in maps],
                 "maps_total": int(x.shape[1])}
        if not self.sent_inputs:
            event["image"] = _r(self.image[0].mean(0), 3)
            self.sent_inputs = True
        return event


def build(net: torch.nn.Module, data: Any, resolution: int = RESOLUTION,
          max_bytes: int = MAX_BYTES) -> tuple[Optional[NeuronView], Optional[str]]:
    """(view, None) when the network can be shown; (None, reason) when it cannot."""
    units = list(net.units)
    if any(u.kind == "conv2d" for u in units):
        if len(getattr(data, "input_shape", ())) != 3:
            return None, "the conv view needs image data"
        return ConvView(net, data, resolution), None
    if data.points is None or data.featurize is None or "y" not in data.points.get("train", {}):
        return None, "the neuron view needs 2-D input data"
    if not all(u.kind in DENSE_FRIENDLY for u in units):
        other = next(u.kind for u in units if u.kind not in DENSE_FRIENDLY)
        return None, f"the neuron view draws plain dense networks (this one has a {other} layer)"
    # the finest grid (24, then 16, then 12 cells a side) that keeps an epoch under budget
    dense = [u for u in units if u.kind == "dense"]
    drawn = [min(u.weight_module.out_features, MAX_DRAWN) for u in dense]
    n_in = data.x_train.shape[1]
    for res in sorted({resolution, min(resolution, 16), min(resolution, 12)}, reverse=True):
        size = estimate_bytes(drawn, n_in, res)
        if size <= max_bytes:
            return DenseView(net, data, res), None
    return None, f"about {size // 1000} kB an epoch even on a coarse grid, over the {max_bytes // 1000} kB budget"


MAX_EVENTS = 100  # per run: a 2000-epoch run sends every 20th epoch (≤ ~5 MB stored)


def every(epochs: int) -> int:
    """Epochs between two neurons events."""
    return max(1, -(-epochs // MAX_EVENTS))
