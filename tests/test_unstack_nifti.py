"""`unet unstack` of NIfTI volumes (Medical Segmentation Decathlon, LiTS, KiTS, BraTS): one 2-D
file per slice along the third axis, named <stem>_<k>, values as stored (scaled by the header),
image and label slices through the same transform."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import tifffile
from PIL import Image

from tests.conftest import slices
from unet.cli import main
from unet.dataset.split import groups_of

nib = pytest.importorskip("nibabel", reason="pip install -e '.[nifti]'")

LPS = np.diag([-0.8, -0.8, 2.5, 1.0])  # as DICOM-converted CT is stored (MSD's liver, LiTS)


def _save(path, data: np.ndarray, slope=None, inter=None) -> None:
    img = nib.Nifti1Image(data, LPS)
    if slope is not None:
        img.header.set_slope_inter(slope, inter)
    nib.save(img, path)


def _ct(shape=(7, 5, 12)) -> np.ndarray:
    """An int16 CT in Hounsfield units: air (-1024) around a body of soft tissue and bone."""
    rng = np.random.default_rng(0)
    return rng.integers(-1024, 1500, shape).astype(np.int16)


def _read(path) -> np.ndarray:
    return tifffile.imread(path) if path.suffix == ".tif" else np.asarray(Image.open(path))


def _unstack(volume, out, capsys) -> list:
    code = main(["unstack", str(volume), str(out)])
    assert code == 0, capsys.readouterr().err
    return slices(out)


def test_a_ct_volume_becomes_signed_tiff_slices_named_by_case(tmp_path, capsys):
    ct = _ct()
    _save(tmp_path / "liver_003.nii.gz", ct)
    written = _unstack(tmp_path / "liver_003.nii.gz", tmp_path / "images", capsys)
    assert [p.name for p in written] == [f"liver_003_{k:03d}.tif" for k in range(12)]
    for k, path in enumerate(written):
        got = tifffile.imread(path)
        # rows along the volume's second axis, columns along its first (a viewer's axial view)
        assert got.dtype == np.int16 and np.array_equal(got, ct[:, :, k].T), path.name
    assert "12 slices" in capsys.readouterr().out


def test_label_slices_pair_with_image_slices_pixel_for_pixel(tmp_path, capsys):
    ct = _ct()
    labels = ((ct > 200).astype(np.uint8) + (ct > 1200)).astype(np.uint8)  # 0, 1, 2
    (tmp_path / "imagesTr").mkdir()
    (tmp_path / "labelsTr").mkdir()
    _save(tmp_path / "imagesTr/liver_003.nii.gz", ct)
    _save(tmp_path / "labelsTr/liver_003.nii.gz", labels)
    images = _unstack(tmp_path / "imagesTr/liver_003.nii.gz", tmp_path / "images", capsys)
    masks = _unstack(tmp_path / "labelsTr/liver_003.nii.gz", tmp_path / "masks", capsys)
    assert [p.stem for p in images] == [p.stem for p in masks]
    for image, mask in zip(images, masks, strict=True):
        got = _read(mask)
        assert mask.suffix == ".png" and got.dtype == np.uint8
        hu = tifffile.imread(image)
        assert np.array_equal(got, (hu > 200).astype(np.uint8) + (hu > 1200)), mask.name


def test_an_uncompressed_nii_and_a_float_label_volume(tmp_path, capsys):
    labels = np.random.default_rng(1).integers(0, 3, (6, 4, 3)).astype(np.float64)
    _save(tmp_path / "case_7.nii", labels)  # labels saved as float (some BraTS releases)
    written = _unstack(tmp_path / "case_7.nii", tmp_path / "masks", capsys)
    assert [p.name for p in written] == ["case_7_000.png", "case_7_001.png", "case_7_002.png"]
    for k, path in enumerate(written):
        got = _read(path)
        assert got.dtype == np.uint8 and np.array_equal(got, labels[:, :, k].T)


def test_the_headers_slope_and_intercept_are_applied(tmp_path, capsys):
    raw = np.random.default_rng(2).integers(0, 4000, (5, 6, 2)).astype(np.uint16)
    _save(tmp_path / "shifted.nii.gz", raw, slope=1, inter=-1024)  # CT stored unsigned
    for k, path in enumerate(_unstack(tmp_path / "shifted.nii.gz", tmp_path / "a", capsys)):
        got = tifffile.imread(path)
        assert got.dtype.kind == "i", path.name  # whole numbers stay integers, signed
        assert np.array_equal(got, raw[:, :, k].T.astype(np.int32) - 1024), path.name
    _save(tmp_path / "halves.nii.gz", raw, slope=0.5, inter=0)
    for k, path in enumerate(_unstack(tmp_path / "halves.nii.gz", tmp_path / "b", capsys)):
        got = tifffile.imread(path)
        assert got.dtype == np.float32 and np.array_equal(got, raw[:, :, k].T * 0.5)


def test_a_float_mr_volume_becomes_float_tiffs(tmp_path, capsys):
    mr = np.random.default_rng(3).normal(300, 80, (6, 5, 4)).astype(np.float32)
    _save(tmp_path / "BRATS_001.nii.gz", mr)
    written = _unstack(tmp_path / "BRATS_001.nii.gz", tmp_path / "images", capsys)
    for k, path in enumerate(written):
        got = tifffile.imread(path)
        assert got.dtype == np.float32 and np.array_equal(got, mr[:, :, k].T), path.name


def test_a_4d_volume_of_modalities_becomes_one_multichannel_tiff_per_slice(tmp_path, capsys):
    # MSD Task01: x, y, z, modality (FLAIR, T1w, T1gd, T2w)
    mr = np.random.default_rng(4).integers(0, 3000, (6, 5, 3, 4)).astype(np.int16)
    _save(tmp_path / "BRATS_002.nii.gz", mr)
    written = _unstack(tmp_path / "BRATS_002.nii.gz", tmp_path / "images", capsys)
    assert [p.name for p in written] == [f"BRATS_002_{k:03d}.tif" for k in range(3)]
    for k, path in enumerate(written):
        got = tifffile.imread(path)
        assert got.shape == (5, 6, 4)  # channels last
        assert np.array_equal(got, mr[:, :, k].transpose(1, 0, 2)), path.name
    from unet.common.bands import raw_bands

    got = raw_bands(written[0])  # as the pipeline reads a multi-band image: 4 input channels
    assert got.shape == (5, 6, 4) and np.array_equal(got, mr[:, :, 0].transpose(1, 0, 2))


def test_existing_slices_are_never_overwritten_and_nothing_is_added(tmp_path, capsys):
    _save(tmp_path / "liver_1.nii.gz", _ct((4, 4, 3)))
    (tmp_path / "out").mkdir()
    (tmp_path / "out/liver_1_001.tif").write_bytes(b"mine")
    assert main(["unstack", str(tmp_path / "liver_1.nii.gz"), str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "liver_1_001.tif exists" in err and len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in slices(tmp_path / "out")) == ["liver_1_001.tif"]
    assert (tmp_path / "out/liver_1_001.tif").read_bytes() == b"mine"


def test_volumes_unstacked_at_once_into_one_folder_keep_each_others_scratch(tmp_path, capsys):
    # `ls imagesTr/*.nii.gz | xargs -P 8 -n 1 ...`: one volume's start must not remove the
    # folder another volume is being written into
    _save(tmp_path / "liver_1.nii.gz", _ct((4, 4, 3)))
    other = tmp_path / "out/.unstack-liver_2.0123abcd.part"
    other.mkdir(parents=True)
    (other / "liver_2_000.tif").write_bytes(b"in progress")
    _unstack(tmp_path / "liver_1.nii.gz", tmp_path / "out", capsys)
    assert (other / "liver_2_000.tif").read_bytes() == b"in progress"


def test_a_cut_off_volume_is_named_and_leaves_no_slices(tmp_path, capsys):
    _save(tmp_path / "liver_1.nii.gz", _ct((16, 16, 8)))
    whole = (tmp_path / "liver_1.nii.gz").read_bytes()
    (tmp_path / "liver_1.nii.gz").write_bytes(whole[: len(whole) // 2])
    assert main(["unstack", str(tmp_path / "liver_1.nii.gz"), str(tmp_path / "out")]) == 2
    assert "liver_1.nii.gz" in capsys.readouterr().err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_a_macos_resource_file_beside_the_volumes_is_named_as_such(tmp_path, capsys):
    # MSD's tar files hold ._liver_0.nii.gz beside liver_0.nii.gz: AppleDouble, no volume
    (tmp_path / "._liver_0.nii.gz").write_bytes(b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X")
    assert main(["unstack", str(tmp_path / "._liver_0.nii.gz"), str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "._liver_0.nii.gz" in err and "macOS" in err


def test_without_nibabel_the_error_names_the_extra(tmp_path, capsys, monkeypatch):
    _save(tmp_path / "liver_1.nii.gz", _ct((4, 4, 3)))
    monkeypatch.setitem(sys.modules, "nibabel", None)  # import nibabel raises ImportError
    assert main(["unstack", str(tmp_path / "liver_1.nii.gz"), str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "liver_1.nii.gz" in err and "pip install -e '.[nifti]'" in err


def test_the_readmes_group_by_keeps_each_cases_slices_together(tmp_path, capsys):
    for case in ("liver_3", "liver_10", "liver_10_b"):
        _save(tmp_path / f"{case}.nii.gz", _ct((4, 4, 11)))
        _unstack(tmp_path / f"{case}.nii.gz", tmp_path / "images", capsys)
    pairs = [{"id": p.stem, "image": str(p)} for p in slices(tmp_path / "images")]
    groups = groups_of(pairs, r"^(.+)_\d+$")  # README: split.group_by for unstacked volumes
    assert groups["liver_3_010"] == "liver_3" and groups["liver_10_b_000"] == "liver_10_b"
    assert len(set(groups.values())) == 3


def test_a_folder_of_volumes_is_refused_with_a_loop_into_one_folder(tmp_path, capsys):
    # names carry the case, so the volumes' slices share a folder (not one folder each)
    (tmp_path / "imagesTr").mkdir()
    _save(tmp_path / "imagesTr/liver_1.nii.gz", _ct((4, 4, 3)))
    assert main(["unstack", str(tmp_path / "imagesTr"), str(tmp_path / "images")]) == 2
    err = capsys.readouterr().err
    assert "for f in" in err and "imagesTr/[!.]*.nii*;" in err and "a folder of its own" not in err


def test_volumes_given_as_data_point_to_unstack(tmp_path):
    # imagesTr/ and labelsTr/ as the data set's folders: the refusal said to export slices
    # "with nibabel or SimpleITK", a slicer of the user's own, not the command that does it
    from unet.dataset.layout import DataLayoutError, Layout
    from unet.dataset.pairing import pair_files

    for side in ("images", "masks"):
        (tmp_path / side).mkdir()
        _save(tmp_path / side / "liver_0.nii.gz", _ct((4, 4, 2)))
    loop = r"for f in .*/images/\[!.\]\*\.nii\*; do unet unstack.*\[nifti\]"
    with pytest.raises(DataLayoutError, match=loop):
        pair_files(tmp_path, Layout())


def _header_field(path, offset: int, value: float) -> None:
    """Overwrite one float32 field of an uncompressed .nii's header in place."""
    data = bytearray(path.read_bytes())
    data[offset : offset + 4] = np.float32(value).tobytes()
    path.write_bytes(bytes(data))


