"""The cartesian Plotly bundle the pages load (frontend/static/vendor) and the full one
from the plotly package (3-D charts, loaded on demand) must be the same plotly.js
version: a chart's layout and config are written once for both."""

import re
from pathlib import Path

import plotly

ROOT = Path(__file__).resolve().parents[2]


def version(path: Path) -> str:
    head = path.read_text(encoding="utf-8", errors="replace")[:400]
    return re.search(r"plotly\.js(?: \([^)]*\))? v(\d+\.\d+\.\d+)", head).group(1)


def test_the_vendored_cartesian_bundle_matches_the_full_bundle_of_the_plotly_package():
    full = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    cartesian = ROOT / "frontend" / "static" / "vendor" / "plotly-cartesian.min.js"
    assert version(cartesian) == version(full), (
        "upgrade frontend/static/vendor/plotly-cartesian.min.js with the plotly package "
        "(npm pack plotly.js-cartesian-dist-min@<version>)")
    assert (ROOT / "frontend" / "static" / "vendor" / "plotly-cartesian.LICENSE").exists()
