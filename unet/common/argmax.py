"""The most probable class of each pixel, from torch probabilities (prediction, validation).

Apart from `unet.common.probs`, which the CRF, evaluation and report steps read
probabilities with: they need numpy only, and importing torch cost each of their processes
about 500 MB of memory and a second or two of start-up.
"""

from __future__ import annotations

import numpy as np
import torch


def class_index(probs: torch.Tensor) -> np.ndarray:
    """The most probable class of every pixel of (C, ..., W) probabilities, the first of equal
    ones as `argmax(0)` gives, as uint8 (int16 beyond 256 classes). A class at a time: on the
    CPU this is over ten times faster than torch's or numpy's argmax over the first dimension
    (0.03 s against 0.35 s for 3 x 256 x 8192)."""
    best = probs[0]
    dtype = torch.uint8 if len(probs) <= 256 else torch.int16
    index = torch.zeros(probs.shape[1:], dtype=dtype, device=probs.device)
    for c in range(1, len(probs)):
        index[probs[c] > best] = c
        best = torch.maximum(best, probs[c])
    return index.cpu().numpy()
