"""Fully connected CRF refinement of predicted probabilities (pydensecrf), parallel over images."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import numpy as np

from unet.common.band_ranges import Span
from unet.common.fileio import read_json
from unet.common.labels import MaskMapping
from unet.common.nodata import image_and_nodata
from unet.common.parallel import parallel_map
from unet.common.probs import RERUN_PREDICTION, read_probs
from unet.common.roi import read_roi
from unet.common.schema import defaults
from unet.crf.features import apart, band_features, position_features, principal_bands
from unet.crf.tiles import note_tiles, tile_area, tile_cores

_D = defaults("crf")  # field defaults: config/schema.yaml
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CRFParams:
    """DenseCRF2D settings: mean-field iterations and the two pairwise kernels."""

    iterations: int = _D["iterations"]
    gaussian_sxy: float = _D["gaussian_sxy"]
    gaussian_compat: float = _D["gaussian_compat"]
    bilateral_sxy: float = _D["bilateral_sxy"]
    bilateral_srgb: float = _D["bilateral_srgb"]
    bilateral_compat: float = _D["bilateral_compat"]
    prob_clip: float = _D["prob_clip"]  # floor before -log: a zero probability is finite energy
    tile: int = _D["tile"]  # larger images are refined in overlapping tiles of this side
    tile_overlap: int = _D["tile_overlap"]  # px a tile reaches into its neighbours


@dataclass(frozen=True)
class CRFTask:
    """One image to refine: inputs, output PNG, and the label mapping it is written in."""

    image_path: str
    probs_path: str
    out_path: str
    mapping: MaskMapping
    params: CRFParams
    span: Span = None  # meta.json's intensity_range (common.band_ranges.scale_of)
    roi: str | None = None  # the image's region of interest: outside it the CRF has no evidence


def _band_image(image: np.ndarray) -> np.ndarray:
    """(H, W, N) uint8 view of the image, not copied: grey keeps its one channel and a
    multi-band image its N bands (band_features), so no whole-image colour copy is made."""
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise ValueError(f"CRF image must be uint8, got {image.dtype}")
    if image.ndim == 2:
        image = image[..., None]
    if image.ndim != 3 or image.shape[2] < 1:
        raise ValueError(f"CRF image must be (H, W) or (H, W, bands), got {image.shape}")
    return image


def _unary(probs: np.ndarray, prob_clip: float, outside: np.ndarray | None = None) -> np.ndarray:
    """(C, H*W) float32 energies -log(p), p clipped to [prob_clip, 1] and renormalised; equal
    energies (no evidence) where `outside` (H, W) bool is set."""
    c = probs.shape[0]
    p = probs.astype(np.float32).reshape(c, -1)  # a fresh copy, so in-place ops are safe
    if outside is not None:
        p[:, outside.reshape(-1)] = 1.0
    bad = p.size - int(np.isfinite(p).sum())
    if bad:  # a NaN spreads through every mean-field pass: the whole result would be class 0
        raise ValueError(f"CRF probabilities hold {bad} NaN or infinite values; rerun "
                         "prediction (predict_masks), or retrain if the model gives NaN")
    np.clip(p, prob_clip, 1.0, out=p)
    p /= p.sum(axis=0, keepdims=True)
    np.log(p, out=p)
    np.negative(p, out=p)
    return p


def check_prob_clip(prob_clip: float, classes: int) -> None:
    """Refuse a floor above 1/`classes`: a pixel whose most probable class is under it would
    have every probability clipped to the floor alike, and lose its evidence. The schema's
    maximum, 0.5, is the bound for 2 classes; the class count is known only once cached."""
    if prob_clip > 1.0 / classes:
        raise ValueError(
            f"crf.prob_clip {prob_clip:g} is above 1/{classes} = {1.0 / classes:.4g} for "
            f"{classes} classes: a pixel whose most probable class is under it would have all "
            f"its probabilities clipped alike and lose its evidence; set crf.prob_clip at most "
            f"{1.0 / classes:.4g} (the default, 1e-05, suits any class count)"
        )


def refine(image: np.ndarray, probs: np.ndarray, params: CRFParams = CRFParams(),
           outside: np.ndarray | None = None, void: np.ndarray | None = None) -> np.ndarray:
    """(H, W) uint8 argmax of CRF marginals, from image (H, W[, N]) uint8 and probs (C, H, W):
    every band in the colour kernel (more than 4 along their 4 principal axes: principal_bands).

    `outside` (H, W) bool marks pixels outside the region of interest: the network never
    learnt there (its probabilities there are a fixed class 0), so they get no unary evidence,
    which would otherwise pull every pixel of their colour inside towards class 0, and they
    are class 0 in the result, as in the raw masks. `void` (H, W) bool marks a scene's no-data
    pixels: no unary evidence either, out of both pairwise kernels (no likeness to any valid
    pixel), and the model's class in the result (georef_masks marks them as masks.ignore).

    An image of more than `params.tile` squared pixels (fewer with more than 2 classes:
    tile_area) is refined in tiles of at most that many that reach `tile_overlap` px into their
    neighbours and keep only their centre: DenseCRF2D's memory grows with the pixel count and
    the classes, and a pixel's neighbourhood beyond the overlap weighs little (bilateral_sxy).
    """
    rgb = _band_image(image)
    probs = np.asarray(probs)
    if probs.ndim != 3:
        raise ValueError(f"CRF probabilities must be (C, H, W), got shape {probs.shape}")
    c, h, w = probs.shape
    if rgb.shape[:2] != (h, w):
        raise ValueError(
            f"CRF image is {rgb.shape[0]}x{rgb.shape[1]} (HxW) but probabilities are {h}x{w}"
        )
    if not 2 <= c <= 256:
        raise ValueError(f"CRF needs 2..256 classes in probabilities (C, H, W), got C={c}")
    check_prob_clip(params.prob_clip, c)
    if not np.issubdtype(probs.dtype, np.floating):
        raise ValueError(f"CRF probabilities must be floating point, got {probs.dtype}")
    for name, m in (("region of interest", outside), ("no-data mask", void)):
        if m is not None and m.shape != (h, w):
            raise ValueError(f"CRF {name} is {m.shape}, probabilities {(h, w)}")
    rgb = principal_bands(rgb)  # more than 4 bands: once, not a tile at a time, so tiles agree
    area, ov = tile_area(params.tile, c, params.tile_overlap), params.tile_overlap
    if h * w <= area:
        return _blanked(_refine_whole(rgb, probs, params, outside, void), outside, void, probs)
    if params.tile <= 2 * ov:
        raise ValueError(
            f"crf.tile {params.tile} must exceed twice crf.tile_overlap {params.tile_overlap}; "
            "raise crf.tile or lower crf.tile_overlap"
        )
    core_y, core_x = tile_cores(h, w, area, ov)  # the part of a tile it keeps
    out = np.empty((h, w), np.uint8)
    for y0 in range(0, h, core_y):
        for x0 in range(0, w, core_x):
            y1, x1 = min(y0 + core_y, h), min(x0 + core_x, w)
            ya, yb, xa, xb = max(0, y0 - ov), min(h, y1 + ov), max(0, x0 - ov), min(w, x1 + ov)
            off, fill = (None if m is None else m[ya:yb, xa:xb] for m in (outside, void))
            part = _refine_whole(rgb[ya:yb, xa:xb], probs[:, ya:yb, xa:xb], params, off, fill)
            out[y0:y1, x0:x1] = part[y0 - ya : y1 - ya, x0 - xa : x1 - xa]
    return _blanked(out, outside, void, probs)


def _blanked(labels: np.ndarray, outside: np.ndarray | None, void: np.ndarray | None = None,
             probs: np.ndarray | None = None) -> np.ndarray:
    """`labels` with the model's class where `void` (no data: as the raw mask, until marked)
    and class 0 where `outside` is set (outside the region of interest)."""
    if void is not None and probs is not None:
        labels[void] = np.asarray(probs)[:, void].argmax(0)
    if outside is not None:
        labels[outside] = 0
    return labels


def densecrf() -> ModuleType:
    """pydensecrf.densecrf, imported only where a CRF runs: finalize_masks reads CRF settings
    with crf.enabled: false, where pydensecrf may be missing (pydensecrf2 builds from source)."""
    try:
        import pydensecrf.densecrf as dcrf
    except ImportError as err:
        raise ImportError(
            f"the dense CRF needs pydensecrf ({err}): pip install pydensecrf2 (it builds from "
            "source: a C++ compiler and Cython; the older pydensecrf sdist does not build on "
            "Python 3.11), or set crf.enabled: false to skip the CRF"
        ) from err
    return dcrf


def _refine_whole(rgb: np.ndarray, probs: np.ndarray, params: CRFParams,
                  outside: np.ndarray | None = None, void: np.ndarray | None = None
                  ) -> np.ndarray:
    """One DenseCRF2D over the whole of rgb (H, W, N) uint8 and probs (C, H, W), with no
    unary evidence where `outside` or `void` (H, W) bool is set, and `void` pixels apart from
    the rest in both kernels (features.apart)."""
    c, h, w = probs.shape
    void = void if void is not None and void.any() else None
    crf = densecrf().DenseCRF2D(w, h, c)
    blank = outside if void is None else void if outside is None else outside | void
    crf.setUnaryEnergy(_unary(probs, params.prob_clip, blank))
    if void is None:
        crf.addPairwiseGaussian(sxy=params.gaussian_sxy, compat=params.gaussian_compat)
    else:  # no-data pixels smooth only among themselves
        crf.addPairwiseEnergy(position_features(h, w, params.gaussian_sxy, void),
                              compat=params.gaussian_compat)
    if rgb.shape[2] != 3 or void is not None:  # grey or bands: a kernel over each band
        feats = band_features(rgb, params.bilateral_sxy, params.bilateral_srgb)
        crf.addPairwiseEnergy(feats if void is None else apart(feats, void),
                              compat=params.bilateral_compat)
    else:  # addPairwiseBilateral needs a writable, C-contiguous (H, W, 3) uint8 array: a copy
        crf.addPairwiseBilateral(sxy=params.bilateral_sxy, srgb=params.bilateral_srgb,
                                 rgbim=np.array(rgb, order="C"), compat=params.bilateral_compat)
    q = np.asarray(crf.inference(params.iterations), dtype=np.float32)  # (C, H*W) marginals
    return np.argmax(q, axis=0).astype(np.uint8).reshape(h, w)


def refine_file(task: CRFTask) -> str:
    """Refine one image's saved probabilities and write its mask PNG atomically; return the path."""
    # (H, W, N) uint8 as the model saw it; the scene's fill, no evidence (None for most images)
    image, void = image_and_nodata(task.image_path, task.span)
    probs = read_probs(task.probs_path)  # (C, H, W) float16, memory-mapped
    if probs.shape[1:] != image.shape[:2]:
        raise ValueError(
            f"{task.probs_path}: probabilities {probs.shape} do not match image "
            f"{task.image_path} of HxW {image.shape[:2]}; {RERUN_PREDICTION}"
        )
    if task.mapping.num_classes != probs.shape[0]:
        raise ValueError(
            f"{task.probs_path}: {probs.shape[0]} classes but the mask mapping has "
            f"{task.mapping.num_classes}; {RERUN_PREDICTION}"
        )
    outside = None if task.roi is None else ~read_roi(task.roi, probs.shape[1:], task.image_path)
    note_tiles(Path(task.probs_path).stem, *probs.shape[1:], probs.shape[0], task.params.tile,
               task.params.tile_overlap)
    try:
        labels = refine(image, probs, task.params, outside, void)  # (H, W) class indices
    except ValueError as err:
        raise ValueError(f"{task.probs_path}: {err}") from err
    task.mapping.write(task.out_path, labels)
    return task.out_path


