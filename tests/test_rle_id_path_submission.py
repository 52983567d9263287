"""`unet predict --rle --rle-id-path`: UW-Madison GI Tract's submission, `id,class,predicted`
with ids made of each slice's path (case123_day20_slice_0001) and classes by name."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import torch
from PIL import Image

from unet.cli import main
from unet.common.labels import MaskMapping
from unet.dataset.rle import decode
from unet.model import checkpoint
from unet.model.build import build_model
from unet.model.unet import UNetConfig

NAMES = ["background", "large_bowel", "small_bowel", "stomach"]
ID_PATH = r"(case\d+_day\d+)/scans/(slice_\d+)"


def _model(path, names: list | None = NAMES) -> None:
    """A grey 4-class model of random weights, as trained on UW-Madison's CSV."""
    torch.manual_seed(0)
    cfg = UNetConfig(in_channels=1, num_classes=4, depth=1, base_width=4)
    meta = {"class_values": [0, 1, 2, 3], "size": [16, 16], "in_channels": 1,
            "num_classes": 4, "mask_bits": 8, "mode": "resize", "class_names": names}
    checkpoint.save(path, checkpoint.model_record(
        cfg.to_dict(), build_model(cfg, pretrained=False).state_dict(), meta, {}, 1, None,
        [0.25] * 4, ""))


def _slices(root) -> list[str]:
    """Two cases' slices whose file stems repeat (slice_0001_...), as in UW-Madison's test/."""
    rng = np.random.default_rng(0)
    rels = []
    for case, day, size in (("case7", 0, (20, 18)), ("case123", 20, (24, 24))):
        scans = root / case / f"{case}_day{day}" / "scans"
        scans.mkdir(parents=True)
        for s in (1, 2):
            name = f"slice_{s:04d}_{size[0]}_{size[1]}_1.50_1.50.png"
            img = rng.integers(0, 4000, size[::-1]).astype(np.uint16)
            Image.fromarray(img).save(scans / name)
            rels.append(f"{case}/{case}_day{day}/scans/{name}")
    return rels


def _predict(tmp_path, *flags: str, recursive: bool = True) -> int:
    return main(["predict", str(tmp_path / "model.pt"), str(tmp_path / "test"),
                 *["--recursive"] * recursive, "-o", str(tmp_path / "out"), "--device", "cpu",
                 "--rle", str(tmp_path / "sub.csv"), *flags])


def test_uw_madison_submission_has_path_ids_class_names_and_decodes_to_the_masks(tmp_path):
    """--rle-id stem wrote case7_day0/scans/slice_0001_20_18_1.50_1.50 and the class's value
    (1), and no form gave case7_day0_slice_0001, large_bowel: every row was unscorable. Now a
    row per slice and class, each decoding (along rows) to that class's pixels of its mask."""
    _model(tmp_path / "model.pt")
    rels = _slices(tmp_path / "test")
    assert _predict(tmp_path, "--rle-columns", "id,class,predicted", "--rle-order", "rows",
                    "--rle-id-path", ID_PATH, "--rle-class", "name", "--rle-empty", "") == 0
    with open(tmp_path / "sub.csv", newline="") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == ["id", "class", "predicted"]
        rows = {(r["id"], r["class"]): r["predicted"] for r in reader}
    ids = ["case7_day0_slice_0001", "case7_day0_slice_0002", "case123_day20_slice_0001",
           "case123_day20_slice_0002"]
    assert set(rows) == {(i, c) for i in ids for c in NAMES[1:]}, sorted(rows)
    assert sum(bool(e) for e in rows.values()) > 1  # some classes predicted: a real check
    mapping = MaskMapping((0, 1, 2, 3))
    for rel in rels:
        parts = rel.split("/")  # case7, case7_day0, scans, slice_0001_20_18_1.50_1.50.png
        pid = f"{parts[1]}_{parts[3][:len('slice_0001')]}"
        mask_png = tmp_path / "out" / rel
        index = mapping.read_index(mask_png, "mask")
        for k, name in enumerate(NAMES[1:], start=1):
            got = decode(rows[(pid, name)], index.shape[::-1], "rows")
            assert np.array_equal(got, index == k), (rel, name)


def test_an_id_path_missing_a_slice_is_refused_before_predicting(tmp_path, capsys):
    """A regex that misses a path would have left slices out of the submission; it is refused
    by name before any mask is written. --recursive was given: the advice said to give it."""
    _model(tmp_path / "model.pt")
    _slices(tmp_path / "test")
    (tmp_path / "test" / "case7" / "case7_day0" / "scans" / "notes.png").write_bytes(
        (tmp_path / "test" / "case7" / "case7_day0" / "scans"
         / "slice_0001_20_18_1.50_1.50.png").read_bytes())
    assert _predict(tmp_path, "--rle-id-path", ID_PATH) == 2
    err = capsys.readouterr().err
    assert "--rle-id-path" in err and "notes.png" in err and "'/'" in err, err
    assert "give --recursive" not in err, err  # it was given: the regex is what to widen
    assert not (tmp_path / "out").exists() and not (tmp_path / "sub.csv").exists()


def test_an_id_path_missing_paths_without_recursive_says_to_give_it(tmp_path, capsys):
    """Without --recursive the ids are bare names (slice_0001_...png): the advice is to give
    --recursive so that the folders the regex names are kept."""
    _model(tmp_path / "model.pt")
    _slices(tmp_path / "test")
    scans = tmp_path / "test" / "case7" / "case7_day0" / "scans"
    for f in scans.iterdir():
        f.rename(tmp_path / "test" / f.name)
    assert _predict(tmp_path, "--rle-id-path", ID_PATH, recursive=False) == 2
    err = capsys.readouterr().err
    assert "--rle-id-path" in err and "give --recursive" in err, err


@pytest.mark.parametrize("flags, says", [
    (["--rle-id", "stem", "--rle-id-path", ID_PATH], "give one"),
    (["--rle-id-path", "case"], "has no group"),
    (["--rle-id-path", r"(slice_\d+)"], "one id 'slice_0001'"),
])
def test_conflicting_or_unusable_id_paths_are_refused(tmp_path, capsys, flags, says):
    _model(tmp_path / "model.pt")
    _slices(tmp_path / "test")
    assert _predict(tmp_path, *flags) == 2
    assert says in capsys.readouterr().err


def test_rle_class_name_for_a_model_without_names_is_refused(tmp_path, capsys):
    _model(tmp_path / "model.pt", names=None)
    _slices(tmp_path / "test")
    assert _predict(tmp_path, "--rle-class", "name") == 2
    assert "records no class names" in capsys.readouterr().err
