"""`unet restack` of a TIFF stack: EM slice masks (Lucchi's, ISBI 2012's) back into one
multi-page TIFF matching the label stack, the inverse of `unet unstack STACK.tif`."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from PIL import Image

from unet.cli import main


def _stacks(tmp_path, pages: int = 12) -> np.ndarray:
    """An EM volume of `pages` 9x7 (wide, not square: a transpose shows) grey pages and its
    0/255 label stack, unstacked as unet unstack splits them (masks standing in for
    predicted ones)."""
    rng = np.random.default_rng(0)
    tifffile.imwrite(tmp_path / "testing.tif", rng.integers(0, 256, (pages, 7, 9), np.uint8))
    labels = (rng.random((pages, 7, 9)) < 0.3).astype(np.uint8) * 255
    tifffile.imwrite(tmp_path / "testing_groundtruth.tif", labels)
    assert main(["unstack", str(tmp_path / "testing_groundtruth.tif"), str(tmp_path / "pred")]) == 0
    return labels


def test_page_masks_come_back_as_one_stack_like_the_label_stack(tmp_path, capsys):
    labels = _stacks(tmp_path)
    out = tmp_path / "out" / "testing_pred.tif"
    assert main(["restack", str(tmp_path / "pred"), str(tmp_path / "testing.tif"),
                 "-o", str(out)]) == 0
    got = tifffile.imread(out)
    assert got.shape == labels.shape and got.dtype == np.uint8
    assert np.array_equal(got, labels)  # page for page, pixel for pixel, values as written
    assert str(out) in capsys.readouterr().out
    assert main(["restack", str(tmp_path / "pred"), str(tmp_path / "testing.tif"),
                 "-o", str(out)]) == 2  # never overwritten


def test_pages_named_by_a_case_as_the_pipeline_names_them(tmp_path):
    """The pipeline's test masks of a stack renamed testing_000 ... (--name testing)."""
    labels = _stacks(tmp_path)
    (tmp_path / "final").mkdir()
    for k in range(len(labels)):
        Image.fromarray(labels[k]).save(tmp_path / "final" / f"testing_{k:03d}.png")
    out = tmp_path / "p.tif"
    assert main(["restack", str(tmp_path / "final"), str(tmp_path / "testing.tif"), "-o",
                 str(out), "--name", "testing"]) == 0
    assert np.array_equal(tifffile.imread(out), labels)


@pytest.mark.parametrize("damage", ["missing", "size", "beyond"])
def test_a_page_missing_or_of_another_size_is_refused_by_name(tmp_path, capsys, damage):
    _stacks(tmp_path)
    pred = tmp_path / "pred"
    if damage == "missing":
        (pred / "05.png").unlink()
    elif damage == "size":
        Image.new("L", (7, 9)).save(pred / "05.png")  # a transposed page
    else:
        Image.new("L", (9, 7)).save(pred / "12.png")  # a deeper stack's page
    out = tmp_path / "p.tif"
    assert main(["restack", str(pred), str(tmp_path / "testing.tif"), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert ("05.png" if damage != "beyond" else "12.png") in err and not out.exists()


def test_the_folder_above_the_page_masks_is_named_with_the_masks_folder(tmp_path, capsys):
    # pred/test given for unet predict's pred/test/masks: "no such page mask 00.png" alone
    _stacks(tmp_path)
    (tmp_path / "test").mkdir()
    (tmp_path / "pred").rename(tmp_path / "test" / "masks")
    assert main(["restack", str(tmp_path / "test"), str(tmp_path / "testing.tif"), "-o",
                 str(tmp_path / "p.tif")]) == 2
    assert f"give {tmp_path / 'test' / 'masks'} as the masks' folder" in capsys.readouterr().err