def test_a_header_whose_intercept_is_nan_is_named_not_a_traceback(tmp_path, capsys):
    # scl_slope 2 beside scl_inter NaN: nibabel's HeaderDataError passed the reader's except
    # and the command died in a traceback that named no file
    _save(tmp_path / "case_1.nii", np.arange(24, dtype=np.uint8).reshape(2, 3, 4))
    _header_field(tmp_path / "case_1.nii", 112, 2.0)  # scl_slope
    _header_field(tmp_path / "case_1.nii", 116, np.nan)  # scl_inter
    assert main(["unstack", str(tmp_path / "case_1.nii"), str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "case_1.nii" in err and "scl_inter" in err and "cut short" not in err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_an_rgb24_volume_becomes_colour_png_slices(tmp_path, capsys):
    # NIfTI's RGB24 (colour histology, colour-coded maps): a structured (R, G, B) voxel that
    # numpy's min() had no loop for, so the command died in a UFuncTypeError traceback
    rgb = np.random.default_rng(5).integers(0, 256, (6, 5, 2, 3)).astype(np.uint8)
    voxels = np.zeros((6, 5, 2), [("R", "u1"), ("G", "u1"), ("B", "u1")])
    for k, band in enumerate("RGB"):
        voxels[band] = rgb[..., k]
    _save(tmp_path / "slide_1.nii.gz", voxels)
    written = _unstack(tmp_path / "slide_1.nii.gz", tmp_path / "images", capsys)
    assert [p.name for p in written] == ["slide_1_000.png", "slide_1_001.png"]
    for k, path in enumerate(written):
        with Image.open(path) as im:
            assert im.mode == "RGB", path.name
            assert np.array_equal(np.asarray(im), rgb[:, :, k].transpose(1, 0, 2)), path.name


def test_a_float_volume_of_whole_values_beyond_32_bits_stays_float(tmp_path, capsys):
    # whole because float32 holds no fraction up there: the refusal told the user to save as
    # float32 the very float32 volume it refused
    big = np.random.default_rng(6).integers(0, 4, (4, 5, 2)).astype(np.float32) * 2.0**31
    _save(tmp_path / "dose_1.nii.gz", big)
    for k, path in enumerate(_unstack(tmp_path / "dose_1.nii.gz", tmp_path / "out", capsys)):
        got = tifffile.imread(path)
        assert got.dtype == np.float32 and np.array_equal(got, big[:, :, k].T), path.name
