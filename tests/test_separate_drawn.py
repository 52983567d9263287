"""masks.separate for masks drawn from annotations: download draws each object's id beside its
class mask, and preprocess parts touching objects by those ids in the training cache."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml
from PIL import Image
from scipy import ndimage

from tests.conftest import REPO
from unet.cache.preprocess import preprocess
from unet.cache.reader import load_split
from unet.cache.settings import PreprocessSettings
from unet.common.fileio import write_json
from unet.config.checks import check_data
from unet.dataset.download import download_dataset
from unet.dataset.json_masks import drawn_objects

H, W = 24, 30
EIGHT = np.ones((3, 3))
STEMS = ("a", "b", "c", "d")  # train, train, val, test


def _images(root):
    (root / "imgs").mkdir(parents=True, exist_ok=True)
    for stem in STEMS:
        Image.fromarray(np.full((H, W, 3), 90, np.uint8)).save(root / "imgs" / f"{stem}.png")


def _labelme(root) -> dict:
    """Two touching rectangles (columns 5-14 and 15-24) in each image's LabelMe JSON."""
    _images(root)
    for stem in STEMS:
        shapes = [{"label": "cell", "points": pts, "shape_type": "rectangle", "group_id": None,
                   "flags": {}} for pts in ([[5, 5], [14, 19]], [[15, 5], [24, 19]])]
        (root / "imgs" / f"{stem}.json").write_text(json.dumps(
            {"version": "5.4.1", "shapes": shapes, "imagePath": f"{stem}.png",
             "imageData": None, "imageHeight": H, "imageWidth": W}))
    return {"labelme": {"json": "imgs/{id}.json"}}


def _square(x0, x1):
    return [[x0, 5], [x1, 5], [x1, 20], [x0, 20], [x0, 5]]


def _qupath(root) -> dict:
    """The two squares as QuPath GeoJSON annotations (through the shared painter)."""
    _images(root)
    (root / "ann").mkdir()
    for stem in STEMS:
        features = [{"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
                     "properties": {"objectType": "annotation",
                                    "classification": {"name": "cell"}}}
                    for ring in (_square(5, 15), _square(15, 25))]
        (root / "ann" / f"{stem}.geojson").write_text(
            json.dumps({"type": "FeatureCollection", "features": features}))
    return {"qupath": {"json": "ann/{id}.geojson"}}


def _xml(root) -> dict:
    """The two squares as regions of a MoNuSeg (ImageScope) XML."""
    _images(root)
    regions = "".join(
        f'<Region Id="{n}" Type="0" NegativeROA="0"><Vertices>'
        + "".join(f'<Vertex X="{x}" Y="{y}"/>' for x, y in ring[:-1])
        + "</Vertices></Region>" for n, ring in enumerate((_square(5, 15), _square(15, 25)), 1))
    for stem in STEMS:
        (root / "imgs" / f"{stem}.xml").write_text(
            f'<Annotations><Annotation Id="1"><Regions>{regions}</Regions></Annotation>'
            "</Annotations>")
    return {"xml": {"file": "imgs/{id}.xml"}}


def _coco(root) -> dict:
    """The two squares as COCO polygons (LIVECell's objects)."""
    _images(root)
    images = [{"id": k, "file_name": f"{s}.png", "width": W, "height": H}
              for k, s in enumerate(STEMS)]
    anns = [{"id": 10 * k + n, "image_id": k, "category_id": 1, "iscrowd": 0, "area": 150.0,
             "segmentation": [[c for p in ring[:-1] for c in p]]}
            for k in range(len(STEMS)) for n, ring in enumerate((_square(5, 15), _square(15, 25)))]
    (root / "ann.json").write_text(json.dumps(
        {"images": images, "annotations": anns, "categories": [{"id": 1, "name": "cell"}]}))
    return {"coco": {"json": "ann.json"}}


def _yolo(root) -> dict:
    """The two squares as YOLO segmentation polygons (normalised x, y)."""
    _images(root)
    (root / "labels").mkdir()
    lines = ["0 " + " ".join(f"{x / W} {y / H}" for x, y in _square(a, b)[:-1])
             for a, b in ((5, 15), (15, 25))]
    for stem in STEMS:
        (root / "labels" / f"{stem}.txt").write_text("\n".join(lines) + "\n")
    return {"yolo": {"labels": "labels/{id}.txt"}}


