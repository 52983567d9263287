"""Class labels of saved probabilities taken a band of rows at a time: argmax(0)'s values,
without numpy's whole-array copy and int64 result (finalize_masks' validation images)."""

import tracemalloc

import numpy as np
import pytest

from unet.common.labels import MaskMapping
from unet.common.probs import labels_of
from unet.postprocess.finalize import ValImage, _raw_confusions


@pytest.mark.parametrize(("classes", "rows"), [(2, 1), (5, 7), (300, 256)])
def test_labels_equal_argmax_ties_included(classes, rows):
    rng = np.random.default_rng(0)
    probs = rng.integers(0, 4, (classes, 19, 11)).astype(np.float16)  # many ties
    got = labels_of(probs, rows)
    assert got.dtype == (np.uint8 if classes <= 256 else np.int16)
    np.testing.assert_array_equal(got, probs.argmax(0))


def test_validation_scoring_holds_no_whole_image_argmax(tmp_path):
    """8 classes at 1024x1024: argmax(0) of the memory map traced a 16 MB copy and 8 MB of
    int64 labels (24 MB); a band at a time 12 MB, the largest-component pass's own."""
    n, c = 1024, 8
    target = np.zeros((n, n), np.uint8)
    target[100:600, 200:900] = 1
    mapping = MaskMapping(tuple(range(0, 8 * c, 8)))
    mapping.write(tmp_path / "gt.png", target)
    probs = np.lib.format.open_memmap(tmp_path / "p.npy", mode="w+", dtype=np.float16,
                                      shape=(c, n, n))
    probs[:] = 0.1
    probs[1] = np.where(target > 0, 0.8, 0.05)
    probs.flush()
    del probs
    job = ValImage(str(tmp_path / "p.npy"), str(tmp_path / "gt.png"), mapping, max_side=n)
    tracemalloc.start()
    try:
        raw = _raw_confusions(job)[0]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 18 << 20, f"{peak / 2**20:.1f} MB traced"
    assert raw[0, 0] == n * n - 350000 and raw[1, 1] == 350000 and raw.sum() == n * n


def test_an_npz_under_an_npy_name_is_refused_by_name(tmp_path):
    # np.load opens an .npz by its contents whatever its name: read_probs then failed with a
    # bare AttributeError ('NpzFile' object has no attribute 'ndim'), naming no file.
    from unet.common.probs import read_probs

    path = tmp_path / "a.npy"
    with open(path, "wb") as f:
        np.savez(f, probs=np.zeros((2, 4, 4), np.float16))
    with pytest.raises(ValueError, match=r"a\.npy.*npz.*predict_masks"):
        read_probs(path)


def test_a_damaged_probabilities_file_says_how_to_rerun_prediction(tmp_path):
    # "rerun prediction" alone: Snakemake does not see a file replaced inside an output folder,
    # so a plain rerun does nothing; the message gives the command that does.
    from unet.common.probs import read_probs

    np.save(tmp_path / "a.npy", np.zeros((4, 4), np.uint8))
    with pytest.raises(ValueError, match=r"rerun prediction: `snakemake --forcerun predict_masks"):
        read_probs(tmp_path / "a.npy")
