"""download_dataset's code inputs are the configured layout's modules (unet.dataset.layout_kinds):
editing COCO, run-length, class-folder or band-file code reruns no data set of mask files."""

import json
import subprocess
import sys

import pytest

from tests.conftest import REPO
from unet.dataset.layout import Layout, layout_from
from unet.dataset.layout_kinds import LAYOUT_MODULES, layout_kinds, layout_modules
from unet.deps import EXEMPT, module_files

OTHER_LAYOUTS = {m for mods in LAYOUT_MODULES.values() for m in mods}


def _modules(paths):
    rel = (p.split("/unet/", 1)[1] for p in paths if not p.endswith("__init__.py"))
    return {r[:-3].replace("/", ".") for r in rel}


def test_download_code_holds_no_layouts_own_modules():
    # Every layout's code (rle, coco, class_folders, band_files, ...) was a code input of
    # download_dataset for every data set: editing coco.py regenerated the synthetic data.
    assert not _modules(module_files(["dataset.download"], root=REPO)) & OTHER_LAYOUTS


@pytest.mark.parametrize(("settings", "kinds"), [
    ({}, []),
    ({"mask_parts": r"_\d+"}, ["merge"]),
    ({"masks": ["left", "right"]}, ["merge"]),
    ({"masks": ["a", "b"], "mask_folders": "classes"}, ["classes"]),
    ({"masks": "masks/{id}"}, ["mask_folders", "merge"]),
    ({"rle": {"csv": "train.csv"}}, ["rle"]),
    ({"coco": {"json": "ann.json"}}, ["coco"]),
    ({"labelme": {"json": "images/{id}.json"}}, ["labelme"]),
    ({"geojson": {"file": "geojson/{id}.geojson"}}, ["geojson"]),
    ({"images": "images/{group}", "yolo": {"labels": "labels/{group}/{id}.txt"}},
     ["groups", "yolo"]),
    ({"images": "{group}/images", "masks": "{group}/masks"}, ["groups"]),
    ({"band_files": ["nir/{id}.tif"], "roi": "fov/{id}.png"}, ["band_files", "roi"]),
])
def test_layout_kinds_follow_the_settings(settings, kinds):
    assert layout_kinds(layout_from(settings, "local")) == kinds


def _loaded(settings, manifest):
    code = ("import sys; from unet.dataset.download import download_dataset; "
            f"download_dataset({str(manifest)!r}, 'local', {settings!r}); "
            "print(' '.join(m[5:] for m in sys.modules if m.startswith('unet.')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                         text=True, check=True)
    return set(out.stdout.split())


def _write(path, value, size=(8, 6)):
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("L", size, value).save(path)


def _write_json(path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


@pytest.mark.parametrize("kind", ["plain", "mask_parts", "classes", "labelme", "qupath", "via",
                                  "yolo", "geojson"])
def test_a_layout_runs_no_unet_code_outside_its_code_inputs(tmp_path, kind):
    # The layout's modules are imported by name (layout_kinds.LAYOUT_MODULES): what actually
    # loads must stay within what the rule lists, or an edit to it would rerun nothing.
    data = tmp_path / "data"
    settings = {"path": str(data)}
    for i in range(2):
        _write(data / "images" / f"a{i}.png", 90)
        _write(data / "masks" / f"a{i}.png", 255)
    if kind == "mask_parts":
        _write(data / "masks" / "a0_1.png", 255)
        settings["mask_parts"] = r"_\d+"
    if kind == "classes":
        for i in range(2):
            _write(data / "cars" / f"a{i}.png", 255)
        settings.update(masks=["masks", "cars"], mask_folders="classes")
    if kind == "labelme":  # a JSON per image beside it
        for i in range(2):
            (data / "images" / f"a{i}.json").write_text(json.dumps({
                "shapes": [{"label": "car", "points": [[1, 1], [4, 4]],
                            "shape_type": "rectangle"}], "imagePath": f"a{i}.png"}))
        settings["labelme"] = {"json": "images/{id}.json"}
    if kind == "qupath":  # a GeoJSON per image in a folder of its own
        for i in range(2):
            _write_json(data / "ann" / f"a{i}.geojson", [{"type": "Feature", "geometry": {
                "type": "Polygon", "coordinates": [[[1, 1], [4, 1], [4, 4], [1, 1]]]},
                "properties": {"classification": {"name": "car"}}}])
        settings["qupath"] = {"json": "ann/{id}.geojson"}
    if kind == "geojson":  # map coordinates beside GeoTIFFs (SpaceNet's), drawn by QuPath's code
        from tests import test_geo_vector as gv

        for i in range(2):
            gv._tiff(data / "tifs" / f"a{i}.tif")
            gv._save(data, f"a{i}", [gv._feature(gv._ring(2, 2, 9, 7))])
        settings.update(images="tifs", geojson={"file": "geojson/{id}.geojson"})
    if kind == "via":  # one JSON listing the images
        _write_json(data / "via.json", {f"a{i}.png1": {"filename": f"a{i}.png", "regions": [{
            "shape_attributes": {"name": "circle", "cx": 3, "cy": 3, "r": 2},
            "region_attributes": {}}]} for i in range(2)})
        settings["via"] = {"json": "via.json"}
    if kind == "yolo":  # a .txt per image, in {group} folders (the groups kind's code too)
        for i in range(2):
            _write(data / "images" / "train" / f"a{i}.png", 90)
            (data / "labels" / "train").mkdir(parents=True, exist_ok=True)
            (data / "labels" / "train" / f"a{i}.txt").write_text("0 0.1 0.1 0.5 0.1 0.5 0.5\n")
        settings.update(images="images/{group}", yolo={"labels": "labels/{group}/{id}.txt"})
    loaded = _loaded(settings, tmp_path / "m.json")
    listed = ("dataset.download", *layout_modules(layout_from(settings, "local")))
    allowed = _modules(module_files(listed, root=REPO)) | EXEMPT | {"common", "dataset"}
    assert loaded <= allowed, loaded - allowed
    if kind == "plain":
        assert layout_kinds(layout_from(settings, "local")) == []
    assert layout_modules(Layout()) == []
