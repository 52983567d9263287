"""masks.labelmap: a Medical Segmentation Decathlon (or nnU-Net) dataset.json names the classes
by its "labels", in value order, so that they need not be typed into masks.names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from unet.config.experiments import ConfigError

MSD = {"name": "Prostate", "modality": {"0": "T2", "1": "ADC"},
       "labels": {"0": "background", "2": "TZ", "1": "PZ"}, "numTraining": 32}
NNUNET = {"channel_names": {"0": "T2", "1": "ADC"},
          "labels": {"background": 0, "PZ": 1, "TZ": 2}, "file_ending": ".nii.gz"}


def _filled(config: dict, folder: Path, data: dict) -> dict:
    from unet.config.labelmap import fill_labelmap

    (folder / "dataset.json").write_text(json.dumps(data))
    config["dataset"].update(source="local", local={**config["dataset"]["local"],
                                                    "path": str(folder)})
    config["masks"]["labelmap"] = "dataset.json"
    fill_labelmap(config)
    return config["masks"]


@pytest.mark.parametrize("data", [MSD, NNUNET], ids=["decathlon", "nnunet"])
def test_a_dataset_json_gives_values_and_names_in_value_order(config, tmp_path, data):
    masks = _filled(config, tmp_path, data)
    assert masks["values"] == [0, 1, 2]
    assert masks["names"] == ["background", "PZ", "TZ"]


@pytest.mark.parametrize("labels, says", [
    ({"background": 0, "whole tumor": [1, 2, 3], "enhancing": 3}, "evaluate.regions"),
    ({"0": "background", "one": "PZ"}, "'one'"),
])
def test_labels_it_cannot_read_as_classes_are_refused_by_name(config, tmp_path, labels, says):
    with pytest.raises(ConfigError, match="dataset.json") as err:
        _filled(config, tmp_path, {"labels": labels})
    assert says in str(err.value)


def test_a_json_without_labels_is_refused_by_name(config, tmp_path):
    with pytest.raises(ConfigError, match=r"dataset.json.*\"labels\""):
        _filled(config, tmp_path, {"name": "Prostate"})


def test_nnunets_ignore_label_is_no_class_to_learn(config, tmp_path):
    # nnU-Net v2's reserved "ignore" label (sparse annotation: pixels left unlabelled) became a
    # fourth class the model learnt to paint and the metrics scored
    data = {**NNUNET, "labels": {"background": 0, "PZ": 1, "TZ": 2, "ignore": 3}}
    with pytest.raises(ConfigError, match="masks.ignore: 3"):
        _filled(config, tmp_path, data)
    config["masks"]["ignore"] = 3
    masks = _filled(config, tmp_path, data)
    assert masks["values"] == [0, 1, 2] and masks["names"] == ["background", "PZ", "TZ"]
