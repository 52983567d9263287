"""Tests for unet.crf on small synthetic images."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from unet.common.labels import MaskMapping
from unet.common.maskio import read_mask
from unet.crf.dense import CRFParams, CRFTask, refine, refine_all, refine_file

H, W = 64, 96


def _synthetic(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A noisy coloured ellipse on another colour: image (H, W, 3), mask (H, W), probs (2, H, W).

    The probabilities are the one-hot mask shifted by up to 4 px, blurred and mixed with noise,
    so their argmax has misplaced, soft boundaries that the image edges can correct.
    """
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:H, :W]
    cy, cx = rng.uniform(20, H - 20), rng.uniform(25, W - 25)
    ry, rx = rng.uniform(10, 18), rng.uniform(12, 25)
    mask = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1
    bg, fg = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
    while np.abs(bg - fg).sum() < 150:  # keep the object visible
        fg = rng.integers(0, 256, 3)
    image = np.where(mask[..., None], fg, bg) + rng.normal(0, 8, (H, W, 3))
    image = np.clip(image, 0, 255).astype(np.uint8)
    shift = rng.integers(-4, 5, 2)
    fg_prob = ndimage.gaussian_filter(np.roll(mask, shift, axis=(0, 1)).astype(float), 3)
    fg_prob = np.clip(0.8 * fg_prob + 0.2 * rng.random((H, W)), 0, 1)
    probs = np.stack([1 - fg_prob, fg_prob]).astype(np.float16)
    return image, mask, probs


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    union = (a | b).sum()
    return float((a & b).sum() / union) if union else 1.0


def test_refine_keeps_shape_and_dtype():
    image, _, probs = _synthetic(0)
    labels = refine(image, probs, CRFParams())
    assert labels.shape == (H, W) and labels.dtype == np.uint8
    assert set(np.unique(labels)) <= {0, 1}


def test_crf_improves_blurred_prediction_on_average():
    raw_iou, crf_iou = [], []
    for seed in range(8):
        image, mask, probs = _synthetic(seed)
        raw_iou.append(_iou(probs.argmax(axis=0) == 1, mask))
        crf_iou.append(_iou(refine(image, probs, CRFParams()) == 1, mask))
    assert np.mean(raw_iou) < 0.9  # the degraded prediction really is wrong at the edges
    assert np.mean(crf_iou) > np.mean(raw_iou) + 0.05


def test_greyscale_image_with_or_without_its_channel_axis():
    image, _, probs = _synthetic(1)
    grey = image[..., 0]  # (H, W)
    np.testing.assert_array_equal(refine(grey, probs), refine(grey[..., None], probs))


def test_zero_probabilities_and_float32_are_fine():
    image, mask, _ = _synthetic(2)
    one_hot = np.stack([~mask, mask]).astype(np.float32)  # exact zeros: clipped before -log
    labels = refine(image, one_hot)
    assert _iou(labels == 1, mask) > 0.95


def test_three_classes_give_labels_in_range():
    image, mask, _ = _synthetic(3)
    rng = np.random.default_rng(3)
    probs = rng.random((3, H, W)).astype(np.float32)
    probs[1] += 2 * mask
    probs /= probs.sum(axis=0, keepdims=True)
    labels = refine(image, probs, CRFParams(iterations=3))
    assert labels.shape == (H, W) and labels.dtype == np.uint8
    assert labels.max() <= 2 and (labels == 1).any()


@pytest.mark.parametrize(
    ("image_shape", "probs_shape", "match"),
    [
        ((H, W, 3), (2, H, W + 1), "probabilities are"),
        ((H, W, 3, 1), (2, H, W), r"\(H, W, bands\)"),  # 4 bands are fine: test_crf_bands
        ((H, W, 0), (2, H, W), r"\(H, W, bands\)"),
        ((H, W, 3), (H, W), r"\(C, H, W\)"),
        ((H, W, 3), (1, H, W), "2..256 classes"),
    ],
)
def test_bad_shapes_raise(image_shape, probs_shape, match):
    image = np.zeros(image_shape, np.uint8)
    probs = np.full(probs_shape, 0.5, np.float32)
    with pytest.raises(ValueError, match=match):
        refine(image, probs)


def test_non_uint8_image_raises():
    with pytest.raises(ValueError, match="uint8"):
        refine(np.zeros((H, W, 3), np.float32), np.full((2, H, W), 0.5, np.float32))


def _write_inputs(tmp_path, n: int) -> list[CRFTask]:
    tasks = []
    for i in range(n):
        image, _, probs = _synthetic(10 + i)
        image_path, probs_path = tmp_path / f"img{i}.png", tmp_path / f"img{i}.npy"
        Image.fromarray(image).save(image_path)
        np.save(probs_path, probs.astype(np.float16))
        mapping = MaskMapping((0, 255))
        tasks.append(CRFTask(str(image_path), str(probs_path), "", mapping, CRFParams()))
    return tasks


def _with_out(tasks: list[CRFTask], folder) -> list[CRFTask]:
    return [
        CRFTask(t.image_path, t.probs_path, str(folder / f"m{i}.png"), t.mapping, t.params)
        for i, t in enumerate(tasks)
    ]


def test_refine_file_maps_class_values(tmp_path):
    (task,) = _with_out(_write_inputs(tmp_path, 1), tmp_path / "out")
    assert refine_file(task) == task.out_path
    written = read_mask(task.out_path)
    image, _, probs = _synthetic(10)
    np.testing.assert_array_equal(written, refine(image, probs) * 255)
    assert set(np.unique(written)) <= {0, 255}


