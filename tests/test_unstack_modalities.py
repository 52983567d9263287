"""`unet unstack` of a case kept as one NIfTI volume per modality (BraTS 2021: <case>_flair,
_t1, _t1ce, _t2 and _seg .nii.gz): the modalities joined into one multi-channel TIFF per slice,
named by the case, so that they pair with the seg's slices by stem."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from PIL import Image

from tests.conftest import slices
from unet.cli import main

nib = pytest.importorskip("nibabel", reason="pip install -e '.[nifti]'")

CASE = "BraTS2021_00000"
MODALITIES = ("flair", "t1", "t1ce", "t2")


def _save(path, data: np.ndarray) -> None:
    nib.save(nib.Nifti1Image(data, np.diag([-1.0, -1.0, 1.0, 1.0])), path)


def _case(folder, shape=(6, 5, 3)) -> dict:
    """A BraTS 2021 case folder: float and int16 modalities, a uint8 seg of 0/1/2/4."""
    rng = np.random.default_rng(0)
    folder.mkdir()
    volumes = {}
    for i, name in enumerate(MODALITIES):
        v = rng.normal(400 * (i + 1), 50, shape)
        volumes[name] = v.astype(np.int16) if i % 2 else v.astype(np.float32)
        _save(folder / f"{CASE}_{name}.nii.gz", volumes[name])
    volumes["seg"] = rng.choice(np.array([0, 1, 2, 4], np.uint8), shape)
    _save(folder / f"{CASE}_seg.nii.gz", volumes["seg"])
    return volumes


def _files(folder, names) -> list[str]:
    return [str(folder / f"{CASE}_{n}.nii.gz") for n in names]


def test_a_cases_modalities_become_one_four_channel_tiff_per_slice_paired_with_its_seg(
        tmp_path, capsys):
    volumes = _case(tmp_path / CASE)
    assert main(["unstack", *_files(tmp_path / CASE, MODALITIES), str(tmp_path / "images")]) == 0
    assert main(["unstack", *_files(tmp_path / CASE, ["seg"]), str(tmp_path / "masks"),
                 "--name", CASE]) == 0
    images, masks = slices(tmp_path / "images"), slices(tmp_path / "masks")
    # the case's name, the modalities' common start: BraTS2021_00000_000 beside its seg slice
    assert [p.name for p in images] == [f"{CASE}_{k:03d}.tif" for k in range(3)]
    assert [p.stem for p in masks] == [p.stem for p in images]
    for k, (image, mask) in enumerate(zip(images, masks, strict=True)):
        got = tifffile.imread(image)
        assert got.shape == (5, 6, 4) and got.dtype == np.float32  # channels in the order given
        want = np.stack([volumes[m][:, :, k].T for m in MODALITIES], axis=-1)
        assert np.array_equal(got, want.astype(np.float32)), image.name
        assert np.array_equal(np.asarray(Image.open(mask)), volumes["seg"][:, :, k].T)
    assert "3 slices" in capsys.readouterr().out


def test_modalities_of_different_shapes_are_refused_naming_both_and_write_nothing(
        tmp_path, capsys):
    _case(tmp_path / CASE)
    _save(tmp_path / CASE / f"{CASE}_t2.nii.gz", np.zeros((6, 5, 4), np.int16))
    assert main(["unstack", *_files(tmp_path / CASE, MODALITIES), str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert f"{CASE}_t2.nii.gz" in err and f"{CASE}_flair.nii.gz" in err and "(6, 5, 4)" in err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_volumes_without_a_common_name_need_one(tmp_path, capsys):
    _case(tmp_path / CASE)
    (tmp_path / CASE / f"{CASE}_t1.nii.gz").rename(tmp_path / CASE / "t1.nii.gz")
    files = [_files(tmp_path / CASE, ["flair"])[0], str(tmp_path / CASE / "t1.nii.gz")]
    assert main(["unstack", *files, str(tmp_path / "out")]) == 2
    assert "--name" in capsys.readouterr().err
    assert main(["unstack", *files, str(tmp_path / "out"), "--name", "case_1"]) == 0
    assert sorted(p.name for p in slices(tmp_path / "out"))[0] == "case_1_000.tif"


def test_several_tiff_stacks_are_refused(tmp_path, capsys):
    for name in ("a.tif", "b.tif"):
        tifffile.imwrite(tmp_path / name, np.zeros((2, 4, 4), np.uint8))
    assert main(["unstack", str(tmp_path / "a.tif"), str(tmp_path / "b.tif"),
                 str(tmp_path / "out")]) == 2
    assert "NIfTI" in capsys.readouterr().err


def test_several_cases_given_at_once_are_refused_not_joined_as_channels(tmp_path, capsys):
    # `unet unstack imagesTr/*.nii.gz FOLDER`: the Decathlon's heart cases la_003, la_004 of
    # one shape were joined as two channels of one image named la_00
    files = []
    for case in ("la_003", "la_004", "amos_0001", "amos_0004"):
        _save(tmp_path / f"{case}.nii.gz", np.ones((6, 5, 3), np.float32))
        files.append(str(tmp_path / f"{case}.nii.gz"))
    for pair in (files[:2], files[2:]):  # AMOS's 4-digit cases are no nnU-Net channels
        assert main(["unstack", *pair, str(tmp_path / "out")]) == 2
        err = capsys.readouterr().err
        assert pair[0] in err and pair[1] in err and "one volume a call" in err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    assert main(["unstack", *files[:2], str(tmp_path / "out"), "--name", "la_003"]) == 0


def test_nnunet_channel_files_are_named_by_their_case_and_pair_with_its_label(tmp_path):
    # nnU-Net's raw layout: imagesTr/prostate_00_0000.nii.gz (T2), _0001 (ADC) beside
    # labelsTr/prostate_00.nii.gz; named prostate_00_000_000 they paired with no label slice
    for channel in ("0000", "0001"):
        _save(tmp_path / f"prostate_00_{channel}.nii.gz", np.ones((6, 5, 3), np.float32))
    files = [str(tmp_path / f"prostate_00_{c}.nii.gz") for c in ("0000", "0001")]
    assert main(["unstack", *files, str(tmp_path / "out")]) == 0
    names = sorted(p.name for p in slices(tmp_path / "out"))
    assert names == [f"prostate_00_{k:03d}.tif" for k in range(3)]


@pytest.mark.parametrize("stems, case", [(["c_t1", "c_t2"], "c"),
                                         (["sub-01_T1w", "sub-01_T2w"], "sub-01")])
def test_modalities_whose_names_share_more_than_the_case_are_named_by_the_case(
        tmp_path, stems, case):
    # c_t1 and c_t2 share "c_t", and BIDS' sub-01_T1w, _T2w "sub-01_T": slices named c_t_000
    # paired with none of the seg's c_000
    for stem in stems:
        _save(tmp_path / f"{stem}.nii.gz", np.ones((6, 5, 3), np.float32))
    assert main(["unstack", *[str(tmp_path / f"{s}.nii.gz") for s in stems],
                 str(tmp_path / "out")]) == 0
    assert sorted(p.name for p in slices(tmp_path / "out"))[0] == f"{case}_000.tif"
