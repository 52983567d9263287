"""Optimisers and learning-rate schedules named in the config."""

from __future__ import annotations

import math

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
    warm, total = warmup_epochs * steps_per_epoch, max(1, epochs * steps_per_epoch)

    def factor(step: int) -> float:
        if step < warm:
            return (step + 1) / warm
        progress = min(1.0, (step - warm) / max(1, total - warm))
        if name == "cosine":
            return 0.5 * (1 + math.cos(math.pi * progress))
        if name == "poly":
            return (1 - progress) ** 0.9  # nnU-Net's exponent
        return 1.0  # constant

    if name not in ("cosine", "poly", "constant"):
        raise ValueError(f"train.schedule: unknown {name!r}; use cosine, poly, plateau or constant")
    return torch.optim.lr_scheduler.LambdaLR(opt, factor)


def is_per_epoch(scheduler) -> bool:
    """Plateau schedules step on the validation metric once per epoch; the others per step."""
    return isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau)
