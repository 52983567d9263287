"""OME-TIFF names (Bio-Formats, QuPath): x.ome.tif is image x, its mask and outputs x."""

from pathlib import Path

import pytest

from unet.dataset.layout import DataLayoutError, Layout, files_by_stem
from unet.dataset.pairing import pair_files
from unet.dataset.per_id import new_id
from unet.infer.out_checks import check_outputs, mask_names


def _touch(folder: Path, *names: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for n in names:
        (folder / n).write_bytes(b"")


@pytest.mark.parametrize("mask", ["x.tif", "x.ome.tif", "x.png", "x.OME.TIFF"])
def test_ome_tiff_pairs_with_its_mask(tmp_path, mask):
    _touch(tmp_path / "images", "x.ome.tif", "y.ome.tiff")
    _touch(tmp_path / "masks", mask, "y.tif")
    pairs = pair_files(tmp_path, Layout(allow_unpaired=False))
    assert [(i, im.name, m.name) for i, im, m in pairs] == [
        ("x", "x.ome.tif", mask), ("y", "y.ome.tiff", "y.tif")]


def test_ome_tiff_pairs_with_a_suffixed_mask(tmp_path):
    _touch(tmp_path / "data", "x.ome.tif", "x_mask.ome.tif", "z.ome.tif", "z_mask.tif")
    pairs = pair_files(tmp_path, Layout(images="data", masks="data", mask_suffix="_mask"))
    assert [(i, m.name) for i, _, m in pairs] == [("x", "x_mask.ome.tif"), ("z", "z_mask.tif")]


def test_tif_beside_its_ome_tiff_is_refused(tmp_path):
    _touch(tmp_path / "images", "x.tif", "x.ome.tif")
    _touch(tmp_path / "masks", "x.png")
    with pytest.raises(DataLayoutError, match=r"x\.tif.*x\.ome\.tif.*same id 'x'|"
                                              r"x\.ome\.tif.*x\.tif.*same id 'x'"):
        pair_files(tmp_path, Layout())
    with pytest.raises(DataLayoutError, match="same id 'x'"):
        files_by_stem(tmp_path / "images", [".tif"])


def test_ome_name_is_only_a_tiff_extension(tmp_path):
    _touch(tmp_path / "images", "a.ome.png", "b.home.tif")
    assert set(files_by_stem(tmp_path / "images", [".png", ".tif"])) == {"a.ome", "b.home"}


def test_prediction_of_an_ome_tiff_is_named_by_its_id(tmp_path):
    files = [tmp_path / "x.ome.tif", tmp_path / "s1" / "y.ome.tiff"]
    assert mask_names(files) == {files[0]: "x.png", files[1]: "y.png"}
    assert mask_names(files, tmp_path) == {files[0]: "x.png", files[1]: "s1/y.png"}
    assert new_id(files[1], tmp_path) == "s1/y"
    with pytest.raises(ValueError, match=r"would all be x\.png"):
        check_outputs([tmp_path / "x.tif", tmp_path / "x.ome.tif"], tmp_path / "out")


def test_rle_ids_of_an_ome_tiff_are_its_name_and_its_id(tmp_path, cli_model):
    # unet predict --rle wrote x.ome.tif's ImageId as x.tif (the mask x.png given the last
    # extension back), a file that does not exist; --rle-id stem wrote x.ome, where the data
    # set (rle.csv) and the masks call the image x
    import csv

    import numpy as np
    import tifffile

    from unet.cli import main

    (tmp_path / "in").mkdir()
    tifffile.imwrite(tmp_path / "in" / "x.ome.tif", np.zeros((40, 60, 3), np.uint8))
    for how, want in (("name", "x.ome.tif"), ("stem", "x")):
        out, rle = tmp_path / f"out_{how}", tmp_path / f"{how}.csv"
        assert main(["predict", str(cli_model), str(tmp_path / "in"), "-o", str(out), "--rle",
                     str(rle), "--rle-id", how]) == 0
        with open(rle, newline="") as f:
            assert {row[0] for row in list(csv.reader(f))[1:]} == {want}, how


def test_an_rle_id_of_an_ome_tiff_in_a_subfolder_names_the_recursive_key(tmp_path):
    # the hint for CSV ids that are files the layout does not read matched x.ome.tif by its
    # name or 'x.ome', while the CSV and the pairing call it x: no hint was given
    from unet.dataset.unread import ids_elsewhere_hint

    _touch(tmp_path / "images" / "s1", "x.ome.tif")
    hint = ids_elsewhere_hint(tmp_path / "images", ["x"], False, (".tif",), "dataset.local")
    assert "set dataset.local.recursive: true" in hint, hint
