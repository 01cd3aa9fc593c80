"""The worker's start-up warm-up does the first run's one-off work, and leaves the process as it was."""

import torch

from training.data.datasets import _digits
from training.warmup import warm_up


def test_warm_up_fills_the_caches_and_keeps_the_rng_state():
    _digits.cache_clear()
    torch.manual_seed(123)
    state = torch.random.get_rng_state()
    timings = warm_up()
    assert set(timings) == {"datasets", "train1", "train2"} and all(v >= 0 for v in timings.values())
    assert _digits.cache_info().currsize == 1  # the digits are loaded once, here
    assert torch.equal(torch.random.get_rng_state(), state)


def test_the_worker_signal_handlers_are_registered_and_can_be_switched_off(monkeypatch):
    from celery.signals import worker_process_init, worker_ready

    from webapp.runs import warmup

    assert warmup.on_worker_ready in [r for _, r in worker_ready.receivers]
    assert warmup.on_process_init in [r for _, r in worker_process_init.receivers]
    calls = []
    monkeypatch.setattr("training.warmup.warm_up", lambda: calls.append(1) or {})
    monkeypatch.setattr(warmup, "_warm_webapp_side", lambda: None)
    monkeypatch.setenv("DESCENT_WARMUP", "0")
    warmup.on_process_init()
    assert calls == []
    monkeypatch.setenv("DESCENT_WARMUP", "1")
    warmup.on_process_init()
    assert calls == [1]

    class SoloConsumer:
        from celery.concurrency.solo import TaskPool as _P
        pool = _P.__new__(_P)

    class PreforkConsumer:
        from celery.concurrency.prefork import TaskPool as _P
        pool = _P.__new__(_P)

    warmup.on_worker_ready(sender=PreforkConsumer())  # its children warm themselves up
    assert calls == [1]
    warmup.on_worker_ready(sender=SoloConsumer())  # the solo pool trains in this very process
    assert calls == [1, 1]

