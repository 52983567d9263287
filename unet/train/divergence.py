"""Divergence checks: NaN or inf in the weights, the validation loss, or the training losses
within an epoch, each stopping the run with the fix and the checkpoint that stays."""

from __future__ import annotations

import logging
import math
from collections import deque

import torch

from unet.train.settings import TrainingError

log = logging.getLogger(__name__)
# Training losses NaN or inf in a row that stop a run whose weights are still finite: fp16's
# GradScaler skips such steps (nothing is learnt), and an isolated one is normal there.
NONFINITE_RUN = 10
CHUNK = 256  # losses a block of pinned host memory holds
DIVERGED = ("training diverged. Lower train.lr, set train.grad_clip (e.g. 1.0), or turn mixed "
            "precision off (train.amp, amp_cpu); {kept}")


def diverged(done: int) -> str:
    """The end of a divergence error: the fix, and which checkpoint stays."""
    kept = f"the checkpoint of epoch {done} is kept" if done else "no checkpoint was written"
    return DIVERGED.format(kept=kept)


def is_finite(model: torch.nn.Module) -> bool:
    """Whether every float weight and buffer (BatchNorm statistics) is finite: one device read,
    not one a tensor."""
    flags = [torch.isfinite(t).all() for t in model.state_dict().values() if t.is_floating_point()]
    return bool(torch.stack(flags).all()) if flags else True


def check_weights(model: torch.nn.Module, epoch: int, done: int) -> None:
    """Refuse weights or BatchNorm statistics that hold NaN or inf (training diverged), before
    they are validated and written: the checkpoint of epoch `done` stays. The statistics can
    overflow while every weight is still finite."""
    if not is_finite(model):
        raise TrainingError(f"the weights or BatchNorm statistics hold NaN or inf after epoch "
                            f"{epoch}: " + diverged(done))


def check_val_loss(val_loss: float, epoch: int, done: int) -> None:
    """Refuse an epoch whose validation loss is NaN or inf: finite weights whose activations
    overflow, which predict class 0 wherever their logits are NaN."""
    if math.isfinite(val_loss):
        return
    raise TrainingError(f"the validation loss is {val_loss} after epoch {epoch}: the model's "
                        "outputs overflow, " + diverged(done))


class LossWatch:
    """An epoch's training losses, copied to the host as the GPU gets to them: the mean of the
    finite ones and the run of NaN or inf ones, with no read that waits for the GPU (a read a
    step, .item(), would drain its queue at every step)."""

    def __init__(self, device: torch.device) -> None:
        self.cuda = device.type == "cuda"
        self.chunks: list[torch.Tensor] = []  # pinned host memory the losses are copied into
        self.pending: deque = deque()  # (the loss on the host, images, CUDA event or None)
        self.steps = self.bad = self.streak = 0  # steps added; bad losses; bad ones in a row
        self.total = self.images = 0.0  # over the finite losses
        self.checked = False  # the weights were found finite in the current run of bad losses

    def add(self, loss: torch.Tensor, images: int) -> None:
        """One step's loss (unread, on the device) and its batch's image count."""
        host, ready = loss, None
        if self.cuda:
            if self.steps % CHUNK == 0:
                self.chunks.append(torch.empty(CHUNK, dtype=torch.float32, pin_memory=True))
            host = self.chunks[-1][self.steps % CHUNK]
            host.copy_(loss, non_blocking=True)
            ready = torch.cuda.Event()
            ready.record()
        self.pending.append((host, images, ready))
        self.steps += 1

    def _take(self, wait: bool) -> bool:
        """Count the losses that reached the host (`wait`: all of them); whether any did. A NaN
        or inf loss (a step the GradScaler skipped, or one that spoilt the weights) is left
        out of the mean."""
        if wait and self.pending and self.pending[-1][2] is not None:
            self.pending[-1][2].synchronize()  # CUDA runs a stream's work in order
        taken = False
        while self.pending and (self.pending[0][2] is None or self.pending[0][2].query()):
            host, images, _ = self.pending.popleft()
            value, taken = float(host), True
            if math.isfinite(value):
                self.total += value * images
                self.images += images
                self.streak = 0
            else:
                self.bad += 1
                self.streak += 1
        return taken

    def check(self, model: torch.nn.Module, epoch: int, done: int, wait: bool = False) -> None:
        """Stop on NaN or inf weights, read once when a run of bad losses starts (without a
        GradScaler one bad step spoils them), or on NONFINITE_RUN bad losses in a row."""
        if not self._take(wait):
            return
        if self.streak == 0:
            self.checked = False
            return
        where = f"by step {self.steps - len(self.pending)} of epoch {epoch}: "
        if self.streak >= NONFINITE_RUN:
            raise TrainingError(f"the training loss was NaN or inf for {self.streak} steps in "
                                "a row " + where + diverged(done))
        if not self.checked:
            if not is_finite(model):
                raise TrainingError("the weights or BatchNorm statistics hold NaN or inf "
                                    + where + diverged(done))
            self.checked = True

    def mean(self, epoch: int, skipping: bool) -> float:
        """The epoch's mean loss over its finite steps; logs how many were left out."""
        self._take(wait=True)
        if self.bad:
            log.warning("%d of %d steps of epoch %d had a NaN or inf loss, left out of its "
                        "train_loss%s", self.bad, self.steps, epoch,
                        " (the GradScaler skipped them)" if skipping else "")
        return self.total / self.images if self.images else math.nan
