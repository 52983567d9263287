"""Ignored pixels count nowhere in the boundary scores: an edge a class has only against
ignored pixels is no boundary in the target or the prediction, so it is neither matched for
free nor measured to; an edge is measured to the other mask's edge or to the nearest ignored
pixel bordering the class (its unknown edge may lie there); a pixel of the class beside an
ignored region bordering two classes or more, to the other mask's pixels of the class. Checked
against a brute-force reading of that rule on small masks."""

import numpy as np
import pytest
from scipy import ndimage
from scipy.spatial.distance import cdist

from unet.evaluate.boundary import image_scores

IGNORE = 255


def _edges(mask: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Pixels of `mask` on the image edge or with a 4-neighbour labelled another class."""
    other = np.pad(valid & ~mask, 1)
    h, w = mask.shape
    near = other[:-2, 1:-1] | other[2:, 1:-1] | other[1:-1, :-2] | other[1:-1, 2:]
    frame = np.ones_like(mask)
    frame[1:-1, 1:-1] = False
    return mask & (near | frame)


def _band_void(target: np.ndarray) -> np.ndarray:
    """Ignored pixels of the 4-connected ignored regions bordering two classes or more."""
    void = target == IGNORE
    ids, n = ndimage.label(void)
    out = np.zeros_like(void)
    for r in range(1, n + 1):
        touched = set(target[ndimage.binary_dilation(ids == r) & ~void].tolist())
        if len(touched) >= 2:
            out |= ids == r
    return out


def _reference(pred, target, c, tolerance):
    """(hd95, boundary F1) of class c by the rule, every distance measured pair by pair."""
    valid = target != IGNORE
    p, t = (pred == c) & valid, (target == c) & valid
    if not p.any() and not t.any():
        return 0.0, 1.0
    if not p.any() or not t.any():
        return float("inf"), 0.0
    pe, te = _edges(p, valid), _edges(t, valid)
    cross = ndimage.generate_binary_structure(2, 1)
    rim = ~valid & (ndimage.binary_dilation(p, cross) | ndimage.binary_dilation(t, cross))
    beside = t & ndimage.binary_dilation(~valid, cross)  # the true edge may lie here too
    # soft edges: beside an ignored region bordering two classes or more (the prediction's:
    # beside such pixels it gives another class); measured to the other mask's pixels of c
    band = _band_void(target)
    soft_p = p & ~pe & ndimage.binary_dilation(band & (pred != c), cross)
    soft_t = t & ~te & ndimage.binary_dilation(band, cross)
    found = []
    for at, to, soft, its in ((pe, te | rim | beside, soft_p, t), (te, pe | rim, soft_t, p)):
        if at.any() and not to.any():
            return float("inf"), 0.0
        d = [cdist(np.argwhere(a), np.argwhere(b)).min(axis=1)
             for a, b in ((at, to), (soft, its)) if a.any()]
        found.append(np.concatenate(d) if d else None)
    if found[0] is None and found[1] is None:
        return 0.0, 1.0
    hd = max(np.percentile(d, 95) for d in found if d is not None)
    precision, recall = (np.mean(d <= tolerance) if d is not None else 1.0 for d in found)
    f1 = 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
    return hd, f1


def _square(shift: int) -> np.ndarray:
    mask = np.zeros((48, 48), np.uint8)
    mask[12 + shift : 36 + shift, 12:36] = 1
    return mask


def test_ignored_pixels_inside_an_object_change_no_boundary_score():
    """16 ignored pixels inside a 24x24 square predicted 4 px off raised its boundary F1 from
    0.52 to 0.75: the pixels around each were boundary in both masks, matched at distance 0."""
    pred, target = _square(4), _square(0)
    plain = image_scores(pred, target, 2, IGNORE)
    target[20:36:4, 16:32:4] = IGNORE  # 16 isolated pixels, inside both squares
    holed = image_scores(pred, target, 2, IGNORE)
    np.testing.assert_allclose(holed["boundary_f1"], plain["boundary_f1"])
    np.testing.assert_allclose(holed["hd95"], plain["hd95"])
    assert holed["boundary_f1"][1] == pytest.approx(0.5217, abs=1e-4)


def test_an_edge_along_an_ignored_band_is_not_measured_across_it():
    """Class 1 meets class 0 directly in the lower half and across a 4 px ignored band in the
    upper half; the prediction puts the edge 1 px right everywhere, 1 px past the band above.
    Its edge there is measured to the band or the labelled pixels beside it, where the true one
    may lie: HD95 1 for both classes, where class 1's was 5 (measured across the band to its
    far side) and then class 0's 2 (measured to the band, not to class 0's pixels beside it)."""
    target = np.zeros((40, 40), np.uint8)
    target[:, :20] = 1
    target[:20, 18:22] = IGNORE
    pred = np.zeros_like(target)
    pred[:, :21] = 1
    pred[:20, 21:23] = 1  # spills 1 px past the band
    scores = image_scores(pred, target, 2, IGNORE)
    for c in range(2):
        assert scores["hd95"][c] == pytest.approx(_reference(pred, target, c, 2)[0])
    np.testing.assert_allclose(scores["hd95"], [1.0, 1.0])


def test_a_class_enclosed_by_ignored_pixels_has_no_boundary():
    """A trimap's object whose every edge is ignored band: predicted right, it scores HD95 0
    and boundary F1 1; a speck in labelled background is a false edge (F1 0) measured to the
    band, the nearest place the object's edge may lie."""
    target = np.zeros((30, 30), np.uint8)
    target[8:22, 8:22] = IGNORE
    target[10:20, 10:20] = 1
    pred = np.zeros_like(target)
    pred[9:21, 9:21] = 1  # its edge lies within the band
    scores = image_scores(pred, target, 2, IGNORE)
    assert scores["hd95"][1] == 0.0 and scores["boundary_f1"][1] == 1.0
    pred[2:4, 2:4] = 1  # a speck in the labelled background
    scores = image_scores(pred, target, 2, IGNORE)
    assert scores["boundary_f1"][1] == 0.0
    assert scores["hd95"][1] == pytest.approx(_reference(pred, target, 1, 2)[0])
    assert 5 < scores["hd95"][1] < 11


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("tolerance", [1, 2])
def test_scores_follow_the_rule_on_random_masks(seed, tolerance):
    rng = np.random.default_rng(seed)
    shape = (int(rng.integers(1, 30)), int(rng.integers(1, 30)))
    target = ndimage.median_filter(rng.integers(0, 3, shape), size=5).astype(np.uint8)
    band = ndimage.binary_dilation(rng.random(shape) < 0.03, iterations=int(rng.integers(0, 3)))
    target[band] = IGNORE
    pred = ndimage.median_filter(rng.integers(0, 3, shape), size=5).astype(np.uint8)
    scores = image_scores(pred, target, 3, IGNORE, tolerance)
    for c in range(3):
        hd, f1 = _reference(pred, target, c, tolerance)
        assert scores["hd95"][c] == pytest.approx(hd), c
        assert scores["boundary_f1"][c] == pytest.approx(f1), c


