"""Retinal-vessel data sets as they download: CHASE_DB1 (two annotators' masks beside each
image) and STARE (gzip-compressed PPMs in three folders)."""

from __future__ import annotations

import gzip
import io

import numpy as np
import pytest
from PIL import Image

from unet.dataset.layout import DataLayoutError, layout_from
from unet.dataset.pairing import pair_files


def _ppm_gz(path, arr) -> None:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PPM")
    path.write_bytes(gzip.compress(buf.getvalue()))


@pytest.fixture
def stare(tmp_path):
    """STARE's layout: stare-images/im0001.ppm.gz, labels-ah/im0001.ah.ppm.gz."""
    for d in ("stare-images", "labels-ah"):
        (tmp_path / d).mkdir()
    for i in (1, 2):
        _ppm_gz(tmp_path / "stare-images" / f"im000{i}.ppm.gz", np.full((8, 10, 3), 90, np.uint8))
        _ppm_gz(tmp_path / "labels-ah" / f"im000{i}.ah.ppm.gz", np.zeros((8, 10, 3), np.uint8))
    return tmp_path


@pytest.mark.parametrize("exts", [[".gz"], [".ppm.gz"], [".png", ".PPM.GZ"]])
def test_a_compressed_extension_is_refused_with_how_to_unpack(stare, exts):
    """`.gz` among the extensions paired STARE's files, and then every one failed to decode
    with 'replace or remove the file'; `.ppm.gz` picked up nothing, silently."""
    settings = {"images": "stare-images", "masks": "labels-ah", "image_suffix": ".ppm",
                "mask_suffix": ".ah.ppm", "image_extensions": exts}
    with pytest.raises(DataLayoutError, match=r"image_extensions.*gunzip.*\.ppm"):
        layout_from(settings, "local")
    settings["image_extensions"], settings["mask_extensions"] = [".ppm"], exts
    with pytest.raises(DataLayoutError, match=r"dataset\.local\.mask_extensions.*gunzip"):
        layout_from(settings, "local")


def test_stare_unpacked_pairs_with_ppm_added(stare):
    """After gunzip, .ppm (not a default) added to both lists pairs im0001 with im0001.ah."""
    for f in stare.rglob("*.gz"):
        f.with_suffix("").write_bytes(gzip.decompress(f.read_bytes()))
        f.unlink()
    settings = {"images": "stare-images", "masks": "labels-ah", "mask_suffix": ".ah",
                "image_extensions": [".ppm"], "mask_extensions": [".ppm"]}
    pairs = pair_files(stare, layout_from(settings, "local"))
    assert [(i, m.name) for i, _, m in pairs] == [("im0001", "im0001.ah.ppm"),
                                                  ("im0002", "im0002.ah.ppm")]


def test_a_compressed_volume_extension_is_told_to_export_slices_not_gunzip():
    """`.nii.gz` (the Medical Decathlon's, BraTS') was told to gunzip and list `.ppm`: the
    .nii it reveals is still a volume the pipeline does not read."""
    settings = {"images": "imagesTr", "masks": "labelsTr", "image_extensions": [".nii.gz"]}
    with pytest.raises(DataLayoutError, match=r"image_extensions.*\.nii\.gz.*slice") as err:
        layout_from(settings, "local")
    assert "gunzip" not in str(err.value)
