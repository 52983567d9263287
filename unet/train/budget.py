"""train.max_minutes: the epochs that fit a time budget, which is the whole training's, a killed
and resumed run's epochs before the kill included."""

from __future__ import annotations

import logging
import time

from unet.train.optim import set_horizon

log = logging.getLogger(__name__)


def time_epoch(state: dict, marks: list[float], validated: bool = True) -> None:
    """Record the epoch just done in `state` (last.pt keeps it, so a resumed run counts it):
    its seconds since this run's previous mark (`marks`: this run's start, then each epoch's
    end, time.monotonic; this epoch's added), whether it was this run's first, and whether it
    was validated (train.val_every)."""
    marks.append(time.monotonic())
    state.setdefault("clock", []).append([marks[-1] - marks[-2], len(marks) == 2, validated])


def epoch_costs(clock: list) -> tuple[float, float]:
    """(seconds of an epoch not validated, seconds a validation adds): epoch_seconds of each
    kind; every epoch validated (train.val_every 1), or none yet, gives (theirs, 0)."""
    done = [c for c in clock if len(c) < 3 or c[2]]
    skipped = [c for c in clock if len(c) > 2 and not c[2]]
    if not done or not skipped:
        return epoch_seconds(clock), 0.0
    train = epoch_seconds(skipped)
    return train, max(0.0, epoch_seconds(done) - train)


def epochs_fit(done: int, epochs: int, every: int, costs: tuple[float, float],
               left: float) -> int:
    """The last epoch that fits `left` seconds after epoch `done`, each epoch costing its
    training, every `every`-th its validation too, and the last one its validation always."""
    train, val = costs
    end, spend = done, 0.0
    while end < epochs:
        nxt = end + 1
        spend += train + (val if nxt % every == 0 else 0.0)
        if spend + (val if nxt % every else 0.0) > left:
            break
        end = nxt
    return end


def epoch_seconds(clock: list) -> float:
    """What an epoch takes: the mean of the epochs that were not a run's first (the first
    alone until a second): the first of each run, a resumed one too, carries one-off costs
    (workers, allocator, compiling)."""
    steady = [c[0] for c in clock if not c[1]] or [c[0] for c in clock]
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
    costs = epoch_costs(clock)
    each, left = sum(costs), s.max_minutes * 60 - spent(state)
    if costs[1]:  # validations every train.val_every epochs: not every epoch costs the same
        fit = epochs_fit(state["epoch"], s.epochs, s.val_every, costs, left)
    else:
        more = int(left // each) if each > 0 else s.epochs
        fit = min(s.epochs, state["epoch"] + max(0, more))
    if fit != state.get("horizon", s.epochs):
        set_horizon(run.opt, run.sched, fit * run.steps)
        ends = ("the learning-rate schedule now ends" if s.schedule in ("cosine", "poly")
                else "training stops")  # plateau and constant rates have no decay to end
        val = f" and {costs[1]:.1f} s a validation" if costs[1] else ""
        log.info("train.max_minutes=%s: %d of %d epochs fit at %.1f s each%s; %s after epoch %d",
                 s.max_minutes, fit, s.epochs, costs[0] if val else each, val, ends, fit)
    state["horizon"], state["budget"] = fit, s.max_minutes


def spent(state: dict) -> float:
    """The seconds the epochs in `state` took, over every run."""
    return sum(c[0] for c in state.get("clock", []))
