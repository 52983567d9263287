"""Resume from `last.pt`: which settings it must share with this run, and a changed epoch count."""

from __future__ import annotations

import ast
import hashlib
import logging
import os
from pathlib import Path

import torch

import unet
from unet.common.fit_unused import applicable_model, applicable_train
from unet.deps import module_files
from unet.model import checkpoint
from unet.train.budget import spent
from unet.train.optim import horizon, set_horizon

log = logging.getLogger(__name__)

# Settings that decide how fast, where or for how long training runs, not what an epoch computes:
# a last.pt written under other values is resumed (raise `epochs` to train longer, move to another
# device, add workers). Every other setting, the model and the data are hashed.
UNHASHED = (
    "epochs",
    "patience",
    "val_every",
    "max_minutes",
    "num_workers",
    "device",
    "compile",
    "deterministic",
    "channels_last",
)


def settings_hash(
    model_config: dict, settings: dict, data: dict, device: str | None = None
) -> str:
    """Hash of what the epochs already done depend on: model, maths settings, data and fold;
    not the keys that do not apply (momentum under adamw, amp on the CPU: common.fit_unused),
    judged on the `device` type training runs on ("cpu", "cuda"; else train.device), so that
    device: auto resolving to the CPU resumes a checkpoint of device: cpu."""
    runs_on = {**settings, "device": device} if device else settings
    maths = {k: v for k, v in applicable_train(runs_on).items() if k not in UNHASHED}
    return checkpoint.config_hash(applicable_model(model_config, settings), maths, data)


def code_digest(root: str | os.PathLike | None = None) -> str:
    """Digest of the training code: the syntax trees of train.train and every unet module it
    imports, without docstrings. Snakemake reruns training when one of those files changes;
    a last.pt the old code wrote is then not resumed (its epochs were computed by that code),
    while an edit of comments, docstrings or layout alone keeps it."""
    root = Path(root) if root is not None else Path(unet.__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for name in module_files(["train.train"], root):
        tree = ast.parse(Path(name).read_text(), filename=name)
        for node in ast.walk(tree):
            body = getattr(node, "body", None)
            if (isinstance(body, list) and body and isinstance(body[0], ast.Expr)
                    and isinstance(body[0].value, ast.Constant)
                    and isinstance(body[0].value.value, str)):
                node.body = body[1:] or [ast.Pass()]
        digest.update(Path(name).relative_to(root).as_posix().encode())
        digest.update(ast.dump(tree).encode())
    return digest.hexdigest()


def fresh_state() -> dict:
    """Progress of a run that has done no epoch yet."""
    return {"epoch": 0, "best": -1.0, "best_loss": float("inf"), "stale": 0, "history": []}


def restore(
    last: Path,
    chash: str,
    epochs: int,
    device: torch.device,
    model: torch.nn.Module,
    opt: torch.optim.Optimizer,
    sched,
    scaler: torch.amp.GradScaler,
    ema: torch.nn.Module | None = None,
    max_minutes: float = 0,
) -> dict:
    """Load `last` into model/opt/sched/scaler (and the weights' moving average) when this run
    can continue it; returns the state."""
    if not last.exists():
        return fresh_state()
    ck = checkpoint.load(last, device)
    if ck.get("config_hash") != chash:
        log.info("ignoring %s: written for other settings, data or training code", last)
        return fresh_state()
    done, planned = ck["state"]["epoch"], ck["epochs"]
    if done > epochs:
        # Its first epochs followed a learning-rate schedule planned over `planned` epochs, not
        # `epochs`: keeping them would silently give another result than a run of `epochs`.
        log.info(
            "ignoring %s: it has done %d epochs, more than train.epochs=%d; starting again",
            last,
            done,
            epochs,
        )
        return fresh_state()
    planned_steps = horizon(sched)  # this run's plan, before last.pt's is loaded over it
    model.load_state_dict(ck["state_dict"])
    opt.load_state_dict(ck["optimizer"])
    plateau = getattr(sched, "patience", None)  # counts validations: this train.val_every's
    sched.load_state_dict(ck["scheduler"])
    if plateau is not None:
        sched.patience = plateau
    if ck["scaler"] and scaler.is_enabled():  # {} when written without fp16 (CPU, bf16)
        scaler.load_state_dict(ck["scaler"])
    if ema is not None:  # train.ema is hashed: a last.pt of this run has the average
        ema.load_state_dict(ck["ema"])
    log.info("resuming from %s at epoch %d", last, done)
    return _replan(ck["state"], planned, epochs, max_minutes, opt, sched, planned_steps or 0)


def _replan(state: dict, planned: int, epochs: int, max_minutes: float,
            opt: torch.optim.Optimizer, sched, planned_steps: int) -> dict:
    """Keep last.pt's learning-rate schedule when it was planned for this run's train.epochs
    and train.max_minutes (a killed run goes on as if unbroken: the budget is the whole run's);
    else plan this run's epochs from its start (fit_budget then ends them in the budget)."""
    cut, budget = state.pop("horizon", None), state.get("budget", 0)
    if planned == epochs and budget == max_minutes:
        if cut is not None:
            state["horizon"] = cut
            log.info("train.max_minutes=%s: %.0f s spent in the %d epochs done; the learning-rate "
                     "schedule continues to epoch %d", budget, spent(state), state["epoch"], cut)
        return state
    state["budget"] = max_minutes
    before = opt.param_groups[0]["lr"]
    set_horizon(opt, sched, planned_steps, plan=True)
    if planned != epochs:
        why = f"train.epochs changed from {planned} to {epochs}"
    elif cut is not None and cut < planned:
        why = (f"last.pt's schedule ended at epoch {cut} to fit train.max_minutes={budget}, "
               f"now {max_minutes}")
    else:
        return state
    log.info(
        "%s: the learning-rate schedule is re-planned over %d epochs from epoch %d on "
        "(lr %.3e -> %.3e)", why, epochs, state["epoch"] + 1, before, opt.param_groups[0]["lr"],
    )
    return state


def last_epoch(epochs: int, patience: int, state: dict) -> int:
    """The last epoch to train: `epochs`, or, when the restored run had already stopped (its
    epochs since the best reach train.patience, or the time budget is spent), the epoch it
    stopped at, so that a run started again (an unhashed setting changed, a kill before
    model.pt) writes the model an unbroken run wrote; a raised patience or budget continues it."""
    if state["epoch"] and patience and state["stale"] >= patience:
        log.info("last.pt stopped early after epoch %d (no better val Dice in %d epochs, "
                 "train.patience=%d): nothing left to train; raise train.patience to go on",
                 state["epoch"], state["stale"], patience)
        return state["epoch"]
    if state["epoch"] and state.get("horizon", epochs) <= state["epoch"] < epochs:
        log.info("train.max_minutes=%s is spent after epoch %d (%.0f s): nothing left to train; "
                 "raise train.max_minutes to go on", state["budget"], state["epoch"], spent(state))
        return state["epoch"]
    return epochs
