"""The exported script starts from a run's saved weights (--weights) and keeps frozen layers fixed."""

import re
import subprocess
import sys

import pytest
import torch

from training import weights as W
from training.export import export_script
from training.loop import ListSink, train
from training.spec import validate

QUIET = {"monitor": {"diagnostics": False, "boundary": False}}
LAYERS = [{"type": "dense", "units": 10, "activation": "tanh"}, {"type": "batchnorm"},
          {"type": "dense", "units": 6, "activation": "relu"}]
PRETRAIN = {"seed": 0, "data": {"dataset": "spiral", "n_samples": 120, "n_classes": 3},
            "model": {"layers": LAYERS}, "training": {"epochs": 2, "batch_size": 16}}
# a new task (4 classes: a new output layer), the first two layers loaded and frozen
FINETUNE = {"seed": 1, "data": {"dataset": "spiral", "n_samples": 120, "n_classes": 4},
            "model": {"layers": [dict(LAYERS[0], freeze=True), dict(LAYERS[1], freeze=True), LAYERS[2]],
                      "init_from": {"run": "pre", "exclude": ["dense2"]}},
            "optimizer": {"name": "sgd", "lr": 0.1}, "regularization": {"weight_decay": 0.1, "l2": 0.01},
            "training": {"epochs": 3, "batch_size": 16}}


def test_script_with_weights_reproduces_a_fine_tuned_run(tmp_path):
    assert train(validate({**PRETRAIN, **QUIET}), ListSink(), artifacts_dir=tmp_path / "pre") == "succeeded"
    sink = ListSink()
    assert train(validate({**FINETUNE, **QUIET}), sink, artifacts_dir=tmp_path / "ft") == "succeeded"
    want = [(e["train_loss"], e["val_loss"]) for e in sink.of("epoch")]
    script = tmp_path / "ft.py"
    script.write_text(export_script(FINETUNE))
    pre = tmp_path / "pre" / "final.safetensors"
    out = subprocess.run([sys.executable, str(script), "--weights", str(pre), "--save", str(tmp_path / "out.pt")],
                         capture_output=True, text=True, timeout=180, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "kept the initialization of dense2.body.weight, dense2.body.bias, output.body.weight" in out.stdout
    got = [(float(a), float(b)) for a, b in re.findall(r"train_loss (\S+) .*val_loss (\S+)", out.stdout)]
    assert [v for row in got for v in row] == pytest.approx([v for row in want for v in row], abs=1e-5)
    # the frozen layers come out exactly as loaded, in the script as in the engine
    saved, _ = W.read(pre)
    trained = torch.load(tmp_path / "out.pt")
    engine_final, _ = W.read(tmp_path / "ft" / "final.safetensors")
    assert torch.equal(trained["dense1.weight"], saved["dense1.body.weight"])
    assert torch.equal(trained["batchnorm1.running_mean"], saved["batchnorm1.body.running_mean"])
    assert torch.equal(engine_final["dense1.body.weight"], saved["dense1.body.weight"])
    assert torch.allclose(trained["dense2.weight"], engine_final["dense2.body.weight"], atol=1e-5)


def test_weights_of_another_network_are_refused_by_shape(tmp_path):
    train(validate({**PRETRAIN, **QUIET}), ListSink(), artifacts_dir=tmp_path / "pre")
    other = {**PRETRAIN, "model": {"layers": [{"type": "dense", "units": 3}]}, "training": {"epochs": 1}}
    script = tmp_path / "other.py"
    script.write_text(export_script(other))
    out = subprocess.run([sys.executable, str(script), "--weights", str(tmp_path / "pre" / "final.safetensors")],
                         capture_output=True, text=True, timeout=180, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    # only what matches by name and shape is taken (here the output bias: 3 classes both times)
    assert "loaded 1 tensors" in out.stdout
    assert "kept the initialization of dense1.body.weight, dense1.body.bias, output.body.weight" in out.stdout
