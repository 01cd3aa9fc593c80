"""GET /api/runs/<id>/export/weights and /export/onnx; model.init_from checked at validation."""

import io

import pytest
import torch

from training import weights as W
from training.loop import ListSink, train
from training.spec import validate
from webapp.runs.exports import artifacts_dir
from webapp.runs.models import Run

SPEC = {"seed": 2, "data": {"dataset": "moons", "n_samples": 120},
        "model": {"layers": [{"type": "dense", "units": 6, "activation": "tanh"}, {"type": "batchnorm"}]},
        "regularization": {"early_stopping": {"patience": 1, "metric": "train_loss", "min_delta": 10.0}},
        "training": {"epochs": 4}, "monitor": {"diagnostics": False, "boundary": False}}


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def trained_run(client_a, media):
    """A run that the worker finished: its weights lie in its artifacts folder."""
    r = client_a.post_json("/api/runs", {"spec": SPEC})
    assert r.status_code == 201, r.json()
    run = Run.objects.get(public_id=r.json()["id"])
    result = train(validate(run.spec), ListSink(), artifacts_dir=artifacts_dir(run.public_id))
    assert result.status == "succeeded" and result.summary["early_stopped"]
    Run.objects.filter(pk=run.pk).update(status="succeeded")
    return run


def _load(response) -> dict:
    from safetensors.torch import load

    return load(b"".join(response.streaming_content))


def test_weights_download_is_the_trained_network(client_b, trained_run):
    r = client_b.get(f"/api/runs/{trained_run.public_id}/export/weights")
    assert r.status_code == 200
    assert "attachment" in r["Content-Disposition"] and ".safetensors" in r["Content-Disposition"]
    tensors = _load(r)
    saved, meta = W.read(artifacts_dir(trained_run.public_id) / "final.safetensors")
    assert sorted(tensors) == sorted(saved)
    assert all(torch.equal(tensors[k], saved[k]) for k in saved)
    assert "dense1.body.weight" in tensors and "batchnorm1.body.running_mean" in tensors
    assert meta["spec"]["data"]["dataset"] == "moons" and meta["which"] == "final"


def test_best_weights_are_the_best_epochs(client_b, trained_run):
    final = _load(client_b.get(f"/api/runs/{trained_run.public_id}/export/weights"))
    r = client_b.get(f"/api/runs/{trained_run.public_id}/export/weights?which=best")
    assert r.status_code == 200
    best = _load(r)
    assert sorted(best) == sorted(final)
    # min_delta 10 means no epoch after the first one counts as better: best is epoch 1
    assert W.read(artifacts_dir(trained_run.public_id) / "best.safetensors")[1]["epoch"] == 1
    assert not torch.equal(best["output.body.weight"], final["output.body.weight"])


def test_missing_weights_are_a_404_with_a_message(client_a, media):
    r = client_a.post_json("/api/runs", {"spec": {"training": {"epochs": 1}}})
    run_id = r.json()["id"]  # queued, never trained here: nothing saved
    for path in (f"/api/runs/{run_id}/export/weights", f"/api/runs/{run_id}/export/onnx",
                 "/api/runs/nope/export/weights"):
        r = client_a.get(path)
        assert r.status_code == 404, path
        assert r.json()["errors"][0]["message"]


def test_which_must_be_final_or_best(client_b, trained_run):
    r = client_b.get(f"/api/runs/{trained_run.public_id}/export/weights?which=worst")
    assert r.status_code == 400
    assert r.json()["errors"][0]["path"] == "which"


def test_onnx_export_gives_the_same_outputs(client_b, trained_run):
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime is the optional 'onnx' extra")
    r = client_b.get(f"/api/runs/{trained_run.public_id}/export/onnx")
    assert r.status_code == 200, r.content[:300]
    model = b"".join(r.streaming_content)
    net, _spec, shape = W.rebuild(artifacts_dir(trained_run.public_id) / "final.safetensors")
    x = torch.randn(7, *shape)
    want = net(x).detach().numpy()
    got = ort.InferenceSession(io.BytesIO(model).getvalue()).run(None, {"x": x.numpy()})[0]
    assert got.shape == want.shape and abs(got - want).max() < 1e-4


def test_init_from_an_unknown_run_is_a_400_naming_the_field(client_a, media):
    for doc in ({"run": "doesnotexist"}, {"run": "doesnotexist", "weights": "best"}):
        r = client_a.post_json("/api/runs", {"spec": {"model": {"init_from": doc}}})
        assert r.status_code == 400
        assert r.json()["errors"][0]["path"] == "/model/init_from/run"


def test_init_from_a_run_without_best_weights_is_a_400(client_a, media):
    r = client_a.post_json("/api/runs", {"spec": {"data": {"dataset": "moons"}, "training": {"epochs": 2},
                                                  "monitor": {"diagnostics": False, "boundary": False}}})
    run = Run.objects.get(public_id=r.json()["id"])
    train(validate(run.spec), ListSink(), artifacts_dir=artifacts_dir(run.public_id))  # no early stopping
    ok = client_a.post_json("/api/spec/validate", {"spec": {"model": {"init_from": {"run": run.public_id}}}})
    assert ok.status_code == 200, ok.json()
    bad = client_a.post_json("/api/spec/validate",
                             {"spec": {"model": {"init_from": {"run": run.public_id, "weights": "best"}}}})
    assert bad.status_code == 400 and bad.json()["errors"][0]["path"] == "/model/init_from/run"


def test_deleting_a_run_deletes_its_weights(client_a, media):
    r = client_a.post_json("/api/runs", {"spec": {"training": {"epochs": 1},
                                                  "monitor": {"diagnostics": False, "boundary": False}}})
    run = Run.objects.get(public_id=r.json()["id"])
    train(validate(run.spec), ListSink(), artifacts_dir=artifacts_dir(run.public_id))
    Run.objects.filter(pk=run.pk).update(status="succeeded")
    assert (artifacts_dir(run.public_id) / "final.safetensors").is_file()
    assert client_a.delete_json(f"/api/runs/{run.public_id}").status_code == 204
    assert not artifacts_dir(run.public_id).exists()