def test_refine_all_two_processes_matches_one(tmp_path):
    inputs = _write_inputs(tmp_path, 4)
    one, two = _with_out(inputs, tmp_path / "p1"), _with_out(inputs, tmp_path / "p2")
    refine_all(one, processes=1)
    refine_all(two, processes=2)
    for a, b in zip(one, two, strict=True):
        np.testing.assert_array_equal(read_mask(a.out_path), read_mask(b.out_path))


def test_refine_file_rejects_mismatched_probs(tmp_path):
    (task,) = _with_out(_write_inputs(tmp_path, 1), tmp_path / "out")
    np.save(task.probs_path, np.full((2, H, W + 2), 0.5, np.float16))
    with pytest.raises(ValueError, match="do not match image"):
        refine_file(task)
    np.save(task.probs_path, np.zeros(3, np.int64))  # not (C, H, W) probabilities
    with pytest.raises(ValueError, match="rerun prediction"):
        refine_file(task)
    with open(task.probs_path, "wb") as f:  # a file cut off mid-write
        f.write(b"\x93NUMPY")
    with pytest.raises(ValueError, match=f"cannot read probabilities {task.probs_path}"):
        refine_file(task)


def test_large_images_are_refined_in_tiles_that_agree_with_the_whole_image():
    # Two flat regions with a noisy unary: the tiled CRF must give the whole-image answer away
    # from tile seams, and nearly everywhere overall (its kernels reach past the overlap only
    # with small weights).
    rng = np.random.default_rng(0)
    h, w = 200, 260
    image = np.zeros((h, w, 3), np.uint8)
    image[:, w // 2 :] = 200
    fg = np.clip(np.where(np.arange(w) >= w // 2, 0.7, 0.3) + rng.normal(0, 0.25, (h, w)),
                 0.01, 0.99).astype(np.float32)
    probs = np.stack([1 - fg, fg])
    whole = refine(image, probs, CRFParams(iterations=3, tile=512))
    tiled_params = CRFParams(iterations=3, tile=96, tile_overlap=24)
    tiled = refine(image, probs, tiled_params)
    assert tiled.shape == (h, w)
    assert (tiled == whole).mean() > 0.99
    assert (whole != (fg > 0.5)).sum() > 0  # the CRF did change the noisy unary
    with pytest.raises(ValueError, match="crf.tile"):
        refine(image, probs, CRFParams(tile=96, tile_overlap=48))


def test_scoring_window_is_the_whole_image_or_centred_on_the_foreground():
    from unet.crf.tune import scoring_window

    target = np.zeros((300, 500), np.uint8)
    assert scoring_window(target, 512) == (slice(0, 300), slice(0, 500))
    target[250:290, 440:480] = 1  # an object near a corner
    target[0:5, 0:5] = 255  # ignored pixels are not foreground
    ys, xs = scoring_window(target, 128)
    assert (ys.stop - ys.start, xs.stop - xs.start) == (128, 128)
    assert ys.stop == 300 and xs.start <= 440 and xs.stop >= 480  # clamped, object inside
    empty = scoring_window(np.zeros((300, 500), np.uint8), 128)
    assert empty == (slice(86, 214), slice(186, 314))  # no foreground: the centre


def test_crf_tuning_scores_large_images_on_a_window(tmp_path):
    # A CRF costs 0.8-8 s per megapixel here: 27 settings x 12 images of 8192x8192 would take
    # up to two days. The CRF acts within ~3 x bilateral_sxy px, so a window scores a setting alike.
    from unet.crf.tune import CountJob, _image_counts

    image, mask, probs = _synthetic(0)
    Image.fromarray(image).save(tmp_path / "i.png")
    np.save(tmp_path / "p.npy", probs)
    MaskMapping((0, 255)).write(tmp_path / "m.png", mask.astype(np.uint8))
    job = CountJob(str(tmp_path / "i.png"), str(tmp_path / "p.npy"), str(tmp_path / "m.png"),
                   MaskMapping((0, 255)), [CRFParams()], max_side=48)
    raw, (crf,) = _image_counts(job)
    assert raw.sum() == crf.sum() == 48 * 48
    whole = _image_counts(CountJob(*[getattr(job, f) for f in ("image_path", "probs_path",
                                                                "gt_path", "mapping", "combos")]))
    assert whole[0].sum() == H * W


def test_a_large_grey_image_is_refined_without_a_colour_copy():
    """No whole-image colour copy of a grey image is made (at 1536x1536 the two whole (H, W, 3)
    copies traced 13.5 MB in all; 5.5 MB now), and its tiles part regions 180 levels apart as its
    three-channel copy does (its kernel is its own: test_crf_grey_kernel.py)."""
    import tracemalloc

    rng = np.random.default_rng(3)
    grey = np.zeros((1536, 1536), np.uint8)
    grey[:, 700:] = 180
    fg = np.clip(np.where(grey > 0, 0.7, 0.3) + rng.normal(0, 0.2, grey.shape), 0.01, 0.99)
    probs = np.stack([1 - fg, fg]).astype(np.float16)
    params = CRFParams(iterations=1, tile=512, tile_overlap=32)
    tracemalloc.start()
    try:
        tiled = refine(grey, probs, params)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 9 << 20, f"{peak / 2**20:.1f} MB traced"
    small = (slice(0, 600), slice(500, 1100))  # two tiles a side: seams included
    expected = refine(np.repeat(grey[small][..., None], 3, axis=2), probs[:, small[0], small[1]],
                      params)
    assert (refine(grey[small], probs[:, small[0], small[1]], params) == expected).mean() > 0.999
    assert tiled.shape == grey.shape
