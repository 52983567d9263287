"""No-data left over from predict's first run: the rerun's sidecars, validation scores of
post-processings, the report's overlays and the training labels on a scene's fill."""

from __future__ import annotations

import logging

import numpy as np
from PIL import Image

from tests.test_nodata import _data, _void


def test_a_rerun_writes_a_skipped_scenes_sidecar_as_a_first_run_would(tmp_path, caplog):
    from unet.infer.predict import PredictSettings
    from unet.infer.predict_folder import predict_files
    from unet.infer.resume import RECORD

    _data(tmp_path)  # masks.ignore 255, in model.pt
    out, files = tmp_path / "new", [tmp_path / "s6.tif"]
    predict_files([tmp_path / "model.pt"], files, out, PredictSettings(device="cpu"))
    first = (out / "s6.png.aux.xml").read_text()
    (out / "s6.png.aux.xml").unlink()  # a mask of a run before sidecars were written
    mask = np.array(Image.open(out / "s6.png"))
    mask[_void()] = 1  # ... which left the scene's fill as a class
    Image.fromarray(mask).save(out / "s6.png")
    with caplog.at_level(logging.WARNING):
        assert predict_files([tmp_path / "model.pt"], files, out,
                             PredictSettings(device="cpu")) == 0  # skipped, not predicted
    assert (out / "s6.png.aux.xml").read_text() == first  # NoDataValue 255 declared
    assert (np.array(Image.open(out / "s6.png"))[_void()] == 255).all()
    assert not [r for r in caplog.records if "masks.ignore" in r.getMessage()]
    lines = (out / RECORD).read_text().splitlines()  # the rewritten mask's size recorded
    assert '"s6.png"' in lines[-1] and len(lines) == 3


def _val_scenes(root, ignore: int | None) -> None:
    """Two validation scenes (8-bit GeoTIFFs, nodata 0) whose 6-column border of fill the
    labels call foreground, where the model (fill is input 0) says background; elsewhere the
    probabilities are right."""
    import tifffile

    from tests.test_crf_tune_sample import MAPPING, H, W
    from unet.common.fileio import write_json

    (root / "val/probs").mkdir(parents=True)
    pairs, ids = [], ["v0", "v1"]
    for i in ids:
        truth = np.zeros((H, W), np.uint8)
        truth[8:16, 10:20] = 1
        scene = np.full((H, W, 3), 100, np.uint8)
        scene[truth > 0] = 160
        scene[:, :6], truth[:, :6] = 0, 1  # the fill, labelled as the class
        tifffile.imwrite(root / f"{i}.tif", scene, photometric="rgb",
                         extratags=[(42113, "s", 0, "0", True)])
        MAPPING.write(root / f"{i}_gt.png", truth)
        fg = np.where(truth > 0, 0.9, 0.05).astype(np.float32)
        fg[:, :6] = 0.05
        np.save(root / "val/probs" / f"{i}.npy", np.stack([1 - fg, fg]).astype(np.float16))
        pairs.append({"id": i, "image": str(root / f"{i}.tif"), "mask": str(root / f"{i}_gt.png"),
                      "size": [W, H]})
    write_json(root / "manifest.json", {"pairs": pairs})
    write_json(root / "meta.json", {"class_values": [0, 255], "num_classes": 2,
                                    "ignore_value": ignore,
                                    "splits": {"val": {"ids": ids}, "test": {"ids": []}}})


