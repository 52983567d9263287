"""A time budget's re-planned horizon continues the decay from where it is: the rate never rises
after the warm-up, and still ends at the last epoch that fits."""

from __future__ import annotations

import math

import pytest
import torch

from tests.test_budget import _history, clock  # noqa: F401  (the module's fixture)
from tests.test_train import _train, cache  # noqa: F401  (the module's fixture)
from unet.train.optim import build_scheduler, set_horizon

STEPS, LR = 4, 1e-3  # optimiser steps an epoch


def _schedule(name: str, epochs: int = 10, warmup: int = 1):
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=LR)
    return opt, build_scheduler(opt, name, epochs, STEPS, warmup)


def _run(opt, sched, plan: dict[int, int], epochs: int) -> list[float]:
    """The rate of each step over `epochs`, the horizon moved to plan[e] epochs after epoch e;
    each move must leave the rate where it was (or at the decay's end, a horizon now reached)."""
    rates = []
    for epoch in range(1, epochs + 1):
        for _ in range(STEPS):
            rates.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
        if epoch in plan:
            before = opt.param_groups[0]["lr"]
            set_horizon(opt, sched, plan[epoch] * STEPS)
            if plan[epoch] > epoch:
                assert opt.param_groups[0]["lr"] == pytest.approx(before, rel=1e-9, abs=1e-15)
    rates.append(opt.param_groups[0]["lr"])
    return rates


def _never_rises(rates: list[float]) -> None:
    pairs = enumerate(zip(rates, rates[1:], strict=False))
    rises = [(i, a, b) for i, (a, b) in pairs if b > a * (1 + 1e-12)]
    assert not rises, f"the rate rose after the warm-up at steps {rises}"


@pytest.mark.parametrize("name", ["cosine", "poly"])
def test_a_later_horizon_continues_the_decay(name):
    # A slow first epoch plans 4 of 10 epochs; faster ones then plan 6, then 9: the rate went
    # from 2.9e-4 up to 7.8e-4 on ISBI 2012 as the progress was recomputed from the warm-up.
    opt, sched = _schedule(name)
    rates = _run(opt, sched, {1: 4, 2: 6, 4: 9}, 9)
    _never_rises(rates[STEPS:])  # after the warm-up
    assert rates[-1] < LR * 1e-9  # and it ends at the last epoch planned


@pytest.mark.parametrize("name", ["cosine", "poly"])
def test_an_earlier_horizon_ends_the_decay_there(name):
    opt, sched = _schedule(name)
    rates = _run(opt, sched, {2: 8, 3: 5}, 5)
    _never_rises(rates[STEPS:])
    assert rates[-1] < LR * 1e-9
    opt, sched = _schedule(name)
    rates = _run(opt, sched, {2: 8, 3: 3}, 3)  # the budget spent: the decay ends now
    assert rates[-1] < LR * 1e-9


def test_constant_is_unaffected():
    opt, sched = _schedule("constant")
    assert _run(opt, sched, {1: 3, 2: 8}, 4)[STEPS:] == [LR] * (3 * STEPS + 1)


def test_unmoved_schedule_is_unchanged():
    """No budget: the rates are the plain cosine's, bit for bit (a run without max_minutes)."""
    opt, sched = _schedule("cosine", epochs=3)
    rates = _run(opt, sched, {}, 3)
    warm, total = STEPS, 3 * STEPS
    expect = [LR * (s + 1) / warm if s < warm else
              LR * (0.5 * (1 + math.cos(math.pi * min(1.0, (s - warm) / (total - warm)))))
              for s in range(total + 1)]
    assert rates == expect


def test_a_moved_plan_survives_the_scheduler_state(tmp_path):
    """last.pt keeps the re-planned decay's fields; one written before them still loads."""
    opt, sched = _schedule("cosine")
    _run(opt, sched, {1: 4, 2: 7}, 3)
    state = sched.state_dict()
    opt2, sched2 = _schedule("cosine")
    sched2.load_state_dict(state)
    set_horizon(opt2, sched2, 7 * STEPS)  # the same horizon: the same rate
    assert opt2.param_groups[0]["lr"] == pytest.approx(opt.param_groups[0]["lr"], rel=1e-12)
    old = {**state, "lr_lambdas": [{k: v for k, v in state["lr_lambdas"][0].items()
                                     if k in ("name", "warm", "total", "planned")}]}
    opt3, sched3 = _schedule("cosine")
    sched3.load_state_dict(old)  # an old last.pt: the decay as planned up to its horizon
    set_horizon(opt3, sched3, 10 * STEPS, plan=True)
    assert opt3.param_groups[0]["lr"] == pytest.approx(LR * 0.5 * (1 + math.cos(math.pi * 2 / 9)))


def test_faster_epochs_never_raise_the_rate(cache, tmp_path, clock):  # noqa: F811
    # 30 s, then 10 s an epoch in a 2-minute budget: 4 of 10 fit after epoch 1, all 10 after 2.
    clock["epochs"] = [30.0, 10.0]
    _train(cache, tmp_path, epochs=10, max_minutes=2, lr=LR)
    lrs = [float(r["lr"]) for r in _history(tmp_path)]
    assert len(lrs) == 10
    _never_rises(lrs)
    assert lrs[-1] < LR * 1e-6
