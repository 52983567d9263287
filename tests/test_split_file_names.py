"""A data set's own split lists of file names (Sen1Floods11's flood_test_data.csv: a row per
pair, `<id>_S1Hand.tif,<id>_LabelHand.tif`, no header) name their pairs' ids; before, each row
was taken for an id and refused as naming none, so the list had to be rewritten."""

from __future__ import annotations

import pytest

from unet.common.fileio import write_json
from unet.dataset.split import SplitError, split_dataset

COUNTRIES = ("Bolivia", "Ghana", "India", "Spain")
SETTINGS = {"seed": 0, "folds": 0, "val_fraction": 0.2, "test_fraction": 0.2}


def _manifest(tmp_path, same_name: bool = False):
    """Three pairs a country, S1Hand/<id>_S1Hand.tif beside LabelHand/<id>_LabelHand.tif (with
    `same_name`, every pair's mask file is `label.tif`, each in a folder of its own)."""
    pairs = []
    for c in COUNTRIES:
        for k in range(3):
            i = f"{c}_{k}"
            mask = f"/d/{i}/label.tif" if same_name else f"/d/LabelHand/{i}_LabelHand.tif"
            pairs.append({"id": i, "image": f"/d/S1Hand/{i}_S1Hand.tif", "mask": mask})
    write_json(tmp_path / "manifest.json", {"source": "local", "root": "/d", "pairs": pairs})
    return tmp_path / "manifest.json"


def _csv(path, ids):
    path.write_text("".join(f"{i}_S1Hand.tif,{i}_LabelHand.tif\n" for i in ids))
    return str(path)


def test_a_csv_of_image_and_label_file_names_names_its_pairs(tmp_path):
    test = _csv(tmp_path / "flood_test_data.csv", [f"Bolivia_{k}" for k in range(3)])
    val = _csv(tmp_path / "flood_valid_data.csv", [f"Ghana_{k}" for k in range(3)])
    split = split_dataset(_manifest(tmp_path), tmp_path / "split.json",
                          {**SETTINGS, "test_ids": test, "val_ids": val})
    assert split["test"] == ["Bolivia_0", "Bolivia_1", "Bolivia_2"]
    assert split["val"] == ["Ghana_0", "Ghana_1", "Ghana_2"]
    assert not {i for i in split["train"] if i.startswith(("Bolivia", "Ghana"))}


def test_a_list_of_label_file_names_or_paths_names_its_pairs(tmp_path):
    split = split_dataset(_manifest(tmp_path), tmp_path / "split.json",
                          {**SETTINGS, "test_ids": ["India_0_LabelHand.tif",
                                                    "S1Hand/India_1_S1Hand.tif", "India_2"],
                           "exclude_ids": ["Spain_*"]})
    assert split["test"] == ["India_0", "India_1", "India_2"]
    assert not [i for p in ("train", "val") for i in split[p] if i.startswith("Spain")]


def test_a_file_name_two_pairs_share_names_no_pair(tmp_path):
    # label.tif is every pair's mask: it cannot say which pair a row means
    with pytest.raises(SplitError, match=r"split.test_ids entry 'label.tif' names no id"):
        split_dataset(_manifest(tmp_path, same_name=True), tmp_path / "split.json",
                      {**SETTINGS, "test_ids": ["label.tif"]})


def test_a_path_tells_apart_pairs_sharing_a_file_name(tmp_path):
    # label.tif in each pair's folder (01/t000.tif beside 02/t000.tif alike): the path's
    # folders name one pair, where its name alone names none
    split = split_dataset(_manifest(tmp_path, same_name=True), tmp_path / "split.json",
                          {**SETTINGS, "test_ids": ["Ghana_1/label.tif", "./India_2/label.tif"]})
    assert split["test"] == ["Ghana_1", "India_2"]