def test_crf_tuning_and_the_final_choice_leave_a_validation_scenes_fill_unscored(tmp_path):
    from unet.common.fileio import read_json
    from unet.crf.dense import CRFParams
    from unet.crf.tune import tune_crf
    from unet.postprocess.finalize import score_candidates

    for ignore, folder in ((7, tmp_path / "a"), (None, tmp_path / "b")):
        folder.mkdir()
        _val_scenes(folder, ignore)
        tuning = tune_crf(folder / "manifest.json", folder / "meta.json", folder / "val",
                          folder / "t.json", CRFParams(iterations=1), {"gaussian_compat": [3.0]}, 4)
        scores, _, fg, _ = score_candidates(read_json(folder / "manifest.json"),
                                         read_json(folder / "meta.json"), folder / "val", tuning,
                                         CRFParams(), 4, ("largest_component",))
        if ignore is not None:  # written masks hold 7 there, and evaluation scores none of it
            assert tuning["raw_dice"] == scores["raw"] == 1.0 and fg == 2 * 8 * 10
            assert tuning["val_foreground_pixels"] == fg
        else:  # no ignore value: the masks keep classes there, and are scored there
            assert tuning["raw_dice"] == scores["raw"] < 0.6 and fg == 2 * (8 * 10 + 6 * 24)


def test_the_reports_overlays_draw_a_masks_no_data_as_ignored(tmp_path, monkeypatch):
    from unet.common.fileio import read_json
    from unet.common.labels import mapping_from_meta
    from unet.evaluate.evaluate import evaluate_masks
    from unet.infer.predict import PredictSettings, predict_masks
    from unet.report import figures

    meta = _data(tmp_path)
    predict_masks([tmp_path / "model.pt"], tmp_path / "cache", "test", tmp_path / "pred",
                  PredictSettings(device="cpu"), manifest=tmp_path / "manifest.json")
    evaluate_masks(tmp_path / "manifest.json", tmp_path / "cache/meta.json",
                   {"raw": tmp_path / "pred/masks"}, tmp_path / "m.csv", tmp_path / "s.json")
    painted, real = [], figures._painted
    monkeypatch.setattr(figures, "_painted", lambda *a: painted.append(real(*a)) or painted[-1])
    figures.write_overlays(tmp_path / "m.csv", read_json(tmp_path / "manifest.json"),
                           {"raw": tmp_path / "pred/masks"}, tmp_path / "o.png",
                           mapping_from_meta(meta), n=1)
    raw = painted[1::2]  # each row: ground truth, then the raw mask
    assert len(raw) == 2 and (tmp_path / "o.png").stat().st_size
    for rgba in raw:  # the fill grey, as ignored, not a class's colour nor left clear
        assert np.allclose(rgba[_void()][:, :3], figures.IGNORED_COLOUR)
        assert (rgba[_void()][:, 3] == figures.IGNORED_ALPHA).all()
        assert not np.isclose(rgba[~_void()][:, :3], figures.IGNORED_COLOUR).all(-1).any()


def _labelled(root, fill_label: int | None) -> None:
    """7 scenes, each with a border of fill that its label marks `fill_label` (None: as the
    class around it, 0)."""
    from tests.test_nodata import _scene
    from tests.test_value_spaces import H, W, _disc, _write_split

    pairs = []
    for i in range(7):
        _scene(root / f"s{i}.tif", i, border=True)
        label = (_disc(i) > 0.5).astype(np.uint8)
        if fill_label is not None:
            label[_void()] = fill_label
        Image.fromarray(label).save(root / f"m{i}.png")
        pairs.append({"id": f"s{i}", "image": str(root / f"s{i}.tif"),
                      "mask": str(root / f"m{i}.png"), "size": [W, H]})
    _write_split(root, pairs)


def test_preprocess_warns_when_a_scenes_fill_is_labelled_as_a_class(tmp_path, caplog):
    from tests.test_value_spaces import H, W, _preprocess
    from unet.cache.settings import PreprocessSettings

    said = {}
    for case, fill, ignore in (("class", None, None), ("ignored", 255, 255)):
        (tmp_path / case).mkdir()
        _labelled(tmp_path / case, fill)
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            _preprocess(tmp_path / case, PreprocessSettings(width=W, height=H, mask_ignore=ignore,
                                                            mask_values=(0, 1)))
        said[case] = [r.getMessage() for r in caplog.records if "no-data" in r.getMessage()]
    assert len(said["class"]) == 1 and "masks.ignore" in said["class"][0]
    assert "s0.tif" in said["class"][0] and "class 0" in said["class"][0]
    assert not said["ignored"]  # masks.ignore covers the fill: the loss skips it


