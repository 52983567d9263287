"""Optimisers and learning-rate schedules named in the config."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch


def build_optimizer(
    params, name: str, lr: float, weight_decay: float, momentum: float
) -> torch.optim.Optimizer:
    """AdamW (default), SGD with Nesterov momentum, or RMSprop."""
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    if name == "sgd":
        return torch.optim.SGD(
            params, lr=lr, momentum=momentum, nesterov=momentum > 0, weight_decay=weight_decay
        )
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    raise ValueError(f"train.optimizer: unknown {name!r}; use adamw, sgd or rmsprop")


@dataclass
class Decay:
    """The learning-rate factor at a step: linear warm-up, then cosine, poly or constant until
    step `total`. An object, not a closure, so that `set_horizon` can move its end; its fields
    are what LambdaLR's state dict (last.pt) keeps."""

    name: str
    warm: int
    total: int
    planned: int = 0  # the end train.epochs plans; a time budget may bring `total` before it
    since: int = 0  # the step a moved horizon took over at (0: never moved mid-decay) ...
    reached: float = 0.0  # ... and the decay's progress there, which it continues from

    def _warm(self) -> int:
        """The warm-up's steps: at most half a plan a budget cut, or it would end still rising,
        undecayed."""
        return min(self.warm, self.total // 2) if self.total < self.planned else self.warm

    def progress(self, step: int) -> float:
        """How far the decay is at `step`, 0 to 1: the rest from `reached` spread evenly over
        the steps left to `total` once the horizon moved mid-decay."""
        if self.since:
            if step >= self.total:
                return 1.0
            left = (step - self.since) / (self.total - self.since)
            return self.reached + (1 - self.reached) * left
        warm = self._warm()
        return min(1.0, (step - warm) / max(1, self.total - warm))

    def __call__(self, step: int) -> float:
        if not self.since:  # a horizon moved mid-decay ended the warm-up for good
            warm = self._warm()
            if step < warm:
                return (step + 1) / warm
        progress = self.progress(step)
        if self.name == "cosine":
            return 0.5 * (1 + math.cos(math.pi * progress))
        if self.name == "poly":
            return (1 - progress) ** 0.9  # nnU-Net's exponent
        return 1.0  # constant

    def move_end(self, total: int, step: int) -> None:
        """End the decay at `total` from `step` on. Past the warm-up the progress reached is
        kept: recomputed over a later end it would fall back, and the rate would rise."""
        if self.since or step >= self._warm():
            self.reached, self.since = self.progress(step), step
        self.total = total


def build_scheduler(
    opt: torch.optim.Optimizer,
    name: str,
    epochs: int,
    steps_per_epoch: int,
    warmup_epochs: int,
    patience: int = 3,
):
    """Per-step cosine or poly decay after a linear warm-up, or reduce-on-plateau (per epoch)."""
    if name == "plateau":
        # Stepped once per epoch with the validation Dice (higher is better).
        return torch.optim.lr_scheduler.ReduceLROnPlateau(
            opt, mode="max", factor=0.5, patience=patience
        )
    if name not in ("cosine", "poly", "constant"):
        raise ValueError(f"train.schedule: unknown {name!r}; use cosine, poly, plateau or constant")
    total = max(1, epochs * steps_per_epoch)
    decay = Decay(name, warmup_epochs * steps_per_epoch, total, total)
    return torch.optim.lr_scheduler.LambdaLR(opt, decay)


def horizon(sched) -> int | None:
    """The step at which the decay ends; None for reduce-on-plateau."""
    if not isinstance(sched, torch.optim.lr_scheduler.LambdaLR):
        return None
    return sched.lr_lambdas[0].total


def set_horizon(opt: torch.optim.Optimizer, sched, total_steps: int, plan: bool = False) -> None:
    """Let the decay end at `total_steps` (the epochs that fit a time budget, continuing from
    the rate reached, so it never rises; with `plan`, the epochs train.epochs plans, from the
    run's start, on resuming) and set the optimiser's rates to the re-planned schedule at the
    step reached. Reduce-on-plateau has no horizon."""
    if not isinstance(sched, torch.optim.lr_scheduler.LambdaLR):
        return
    for fn in sched.lr_lambdas:
        if plan:  # the run's own plan from its start: nothing moved yet
            fn.total = fn.planned = max(1, total_steps)
            fn.since, fn.reached = 0, 0.0
        else:
            fn.move_end(max(1, total_steps), sched.last_epoch)
    lrs = [base * fn(sched.last_epoch) for base, fn in zip(sched.base_lrs, sched.lr_lambdas,
                                                             strict=True)]
    for group, lr in zip(opt.param_groups, lrs, strict=True):
        group["lr"] = lr
    sched._last_lr = lrs  # what get_last_lr() reports until the next step


# Epochs without a better validation Dice before plateau halves the rate: 4 (patience 3)
PLATEAU_EPOCHS = 4


def plateau_patience(val_every: int) -> int:
    """ReduceLROnPlateau's patience, which counts validations, for train.val_every: the rate
    halves at the first validation PLATEAU_EPOCHS or more epochs without a better Dice."""
    return -(-PLATEAU_EPOCHS // val_every) - 1


def is_per_epoch(scheduler) -> bool:
    """Plateau schedules step on the validation metric once per epoch; the others per step."""
    return isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau)
