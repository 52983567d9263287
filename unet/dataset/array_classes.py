"""One class map from a slice's channels: PanNuke's masks hold, per nucleus type, a channel of
instance ids (0 where none), and a background channel; the pipeline reads one value a class."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np


def check_background(shape: tuple[int, ...], background: int | None, path: Path) -> None:
    """A slice of `shape` must be (H, W, channels), `background` one of its channels."""
    if len(shape) != 3 or shape[2] < 2:
        raise ValueError(f"{path}: its slices are of shape {shape}: --classes channels reads "
                         "(height, width, channels) slices, a channel a class")
    if shape[2] - (background is not None) > 255:
        raise ValueError(f"{path}: its slices hold {shape[2]} channels: --classes channels "
                         "writes at most 255 classes (8-bit)")
    if background is not None and not 0 <= background < shape[2]:
        raise ValueError(f"{path}: --background {background} is no channel of its {shape[2]} "
                         f"(0 to {shape[2] - 1}); PanNuke's background is --background 5")


def class_map(page: np.ndarray, background: int | None) -> tuple[np.ndarray, int]:
    """(H, W) uint8: 0 where no class channel is nonzero, else the number (from 1, in channel
    order, the background channel skipped) of the first channel nonzero there; and how many
    pixels more than one class channel held (given the first's class)."""
    classes = [c for c in range(page.shape[2]) if c != background]
    held = np.asarray(page)[:, :, classes] != 0  # (H, W, classes)
    labelled = held.any(axis=2)
    out = np.where(labelled, held.argmax(axis=2) + 1, 0).astype(np.uint8)  # argmax: the first
    return out, int(np.count_nonzero(held.sum(axis=2) > 1))


def refuse_unnamed_background(pages: Iterable[np.ndarray], path: Path) -> None:
    """Refuse --classes channels without --background where every pixel of every (H, W, C)
    page is in some channel: one channel is then the background (PanNuke's 5), and as a class
    it would leave no pixel 0, so that class 1 would be read as the background. Any channel
    may be named (of classes covering every pixel, one is written 0, the others 1, 2, ...).
    Stops at the first page with a pixel in no channel, usually the first."""
    covered = None
    for page in pages:
        held = np.asarray(page) != 0  # (H, W, C)
        if not held.any(axis=2).all():
            return
        covered = held.sum(axis=(0, 1)) + (0 if covered is None else covered)
    if covered is None:
        return
    k = int(np.argmax(covered))
    raise ValueError(f"{path}: every pixel of every slice is in some channel, so one of them is "
                     f"the background (PanNuke's 5; here channel {k} holds the most pixels): "
                     f"name it, e.g. --background {k}, and it is written 0, the other channels "
                     "1, 2, ... (without it no pixel is 0, and class 1 would be read as the "
                     "background)")


def overlap_note(overlaps: list[int], names: list[str]) -> str:
    """A line naming the pixels two class channels held, or '' where none did."""
    if not any(overlaps):
        return ""
    total = sum(overlaps)
    first = Path(names[next(k for k, n in enumerate(overlaps) if n)]).stem
    hit = sum(1 for n in overlaps if n)
    return (f"{total} pixel{'s' * (total != 1)} in {hit} slice{'s' * (hit != 1)} (first "
            f"{first}) held a nonzero value in more than one class channel: each was given "
            "the first such channel's class")
