"""`unet unstack` of TotalSegmentator's layout, one binary NIfTI volume per structure
(<subject>/segmentations/liver.nii.gz, spleen.nii.gz, ...) beside the CT (<subject>/ct.nii.gz):
the structures given together with --classes channels become one class map per slice."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from tests.conftest import slices
from unet.cli import main

nib = pytest.importorskip("nibabel", reason="pip install -e '.[nifti]'")

STRUCTURES = ("liver", "spleen", "aorta")
SHAPE = (8, 6, 4)  # (x, y, z)
AFFINE = np.array([[-1.5, 0, 0, 10.0], [0, -1.5, 0, 20.0], [0, 0, 3.0, -30.0], [0, 0, 0, 1]])


def _subject(root, name: str = "s0001") -> dict[str, np.ndarray]:
    """A subject folder: an int16 CT and one uint8 0/1 volume per structure, liver and spleen
    overlapping in 2 voxels, the aorta empty (TotalSegmentator writes every structure's file)."""
    seg = root / name / "segmentations"
    seg.mkdir(parents=True)
    ct = np.full(SHAPE, -1024, np.int16)
    nib.save(nib.Nifti1Image(ct, AFFINE), root / name / "ct.nii.gz")
    masks = {s: np.zeros(SHAPE, np.uint8) for s in STRUCTURES}
    masks["liver"][1:4, 1:3, 1:3] = 1
    masks["spleen"][3:6, 2:4, 1:2] = 1  # shares (3, 2, 1) with the liver
    masks["spleen"][3, 1, 1] = 1  # and (3, 1, 1)
    for s, m in masks.items():
        nib.save(nib.Nifti1Image(m, AFFINE), seg / f"{s}.nii.gz")
    return masks


def test_structure_volumes_given_together_become_one_class_map_per_slice(tmp_path, capsys):
    masks = _subject(tmp_path)
    files = [str(tmp_path / "s0001" / "segmentations" / f"{s}.nii.gz") for s in STRUCTURES]
    assert main(["unstack", *files, str(tmp_path / "masks"), "--name", "s0001",
                 "--classes", "channels"]) == 0
    got = slices(tmp_path / "masks")
    assert [p.name for p in got] == [f"s0001_{k:03d}.png" for k in range(SHAPE[2])]
    for k, path in enumerate(got):
        want = np.zeros(SHAPE[:2], np.uint8)
        for c, s in reversed(list(enumerate(STRUCTURES, 1))):  # the first given wins
            want[masks[s][:, :, k] > 0] = c
        page = np.asarray(Image.open(path))
        assert page.dtype == np.uint8 and np.array_equal(page, want.T), path.name
    out = capsys.readouterr().out
    assert "2 pixels in 1 slice" in out and "first such channel's class" in out


def test_structure_volumes_without_classes_are_refused_as_labels_not_joined(tmp_path, capsys):
    _subject(tmp_path)
    files = [str(tmp_path / "s0001" / "segmentations" / f"{s}.nii.gz") for s in STRUCTURES]
    assert main(["unstack", *files, str(tmp_path / "masks"), "--name", "s0001"]) != 0
    err = capsys.readouterr().err
    assert "--classes channels" in err and "liver.nii.gz" in err
    assert not (tmp_path / "masks").exists()


@pytest.mark.parametrize("given", ["root", "subject", "segmentations"])
def test_a_totalsegmentator_folder_gets_the_loop_with_classes_channels(tmp_path, capsys, given):
    for s in ("s0001", "s0002"):
        _subject(tmp_path / "ts", s)
    folder = {"root": tmp_path / "ts", "subject": tmp_path / "ts" / "s0001",
              "segmentations": tmp_path / "ts" / "s0001" / "segmentations"}[given]
    assert main(["unstack", str(folder), str(tmp_path / "out")]) != 0
    err = capsys.readouterr().err
    assert "--classes channels" in err and "ct.nii.gz" in err
    assert "liver.nii.gz" in err and "aorta.nii.gz" in err and '--name "$c"' in err


def test_three_structures_sharing_a_voxel_count_it_once_and_the_first_wins(tmp_path, capsys):
    # read one structure at a time (117 of them joined as channels would not fit in memory):
    # a voxel all three hold is one shared voxel, given the first file's class
    masks = _subject(tmp_path)
    seg = tmp_path / "s0001" / "segmentations"
    masks["aorta"][3, 2, 1] = 1  # the liver's and the spleen's shared voxel, a third time
    nib.save(nib.Nifti1Image(masks["aorta"], AFFINE), seg / "aorta.nii.gz")
    files = [str(seg / f"{s}.nii.gz") for s in ("aorta", "liver", "spleen")]
    assert main(["unstack", *files, str(tmp_path / "masks"), "--name", "s0001",
                 "--classes", "channels"]) == 0
    page = np.asarray(Image.open(slices(tmp_path / "masks")[1]))
    assert page[2, 3] == 1 and page[1, 3] == 2 and page[2, 4] == 3  # (y, x): transposed
    assert "2 pixels in 1 slice" in capsys.readouterr().out


def test_the_advised_loop_runs_on_a_folder_with_a_space(tmp_path, capsys):
    from tests.test_volume_label_loops import _run

    root = tmp_path / "Total Seg"
    for s in ("s0001", "s0002"):
        _subject(root, s)
    assert main(["unstack", str(root), str(tmp_path / "ts out/images")]) != 0
    err = capsys.readouterr().err
    _run(err[err.index("for d in "):].strip(), tmp_path)
    images = sorted(p.stem for p in (tmp_path / "ts out/images").glob("s0*"))  # int16 CT: .tif
    masks = sorted(p.stem for p in (tmp_path / "ts out/masks").glob("*.png"))
    assert len(images) == 2 * SHAPE[2] and masks == images, (images, masks)


@pytest.mark.parametrize("given", ["vols", "."])
def test_cases_beside_a_labels_folder_are_not_taken_for_a_subject(tmp_path, capsys, given):
    # vols/case1.nii.gz, case2.nii.gz and vols/labels/case1.nii.gz, case2.nii.gz: the cases'
    # labels, not one subject's structures (was advised to join case1's and case2's labels)
    for sub in ("vols", "vols/labels"):
        (tmp_path / sub).mkdir(parents=True, exist_ok=True)
        for case in ("case1", "case2"):
            nib.save(nib.Nifti1Image(np.zeros(SHAPE, np.int16), AFFINE),
                     tmp_path / sub / f"{case}.nii.gz")
    assert main(["unstack", str(tmp_path / given), str(tmp_path / "out/images")]) != 0
    err = capsys.readouterr().err
    assert "structure volumes" not in err and "--classes channels" not in err, err


def test_the_readme_s_meta_csv_line_lists_the_test_subjects(tmp_path):
    # TotalSegmentator's meta.csv: image_id;age;gender;institute;study_type;split;...: the
    # README's awk read column 2 (age), so test.txt came out empty
    import subprocess

    from tests.conftest import REPO

    line = next(t for t in (REPO / "README.md").read_text().splitlines()
                if "totalseg/meta.csv" in t and t.startswith("awk"))
    (tmp_path / "totalseg").mkdir()
    (tmp_path / "totalseg/meta.csv").write_text(
        "\ufeffimage_id;age;gender;institute;study_type;split;manufacturer\n"
        "s0001;61;m;A;ct abdomen;train;x\ns0002;54;f;B;ct thorax;test;y\n", encoding="utf-8")
    subprocess.run(["bash", "-c", line], cwd=tmp_path, check=True)
    assert (tmp_path / "test.txt").read_text().split() == ["s0002"]


@pytest.mark.parametrize("flag", [["--key", "X"], ["--axis", "1"], ["--instance-classes", "c"]])
def test_an_array_file_s_flag_with_structure_volumes_is_refused_not_dropped(tmp_path, capsys,
                                                                              flag):
    _subject(tmp_path)
    files = [str(tmp_path / "s0001" / "segmentations" / f"{s}.nii.gz") for s in STRUCTURES]
    assert main(["unstack", *files, str(tmp_path / "masks"), "--name", "s0001",
                 "--classes", "channels", *flag]) != 0
    assert f"{flag[0]} is for an array file" in capsys.readouterr().err
    assert not (tmp_path / "masks").exists()
