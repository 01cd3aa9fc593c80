"""The exported script is standalone, carries the engine's own code and reproduces its losses."""

import ast
import importlib.util
import inspect
import re
import subprocess
import sys
import textwrap

import pytest
import torch

from training import optim
from training.data import load
from training.export import CORE, export_script
from training.loop import ListSink, train
from training.model import build_model
from training.optim import LRSchedule
from training.spec import OPTIMIZERS, SCHEDULES, validate

QUIET = {"monitor": {"diagnostics": False, "boundary": False}}

DENSE_ADAM = {"seed": 3, "data": {"dataset": "moons", "n_samples": 200},
              "model": {"layers": [{"type": "dense", "units": 16, "activation": "tanh"},
                                   {"type": "dense", "units": 8, "activation": "elu"}]},
              "optimizer": {"name": "adam", "lr": 0.02}, "training": {"epochs": 3, "batch_size": 16}}
SCHEDULE_DROPOUT_L2 = {"seed": 5, "data": {"dataset": "spiral", "n_samples": 240, "n_classes": 3},
                       "model": {"layers": [{"type": "dense", "units": 32},
                                            {"type": "dropout", "p": 0.3},
                                            {"type": "dense", "units": 16, "activation": "leaky_relu"},
                                            {"type": "dropout", "p": 0.2, "variant": "gaussian"}],
                                 "init": {"weights": "xavier_uniform", "bias": "zeros"}},
                       "optimizer": {"name": "nesterov", "lr": 0.05},
                       "schedule": {"name": "cosine", "warmup_epochs": 1, "min_lr": 0.001},
                       "regularization": {"l2": 0.001, "l1": 0.0005, "label_smoothing": 0.1, "max_norm": 3.0,
                                          "grad_clip_norm": 1.0, "weight_decay": 0.01},
                       "training": {"epochs": 5, "batch_size": 32}}
CONV_RESIDUAL = {"seed": 1, "data": {"dataset": "digits", "n_samples": 300},
                 "model": {"layers": [{"type": "conv2d", "filters": 4, "kernel": 3},
                                      {"type": "batchnorm"},
                                      {"type": "maxpool2d", "kernel": 2},
                                      {"type": "residual", "layers": [
                                          {"type": "conv2d", "filters": 6, "kernel": 2, "stride": 2,
                                           "activation": "prelu", "init": {"weights": "orthogonal"}},
                                          {"type": "groupnorm", "groups": 3}]},
                                      {"type": "layernorm"},
                                      {"type": "dropout", "p": 0.2},
                                      {"type": "dense", "units": 10, "activation": "gelu"}]},
                 "optimizer": {"name": "rmsprop", "lr": 0.003},
                 "schedule": {"name": "step", "step_size": 1, "gamma": 0.5},
                 "training": {"epochs": 3, "batch_size": 32}}
REGRESSION = {"data": {"dataset": "plane", "n_samples": 150, "noise": 0.5}, "loss": "huber",
              "optimizer": {"name": "adamw", "lr": 0.3},  # noisy enough to hit the plateau and stop
              "schedule": {"name": "plateau", "patience": 0},
              "regularization": {"early_stopping": {"patience": 2}, "grad_clip_value": 0.5},
              "training": {"epochs": 12, "batch_size": 16}}


def engine_losses(doc):
    sink = ListSink()
    assert train(validate({**doc, **QUIET}), sink) == "succeeded"
    return [(e["train_loss"], e["val_loss"]) for e in sink.of("epoch")]


def script_and_engine(tmp_path, capsys, monkeypatch, doc, name):
    """The exported script of `doc` run as a program (what it printed), and the engine's
    run of the same spec (its events)."""
    module = load_module(write(tmp_path, doc, name))
    monkeypatch.setattr(sys, "argv", [f"{name}.py"])
    module.main(module.CONFIG, module.DATA, module.build_model, module.__doc__)
    out = capsys.readouterr().out
    sink = ListSink()
    train(validate({**doc, **QUIET}), sink)
    return out, sink


def printed_losses(out):
    return [(float(a), float(b)) for a, b in re.findall(r"train_loss (\S+) .*? val_loss (\S+)", out)]


def write(tmp_path, doc, name):
    path = tmp_path / f"{name}.py"
    path.write_text(export_script(doc))
    return path


