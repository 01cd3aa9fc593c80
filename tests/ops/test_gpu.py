"""The CUDA path, verified the first time a GPU is there (bench/gpu_check.sh runs these).

Skipped without CUDA; each compares the GPU with the CPU on the same seeded spec.
"""

import pytest
import torch

from training.loop import ListSink, train
from training.spec import validate

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")]

SPEC = {"seed": 3, "data": {"dataset": "spiral", "n_samples": 600}, "training": {"epochs": 40},
        "monitor": {"diagnostics": True, "boundary": True, "landscape": {"mode": "2d", "resolution": 11, "when": "end"}}}


def run(device: str) -> tuple[str, ListSink]:
    doc = {**SPEC, "training": {**SPEC["training"], "device": device}}
    sink = ListSink()
    return train(validate(doc), sink), sink


def test_a_run_on_cuda_learns_and_reports_every_panel():
    status, sink = run("cuda")
    assert status == "succeeded"
    assert sink.of("summary")[0]["val_acc"] > 0.7
    assert sink.of("landscape") and sink.of("boundary") and sink.of("diagnostics")


def test_cuda_and_cpu_agree_on_the_first_epochs_loss():
    _, gpu = run("cuda")
    _, cpu = run("cpu")
    g, c = gpu.of("epoch")[0]["train_loss"], cpu.of("epoch")[0]["train_loss"]
    assert g == pytest.approx(c, rel=0.05)

