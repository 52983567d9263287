"""`unet unstack` of signed and 32-bit stacks: every page written with its values, as TIFF
(a PNG holds at most 16 bits, unsigned)."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

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
    written = sorted((tmp_path / "out").iterdir())
    assert [p.name for p in written] == ["0.tif", "1.tif", "2.tif"]
    for page, path in zip(pages, written, strict=True):
        got = tifffile.imread(path)
        assert got.dtype == dtype and np.array_equal(got, page), path.name
