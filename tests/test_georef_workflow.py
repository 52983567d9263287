"""The workflow's own masks of a GeoTIFF data set (pred/, crf/, final/) carry the scenes'
georeferencing as `unet predict`'s do (<mask>.png.aux.xml); before, they lay at 0,0 in QGIS."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tifffile
from PIL import Image

from tests.test_bands import _rgbir
from tests.test_georef import UTM33, _geotiff
from tests.test_postprocess import _case, _finalize
from tests.test_value_spaces import H, W, _preprocess
from unet.cache.settings import PreprocessSettings
from unet.common.fileio import read_json, write_json


def _transform(x0: float) -> str:
    return f"<GeoTransform>{x0:.17g}, 10, 0, 4600000, 0, -10</GeoTransform>"


def _scenes(root, plain: str) -> None:
    """Every image of the manifest made a GeoTIFF of its own place (x0 by its index), but
    `plain`'s: a data set mixing scenes with a plain image."""
    for k, pair in enumerate(read_json(root / "manifest.json")["pairs"]):
        if pair["id"] != plain:
            _geotiff(pair["image"], tifffile.imread(pair["image"]), corner=(1000.0 * k, 4.6e6))


def test_predicted_masks_of_a_geotiff_data_set_lie_on_their_scenes(tmp_path):
    from unet.infer.predict import PredictSettings, predict_masks
    from unet.train.train import TrainSettings, train_unet

    _rgbir(tmp_path, bands=5)
    _scenes(tmp_path, plain="p7")
    _preprocess(tmp_path, PreprocessSettings(width=W, height=H))
    train_unet(tmp_path / "cache", tmp_path / "model.pt", tmp_path / "h.csv", tmp_path / "ck",
               {"depth": 2, "base_width": 4},
               TrainSettings(epochs=1, batch_size=2, device="cpu", deterministic=True))
    masks = tmp_path / "pred" / "masks"
    masks.mkdir(parents=True)
    (masks / "p7.png.aux.xml").write_text("<PAMDataset/>")  # a stale one: the image is plain
    predict_masks([tmp_path / "model.pt"], tmp_path / "cache", "test", tmp_path / "pred",
                  PredictSettings(device="cpu"), manifest=tmp_path / "manifest.json")
    side = (masks / "p6.png.aux.xml").read_text()
    assert f"<SRS>EPSG:{UTM33}</SRS>" in side and _transform(6000.0) in side
    assert sorted(p.name for p in masks.iterdir()) == ["p6.png", "p6.png.aux.xml", "p7.png"]


def test_crf_masks_of_a_geotiff_data_set_lie_on_their_scenes(tmp_path, monkeypatch):
    from unet.crf import dense
    from unet.crf.refine import refine_crf

    monkeypatch.setattr(dense, "densecrf", lambda: None)  # pydensecrf: not what is tested
    monkeypatch.setattr(dense, "refine", lambda image, probs, *_: probs.argmax(0))
    pairs = []
    for name in ("t0", "t1"):
        image = tmp_path / f"{name}.tif"
        tifffile.imwrite(image, np.full((H, W), 100, np.uint8), photometric="minisblack")
        if name == "t0":
            _geotiff(image, tifffile.imread(image), corner=(0.0, 4.6e6))
        pairs.append({"id": name, "image": str(image), "size": [W, H]})
        (tmp_path / "pred/probs").mkdir(parents=True, exist_ok=True)
        np.save(tmp_path / "pred/probs" / f"{name}.npy", np.full((2, H, W), 0.5, np.float16))
    write_json(tmp_path / "manifest.json", {"pairs": pairs})
    write_json(tmp_path / "meta.json", {"class_values": [0, 255], "num_classes": 2,
                                        "splits": {"test": {"ids": ["t0", "t1"]}}})
    refine_crf(tmp_path / "manifest.json", tmp_path / "meta.json", tmp_path / "pred",
               tmp_path / "crf", dense.CRFParams())
    masks = tmp_path / "crf" / "masks"
    assert _transform(0.0) in (masks / "t0.png.aux.xml").read_text()
    assert sorted(p.name for p in masks.iterdir()) == ["t0.png", "t0.png.aux.xml", "t1.png"]


def test_final_masks_of_a_geotiff_data_set_lie_on_their_scenes(tmp_path):
    _case(tmp_path, crf_dice=0.5)
    manifest = read_json(tmp_path / "manifest.json")
    for pair in manifest["pairs"]:
        if pair["id"] == "t0":  # the test scene: a GeoTIFF in place of its PNG
            pair["image"] = str(_geotiff(tmp_path / "t0.tif", np.zeros((H, W), np.uint8)))
    write_json(tmp_path / "manifest.json", manifest)
    _finalize(tmp_path)
    masks = tmp_path / "final" / "masks"
    assert _transform(500000.0) in (masks / "t0.png.aux.xml").read_text()
    assert sorted(p.name for p in masks.iterdir()) == ["t0.png", "t0.png.aux.xml", "t1.png"]


