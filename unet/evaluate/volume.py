"""Boundary metrics of a volume (a case's slices stacked): HD95 and boundary F1 over its 3-D
surface, with anisotropic voxel spacing, as BraTS and KiTS rank cases.

The 2-D class path (boundary.py) measures each slice alone; a case's surface also has the
faces between slices, and a slice missed inside an object is a hole that 2-D scores miss.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import ndimage


def volume_rule(spacing: Sequence[float] | str) -> str:
    """per_case's rule text: what a case's HD95 measures, and in what unit (`spacing` z, y, x,
    or the path of a table of each case's)."""
    if isinstance(spacing, str):
        unit = (f"in the unit of the case's own row (z, y, x) in evaluate.voxel_spacing's table "
                f"{spacing}")
    elif all(v == 1 for v in spacing):  # files of no voxel size (Synapse's): not mm
        unit = ("in voxels: evaluate.voxel_spacing is 1, 1, 1 (z, y, x), as for files that "
                "record no voxel size (mm only where the voxels are 1 mm cubes)")
    else:
        z, y, x = (f"{v:g}" for v in spacing)
        unit = (f"in the units of evaluate.voxel_spacing as set (z, y, x = {z}, {y}, {x}; mm "
                "where those are a scan's voxel size in mm)")
    return (
        "a case's hd95 and boundary_f1 are measured on its slices stacked in id order as one "
        "volume: surface voxels (a 6-neighbour outside the class, the volume's edge outside) to "
        f"the other mask's surface, {unit}, the boundary F1 tolerance "
        "evaluate.boundary_tolerance px times the smaller in-plane spacing; both empty: HD95 0, "
        "boundary F1 1; one empty: HD95 inf "
        "(per_case.csv), in means the case's diagonal (its size times the spacing), boundary F1 "
        "0; ignored voxels (all-ignored slices too) count as outside the class; the first and "
        "last slices are faces, as an image's edge is in 2-D, so a one-slice case is a slab "
        "whose every voxel is surface and its HD95 is not its image's"
    )


def volume_diagonal(shape: Sequence[int], spacing: Sequence[float]) -> float:
    """Diagonal of a volume of `shape` voxels of `spacing`: the HD95 penalty of a missed class."""
    return float(np.sqrt(sum((n * s) ** 2 for n, s in zip(shape, spacing, strict=True))))


def _surface(mask: np.ndarray) -> np.ndarray:
    """Mask minus its erosion (face neighbours; beyond the volume's edge is outside)."""
    return mask & ~ndimage.binary_erosion(mask, border_value=0)


def _cropped(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both cut to the box holding either: distances between them are unchanged, and the
    transforms cost the objects' extent, not the whole case's."""
    both = a | b
    box = tuple(slice(int(i.min()), int(i.max()) + 1) for i in np.nonzero(both))
    return a[box], b[box]


def _directed(to: np.ndarray, at: np.ndarray, spacing: Sequence[float]) -> np.ndarray:
    """Distance from each `at` voxel to the nearest `to` voxel, in spacing units."""
    return ndimage.distance_transform_edt(~to, sampling=spacing)[at]


def volume_scores(pred: np.ndarray, target: np.ndarray, spacing: Sequence[float],
                  tolerance: float) -> tuple[float, float]:
    """(HD95, boundary F1) of two (D, H, W) bool masks: each direction's 95th percentile of
    surface-to-surface distances, the larger returned (as boundary.hausdorff_distance does in
    2-D); F1 of surface voxels matched within `tolerance`. Both empty: (0, 1); one: (inf, 0)."""
    pred, target = np.asarray(pred, bool), np.asarray(target, bool)
    if pred.shape != target.shape or pred.ndim != len(spacing):
        raise ValueError(f"masks {pred.shape} and {target.shape} must match the spacing "
                         f"{tuple(spacing)} in shape")
    pred_empty, target_empty = not pred.any(), not target.any()
    if pred_empty or target_empty:
        return (0.0, 1.0) if pred_empty and target_empty else (float("inf"), 0.0)
    pred_s, target_s = _cropped(_surface(pred), _surface(target))
    p2t, t2p = _directed(target_s, pred_s, spacing), _directed(pred_s, target_s, spacing)
    hd = max(float(np.percentile(p2t, 95)), float(np.percentile(t2p, 95)))
    precision, recall = float(np.mean(p2t <= tolerance)), float(np.mean(t2p <= tolerance))
    if precision + recall == 0:
        return hd, 0.0
    return hd, 2 * precision * recall / (precision + recall)
