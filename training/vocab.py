"""Names shared by the spec and the modules that implement it (optim, losses, data).

A leaf module: it imports nothing from ``training``, so ``spec`` can import ``optim`` and
``losses`` for their own checks while they read the dataset families from here, and no
import circle forms (issue 9, section 1).
"""

from __future__ import annotations

DATASETS_2D = ("circle", "xor", "gauss", "spiral", "moons")
DATASETS_REGRESSION = ("plane", "multigauss", "poly1d")
DATASETS_IMAGE = ("digits",)