def load_module(path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_script_imports_only_torch_and_the_standard_library(tmp_path):
    source = export_script(CONV_RESIDUAL)
    roots = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            roots |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            roots.add(node.module.split(".")[0])
    assert roots <= {"torch", "argparse", "base64", "math", "zlib", "collections", "json", "types", "__future__"}
    assert "pickle" not in source and "training" not in roots
    assert '("conv1", nn.Conv2d(1, 4, kernel_size=3, stride=1, padding=1)),' in source  # readable model code


def test_script_carries_the_engines_code_not_a_copy_of_it():
    source = export_script(DENSE_ADAM)
    for module, name in CORE:
        obj = getattr(module, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            assert textwrap.dedent(inspect.getsource(obj)) in source, name
    # so a change to the engine's schedule reaches every script exported after it
    assert "class LRSchedule:" in source and inspect.getsource(optim.LRSchedule.lr_at) in source


# one interpreter runs every script in turn (one torch import instead of three)
RUNNER = """
import runpy, sys
for path in sys.argv[1:]:
    print("==", path, flush=True)
    sys.argv = [path, "--epochs", "3"]
    runpy.run_path(path, run_name="__main__")
"""


def test_subprocess_run_reproduces_the_engines_losses(tmp_path):
    """Dense + Adam; dropout (both variants) + cosine warm-up + L1/L2 and friends; a conv/residual net."""
    cases = [DENSE_ADAM, SCHEDULE_DROPOUT_L2, CONV_RESIDUAL]
    paths = [str(write(tmp_path, doc, f"case{i}")) for i, doc in enumerate(cases)]
    proc = subprocess.Popen([sys.executable, "-c", RUNNER, *paths], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    expected = [engine_losses(doc)[:3] for doc in cases]  # meanwhile, in this process
    out, err = proc.communicate(timeout=180)
    assert proc.returncode == 0, err
    outputs = out.split("== ")[1:]
    assert len(outputs) == 3
    for output, want in zip(outputs, expected):
        got = printed_losses(output)
        assert len(got) == 3
        for (a, b), (c, d) in zip(got, want):
            assert abs(a - c) < 1e-5 and abs(b - d) < 1e-5, (output, want)


def test_regression_with_plateau_and_early_stopping_reproduces(tmp_path, capsys, monkeypatch):
    out, sink = script_and_engine(tmp_path, capsys, monkeypatch, REGRESSION, "regression")
    epochs, status = sink.of("epoch"), sink.of("status")[-1]
    assert len({e["lr"] for e in epochs}) > 1 and status["message"].startswith("early stopping")  # both happen
    assert status["message"] in out
    got, want = printed_losses(out), [(e["train_loss"], e["val_loss"]) for e in epochs]
    assert len(got) == len(want)
    assert [v for row in got for v in row] == pytest.approx([v for row in want for v in row], abs=1e-5)


def test_model_weights_and_outputs_are_identical(tmp_path):
    module = load_module(write(tmp_path, CONV_RESIDUAL, "conv"))
    spec = validate(CONV_RESIDUAL)
    torch.manual_seed(spec.seed)
    net = build_model(spec, (1, 8, 8), 10)
    torch.manual_seed(spec.seed)
    model = module.build_model()
    ours = [p.detach() for p in net.parameters()]
    theirs = [p.detach() for p in model.parameters()]
    assert len(ours) == len(theirs) and all(torch.equal(a, b) for a, b in zip(ours, theirs))
    net.eval(), model.eval()
    x = module.X_TEST
    assert torch.equal(net(x), model(x))


@pytest.mark.parametrize("schedule", [
    {"name": "constant", "warmup_epochs": 2}, {"name": "step", "step_size": 3, "gamma": 0.7},
    {"name": "multistep", "milestones": [2, 5]}, {"name": "exponential", "min_lr": 0.001},
    {"name": "cosine", "warmup_epochs": 1.5}, {"name": "cyclic", "step_size": 2, "max_lr": 0.1},
    {"name": "onecycle", "min_lr": 1e-5, "warmup_epochs": 1},
])
def test_script_schedule_matches_the_engines(tmp_path, schedule):
    doc = {"data": {"n_samples": 100}, "schedule": schedule, "training": {"epochs": 8, "batch_size": 20}}
    module = load_module(write(tmp_path, doc, "sched"))
    spec = validate(doc)
    spe = 4  # 70 training samples in batches of 20
    ours = LRSchedule(spec.schedule, spec.optimizer.lr, spe, 8)
    theirs = module.LRSchedule(module.CONFIG.schedule, module.CONFIG.optimizer_args["lr"], spe, module.CONFIG.epochs)
    assert [ours.lr_at(k) for k in range(32)] == [theirs.lr_at(k) for k in range(32)]


def test_the_run_data_bundle_is_embedded(tmp_path):
    spec = validate(DENSE_ADAM)
    bundle = load(spec)
    path = tmp_path / "bundle.py"
    path.write_text(export_script(spec, bundle))
    module = load_module(path)
    assert torch.equal(module.X_TRAIN, bundle.x_train) and torch.equal(module.Y_VAL, bundle.y_val)


LR = {"sgd": 0.1, "momentum": 0.05, "nesterov": 0.05, "adagrad": 0.05, "adadelta": 1.0, "rmsprop": 0.003,
      "adam": 0.01, "adamw": 0.01, "nadam": 0.01, "radam": 0.01}
SCHEDULE = {"constant": {"warmup_epochs": 1}, "step": {"step_size": 1, "gamma": 0.5},
            "multistep": {"milestones": [1, 2]}, "exponential": {"gamma": 0.7}, "cosine": {"min_lr": 1e-4},
            "cyclic": {"step_size": 1}, "onecycle": {}, "plateau": {"patience": 0, "gamma": 0.5}}


def every_optimizer_and_schedule():
    """One tiny case per optimizer; the schedules taken in turn, so each of them runs too."""
    assert set(SCHEDULE) == set(SCHEDULES)  # a new schedule needs its settings here
    names = list(SCHEDULE)
    return [{"seed": i, "data": {"dataset": "moons", "n_samples": 60},
             "model": {"layers": [{"type": "dense", "units": 8, "activation": "tanh"}]},
             "optimizer": {"name": opt, "lr": LR.get(opt, 0.01)},
             "schedule": {"name": names[i % len(names)], **SCHEDULE[names[i % len(names)]]},
             "training": {"epochs": 3, "batch_size": 16}} for i, opt in enumerate(OPTIMIZERS)]


def test_every_optimizer_and_schedule_reproduce_in_a_subprocess(tmp_path):
    cases = every_optimizer_and_schedule()
    assert {c["schedule"]["name"] for c in cases} == set(SCHEDULES)
    paths = [str(write(tmp_path, doc, f"opt{i}")) for i, doc in enumerate(cases)]
    proc = subprocess.Popen([sys.executable, "-c", RUNNER, *paths], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    expected = [engine_losses(doc) for doc in cases]
    out, err = proc.communicate(timeout=240)
    assert proc.returncode == 0, err
    outputs = out.split("== ")[1:]
    assert len(outputs) == len(cases)
    for doc, output, want in zip(cases, outputs, expected):
        got = printed_losses(output)
        assert len(got) == len(want) == 3, (doc, output)
        flat_got, flat_want = [v for row in got for v in row], [v for row in want for v in row]
        assert flat_got == pytest.approx(flat_want, abs=1e-5), (doc["optimizer"], doc["schedule"])


# issue 11: SWA (its lr and its BN pass draw from the same RNG), stochastic depth, LAMB
SWA_DROP_PATH = {"seed": 4, "data": {"dataset": "moons", "n_samples": 200},
                 "model": {"layers": [{"type": "dense", "units": 16, "activation": "relu"},
                                      {"type": "residual", "drop_path": 0.3,
                                       "layers": [{"type": "dense", "units": 16, "activation": "relu"},
                                                  {"type": "batchnorm"}, {"type": "dropout", "p": 0.2}]}]},
                 "optimizer": {"name": "lamb", "lr": 0.02},
                 "regularization": {"swa": {"start_epoch": 2, "lr": 0.005, "every": 1}},
                 "training": {"epochs": 4, "batch_size": 16}}


def test_swa_and_stochastic_depth_reproduce_with_the_averaged_losses(tmp_path, capsys, monkeypatch):
    out, sink = script_and_engine(tmp_path, capsys, monkeypatch, SWA_DROP_PATH, "swa")
    epochs = sink.of("epoch")
    got, want = printed_losses(out), [(e["train_loss"], e["val_loss"]) for e in epochs]
    assert len(got) == len(want) == 4
    assert [v for row in got for v in row] == pytest.approx([v for row in want for v in row], abs=1e-5)
    swa_got = [float(v) for v in re.findall(r"swa_val_loss (\S+)", out)]
    swa_want = [e["swa_val_loss"] for e in epochs if e.get("swa_val_loss") is not None]
    assert len(swa_got) == len(swa_want) == 3
    assert swa_got == pytest.approx(swa_want, abs=1e-5)
    assert "drop_path=0.3" in (tmp_path / "swa.py").read_text()