def _cache(tmp_path, layout, separate: bool) -> tuple:
    """Download (local), split and preprocess the data set of `layout` with masks.separate."""
    data, out = tmp_path / "data", tmp_path / ("on" if separate else "off")
    table = layout(data) if not data.exists() else layout(tmp_path / "unused")
    settings = {"path": str(data), "images": "imgs", **table,
                **({"separate_objects": True} if separate else {})}
    manifest = download_dataset(out / "manifest.json", "local", settings)
    ids = [p["id"] for p in manifest["pairs"]]
    write_json(out / "split.json", {"train": ids[:2], "val": ids[2:3], "test": ids[3:]})
    meta = preprocess(out / "manifest.json", out / "split.json", out / "cache",
                      PreprocessSettings(width=W, height=H, mask_separate=separate))
    return out, manifest, meta


def _objects(cache, split) -> list[int]:
    return [ndimage.label(m > 0, structure=EIGHT)[1] for m in load_split(cache, split)[1]]


@pytest.mark.parametrize("layout", [_labelme, _qupath, _xml, _coco, _yolo])
def test_touching_drawn_objects_are_parted_in_the_training_cache_only(tmp_path, layout):
    off, plain, _ = _cache(tmp_path, layout, False)
    on, drawn, meta = _cache(tmp_path, layout, True)
    assert meta["mask_separate"] is True
    assert all(_objects(off / "cache", s) == [1] * n for s, n in (("train", 2), ("val", 1)))
    assert _objects(on / "cache", "train") == [2, 2] and _objects(on / "cache", "val") == [2]
    assert _objects(on / "cache", "test") == [1]  # scored as drawn
    assert (off / "cache/test_masks.npy").read_bytes() == (on / "cache/test_masks.npy").read_bytes()
    for a, b in zip(plain["pairs"], drawn["pairs"], strict=True):
        assert "mask_objects" not in a  # nothing more written where separate is off
        assert Image.open(a["mask"]).tobytes() == Image.open(b["mask"]).tobytes()
        ids = np.asarray(Image.open(b["mask_objects"]))
        assert ids.shape == (H, W) and sorted(np.unique(ids)) == [0, 1, 2]


def test_overlapping_objects_the_later_wins_as_in_the_class_mask(tmp_path):
    _images(tmp_path / "data")
    shapes = [{"label": "cell", "points": pts, "shape_type": "rectangle"}
              for pts in ([[2, 2], [12, 12]], [[8, 8], [20, 20]])]
    (tmp_path / "data/imgs/a.json").write_text(json.dumps({"shapes": shapes, "imagePath": "a.png"}))
    manifest = download_dataset(tmp_path / "out/manifest.json", "local", {
        "path": str(tmp_path / "data"), "images": "imgs", "labelme": {"json": "imgs/{id}.json"},
        "separate_objects": True, "allow_unpaired": True})
    ids = np.asarray(Image.open(manifest["pairs"][0]["mask_objects"]))
    assert ids[10, 10] == 2 and ids[4, 4] == 1 and ids[0, 0] == 0


def _config(local: dict, **masks) -> dict:
    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    config["masks"].update(masks)
    config["dataset"].update(source="local", local={"path": str(REPO), **local})
    return config


@pytest.mark.parametrize("table", [{"labelme": {"json": "{id}.json"}},
                                   {"coco": {"json": "a.json"}}, {"xml": {"file": "{id}.xml"}},
                                   {"geojson": {"file": "{id}.geojson"}},
                                   {"rle": {"csv": "t.csv"}}])  # a row an object (Sartorius)
def test_config_takes_separate_for_drawn_layouts_and_download_draws_ids_only_then(table):
    check_data(_config(table, separate=True))  # class masks: no threshold needed
    assert drawn_objects(table, {"separate": True})
    assert not drawn_objects(table, {"separate": False}) and not drawn_objects(table, {})