def refine_all(tasks: list[CRFTask], processes: int) -> None:
    """Run refine_file over `tasks` on `processes` worker processes (1: in this process)."""
    if processes < 1:
        raise ValueError(f"processes must be >= 1, got {processes}")
    densecrf()  # refused here at once, not by each worker
    # Unordered, one image per task: images take similar time, and a free worker takes the next.
    for _ in parallel_map(refine_file, tasks, processes, "crf", ordered=False):
        pass


def crf_params(section: dict) -> CRFParams:
    """CRFParams from the config's `crf` section (its `tune` block is for tune_crf; `enabled`
    decides whether the rules run at all)."""
    return CRFParams(**{k: v for k, v in section.items() if k not in ("tune", "enabled")})


def chosen_params(section: dict, tuning_json: str | None) -> CRFParams:
    """The settings tune_crf chose on the validation split, or the configured ones when
    tuning is off (`tuning_json` None) or could not judge: on validation ground truth without
    foreground the best setting is the one that erases the most, which would erase true
    objects on the test split (the keys the grid tries are then at their defaults)."""
    tuning = read_json(tuning_json) if tuning_json else None
    if tuning and tuning.get("val_foreground_pixels", 1):
        return CRFParams(**tuning["best"])
    if tuning:
        log.warning("CRF tuning could not judge its settings (no foreground in the validation "
                    "ground truth): the configured ones refine the test split")
    return crf_params(section)
