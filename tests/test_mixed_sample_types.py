"""Training images of float and integer samples in one data set: one intensity range over them
must not turn the float images black (floats normalised to [0, 1] beside 16-bit counts)."""

import numpy as np
import pytest
import tifffile

from unet.cache.intensity import training_range
from unet.cache.settings import PreprocessSettings


def _files(tmp_path, float_top: float) -> list[str]:
    """A 12-bit image (up to 4095) and a float one (up to float_top)."""
    rng = np.random.default_rng(0)
    counts, floats = tmp_path / "counts.tif", tmp_path / "floats.tif"
    tifffile.imwrite(counts, np.minimum(rng.integers(100, 4096, (8, 10)), 4095).astype(np.uint16))
    top = rng.random((8, 10)) * float_top
    top.flat[0] = float_top
    tifffile.imwrite(floats, top.astype(np.float32))
    return [str(counts), str(floats)]


def test_normalised_floats_beside_counts_are_refused(tmp_path):
    paths = _files(tmp_path, 1.0)
    with pytest.raises(ValueError) as err:
        training_range(paths, False, PreprocessSettings(), 1)
    text = str(err.value)
    assert paths[0] in text and paths[1] in text
    assert "preprocess.intensity: image" in text


def test_floats_in_the_counts_own_units_share_the_range(tmp_path):
    paths = _files(tmp_path, 4000.0)  # deconvolved counts, saved as float
    lo, hi = training_range(paths, False, PreprocessSettings(), 1)
    assert lo == 0 and 4000 <= hi <= 4095


def test_each_image_by_its_own_range_needs_no_check(tmp_path):
    paths = _files(tmp_path, 1.0)
    assert training_range(paths, False, PreprocessSettings(intensity="image"), 1) is None


def test_normalised_float_given_to_a_model_of_counts_is_named(tmp_path, caplog):
    from unet.infer.input_checks import warn_unprepared_values

    _files(tmp_path, 1.0)
    ckpt = {"intensity": "dataset", "intensity_range": [0.0, 4095.0], "in_channels": 1}
    with caplog.at_level("WARNING"):
        warn_unprepared_values([tmp_path / "counts.tif"], ckpt)
        assert caplog.text == ""
        warn_unprepared_values([tmp_path / "floats.tif"], ckpt)
    assert "floats.tif" in caplog.text and "counts.tif" not in caplog.text
    assert "4095" in caplog.text and "black" in caplog.text
