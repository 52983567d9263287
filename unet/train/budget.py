"""train.max_minutes: the epochs that fit a time budget, which is the whole training's, a killed
and resumed run's epochs before the kill included."""

from __future__ import annotations

import logging
import time

from unet.train.optim import set_horizon

log = logging.getLogger(__name__)


def time_epoch(state: dict, marks: list[float]) -> None:
    """Record the epoch just done in `state` (last.pt keeps it, so a resumed run counts it):
    its seconds since this run's previous mark (`marks`: this run's start, then each epoch's
    end, time.monotonic; this epoch's added) and whether it was this run's first."""
    marks.append(time.monotonic())
    state.setdefault("clock", []).append([marks[-1] - marks[-2], len(marks) == 2])


def epoch_seconds(clock: list) -> float:
    """What an epoch takes: the mean of the epochs that were not a run's first (the first
    alone until a second): the first of each run, a resumed one too, carries one-off costs
    (workers, allocator, compiling)."""
    steady = [secs for secs, first in clock if not first] or [secs for secs, _ in clock]
    return sum(steady) / len(steady)


def fit_budget(run, state: dict) -> None:
    """End the learning-rate decay of `run` (loop.Run) at the last epoch that fits
    train.max_minutes (a cosine cut off by the clock would stop with the rate high), counting
    the seconds of every epoch done, those before a kill included (an epoch the kill cut short
    is trained again, its seconds not counted). Planned after every epoch and on resuming;
    the horizon and the budget it was planned for are kept in `state`."""
    s, clock = run.settings, state.get("clock")
    if not s.max_minutes or not clock:
        return
    each = epoch_seconds(clock)
    more = int((s.max_minutes * 60 - spent(state)) // each) if each > 0 else s.epochs
    fit = min(s.epochs, state["epoch"] + max(0, more))
    if fit != state.get("horizon", s.epochs):
        set_horizon(run.opt, run.sched, fit * run.steps)
        ends = ("the learning-rate schedule now ends" if s.schedule in ("cosine", "poly")
                else "training stops")  # plateau and constant rates have no decay to end
        log.info("train.max_minutes=%s: %d of %d epochs fit at %.1f s each; %s after epoch %d",
                 s.max_minutes, fit, s.epochs, each, ends, fit)
    state["horizon"], state["budget"] = fit, s.max_minutes


def spent(state: dict) -> float:
    """The seconds the epochs in `state` took, over every run."""
    return sum(secs for secs, _ in state.get("clock", []))
