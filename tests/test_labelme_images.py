"""LabelMe JSONs that hold their image only as base64 imageData (LabelMe's default, and JSONs
shared without the image files): the image written out under resources/<name>/ as it is."""

from __future__ import annotations

import base64
import io
import json
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from unet.dataset.download import write_manifest
from unet.dataset.layout import DataLayoutError, Layout

H, W = 20, 30
SQUARE = {"label": "cell", "points": [[2, 2], [12, 2], [12, 12], [2, 12]],
          "shape_type": "polygon", "group_id": None, "flags": {}}


def _encoded(fmt, size=(W, H), seed=0):
    """An image of `size` (w, h) encoded as `fmt`, its bytes."""
    rng = np.random.default_rng(seed)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), np.uint8)).save(buf, fmt)
    return buf.getvalue()


def _json(root, stem, raw, image_path=None, size=(W, H)):
    """`stem`.json in imgs/, holding `raw` as its imageData, without an image file."""
    (root / "imgs").mkdir(parents=True, exist_ok=True)
    data = {"version": "5.4.1", "flags": {}, "shapes": [SQUARE],
            "imagePath": image_path or f"{stem}.jpg",
            "imageData": base64.b64encode(raw).decode() if raw is not None else None,
            "imageHeight": size[1], "imageWidth": size[0]}
    (root / "imgs" / f"{stem}.json").write_text(json.dumps(data))


def _manifest(root):
    layout = Layout(images="imgs", labelme=(("json", "imgs/{id}.json"),))
    manifest = write_manifest(root / "out" / "manifest.json", "local", root, layout)
    return {p["id"]: p for p in manifest["pairs"]}


def test_png_and_jpeg_image_data_written_as_they_are(tmp_path):
    png, jpeg = _encoded("PNG"), _encoded("JPEG", seed=1)
    _json(tmp_path, "a", png, image_path="..\\photos\\a.png")  # a Windows path, not here
    _json(tmp_path, "b", jpeg)
    data = json.loads((tmp_path / "imgs" / "b.json").read_text())  # as a web tool writes it
    data["imageData"] = "data:image/jpeg;base64," + data["imageData"]
    (tmp_path / "imgs" / "b.json").write_text(json.dumps(data))
    pairs = _manifest(tmp_path)
    a, b = pairs["a"], pairs["b"]
    assert a["image"] == str(tmp_path / "out" / "embedded_images" / "a.png")
    assert b["image"] == str(tmp_path / "out" / "embedded_images" / "b.jpg")
    # the JPEG's own bytes, not decoded and encoded again (which would lose quality)
    assert Path(a["image"]).read_bytes() == png and Path(b["image"]).read_bytes() == jpeg
    assert a["image_from"] == str(tmp_path / "imgs" / "a.json") == a["mask_from"]
    assert a["size"] == b["size"] == [W, H]
    mask = np.asarray(Image.open(b["mask"]))
    assert mask.shape == (H, W) and mask[5, 5] == 1 and mask[15, 20] == 0
    assert sorted(os.listdir(tmp_path / "imgs")) == ["a.json", "b.json"]  # nothing beside


def test_image_data_of_another_size_or_no_image_refused_by_name(tmp_path):
    _json(tmp_path, "a", _encoded("PNG", size=(W, H + 4)))  # the JSON says 30x20
    _json(tmp_path, "b", b"\x89PNG not an image")
    _json(tmp_path, "c", _encoded("PNG"))
    with pytest.raises(DataLayoutError) as err:
        _manifest(tmp_path)
    text = str(err.value)
    assert "a.json: its imageData is a 30x24 image" in text and "say 30x20" in text
    assert "b.json: its imageData is not a base64 image" in text
    assert not (tmp_path / "out" / "embedded_images" / "a.png").exists()
    assert not (tmp_path / "out" / "manifest.json").exists()


def test_image_file_beside_the_json_wins_over_its_image_data(tmp_path):
    _json(tmp_path, "a", _encoded("PNG", seed=2), image_path="a.png")
    Image.fromarray(np.zeros((H, W, 3), np.uint8)).save(tmp_path / "imgs" / "a.png")
    pair = _manifest(tmp_path)["a"]
    assert pair["image"] == str(tmp_path / "imgs" / "a.png") and "image_from" not in pair
    assert not (tmp_path / "out" / "embedded_images").exists()


def test_rerun_rewrites_only_a_changed_image(tmp_path):
    _json(tmp_path, "a", _encoded("PNG"))
    _json(tmp_path, "b", _encoded("PNG", seed=1))
    pairs = _manifest(tmp_path)
    old = {k: os.stat(p["image"]).st_mtime_ns for k, p in pairs.items()}
    for p in pairs.values():
        os.utime(p["image"], ns=(1, 1))
    _json(tmp_path, "b", _encoded("JPEG", seed=3))  # b's JSON saved again holding a JPEG
    pairs = _manifest(tmp_path)
    assert os.stat(pairs["a"]["image"]).st_mtime_ns == 1  # unchanged: left as it was
    assert pairs["b"]["image"].endswith("b.jpg") and old
    assert Path(pairs["b"]["image"]).read_bytes() == _encoded("JPEG", seed=3)
    assert sorted(os.listdir(tmp_path / "out" / "embedded_images")) == ["a.png", "b.jpg"]


@pytest.mark.parametrize("damage", [b"{not json", b"\xff\xfe{}"])
def test_json_damaged_before_its_image_is_written_is_named(tmp_path, damage):
    """A JSON rewritten between pairing and writing its image (cut off, or saved in another
    encoding) is refused by name, as pairing refuses it, not a worker's bare traceback."""
    from unet.dataset.labelme_images import _write

    bad = tmp_path / "a.json"
    bad.write_bytes(damage)
    err = _write((bad, tmp_path / "out" / "a"))
    assert isinstance(err, DataLayoutError) and str(bad) in str(err)
    assert not (tmp_path / "out").exists()
