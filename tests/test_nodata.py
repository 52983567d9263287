"""A scene's no-data pixels (every band its GeoTIFF nodata value, or NaN) come out of every
written mask as the labels' ignore value, declared as the sidecar's NoDataValue; before, the
model's class there (a tilted border of fill counted as water in QGIS's area totals)."""

from __future__ import annotations

import csv
import logging

import numpy as np
import tifffile
from PIL import Image

from tests.test_georef import _geokeys
from tests.test_value_spaces import H, W, _disc, _preprocess, _write_split
from unet.cache.settings import PreprocessSettings

FILL = 0  # the scenes' GeoTIFF nodata value


def _scene(path, i: int, border: bool) -> None:
    """A 2-band uint16 GeoTIFF: a disc bright in band 2, and a tilted border of fill."""
    rng = np.random.default_rng(i)
    img = rng.integers(1000, 1200, (H, W, 2)).astype(np.uint16)
    img[..., 1][_disc(i) > 0.5] = 3000
    if border:
        yy, xx = np.mgrid[:H, :W]
        img[xx < 6 + yy // 4] = FILL
    keys = _geokeys(32633)
    tifffile.imwrite(path, img, photometric="minisblack", planarconfig="contig", extratags=[
        (33550, "d", 3, (10.0, 10.0, 0.0), True),
        (33922, "d", 6, (0.0, 0.0, 0.0, 500000.0, 4600000.0, 0.0), True),
        (34735, "H", len(keys), keys, True), (42113, "s", 0, str(FILL), True)])


def _void() -> np.ndarray:
    yy, xx = np.mgrid[:H, :W]
    return xx < 6 + yy // 4


def _data(root, ignore: int | None = 255) -> dict:
    """8 scenes (test: the last two, with a border), their 0/1 labels, a model trained."""
    from unet.train.train import TrainSettings, train_unet

    pairs = []
    for i in range(8):
        _scene(root / f"s{i}.tif", i, border=i >= 6)
        Image.fromarray((_disc(i) > 0.5).astype(np.uint8)).save(root / f"m{i}.png")
        pairs.append({"id": f"s{i}", "image": str(root / f"s{i}.tif"),
                      "mask": str(root / f"m{i}.png"), "size": [W, H]})
    _write_split(root, pairs)
    meta = _preprocess(root, PreprocessSettings(width=W, height=H, mask_ignore=ignore))
    train_unet(root / "cache", root / "model.pt", root / "h.csv", root / "ck",
               {"depth": 2, "base_width": 4},
               TrainSettings(epochs=1, batch_size=2, device="cpu", deterministic=True))
    return meta


def test_unet_predict_writes_the_ignore_value_where_the_scene_has_no_data(tmp_path):
    from unet.infer.predict import PredictSettings
    from unet.infer.predict_folder import predict_files

    _data(tmp_path)
    out = tmp_path / "new"
    predict_files([tmp_path / "model.pt"], [tmp_path / "s6.tif", tmp_path / "s1.tif"], out,
                  PredictSettings(device="cpu"))
    mask = np.array(Image.open(out / "s6.png"))
    assert (mask[_void()] == 255).all() and set(np.unique(mask[~_void()])) <= {0, 1}
    assert "<NoDataValue>255</NoDataValue>" in (out / "s6.png.aux.xml").read_text()
    whole = np.array(Image.open(out / "s1.png"))  # a scene without fill: every pixel a class
    assert set(np.unique(whole)) <= {0, 1}
    assert "NoDataValue" not in (out / "s1.png.aux.xml").read_text()


def test_the_workflows_masks_and_metrics_leave_no_data_out(tmp_path):
    from unet.evaluate.evaluate import evaluate_masks
    from unet.infer.predict import PredictSettings, predict_masks

    _data(tmp_path)
    predict_masks([tmp_path / "model.pt"], tmp_path / "cache", "test", tmp_path / "pred",
                  PredictSettings(device="cpu"), manifest=tmp_path / "manifest.json")
    for name in ("s6", "s7"):
        mask = np.array(Image.open(tmp_path / "pred/masks" / f"{name}.png"))
        assert (mask[_void()] == 255).all() and set(np.unique(mask[~_void()])) <= {0, 1}
        assert "<NoDataValue>255</NoDataValue>" in (
            tmp_path / "pred/masks" / f"{name}.png.aux.xml").read_text()
    evaluate_masks(tmp_path / "manifest.json", tmp_path / "cache/meta.json",
                   {"raw": tmp_path / "pred/masks"}, tmp_path / "m.csv", tmp_path / "s.json")
    with open(tmp_path / "m.csv") as f:
        scored = sum(int(row["target_px"]) for row in csv.DictReader(f))
    assert scored == 2 * (H * W - _void().sum())  # the fill is not scored (was an error)


def test_without_an_ignore_value_the_classes_stay_and_a_warning_names_the_key(tmp_path, caplog):
    from unet.infer.predict import PredictSettings
    from unet.infer.predict_folder import predict_files

    _data(tmp_path, ignore=None)
    with caplog.at_level(logging.WARNING):
        predict_files([tmp_path / "model.pt"], [tmp_path / "s6.tif", tmp_path / "s7.tif"],
                      tmp_path / "new", PredictSettings(device="cpu"))
    assert set(np.unique(np.array(Image.open(tmp_path / "new/s6.png")))) <= {0, 1}
    assert "NoDataValue" not in (tmp_path / "new/s6.png.aux.xml").read_text()
    said = [r.getMessage() for r in caplog.records if "no-data" in r.getMessage()]
    assert len(said) == 1 and "masks.ignore" in said[0]


def test_final_masks_filtered_from_raw_ones_keep_the_no_data(tmp_path):
    from tests.test_postprocess import MAPPING, _case, _finalize
    from tests.test_postprocess import H as PH
    from unet.common.fileio import read_json, write_json

    meta = _case(tmp_path, crf_dice=0.5)
    write_json(tmp_path / "meta.json", {**meta, "ignore_value": 7})
    manifest = read_json(tmp_path / "manifest.json")
    scene = np.full((PH, 32), 50, np.uint8)
    scene[:, :3] = 0  # a border of fill, 8-bit: nodata 0
    next(p for p in manifest["pairs"] if p["id"] == "t0")["image"] = str(tmp_path / "t0.tif")
    tifffile.imwrite(tmp_path / "t0.tif", scene, photometric="minisblack",
                     extratags=[(42113, "s", 0, "0", True)])
    write_json(tmp_path / "manifest.json", manifest)
    raw = np.array(Image.open(tmp_path / "test/masks/t0.png"))
    raw[:, :3] = 7  # the raw mask as predict_masks now writes it
    Image.fromarray(raw).save(tmp_path / "test/masks/t0.png")
    assert _finalize(tmp_path)["chosen"] == "largest_component"
    final = np.array(Image.open(tmp_path / "final/masks/t0.png"))
    assert (final[:, :3] == 7).all() and set(np.unique(final[:, 3:])) <= set(MAPPING.values)
    assert "<NoDataValue>7</NoDataValue>" in (tmp_path / "final/masks/t0.png.aux.xml").read_text()


def test_masks_of_scenes_without_fill_are_left_as_written(tmp_path, monkeypatch):
    from unet.common import nodata
    from unet.common.georef import write_georef

    monkeypatch.setattr(nodata, "bands_and_alpha", lambda *_: 1 / 0)  # no header says: no decoding
    rgb = np.random.default_rng(0).integers(0, 255, (H, W, 3), np.uint8)
    Image.fromarray(rgb).save(tmp_path / "a.png")
    tifffile.imwrite(tmp_path / "b.tif", rgb, photometric="rgb")
    for name in ("a", "b"):
        Image.fromarray(np.eye(H, W, dtype=np.uint8)).save(tmp_path / f"{name}_mask.png")
        before = (tmp_path / f"{name}_mask.png").read_bytes()
        assert not write_georef(tmp_path / f"{name}.{'png' if name == 'a' else 'tif'}",
                                tmp_path / f"{name}_mask.png", 255)
        assert (tmp_path / f"{name}_mask.png").read_bytes() == before
    monkeypatch.undo()
    _scene(tmp_path / "c.tif", 0, border=False)  # a nodata tag, but no pixel holds it
    Image.fromarray(np.eye(H, W, dtype=np.uint8)).save(tmp_path / "c_mask.png")
    before = (tmp_path / "c_mask.png").read_bytes()
    assert write_georef(tmp_path / "c.tif", tmp_path / "c_mask.png", 255)
    assert (tmp_path / "c_mask.png").read_bytes() == before
    assert "NoDataValue" not in (tmp_path / "c_mask.png.aux.xml").read_text()


def test_palette_colour_and_16_bit_masks_keep_their_kind(tmp_path):
    from unet.common.nodata import mark_nodata

    void = np.zeros((4, 5), bool)
    void[:, 0] = True
    pal = Image.fromarray(np.ones((4, 5), np.uint8), "P")
    pal.putpalette([0, 0, 0, 200, 10, 10] + [255, 255, 255] * 254)
    pal.save(tmp_path / "p.png")
    Image.fromarray(np.full((4, 5, 3), 9, np.uint8)).save(tmp_path / "c.png")
    Image.fromarray(np.full((4, 5), 1000, np.uint16)).save(tmp_path / "w.png")
    assert mark_nodata(tmp_path / "p.png", void, 255) == [255]
    assert mark_nodata(tmp_path / "c.png", void, 0xFFFF00) == [255, 255, 0]
    assert mark_nodata(tmp_path / "w.png", void, 65535) == [65535]
    p, c, w = (Image.open(tmp_path / f"{n}.png") for n in "pcw")
    assert p.mode == "P" and p.getpalette()[3:6] == [200, 10, 10]
    assert np.array(p)[:, 0].tolist() == [255] * 4 and np.array(p)[0, 1] == 1
    assert np.array(c)[0, 0].tolist() == [255, 255, 0] and np.array(c)[0, 1].tolist() == [9] * 3
    assert np.array(w)[0, 0] == 65535 and np.array(w)[0, 1] == 1000
    assert mark_nodata(tmp_path / "c.png", void, 1 << 25) == []  # no colour holds it: untouched


def test_no_data_is_where_every_band_is_fill(tmp_path):
    from unet.common.nodata import image_nodata

    sar = np.ones((4, 5, 2), np.float32)
    sar[0] = np.nan  # a row of NaN in both bands, no nodata tag
    sar[1, :, 0] = np.nan  # one band only: data
    tifffile.imwrite(tmp_path / "sar.tif", sar, photometric="minisblack", planarconfig="contig")
    assert image_nodata(tmp_path / "sar.tif")[:, 0].tolist() == [True, False, False, False]
    rgb = np.full((4, 5, 3), 80, np.uint8)
    rgb[:, 0] = 0  # an orthophoto's 8-bit fill, nodata 0
    rgb[:, 1, :2] = 0  # black in red and green only: data
    tifffile.imwrite(tmp_path / "rgb.tif", rgb, photometric="rgb",
                     extratags=[(42113, "s", 0, "0", True)])
    assert image_nodata(tmp_path / "rgb.tif")[0].tolist() == [True, False, False, False, False]


def test_crf_masks_keep_the_no_data(tmp_path, monkeypatch):
    from unet.common.fileio import write_json
    from unet.crf import dense
    from unet.crf.refine import refine_crf

    monkeypatch.setattr(dense, "densecrf", lambda: None)  # pydensecrf: not what is tested
    monkeypatch.setattr(dense, "refine", lambda image, probs, *_: probs.argmax(0))
    _scene(tmp_path / "s6.tif", 6, border=True)
    write_json(tmp_path / "manifest.json", {"pairs": [
        {"id": "s6", "image": str(tmp_path / "s6.tif"), "size": [W, H]}]})
    write_json(tmp_path / "meta.json", {"class_values": [0, 1], "num_classes": 2,
                                        "ignore_value": 255, "intensity_range": [0, 3000],
                                        "splits": {"test": {"ids": ["s6"]}}})
    (tmp_path / "pred/probs").mkdir(parents=True)
    probs = np.zeros((2, H, W), np.float16)
    probs[1] = 1  # the model's water everywhere, the fill too
    np.save(tmp_path / "pred/probs/s6.npy", probs)
    refine_crf(tmp_path / "manifest.json", tmp_path / "meta.json", tmp_path / "pred",
               tmp_path / "crf", dense.CRFParams())
    mask = np.array(Image.open(tmp_path / "crf/masks/s6.png"))
    assert (mask[_void()] == 255).all() and (mask[~_void()] == 1).all()
    assert "<NoDataValue>255</NoDataValue>" in (tmp_path / "crf/masks/s6.png.aux.xml").read_text()
