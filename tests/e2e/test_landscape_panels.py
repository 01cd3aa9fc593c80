"""The landscape and LR-finder panels, fed events directly in Chromium (no server: the
page and its ES modules are served from the working tree through Playwright routes)."""

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "frontend" / "static" / "descent"
ORIGIN = "http://descent.test"

PAGE = """<!doctype html><html><head><script src="/vendor/plotly.min.js"></script>
<link rel="stylesheet" href="/static/descent/css/descent.css"></head><body><main id="grid"></main>
<script type="module">
import { LandscapePanel } from "/static/descent/js/panels/landscape.js";
import { LrFinderPanel } from "/static/descent/js/panels/lrfinder.js";
const grid = document.getElementById("grid");
window.landscape = new LandscapePanel(grid);
window.applied = [];
window.lrfinder = new LrFinderPanel(grid, (lr) => window.applied.push(lr));
window.ready = true;
</script></body></html>"""


@pytest.fixture
def panels(page):
    import plotly

    plotly_js = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"

    def serve(route):
        path = route.request.url[len(ORIGIN):].split("?")[0]
        if path == "/":
            return route.fulfill(body=PAGE, content_type="text/html")
        if path == "/vendor/plotly.min.js":
            return route.fulfill(path=str(plotly_js), content_type="text/javascript")
        local = STATIC / path[len("/static/descent/"):]
        if path.startswith("/static/descent/") and local.is_file():
            kind = "text/javascript" if local.suffix in (".js", ".mjs") else "text/css"
            return route.fulfill(path=str(local), content_type=kind)
        return route.fulfill(status=404, body="")

    page.route(f"{ORIGIN}/**", serve)
    page.goto(f"{ORIGIN}/")
    page.wait_for_function("window.ready === true")
    return page


def feed(page, obj: str, event: dict) -> None:
    page.evaluate(f"(ev) => window.{obj}.add(ev)", json.loads(json.dumps(event)))


def settle(page):
    page.wait_for_timeout(400)  # the charts redraw on the next animation frames


GRID = [[3.0, 2.0, 3.0], [2.0, 1.0, 2.0], [3.0, 2.5, 900.0]]


def pca_event(**extra):
    return {"type": "landscape", "surface": "pca", "mode": "2d", "alphas": [-1, 0, 1], "betas": [-1, 0, 1],
            "loss": GRID, "done": True, "partial": False, "center_loss": 1.0, "eval_samples": 64,
            "explained_variance": [0.824, 0.109], "log_scale_hint": True,
            "trajectory": {"x": [0.9, 0.4, 0.0], "y": [0.5, -0.2, 0.0], "steps": [0, 5, 10], "loss": [2.7, 1.6, 1.0]},
            **extra}


def test_pca_axes_show_the_explained_variance_and_the_path_sits_at_its_real_losses(panels):
    feed(panels, "landscape", pca_event())
    panels.wait_for_function("""() => [...document.querySelectorAll('#panel-landscape .js-plotly-plot')]
        .some((el) => (el.data || []).some((t) => t.type === 'scatter3d'))""", timeout=20_000)
    titles = panels.evaluate("""() => {
        const plots = [...document.querySelectorAll('#panel-landscape .js-plotly-plot')];
        const contour = plots.find((el) => el.data.some((t) => t.type === 'contour'));
        const surface = plots.find((el) => el.data.some((t) => t.type === 'scatter3d'));
        return {x: contour.layout.xaxis.title.text, y: contour.layout.yaxis.title.text,
                sx: surface.layout.scene.xaxis.title.text,
                z: surface.data.find((t) => t.type === 'scatter3d').z};
    }""")
    assert titles["x"] == "PC1 (82.4 %)" and titles["y"] == "PC2 (10.9 %)"
    assert titles["sx"] == "PC1 (82.4 %)"
    # the log toggle followed log_scale_hint: heights are log10 of the checkpoints' own losses
    assert panels.is_checked("#panel-landscape .log-toggle")
    assert titles["z"] == pytest.approx([0.4313638, 0.2041200, 0.0], abs=1e-6)
    assert "evaluated on 64 training samples" in panels.inner_text("#panel-landscape .caption")


def test_random_axes_are_in_filter_normalized_units_and_a_users_log_choice_sticks(panels):
    feed(panels, "landscape", {"type": "landscape", "surface": "random", "mode": "2d", "alphas": [-1, 0, 1],
                               "betas": [-1, 0, 1], "loss": [[2, 2, 2], [2, 1, 2], [2, 2, 2]], "done": True,
                               "partial": False, "center_loss": 1.0, "eval_samples": 128, "log_scale_hint": False})
    settle(panels)
    x = panels.evaluate("() => document.querySelector('#panel-landscape .js-plotly-plot').layout.xaxis.title.text")
    assert x == "α (filter-normalized units)"
    assert not panels.is_checked("#panel-landscape .log-toggle")
    panels.check("#panel-landscape .log-toggle")  # the user's choice ...
    feed(panels, "landscape", pca_event(log_scale_hint=False))
    settle(panels)
    assert panels.is_checked("#panel-landscape .log-toggle")  # ... is not overridden by a later hint


def test_the_interpolation_says_batchnorm_statistics_moved(panels):
    feed(panels, "landscape", {"type": "landscape", "surface": "interpolation", "mode": "1d",
                               "alphas": [-0.5, 0, 0.5, 1, 1.5], "loss": [3, 2.3, 1.4, 1.0, 1.8], "done": True,
                               "partial": False, "center_loss": 1.0, "eval_samples": 32, "buffers": "interpolated"})
    settle(panels)
    caption = panels.inner_text("#panel-landscape .caption")
    assert "batch-norm statistics interpolated" in caption and "32 training samples" in caption


def test_the_lr_panel_suggests_the_valley_and_keeps_the_other_marks(panels):
    lrs = [10 ** (-5 + 6 * i / 59) for i in range(60)]
    losses = [2.3 - 1.5 / (1 + 10 ** (-(i - 35) / 5)) for i in range(60)]
    feed(panels, "lrfinder", {"type": "lr_finder", "lrs": lrs, "losses": losses, "smoothed": losses,
                              "suggestion": 0.05, "suggestion_steep": 0.01, "suggestion_min10": 0.08,
                              "rule": "valley", "steps": 100, "stopped_early": True})
    settle(panels)
    marks = panels.eval_on_selector_all("#panel-lrfinder .lr-suggestion", "els => els.map(e => e.dataset.mark)")
    assert marks == ["suggestion", "steepest", "min"]
    assert panels.get_attribute("#panel-lrfinder .apply-lr >> nth=0", "data-lr") == "0.05"
    shapes = panels.evaluate("() => document.querySelector('#panel-lrfinder .js-plotly-plot').layout.shapes.map(s => s.x0)")
    assert shapes == [0.05, 0.01, 0.08]
    panels.click("#panel-lrfinder .apply-lr >> nth=0")
    assert panels.evaluate("() => window.applied") == [0.05]
    assert "60 of 100 steps" in panels.inner_text("#panel-lrfinder")
