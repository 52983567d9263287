"""Cross-entropy plus soft Dice, the usual pair for segmentation."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class DiceCELoss(nn.Module):
    """Cross-entropy + (1 - soft Dice over classes `first` and up: 1 leaves the background
    out, 0 counts every class); `ignore_index` pixels skipped."""

    def __init__(
        self,
        num_classes: int,
        dice_weight: float = 1.0,
        ignore_index: int = -100,
        class_weights: list[float] | None = None,
        first: int = 1,
    ) -> None:
        super().__init__()
        self.first = first
        self.num_classes, self.dice_weight, self.ignore_index = (
            num_classes,
            dice_weight,
            ignore_index,
        )
        weight = torch.tensor(class_weights, dtype=torch.float32) if class_weights else None
        self.register_buffer("weight", weight, persistent=False)

    def forward(self, logits: torch.Tensor, target: torch.Tensor,
                extra: torch.Tensor | None = None) -> torch.Tensor:
        # logits (B, C, H, W), target (B, H, W) long; extra (B, H, W): a per-pixel weight
        # added to the class weight in the cross-entropy (train.border_weight), or None
        logits = logits.float()  # loss in fp32 even under AMP
        valid = (target != self.ignore_index).unsqueeze(1)  # (B, 1, H, W)
        if extra is not None:
            return self._pixel_weighted(logits, target, valid, extra)
        if self.weight is not None:  # torch's weighted mean, but 0 when every labelled pixel
            return self.from_sums(self.sums(logits, target))  # weighs 0 (0/0: NaN)
        # the mean over the labelled pixels, 0 without one (cross-entropy's own mean is then
        # 0/0: NaN); no branch on `valid`, as reading it waits for the GPU at every step
        ce = F.cross_entropy(logits, target, ignore_index=self.ignore_index, reduction="sum")
        ce = ce / valid.sum().clamp_min(1)
        if self.dice_weight == 0:
            return ce
        inter, denom = self._dice_sums(logits, target, valid)
        return ce + self.dice_weight * self._dice_loss(inter, denom)

    def _pixel_weighted(self, logits, target, valid, extra) -> torch.Tensor:
        """Cross-entropy weighted per pixel by class weight + `extra`, as a weighted mean (0
        when every labelled pixel weighs 0), plus the unweighted Dice."""
        ce = F.cross_entropy(logits, target, ignore_index=self.ignore_index, reduction="none")
        w = extra.float() * valid[:, 0]  # (B, H, W); ignored pixels weigh 0
        if self.weight is not None:
            w = w + self.weight[target.clamp(0, self.num_classes - 1)] * valid[:, 0]
        else:
            w = w + valid[:, 0]
        ce = (w * ce).sum() / w.sum().clamp_min(torch.finfo(w.dtype).tiny)
        if self.dice_weight == 0:
            return ce
        inter, denom = self._dice_sums(logits, target, valid)
        return ce + self.dice_weight * self._dice_loss(inter, denom)

    def _dice_sums(self, logits, target, valid) -> tuple[torch.Tensor, torch.Tensor]:
        """Per class (C,): the soft intersection and the sum of probabilities and targets."""
        probs = logits.softmax(1) * valid
        onehot = F.one_hot(target.clamp(0, self.num_classes - 1), self.num_classes)
        onehot = onehot.permute(0, 3, 1, 2).float() * valid  # (B, C, H, W)
        dims = (0, 2, 3)  # batch Dice: stable when a class is absent from one image
        return (probs * onehot).sum(dims), probs.sum(dims) + onehot.sum(dims)

    def _dice_loss(self, inter: torch.Tensor, denom: torch.Tensor) -> torch.Tensor:
        dice = (2 * inter + 1.0) / (denom + 1.0)
        return 1 - dice[self.first :].mean()

    def sums(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """What the loss of a larger image is made of, for one part of it: (weighted CE sum,
        weight sum, intersections (C,), denominators (C,)) in one vector; add the parts'
        vectors and take `from_sums`, so an image scored band by band gets its whole loss."""
        logits = logits.float()
        valid = (target != self.ignore_index).unsqueeze(1)
        weight = self.weight if self.weight is not None else logits.new_ones(self.num_classes)
        ce = F.cross_entropy(logits, target, weight=weight, ignore_index=self.ignore_index,
                             reduction="sum")
        # the labelled pixels' weights; a mask index (target[valid]) would read the GPU
        labelled = (weight[target.clamp(0, self.num_classes - 1)] * valid[:, 0]).sum()
        inter, denom = self._dice_sums(logits, target, valid)
        return torch.cat([ce[None], labelled[None], inter, denom])

    def from_sums(self, sums: torch.Tensor) -> torch.Tensor:
        """The loss from the added `sums` of an image's parts."""
        c = self.num_classes
        ce = sums[0] / sums[1].clamp_min(torch.finfo(sums.dtype).tiny)
        if self.dice_weight == 0:
            return ce
        return ce + self.dice_weight * self._dice_loss(sums[2 : 2 + c], sums[2 + c :])
