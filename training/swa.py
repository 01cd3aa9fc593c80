"""Stochastic weight averaging (Izmailov et al. 2018, arXiv:1803.05407).

From ``start_epoch`` on, the optimizer runs at the constant ``lr`` of SWA and every
``every`` epochs the current weights are added to a running equal-weight average. The
average is evaluated beside the raw weights (the trained network itself is left as it is,
so its losses stay those of plain training); batch-norm statistics of the average are
recomputed with a pass over the training data, as ``torch.optim.swa_utils.update_bn``
does, because averaged weights do not match the running statistics of any iterate.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel


class SWA:
    def __init__(self, net: nn.Module, start_epoch: int, lr: float | None, every: int):
        self.start_epoch, self.lr, self.every = start_epoch, lr, every
        # averages parameters only; buffers (BN statistics) are recomputed in finalize()
        self.avg = AveragedModel(net, use_buffers=False)
        self.n = 0

    def active(self, epoch: int) -> bool:
        return epoch >= self.start_epoch

    def lr_for(self, epoch: int, scheduled: float) -> float:
        """The constant SWA lr once averaging has started (the schedule's before)."""
        return self.lr if self.lr is not None and self.active(epoch) else scheduled

    def due(self, epoch: int) -> bool:
        return self.active(epoch) and (epoch - self.start_epoch) % self.every == 0

    @torch.no_grad()
    def update(self, net: nn.Module) -> None:
        self.avg.update_parameters(net)
        self.n += 1

    @torch.no_grad()
    def finalize(self, x_train: torch.Tensor, batch_size: int) -> nn.Module:
        """The averaged network with its batch-norm statistics recomputed on ``x_train``."""
        model = self.avg.module
        bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
        if bns:
            momenta = {m: m.momentum for m in bns}
            for m in bns:
                m.reset_running_stats()
                m.momentum = None  # cumulative average over the pass, as update_bn does
            was = model.training
            model.train()
            for start in range(0, len(x_train), batch_size):
                chunk = x_train[start:start + batch_size]
                if len(chunk) > 1:
                    model(chunk)
            model.train(was)
            for m in bns:
                m.momentum = momenta[m]
        return model
