"""`unet unstack` of signed and 32-bit stacks: every page written with its values, as TIFF
(a PNG holds at most 16 bits, unsigned)."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from tests.conftest import slices
from unet.cli import main


@pytest.mark.parametrize("dtype", [np.int16, np.int32, np.uint32])
def test_unstack_keeps_signed_and_32_bit_values(tmp_path, dtype, capsys):
    # "cannot write mode I as PNG" was reported as a read failure, leaving an empty folder.
    info = np.iinfo(dtype)
    rng = np.random.default_rng(0)
    pages = [rng.integers(info.min, info.max, (5, 7), dtype=dtype, endpoint=True)
             for _ in range(3)]
    for page in pages:
        tifffile.imwrite(tmp_path / "s.tif", page, append=True, photometric="minisblack")
    assert main(["unstack", str(tmp_path / "s.tif"), str(tmp_path / "out")]) == 0, \
        capsys.readouterr().err
    written = slices(tmp_path / "out")
    assert [p.name for p in written] == ["0.tif", "1.tif", "2.tif"]
    for page, path in zip(pages, written, strict=True):
        got = tifffile.imread(path)
        assert got.dtype == dtype and np.array_equal(got, page), path.name


def test_float_mr_cases_of_whole_values_come_out_at_one_depth(tmp_path, capsys):
    # MR stored as float32 of whole values (the Decathlon's images): a dim case (0-200) became
    # 8-bit PNG, read as it is, beside 16-bit cases scaled by the data set's range, and
    # splitting it again, as preprocess's warning advised, gave the same 8-bit files
    nib = pytest.importorskip("nibabel", reason="pip install -e '.[nifti]'")
    rng = np.random.default_rng(0)
    for case, top in (("la_000", 200), ("la_001", 1500)):
        mr = np.round(rng.uniform(0, top, (16, 16, 2))).astype(np.float32)
        nib.save(nib.Nifti1Image(mr, np.eye(4)), tmp_path / f"{case}.nii.gz")
        assert main(["unstack", str(tmp_path / f"{case}.nii.gz"), str(tmp_path / "out")]) == 0
    from PIL import Image
    depths = {p.name: np.asarray(Image.open(p)).dtype for p in slices(tmp_path / "out")}
    assert set(depths.values()) == {np.dtype(np.uint16)}, depths
    # float labels 0..N stay 8-bit, as the masks of an 8-bit label volume
    labels = rng.integers(0, 3, (6, 5, 2)).astype(np.float32)
    nib.save(nib.Nifti1Image(labels, np.eye(4)), tmp_path / "lab.nii.gz")
    assert main(["unstack", str(tmp_path / "lab.nii.gz"), str(tmp_path / "masks")]) == 0
    assert np.asarray(Image.open(tmp_path / "masks" / "lab_000.png")).dtype == np.uint8
