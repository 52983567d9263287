"""COCO JSONs that real exports get wrong: entries missing keys (all named at once), polygons
reaching outside their image (a pixel over is clipped, mostly outside is refused)."""

from __future__ import annotations

import json

import pytest

from tests.test_coco import _coco, _layout
from unet.dataset.download import write_manifest
from unet.dataset.layout import DataLayoutError

pytest.importorskip("pycocotools.mask")


def test_every_entry_missing_a_key_is_named_at_once(tmp_path):
    """An export with many entries missing a key stopped at the first: a user fixed one and
    reran to meet the next. Each is now named (annotation id, its image file, the key), the
    first 20 listed and the rest counted, so a 100k-object export gives a short message."""
    data = _coco(tmp_path)
    del data["annotations"][1]["category_id"]
    del data["annotations"][3]["image_id"]
    del data["images"][1]["file_name"]
    (tmp_path / "ann.json").write_text(json.dumps(data))
    with pytest.raises(DataLayoutError) as err:
        write_manifest(tmp_path / "m.json", "local", tmp_path, _layout())
    text = str(err.value)
    assert "3 entries of ann.json lack keys" in text
    assert "annotation 2 (of a.png): no 'category_id'" in text
    assert "annotation 4: no 'image_id'" in text and "image 11: no 'file_name'" in text
    assert "export it again" in text
    data = _coco(tmp_path / "many")
    data["annotations"] = [{"id": n, "image_id": 10, "segmentation": []} for n in range(1000)]
    (tmp_path / "many" / "ann.json").write_text(json.dumps(data))
    with pytest.raises(DataLayoutError) as err:
        write_manifest(tmp_path / "m.json", "local", tmp_path / "many", _layout())
    text = str(err.value)
    assert "1000 entries" in text and "and 980 more" in text and len(text) < 2500
