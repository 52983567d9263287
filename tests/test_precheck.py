"""The DAG build's check of a changed local folder (dataset.precheck): what download_dataset
would refuse after Snakemake deleted the last good manifest is refused first, nothing lost."""

from __future__ import annotations

import pytest

from tests.test_band_files import SETTINGS as BAND_SETTINGS
from tests.test_band_files import _cloud
from tests.test_roi import SETTINGS, _drive
from unet.dataset.download import download_dataset
from unet.dataset.layout import DataLayoutError
from unet.dataset.precheck import DIGEST, check_changed_pairs


def _downloaded(tmp_path, make, settings: dict):
    """A local data set made by `make`, its manifest written as the last good run left it."""
    data = tmp_path / "data"
    make(data)
    settings = {**settings, "path": str(data)}
    manifest = tmp_path / "out" / "manifest.json"
    download_dataset(manifest, "local", settings, data_digest="before")
    return data, settings, manifest


def test_an_image_added_without_its_roi_stops_the_dag_build(tmp_path):
    # DRIVE's layout: an image and its mask added without the field-of-view file passed the
    # DAG build and failed in download_dataset, after Snakemake had deleted the manifest; the
    # ROI file put back then reran the split, cache and training on the same data.
    data, settings, manifest = _downloaded(tmp_path, _drive, SETTINGS)
    assert (manifest.parent / DIGEST).read_text() == "before"
    (data / "fov/23_training_mask.gif").unlink()
    with pytest.raises(DataLayoutError, match=r"23_training_mask\.gif.*dataset\.local\.roi"):
        check_changed_pairs(manifest, "after", "local", settings)
    check_changed_pairs(manifest, "after", "local", {**settings, "allow_unpaired": True})
    assert manifest.is_file()


def test_an_image_added_without_a_band_file_stops_the_dag_build(tmp_path):
    # 38-Cloud's layout, a file per band: a near-infrared file missing failed the job alike
    data, settings, manifest = _downloaded(tmp_path, _cloud, BAND_SETTINGS)
    (data / "train_nir/nir_patch_3.TIF").unlink()
    with pytest.raises(DataLayoutError, match=r"nir_patch_3\.TIF"):
        check_changed_pairs(manifest, "after", "local", settings)


def _via(data):
    from tests.test_via import _entry, _poly, _save

    _save(data, _entry("a.png", [_poly([0, 9, 9], [0, 0, 9], **{"class": "leaf"})]))


VIA = {"images": "imgs", "via": {"json": "via.json", "attribute": "class"}}


def test_a_broken_via_json_stops_the_dag_build(tmp_path):
    # one JSON for all the images: read at planning (a bad region, a missing attribute, an
    # entry whose image is gone failed download_dataset after the manifest was deleted)
    data, settings, manifest = _downloaded(tmp_path, _via, VIA)
    text = (data / "via.json").read_text()
    (data / "via.json").write_text(text.replace('"all_points_y": [0, 0, 9]', '"all_points_y": 1'))
    with pytest.raises(DataLayoutError, match=r"via\.json: a\.png region 0"):
        check_changed_pairs(manifest, "after", "local", settings)
    (data / "via.json").write_text(text[:-3])  # cut short by a copy
    with pytest.raises(DataLayoutError, match=r"via\.json"):
        check_changed_pairs(manifest, "after", "local", settings)
    assert manifest.is_file()


def _yolo(data):
    from tests.test_yolo import _image, _labels

    _image(data, "a")
    (data / "data.yaml").write_text("names: ['road']\n")
    _labels(data, "a", "0 0 0 1 0 1 0.5\n")


YOLO = {"images": "images/train", "yolo": {"labels": "labels/train/{id}.txt",
                                           "names": "data.yaml"}}


def test_a_broken_yolo_data_yaml_or_a_labels_folder_gone_stops_the_dag_build(tmp_path):
    # a .txt per image is not read at planning (10,000 files); its data.yaml and folder are
    data, settings, manifest = _downloaded(tmp_path, _yolo, YOLO)
    (data / "data.yaml").write_text("names: ['road'\n")
    with pytest.raises(DataLayoutError, match=r"data\.yaml is not YAML"):
        check_changed_pairs(manifest, "after", "local", settings)
    (data / "data.yaml").write_text("names: ['road']\n")
    (data / "labels").rename(data / "labels_old")
    with pytest.raises(DataLayoutError, match=r"yolo\.labels.*no folder .*labels/train"):
        check_changed_pairs(manifest, "after", "local", settings)
    assert manifest.is_file()