def test_no_fill_warning_where_the_fill_lies_outside_the_region_of_interest(tmp_path):
    # dataset roi: nothing outside a scene's region is learnt (its labels are ignored there),
    # so a fill outside it trains no class; the warning told such users to set masks.ignore
    from tests.test_value_spaces import H, W, _preprocess
    from unet.cache.fill_labels import fill_note
    from unet.cache.settings import PreprocessSettings
    from unet.common.fileio import read_json
    from unet.common.labels import mapping_from_meta

    _labelled(tmp_path, None)
    meta = _preprocess(tmp_path, PreprocessSettings(width=W, height=H, mask_values=(0, 1)))
    pairs, mapping = read_json(tmp_path / "manifest.json")["pairs"], mapping_from_meta(meta)
    assert fill_note(pairs, mapping)  # no region of interest: the fill is learnt as class 0
    for region, pair in ((~_void(), pairs[0]), (np.ones((H, W), bool), pairs[1])):
        Image.fromarray(region.astype(np.uint8) * 255).save(tmp_path / f"roi_{pair['id']}.png")
        pair["roi"] = str(tmp_path / f"roi_{pair['id']}.png")
    note = fill_note(pairs, mapping)  # s0's fill outside its region; s1's inside: s1 named
    assert note and "s1.tif" in note and "s0.tif" not in note
    assert fill_note(pairs[:1], mapping) is None


def test_unet_predict_decodes_a_scene_once_for_its_mask_and_its_no_data(tmp_path, band_decodes):
    from unet.infer.predict import PredictSettings
    from unet.infer.predict_folder import predict_files

    _data(tmp_path)
    band_decodes.clear()  # the data's own making decodes too: count from here
    out = tmp_path / "new"
    predict_files([tmp_path / "model.pt"], [tmp_path / "s6.tif"], out,
                  PredictSettings(device="cpu"))
    assert len(band_decodes) == 1  # before: again for its no-data when its sidecar was written
    assert (np.array(Image.open(out / "s6.png"))[_void()] == 255).all()
    assert "<NoDataValue>255</NoDataValue>" in (out / "s6.png.aux.xml").read_text()


def test_preprocess_warns_first_when_no_mask_png_can_hold_masks_ignore(tmp_path, caplog):
    # Sen1Floods11: labels -1/0/1 and NaN fill; masks.ignore -1 cannot be written into a mask
    # PNG, which predict said only after training: preprocess says it, with the same fix
    from tests.test_nodata import _scene
    from tests.test_value_spaces import H, W, _disc, _preprocess, _write_split
    from unet.cache.settings import PreprocessSettings

    said = {}
    for case, ignore, border in (("signed", -1, True), ("png", 255, True),
                                 ("no fill", -1, False), ("wide", 70000, True)):
        root = tmp_path / case
        root.mkdir()
        pairs = []
        for i in range(7):
            _scene(root / f"s{i}.tif", i, border=border)
            Image.fromarray((_disc(i) > 0.5).astype(np.uint8)).save(root / f"m{i}.png")
            pairs.append({"id": f"s{i}", "image": str(root / f"s{i}.tif"),
                          "mask": str(root / f"m{i}.png"), "size": [W, H]})
        _write_split(root, pairs)
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            _preprocess(root, PreprocessSettings(width=W, height=H, mask_ignore=ignore,
                                                 mask_values=(0, 1)))
        said[case] = [r.getMessage() for r in caplog.records if "no-data" in r.getMessage()]
    assert len(said["signed"]) == 1, said  # once, not once a scene
    note = said["signed"][0]
    assert "masks.ignore -1" in note and "s0.tif" in note
    assert "masks.unlisted: ignore" in note and "e.g. 255" in note  # the masks' own fix
    assert len(said["wide"]) == 1 and "masks.ignore 70000" in said["wide"][0]
    assert not said["png"] and not said["no fill"]
