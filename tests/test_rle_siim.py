"""SIIM-ACR Pneumothorax end to end: nested DICOMs with train-rle.csv's relative encodings read
into exact masks, and a submission in SIIM's own form (relative starts, -1 for no object)."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from PIL import Image

from unet.common.labels import MaskMapping
from unet.dataset.download import write_manifest
from unet.dataset.layout import Layout
from unet.dataset.rle_submission import write_submission

pytest.importorskip("pydicom", reason="pip install -e '.[dicom]'")
from tests.test_dicom import write_dicom  # noqa: E402

S = 12  # SIIM's images are square (1024), column-major


def siim_decode(encoding: str) -> np.ndarray:
    """SIIM's own reading (its mask_functions): a position that each start moves on from the
    end of the run before, then the run; the flat mask counts down columns."""
    flat, at = np.zeros(S * S, bool), 0
    numbers = [int(n) for n in encoding.split()]
    for start, length in zip(numbers[::2], numbers[1::2], strict=True):
        at += start
        flat[at:at + length] = True
        at += length
    return flat.reshape(S, S).T


def siim_encode(mask: np.ndarray) -> str:
    """SIIM's writing: gaps before each run (the first from pixel 0) and lengths, down columns."""
    flat = np.concatenate([[0], mask.T.reshape(-1).astype(np.int8), [0]])
    edges = np.flatnonzero(np.diff(flat))
    starts, ends = edges[::2], edges[1::2]
    gaps = starts - np.concatenate([[0], ends[:-1]])
    return " ".join(f"{g} {e - s}" for g, s, e in zip(gaps, starts, ends, strict=True))


def _regions() -> tuple[np.ndarray, np.ndarray]:
    """Two regions, one across columns (several runs), one touching the image's first pixel."""
    a, b = np.zeros((S, S), bool), np.zeros((S, S), bool)
    a[3:7, 4:9] = True
    a[5, 9] = True
    b[0:2, 0:2] = True
    return a, b


RLE = {"csv": "train-rle.csv", "id_column": "ImageId", "rle_column": "EncodedPixels",
       "class_column": None, "order": "columns", "absent": "unpaired", "starts": "relative"}
IDS = ["1.2.276.0.7230010.3.1.4.8323329.5597.1517875188.959090", "1.2.276.0.7230.3.1.9.1"]


def _siim(tmp_path) -> tuple[np.ndarray, np.ndarray]:
    """SIIM's layout: dicom-images-train/<study>/<series>/<ImageId>.dcm, dotted ids, the CSV's
    header ', EncodedPixels', ' -1' for none and a row per region (their union)."""
    a, b = _regions()
    for n, uid in enumerate(IDS):
        folder = tmp_path / "dicom-images-train" / f"1.2.{n}" / f"1.3.{n}"
        folder.mkdir(parents=True)
        write_dicom(folder / f"{uid}.dcm", np.full((S, S), 40 + n, np.uint16))
    (tmp_path / "train-rle.csv").write_text(
        f"ImageId, EncodedPixels\n{IDS[0]}, {siim_encode(a)}\n{IDS[1]}, -1\n"
        f"{IDS[0]}, {siim_encode(b)}\n")
    return a, b


def test_nested_dicoms_and_train_rle_csv_give_the_masks_drawn(tmp_path):
    a, b = _siim(tmp_path)
    ids = IDS
    layout = Layout(images="dicom-images-train", recursive=True, image_extensions=(".dcm",),
                    rle=tuple(sorted(RLE.items())))
    manifest = write_manifest(tmp_path / "out" / "manifest.json", "local", tmp_path, layout)
    masks = {p["id"]: np.asarray(Image.open(p["mask"])) for p in manifest["pairs"]}
    assert sorted(masks) == sorted(ids)
    assert np.array_equal(masks[ids[0]], np.where(a | b, 255, 0))
    assert not masks[ids[1]].any()


