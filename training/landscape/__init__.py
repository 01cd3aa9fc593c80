"""Loss landscapes (Li, Xu, Taylor, Studer, Goldstein, NeurIPS 2018) and sharpness.

Reference code: https://github.com/tomgoldstein/loss-landscape. 1-D surfaces run along a
random direction and along the line from the initial to the final weights; 2-D surfaces
span two filter-normalized random directions, or the two PCA directions of the path.

- ``directions``: parameters as named tensors, filter normalization, grid axes
- ``surface``: many grid points at once (vmap, factorized first layer) or point by point
- ``stem``: how a network splits into the factorized first layer and the stacked tail
- ``pca``: principal directions of the training path
- ``sharpness``: top Hessian eigenvalue and trace (PyHessian)
- ``tracker``: checkpoints during training, surfaces and events at the end
"""

from training.landscape.directions import (
    Params,
    centered_axis,
    filter_normalize,
    flatten,
    float_buffers_of,
    ignore_mask,
    interpolation_axis,
    params_of,
    random_directions,
    unflatten,
)
from training.landscape.payload import coords, finite6, json_losses, log_scale_hint
from training.landscape.pca import path_axis, pca_directions
from training.landscape.sharpness import sharpness
from training.landscape.surface import LossFn, LossSurface, default_budget, grid_coeffs, loop_surface, surface_2d
from training.landscape.tracker import MAX_CHECKPOINTS, LandscapeHook, Tracker

__all__ = [
    "MAX_CHECKPOINTS", "LandscapeHook", "LossFn", "LossSurface", "Params", "Tracker", "centered_axis", "coords",
    "default_budget", "filter_normalize", "finite6", "flatten", "float_buffers_of", "grid_coeffs", "ignore_mask",
    "interpolation_axis", "json_losses", "log_scale_hint", "loop_surface", "params_of", "path_axis",
    "pca_directions", "random_directions", "sharpness", "surface_2d", "unflatten",
]
