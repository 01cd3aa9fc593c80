"""Small numeric helpers shared by the engine's event producers."""

from __future__ import annotations

import math
from typing import Optional


def finite_or_none(v: Optional[float]) -> Optional[float]:
    """``v`` if it is a finite number, else None: events are JSON, which has no NaN or inf."""
    return v if v is not None and math.isfinite(v) else None
