"""`unet unstack STACK.tif FOLDER --name CASE`: a TIFF stack's pages named <case>_000 ..., so
that an EM training and testing volume share one data folder and split.group_by's
'^(.+)_\\d+$' keeps each volume whole, as for NIfTI slices."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tifffile
from PIL import Image

from unet.cli import main
from unet.dataset.split import groups_of


def _stack(path, seed: int, dtype=np.uint8) -> np.ndarray:
    pages = np.random.default_rng(seed).integers(0, 200, (11, 5, 7)).astype(dtype)
    tifffile.imwrite(path, pages)
    return pages


def test_two_stacks_share_a_folder_named_by_volume(tmp_path, capsys):
    train = _stack(tmp_path / "training.tif", 0)
    test = _stack(tmp_path / "testing.tif", 1)
    for name in ("training", "testing"):
        assert main(["unstack", str(tmp_path / f"{name}.tif"), str(tmp_path / "images"),
                     "--name", name]) == 0
    assert "training_000.png ... training_010.png" in capsys.readouterr().out
    files = sorted(p.name for p in (tmp_path / "images").iterdir())
    assert files == sorted([f"training_{k:03d}.png" for k in range(11)]
                           + [f"testing_{k:03d}.png" for k in range(11)])
    for k in (0, 10):  # values and page order unchanged
        assert np.array_equal(np.asarray(Image.open(tmp_path / f"images/training_{k:03d}.png")),
                              train[k])
        assert np.array_equal(np.asarray(Image.open(tmp_path / f"images/testing_{k:03d}.png")),
                              test[k])
    pairs = [{"id": Path(f).stem, "image": f} for f in files]
    groups = groups_of(pairs, r"^(.+)_\d+$")
    assert set(groups.values()) == {"training", "testing"}  # one group per volume


def test_a_stack_of_signed_pages_is_named_too(tmp_path):
    """int16 pages go through tifffile, a TIFF each: named alike."""
    pages = _stack(tmp_path / "s.tif", 2, np.int16) - 100
    tifffile.imwrite(tmp_path / "s.tif", pages)
    assert main(["unstack", str(tmp_path / "s.tif"), str(tmp_path / "out"), "--name", "em"]) == 0
    assert np.array_equal(tifffile.imread(tmp_path / "out" / "em_004.tif"), pages[4])


def test_a_folder_of_stacks_is_refused_with_the_names_that_let_them_share_a_folder(tmp_path,
                                                                                  capsys):
    """The refusal of a folder of stacks offered only a folder per stack, where --name lets
    Lucchi's training and testing stacks share one (and split.group_by keep them apart)."""
    (tmp_path / "em").mkdir()
    _stack(tmp_path / "em" / "training.tif", 0)
    assert main(["unstack", str(tmp_path / "em"), str(tmp_path / "images")]) == 2
    err = capsys.readouterr().err
    assert "a folder of its own" in err and "--name training" in err, err
    assert not (tmp_path / "images").exists()
