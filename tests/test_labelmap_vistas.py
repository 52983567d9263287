"""masks.labelmap: Mapillary Vistas' config_v2.0.json (a "labels" list whose index is the class
id its palette label PNGs hold) names the classes, so 124 of them need not be typed by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from unet.config.experiments import ConfigError

LABELS = [
    {"name": "construction--flat--road", "readable": "Road", "color": [128, 64, 128],
     "instances": False, "evaluate": True},
    {"name": "nature--sky", "readable": "Sky", "color": [70, 130, 180], "instances": False,
     "evaluate": True},
    {"name": "void--ground", "readable": "Ground", "color": [110, 110, 110],
     "instances": False, "evaluate": False},
    {"name": "object--vehicle--car", "readable": "Car", "color": [0, 0, 142],
     "instances": True, "evaluate": True},
    {"name": "void--unlabeled", "readable": "Unlabeled", "color": [0, 0, 0],
     "instances": False, "evaluate": False},
]


def _filled(config: dict, folder: Path, labels: list, **masks: object) -> dict:
    from unet.config.labelmap import fill_labelmap

    (folder / "config_v2.0.json").write_text(json.dumps({"labels": labels, "version": "2.0"}))
    config["dataset"].update(source="local", local={**config["dataset"]["local"],
                                                    "path": str(folder)})
    config["masks"].update(labelmap="config_v2.0.json", background=False, **masks)
    fill_labelmap(config)
    return config["masks"]


def test_vistas_config_gives_the_evaluated_ids_and_readable_names(config, tmp_path):
    masks = _filled(config, tmp_path, LABELS, unlisted="ignore")
    assert masks["values"] == [0, 1, 3]  # the list's index is the id; void ids 2, 4 unlisted
    assert masks["names"] == ["Road", "Sky", "Car"]
    assert masks.get("colors") is None  # the labels are palette ids, not RGB


def test_classes_not_evaluated_need_their_pixels_skipped(config, tmp_path):
    # left as unlisted: error, every mask holding void--unlabeled would be refused at preprocess
    with pytest.raises(ConfigError, match=r"config_v2.0.json.*void--unlabeled.*"
                                          r"masks.unlisted: ignore"):
        _filled(config, tmp_path, LABELS)


def test_one_class_not_evaluated_may_be_masks_ignore(config, tmp_path):
    masks = _filled(config, tmp_path, LABELS[:2] + LABELS[3:], ignore=3)
    assert masks["values"] == [0, 1, 2] and masks["names"] == ["Road", "Sky", "Car"]


def test_readable_names_listed_twice_fall_back_to_the_ids_name(config, tmp_path):
    labels = [dict(LABELS[0]), dict(LABELS[1]), {**LABELS[3], "readable": "Road"}]
    masks = _filled(config, tmp_path, labels)
    assert masks["names"] == ["construction--flat--road", "Sky", "object--vehicle--car"]


@pytest.mark.parametrize("bad, says", [({"readable": "Road"}, "name"),
                                       ({"name": "road", "evaluate": "yes"}, "evaluate")])
def test_a_malformed_label_is_refused_by_index(config, tmp_path, bad, says):
    with pytest.raises(ConfigError, match=rf"config_v2.0.json.*label 1.*{says}"):
        _filled(config, tmp_path, [LABELS[0], bad, LABELS[3]])


def test_background_left_true_is_refused_as_id_0_is_a_class(config, tmp_path):
    # Vistas' id 0 is animal--bird: with masks.background true (the default) it went unscored
    from unet.config.labelmap import fill_labelmap

    (tmp_path / "config_v2.0.json").write_text(json.dumps({"labels": LABELS}))
    config["dataset"].update(source="local", local={**config["dataset"]["local"],
                                                    "path": str(tmp_path)})
    config["masks"].update(labelmap="config_v2.0.json", unlisted="ignore")
    with pytest.raises(ConfigError, match=r"config_v2.0.json.*'Road' \(0\).*"
                                          r"masks.background: false"):
        fill_labelmap(config)


def test_the_config_is_read_once_by_its_own_checks(config, tmp_path, monkeypatch):
    # read_labelmap reads it for the classes, check_vistas once for the background and the
    # labels not evaluated: its first version read the file again for the second check
    from unet.config import labelmap_vistas

    reads, entries, read_text = [], [], Path.read_text
    monkeypatch.setattr(Path, "read_text", lambda self, *a, **k: (
        reads.append(self.name), read_text(self, *a, **k))[1])
    entry = labelmap_vistas._entry
    monkeypatch.setattr(labelmap_vistas, "_entry", lambda *a: (entries.append(a[1]), entry(*a))[1])
    masks = _filled(config, tmp_path, LABELS, unlisted="ignore")
    assert masks["values"] == [0, 1, 3]
    assert reads.count("config_v2.0.json") == 2  # the labelmap's read, the check's
    assert len(entries) == 2 * len(LABELS)  # each label's entry once per read
