"""Pixels copied out of a PIL image into numpy without whole-image temporaries."""

from __future__ import annotations

import numpy as np
from PIL import Image

# Bytes of pixels copied out of PIL at a time (pixels): np.asarray(im) goes through
# im.tobytes(), which joins encoded chunks into one bytes object: two whole copies beside PIL's
# own (an 8192x8192 RGB PNG read peaked at 669 MB for its 201 MB of values; 490 MB by blocks).
PIXEL_BLOCK = 1 << 20


def pixels(im: Image.Image) -> np.ndarray:
    """np.asarray(im) (a fresh, writable array), copied a block of rows at a time so that no
    whole-image bytes object is made on the way."""
    w, h = im.size
    first = np.asarray(im.crop((0, 0, w, min(h, 1))))  # dtype and channels of a row
    if first.nbytes * h <= PIXEL_BLOCK:
        return np.array(im)
    out = np.empty((h, *first.shape[1:]), first.dtype)
    step = max(1, PIXEL_BLOCK // max(1, first.nbytes))
    for y in range(0, h, step):
        out[y : y + step] = np.asarray(im.crop((0, y, w, min(h, y + step))))
    return out
