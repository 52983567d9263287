"""Train keys added after results existed (val_every, border_weight) are no param at their
no-op values: the tiny run's model.pt, made before either key, was retrained after the upgrade
because train_unet's params gained `val_every: 1` and `border_weight: {objects: null, ...}`,
though neither changes a weight. Set to what changes training, they are params again."""

from __future__ import annotations

from unet.common.applicable import applicable, tracked
from unet.common.schema import defaults


def _train(**over) -> dict:
    return tracked("train", applicable("train", {**defaults("train"), **over}))


def test_no_op_values_are_no_param():
    params = _train()
    assert "val_every" not in params and "border_weight" not in params


def test_values_that_change_training_are_params():
    params = _train(val_every=2, border_weight={"w0": 10, "sigma": 5, "objects": 0})
    assert params["val_every"] == 2
    assert params["border_weight"] == {"w0": 10, "sigma": 5, "objects": 0}


def test_voxel_spacing_is_no_evaluate_param_until_set():
    # evaluate.voxel_spacing: null (cases are no volumes) must not rerun existing evaluations
    assert "voxel_spacing" not in applicable("evaluate", defaults("evaluate"))
    assert "regions" not in applicable("evaluate", defaults("evaluate"))
    got = applicable("evaluate", {**defaults("evaluate"), "voxel_spacing": [5.0, 0.7, 0.7]})
    assert got["voxel_spacing"] == [5.0, 0.7, 0.7]


def test_objects_is_no_evaluate_param_until_set():
    # evaluate.objects: false (pixel scores only) must not rerun existing evaluations
    assert "objects" not in applicable("evaluate", defaults("evaluate"))
    assert applicable("evaluate", {**defaults("evaluate"), "objects": True})["objects"] is True


def test_ground_truth_is_no_evaluate_param_until_set():
    # evaluate.ground_truth: null (the data set's own masks) must not rerun existing evaluations
    assert "ground_truth" not in applicable("evaluate", defaults("evaluate"))
    eroded = {"masks": "gts_eroded_for_participants", "suffix": "_noBoundary"}
    got = applicable("evaluate", {**defaults("evaluate"), "ground_truth": eroded})
    assert got["ground_truth"] == eroded


def test_ground_truth_prefix_is_no_evaluate_param_until_set():
    # validation fills in prefix: "" (the schema's default): an eroded truth set before the key
    # existed must keep its params, while a CTC gold truth's man_seg prefix is one
    eroded = {"masks": "gts_eroded_for_participants", "suffix": "_noBoundary", "ignore": None}
    got = applicable("evaluate", {**defaults("evaluate"), "ground_truth": {**eroded, "prefix": ""}})
    assert got["ground_truth"] == eroded
    gold = {"masks": "{group}_GT/SEG", "prefix": "man_seg"}
    assert applicable("evaluate", {**defaults("evaluate"), "ground_truth": gold})[
        "ground_truth"] == gold


def test_pr_curve_is_no_evaluate_param_until_set():
    # evaluate.pr_curve: false (argmax scores only) must not rerun existing evaluations
    assert "pr_curve" not in applicable("evaluate", defaults("evaluate"))
    assert applicable("evaluate", {**defaults("evaluate"), "pr_curve": True})["pr_curve"] is True


def test_relaxed_slack_is_no_evaluate_param_until_set():
    # evaluate.relaxed_slack: null (no relaxed precision) must not rerun existing evaluations;
    # 0 (the plain pixel shares) is set, and a param
    assert "relaxed_slack" not in applicable("evaluate", defaults("evaluate"))
    for slack in (0, 3):
        assert applicable("evaluate", {**defaults("evaluate"), "relaxed_slack": slack})[
            "relaxed_slack"] == slack


def test_iou_threshold_is_no_evaluate_param_until_set():
    # evaluate.iou_threshold: null (no thresholded Jaccard) must not rerun existing evaluations
    assert "iou_threshold" not in applicable("evaluate", defaults("evaluate"))
    assert applicable("evaluate", {**defaults("evaluate"), "iou_threshold": 0.65})[
        "iou_threshold"] == 0.65


def test_rle_id_path_is_no_download_param_until_set():
    # dataset.local.rle.id_path: '' (ids are file names) must not make existing data sets again
    from unet.dataset.rle_ids import without_unset_id_path

    local = {"path": "/d", "rle": {**defaults("dataset", "local")["rle"], "csv": "t.csv"}}
    assert "id_path" not in without_unset_id_path(local)["rle"]
    assert local["rle"]["id_path"] == ""  # the config itself is left as it was
    uw = {**local, "rle": {**local["rle"], "id_path": r"(case\d+_day\d+)/scans/(slice_\d+)"}}
    assert without_unset_id_path(uw)["rle"]["id_path"] == uw["rle"]["id_path"]


def test_missing_part_is_no_download_param_until_absent():
    # dataset.local.missing_part: refuse (every united folder needed, as before the key) must
    # not make existing data sets again; absent changes which images pair, so it is one
    from unet.dataset.json_masks import unset_tables_dropped

    local = {**defaults("dataset", "local"), "path": "/d"}
    assert local["missing_part"] == "refuse"
    assert "missing_part" not in unset_tables_dropped(local)
    assert unset_tables_dropped({**local, "missing_part": "absent"})["missing_part"] == "absent"