def _trimap_pet(band: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """An Oxford-Pet-like trimap (pet 1, background 0, a `band` px border ignored) and the
    pet's pixels either side of the band: (target, inside the band, inside and the band)."""
    yy, xx = np.mgrid[:80, :96]
    pet = ((yy - 40) / 22) ** 2 + ((xx - 48) / 30) ** 2 <= 1
    inner = ndimage.binary_erosion(pet, iterations=band // 2)
    outer = ndimage.binary_dilation(pet, iterations=band - band // 2)
    target = np.where(outer, IGNORE, 0).astype(np.uint8)
    target[inner] = 1
    return target, inner, outer


@pytest.mark.parametrize("band", [2, 3])
@pytest.mark.parametrize("k", [1, 2, 3])
def test_a_pet_k_px_too_small_scores_as_one_k_px_too_large(band, k):
    """A pet predicted k px past its band, inside or outside, scores for the pet as against a
    plain mask of the band's near edge; its background is k px off. Shrunk 1 px it read HD95 2
    (measured to the band's inner pixels) and grown 1 px its background read 2; shrunk 2 px its
    boundary F1 was 0 where grown 2 px it was 1. The pet's scores shrunk 2 px are those of a
    plain mask (HD95 2.2, boundary F1 0.97): its edge is measured to the prediction too now."""
    target, inner, outer = _trimap_pet(band)
    grown = ndimage.binary_dilation(outer, iterations=k).astype(np.uint8)
    shrunk = ndimage.binary_erosion(inner, iterations=k).astype(np.uint8)
    for pred, edge in ((grown, outer), (shrunk, inner)):
        scores = image_scores(pred, target, 2, IGNORE, 2)
        plain = image_scores(pred, edge.astype(np.uint8), 2, None, 2)
        assert scores["hd95"][1] == pytest.approx(plain["hd95"][1])
        assert scores["boundary_f1"][1] == pytest.approx(plain["boundary_f1"][1])
        assert k <= scores["hd95"][1] < 1.11 * k and scores["hd95"][0] == k
        assert (scores["boundary_f1"][0] == 1.0) == (k <= 2)  # the image's edge matches
        for c in range(2):
            hd, f1 = _reference(pred, target, c, 2)
            assert (scores["hd95"][c], scores["boundary_f1"][c]) == pytest.approx((hd, f1))
