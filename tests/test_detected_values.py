"""masks.values listed as the values detection found: the cache is the same, so nothing reruns
(unet.cache.detected); a list that makes another cache still reruns it."""

from __future__ import annotations

import shutil

import pytest

from tests.conftest import TINY, snakemake, write_inputs, write_pair
from tests.test_rerun import planned
from unet.cache.detected import tracked_masks
from unet.cache.preprocess import preprocess
from unet.cache.settings import settings_from_config
from unet.common.fileio import read_json

SIZE = {"mode": "resize", "width": 20, "height": 16, "scale": 1.0}
MASKS = {"values": None, "colors": None, "threshold": None, "ignore": None, "unlisted": "error",
         "background": True, "max_values": 16, "names": None}


def _cache(root, values, tracked_as_null):
    """meta.json of 4 pairs of 0/255 masks cached under masks.values `values`."""
    if not (root / "manifest.json").is_file():
        write_inputs(root, [write_pair(root, i) for i in range(4)])
    out = root / f"cache_{values}_{tracked_as_null}"
    settings = settings_from_config(SIZE, {**MASKS, "values": values})
    preprocess(root / "manifest.json", root / "split.json", out, settings, 1, tracked_as_null)
    return out / "meta.json"


@pytest.mark.parametrize(("values", "tracked_as_null", "detected"), [
    (None, False, True),  # detection's own
    ([0, 255], True, True),  # checked: detection gives the same mapping
    ([0, 255], False, False),  # tracked as given: a later null must rerun, as it always did
    ([255, 0], True, False),  # another class order
    ([0, 128, 255], True, False),  # a class the masks never hold
])
def test_meta_says_whether_detection_gives_the_mapping(tmp_path, values, tracked_as_null,
                                                       detected):
    meta = _cache(tmp_path, values, tracked_as_null)
    assert read_json(meta)["values_detected"] is detected


def test_listed_values_track_as_null_only_where_the_cache_holds_them(tmp_path):
    meta = _cache(tmp_path, None, True)  # as the rule tracks null
    masks = {**MASKS, "values": [0, 255]}
    assert tracked_masks(masks, meta)["values"] is None
    assert tracked_masks({**masks, "values": [255, 0]}, meta)["values"] == [255, 0]
    assert tracked_masks({**masks, "threshold": 127}, meta)["values"] == [0, 255]
    assert tracked_masks(masks, tmp_path / "absent.json")["values"] == [0, 255]  # first run
    explicit = _cache(tmp_path, [0, 255], False)  # made under the list: a null reruns
    assert tracked_masks(masks, explicit)["values"] == [0, 255]


@pytest.mark.workflow
def test_listed_values_stay_settled_after_another_change(tiny_run, tmp_path):
    # Listed values tracked as null, then preprocess.width changed: the cache is remade under
    # the list, and the run after must still find nothing to do (not retrain a second time).
    wd = tmp_path / "wf"
    shutil.copytree(tiny_run, wd, symlinks=True)
    change = "masks: {values: [0, 255]}\npreprocess: {width: 40}\n"
    (wd / "change.yaml").write_text(change)
    snakemake(wd, "--cores", "2", "--resources", "gpu=1", "--configfile", TINY, "change.yaml")
    assert read_json(wd / "results/synthetic/cache/meta.json")["values_detected"] is True
    assert planned(wd, change) == set()
    assert planned(wd, "preprocess: {width: 40}\n") == set()  # and back to null: the same


def test_a_list_tracked_as_null_stays_settled_and_null_reruns_after_the_data_change(tmp_path):
    # null, then the detected [0, 128, 255] listed (tracked as null), then the 128 masks go: the
    # cache is remade under the list. The list must stay settled (not retrain a second time) and
    # null, which now detects [0, 255], must rerun (the cache holds a class for 128).
    listed = {**MASKS, "values": [0, 128, 255]}
    write_inputs(tmp_path, [write_pair(tmp_path, i, values=(0, 128, 255)) for i in range(4)])

    def run(masks: dict, meta) -> object:
        """Preprocess as the rule does; returns the masks.values Snakemake records."""
        recorded = tracked_masks(masks, meta)["values"]
        preprocess(tmp_path / "manifest.json", tmp_path / "split.json", meta.parent,
                   settings_from_config(SIZE, masks), 1, recorded is None)
        return recorded

    meta = tmp_path / "cache" / "meta.json"
    recorded = run(MASKS, meta)
    assert tracked_masks(listed, meta)["values"] == recorded  # null: nothing to rerun
    write_inputs(tmp_path, [write_pair(tmp_path, i, values=(0, 255)) for i in range(4)])
    recorded = run(listed, meta)  # the new masks rerun preprocess, under the list
    assert read_json(meta)["class_values"] == [0, 128, 255]
    assert tracked_masks(listed, meta)["values"] == recorded  # settled
    assert tracked_masks(MASKS, meta)["values"] != recorded  # null is another cache now
    recorded = run(MASKS, meta)
    assert read_json(meta)["class_values"] == [0, 255]
    assert tracked_masks(MASKS, meta)["values"] == recorded  # and settled again
    assert tracked_masks(listed, meta)["values"] != recorded  # the list is no longer the same
