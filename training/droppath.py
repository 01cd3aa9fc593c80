"""Stochastic depth (Huang et al. 2016, arXiv:1603.09382) for residual blocks.

In training each sample skips the residual branch with probability ``p`` (only the skip
connection carries it through); a kept branch is scaled by 1 / (1 - p) so that the
block's expected output equals its output in evaluation, where nothing is dropped
(the "inverted" form used by timm's ``drop_path``, equivalent to the paper's scaling
of the branch by its survival probability at test time).
"""

from __future__ import annotations

import torch


def drop_path(branch: torch.Tensor, p: float, training: bool) -> torch.Tensor:
    if p <= 0.0 or not training:
        return branch
    keep = 1.0 - p
    shape = (branch.shape[0],) + (1,) * (branch.dim() - 1)  # one draw per sample
    mask = torch.empty(shape, dtype=branch.dtype, device=branch.device).bernoulli_(keep)
    return branch * mask / keep