def test_a_rerun_opens_no_skipped_image_whose_name_says_it_is_no_tiff(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from unet.common import georef
    from unet.infer import predict_folder
    from unet.infer.predict_folder import _missing_sidecars

    opened = []
    real = georef.is_tiff
    monkeypatch.setattr(georef, "is_tiff", lambda path: opened.append(path.name) or real(path))
    plain = tifffile.imwrite(tmp_path / "plain.tif", np.zeros((H, W), np.uint8)) or "plain.tif"
    files = [_geotiff(tmp_path / "scene.TIF", np.zeros((H, W), np.uint8)), tmp_path / plain,
             tmp_path / "photo.JPG", tmp_path / "mask.png", tmp_path / "scan.raw"]
    for f in files[2:]:
        f.write_bytes(b"\x89PNG")
    (tmp_path / "out").mkdir()
    for f in files:  # the masks the first run wrote, which the rerun skips
        Image.fromarray(np.zeros((H, W), np.uint8)).save(tmp_path / "out" / f"{f.stem}.png")
    # the model is read for its masks.ignore only when a sidecar is written: none set here
    monkeypatch.setattr(predict_folder, "load_model_file", lambda path: {})
    monkeypatch.setattr(predict_folder, "mapping_from_meta", lambda meta: SimpleNamespace(
        ignore=None))
    record = SimpleNamespace(done=lambda path: None, close=lambda: None, checked=lambda path: False)
    masks = {f: f"{f.stem}.png" for f in files}  # each skipped image's mask, as first written
    _missing_sidecars(files, tmp_path / "out", "model.pt", record, masks)
    assert sorted(opened) == ["plain.tif", "scan.raw", "scene.TIF"]
    assert _transform(500000.0) in (tmp_path / "out/scene.png.aux.xml").read_text()


def test_each_band_file_is_opened_once_while_stacking(tmp_path, monkeypatch):
    import builtins

    from unet.common.gdal_fill import tiff_nodata
    from unet.common.georef import georef_of
    from unet.dataset.band_files import stack_bands

    paths, keys = [], (1, 1, 0, 1, 3072, 0, 1, UTM33)
    for k in range(3):
        band = np.full((6, 5), 300.0 + 100 * k, np.float32)
        band[0] = -9999.0
        nodata = [(42113, "s", 0, "-9999", True)] if k == 0 else []  # the first's only
        tifffile.imwrite(tmp_path / f"b{k}.tif", band, extratags=[
            (33550, "d", 3, (10.0, 10.0, 0.0), True),
            (33922, "d", 6, (0.0, 0.0, 0.0, 500000.0, 4600000.0, 0.0), True),
            (34735, "H", len(keys), keys, True), *nodata])
        paths.append(tmp_path / f"b{k}.tif")
    opened, real = [], builtins.open
    monkeypatch.setattr(builtins, "open", lambda f, *a, **k: (
        opened.append(Path(f).name) if isinstance(f, str | Path) else None) or real(f, *a, **k))
    stack = stack_bands((paths, tmp_path / "stack.tif"))
    monkeypatch.setattr(builtins, "open", real)
    assert sorted(n for n in opened if n.startswith("b")) == ["b0.tif", "b1.tif", "b2.tif"]
    assert georef_of(stack) == georef_of(paths[1]) and tiff_nodata(stack) == -9999.0
    assert tifffile.imread(stack)[1].tolist() == [[300.0, 400.0, 500.0]] * 5


def test_a_scene_gone_or_damaged_since_preprocessing_costs_its_sidecar_only(tmp_path, caplog):
    from unet.common.georef import georef_masks

    scene = _geotiff(tmp_path / "scene.tif", np.zeros((H, W), np.uint8))
    (tmp_path / "cut.tif").write_bytes(scene.read_bytes()[:20])  # cut off in its header
    pairs = [{"id": i, "image": str(tmp_path / f"{i}.tif")} for i in ("gone", "cut", "scene")]
    for i in ("gone", "cut", "scene"):
        (tmp_path / f"{i}.png").write_bytes(b"mask")
    assert georef_masks({"pairs": pairs}, ["gone", "cut", "scene"], tmp_path) == 1
    assert (tmp_path / "scene.png.aux.xml").exists() and "gone.tif" in caplog.text
    assert "cut.tif" in caplog.text and "no georeferencing" in caplog.text