@pytest.mark.parametrize("recursive,extensions,keys", [
    (False, (".dcm",), ["dataset.local.recursive: true"]),
    (True, (".png",), ["'.dcm' to dataset.local.image_extensions"]),
    (False, (".png",), ["set dataset.local.recursive: true and add '.dcm' to dataset.local."
                        "image_extensions"]),
])
def test_csv_ids_whose_dicoms_lie_below_or_unread_name_the_keys(tmp_path, recursive, extensions,
                                                                  keys):
    # Without recursive: true (or .dcm in image_extensions) every id was "a CSV id with no
    # image", and the advice, allow_unpaired, skipped them all: the keys that read them are said.
    from unet.dataset.layout import DataLayoutError

    _siim(tmp_path)
    layout = Layout(images="dicom-images-train", recursive=recursive, image_extensions=extensions,
                    rle=tuple(sorted(RLE.items())))
    with pytest.raises(DataLayoutError) as err:
        write_manifest(tmp_path / "out" / "manifest.json", "local", tmp_path, layout)
    assert "2 of these ids are files in dicom-images-train" in str(err.value), str(err.value)
    assert all(k in str(err.value) for k in keys), str(err.value)


@pytest.mark.parametrize("objects", [False, True])
def test_a_submission_in_siims_form_reads_back_as_siim_reads_it(tmp_path, objects):
    # `--rle` wrote absolute starts and an empty cell: SIIM's scorer, counting each start from
    # the run before, read every mask of more than one run as other pixels, and wants '-1'.
    a, b = _regions()
    binary = MaskMapping((0, 255))
    binary.write(tmp_path / "x.png", (a | b).astype(np.uint8))
    binary.write(tmp_path / "y.png", np.zeros((S, S), np.uint8))
    write_submission([("x", tmp_path / "x.png"), ("y", tmp_path / "y.png")], binary,
                     tmp_path / "s.csv", objects=objects, starts="relative", empty="-1")
    with open(tmp_path / "s.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    found = [siim_decode(r["EncodedPixels"]) for r in rows if r["ImageId"] == "x"]
    assert len(found) == (2 if objects else 1)
    assert np.array_equal(np.logical_or.reduce(found), a | b)
    if objects:
        assert sorted(f.sum() for f in found) == sorted([a.sum(), b.sum()])
    assert [r["EncodedPixels"] for r in rows if r["ImageId"] == "y"] == ["-1"]


def test_the_cli_takes_siims_form(tmp_path):
    from unet.cli import parser

    args = parser().parse_args(["predict", "m.pt", "x.dcm", "-o", "out", "--rle", "s.csv",
                                "--rle-starts", "relative", "--rle-empty", "-1"])
    assert (args.rle_starts, args.rle_empty) == ("relative", "-1")


def test_dicoms_in_study_and_series_folders_are_named_by_one_pattern(tmp_path, capsys):
    # SIIM's test set is dicom-images-test/<study>/<series>/<ImageId>.dcm: the pattern
    # '.../**/*.dcm' matched nothing (** was one folder's *), and the folder itself was refused
    # as holding no images, without a word of the DICOMs below it.
    import torch

    from tests.test_cli_folds import tiny_record
    from unet.cli import main

    torch.save(tiny_record(), tmp_path / "model.pt")
    for n in range(2):
        folder = tmp_path / "test" / f"1.2.{n}" / f"1.3.{n}"
        folder.mkdir(parents=True)
        write_dicom(folder / f"1.2.276.{n}.dcm", np.full((S, S), 40 + n, np.uint16))
    out = tmp_path / "out"
    assert main(["predict", str(tmp_path / "model.pt"), str(tmp_path / "test"), "-o",
                 str(out)]) == 2
    err = capsys.readouterr().err
    assert f"'{tmp_path / 'test'}/**/*.dcm'" in err, err
    assert main(["predict", str(tmp_path / "model.pt"), f"{tmp_path / 'test'}/**/*.dcm", "-o",
                 str(out)]) == 0
    assert sorted(p.name for p in out.glob("*.png")) == ["1.2.276.0.png", "1.2.276.1.png"]
