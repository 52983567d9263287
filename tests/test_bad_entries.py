"""Several bad entries of a data set (masks to merge or draw, rows of a CSV, objects of a COCO
JSON) named in one error, not one per rerun."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from unet.dataset.download import download_dataset
from unet.dataset.layout import DataLayoutError

RLE = {"csv": "train.csv", "id_column": "ImageId", "rle_column": "EncodedPixels",
       "order": "columns", "absent": "error"}


def _images(root, n, size=(12, 8)):
    """n grey images a00.png, a01.png, ... in root/images."""
    w, h = size
    (root / "images").mkdir(parents=True)
    for i in range(n):
        Image.fromarray(np.full((h, w), 9 * i, np.uint8)).save(root / "images" / f"a{i:02d}.png")


def test_every_mask_part_of_another_size_is_named_at_once(tmp_path):
    """Masks merged per image (mask_parts) stopped at the first of another size than its
    image's first mask: a data set with several needed one rerun each."""
    _images(tmp_path, 25)
    (tmp_path / "masks").mkdir()
    for i in range(25):
        Image.fromarray(np.zeros((8, 12), np.uint8)).save(tmp_path / "masks" / f"a{i:02d}.png")
        size = (5, 5) if i % 10 < 9 else (8, 12)  # 23 parts of the wrong size
        Image.fromarray(np.zeros(size, np.uint8)).save(tmp_path / "masks" / f"a{i:02d}_1.png")
    settings = {"path": str(tmp_path), "images": "images", "masks": "masks",
                "mask_parts": r"_\d+"}
    with pytest.raises(DataLayoutError) as err:
        download_dataset(tmp_path / "out" / "manifest.json", "local", settings, processes=2)
    text = str(err.value)
    assert text.startswith("23 masks cannot be merged:")
    assert "a00_1.png is 5x5 but" in text and "a08_1.png is 5x5" in text
    assert "a09_1.png" not in text and "... and 3 more image(s)" in text
    assert text.lower().count("fix or remove the file") == 1
    assert not (tmp_path / "out" / "manifest.json").exists()


def test_every_unusable_encoding_of_a_csv_is_named_at_once(tmp_path):
    """Encodings whose runs lie past their image stopped at the first image drawn."""
    _images(tmp_path, 6)
    rows = ["ImageId,EncodedPixels"]
    rows += [f"a{i:02d}.png,{90 if i % 2 else 1} 20" for i in range(6)]  # 12x8: 96 pixels
    (tmp_path / "train.csv").write_text("\n".join(rows) + "\n")
    settings = {"path": str(tmp_path), "images": "images", "rle": RLE}
    with pytest.raises(DataLayoutError) as err:
        download_dataset(tmp_path / "out" / "manifest.json", "local", settings)
    text = str(err.value)
    assert text.startswith("3 masks cannot be drawn:")
    assert all(f"encoding of a{i:02d}.png" in text for i in (1, 3, 5))
    assert "a00.png" not in text and not (tmp_path / "out" / "manifest.json").exists()


def _coco(root, sizes, categories=(1,), category=lambda i: 1):
    """A COCO JSON of the images with the (w, h) `sizes`, one square object each."""
    images = [{"id": i, "file_name": f"a{i:02d}.png", "width": w, "height": h}
              for i, (w, h) in enumerate(sizes)]
    objects = [{"id": 100 + i, "image_id": i, "category_id": category(i),
                "segmentation": [[1, 1, 5, 1, 5, 5, 1, 5]]} for i in range(len(sizes))]
    data = {"images": images, "annotations": objects,
            "categories": [{"id": c, "name": f"c{c}"} for c in categories]}
    (root / "coco.json").write_text(json.dumps(data))
    return {"path": str(root), "images": "images", "coco": {"json": "coco.json"}}


def test_every_coco_image_of_another_size_is_named_at_once(tmp_path):
    """Images whose size in the JSON is not the file's stopped at the first drawn."""
    pytest.importorskip("pycocotools")
    _images(tmp_path, 5)
    settings = _coco(tmp_path, [(12, 8), (10, 8), (12, 8), (8, 12), (12, 9)])
    with pytest.raises(DataLayoutError) as err:
        download_dataset(tmp_path / "out" / "manifest.json", "local", settings)
    text = str(err.value)
    assert text.startswith("3 masks cannot be drawn:")
    assert all(f"gives {s} for it" in text for s in ("10x8", "8x12", "12x9"))
    assert text.lower().count("fix the file or the json") == 1


def test_every_row_of_a_bad_class_is_named_at_once(tmp_path):
    """Class numbers out of range (0 written for the background, 255) stopped at the first
    line: one rerun per row."""
    _images(tmp_path, 25)
    rows = ["ImageId,EncodedPixels,ClassId"]
    rows += [f"a{i:02d}.png,1 5,{2 if i % 5 == 0 else 0}" for i in range(25)] + ["a00.png,7 2,255"]
    (tmp_path / "train.csv").write_text("\n".join(rows) + "\n")
    settings = {"path": str(tmp_path), "images": "images",
                "rle": {**RLE, "class_column": "ClassId"}}
    with pytest.raises(DataLayoutError) as err:
        download_dataset(tmp_path / "out" / "manifest.json", "local", settings)
    text = str(err.value)
    assert text.startswith("21 rows of") and "line 3: class '0'" in text
    assert "line 27: class '255'" not in text and "... and 1 more row(s)" in text
    assert "line 2:" not in text and text.count("from 1 to 254") == 1


def test_every_annotation_of_an_unknown_category_is_named_at_once(tmp_path):
    """Annotations of category ids 'categories' does not list stopped at the first."""
    _images(tmp_path, 4)
    settings = _coco(tmp_path, [(12, 8)] * 4, categories=(1, 2), category=lambda i: 1 + 3 * i)
    with pytest.raises(DataLayoutError) as err:
        download_dataset(tmp_path / "out" / "manifest.json", "local", settings)
    text = str(err.value)
    assert text.startswith("3 annotations of") and "annotation 100" not in text
    assert all(f"annotation {100 + i} has category {1 + 3 * i}" in text for i in (1, 2, 3))
    assert text.lower().count("add the category") == 1


def test_every_wide_image_the_intensity_range_cannot_read_is_named_at_once(tmp_path):
    """Truncated 16-bit training images stopped the intensity range at the first, before the
    cache pass that names every bad pair: one rerun per file."""
    from unet.cache.intensity import training_range
    from unet.cache.settings import PreprocessSettings
    from unet.common.imageio import ImageReadError

    paths = []
    for i in range(4):
        paths.append(tmp_path / f"i{i}.png")
        Image.fromarray(np.arange(4000, dtype=np.uint16).reshape(40, 100)).save(paths[-1])
        if i != 2:  # cut in half: a failed copy
            paths[-1].write_bytes(paths[-1].read_bytes()[:300])
    with pytest.raises(ImageReadError) as err:
        training_range([str(p) for p in paths], False, PreprocessSettings(8, 8), 2)
    text = str(err.value)
    assert text.startswith("3 images cannot be read:")
    assert all(f"i{i}.png" in text for i in (0, 1, 3)) and "i2.png" not in text
    assert text.count("Replace or remove") == 1


@pytest.mark.parametrize("kind", ["folders", "rle", "coco"])
def test_every_id_two_files_share_is_named_at_once(tmp_path, kind):
    """Images saved twice (a.png beside a.jpg, or in two subfolders) stopped pairing at the
    first such id: a folder with many needed one rerun each."""
    _images(tmp_path, 4)
    (tmp_path / "masks").mkdir()
    for i in range(4):
        Image.fromarray(np.zeros((8, 12), np.uint8)).save(tmp_path / "masks" / f"a{i:02d}.png")
        if i != 1:
            Image.fromarray(np.zeros((8, 12), np.uint8)).save(tmp_path / "images" / f"a{i:02d}.jpg")
    settings = {"path": str(tmp_path), "images": "images", "masks": "masks",
                "image_extensions": [".png", ".jpg"]}
    if kind == "rle":
        (tmp_path / "train.csv").write_text("ImageId,EncodedPixels\na00,1 2\n")
        settings["rle"] = RLE
    if kind == "coco":
        settings.update(_coco(tmp_path, [(12, 8)] * 4))
        data = json.loads((tmp_path / "coco.json").read_text())  # the .jpg copies listed too
        data["images"] += [{"id": 50 + i, "file_name": f"a{i:02d}.jpg"} for i in (0, 2, 3)]
        (tmp_path / "coco.json").write_text(json.dumps(data))
    with pytest.raises(DataLayoutError) as err:
        download_dataset(tmp_path / "out" / "manifest.json", "local", settings)
    text = str(err.value)
    assert text.startswith("3 ") and all(f"'a{i:02d}'" in text for i in (0, 2, 3))
    assert text.lower().count("rename or remove one") == 1


def test_every_id_two_images_share_in_per_id_mask_folders_is_named_at_once(tmp_path):
    """DSB's layout (stage1_train/<id>/images/<id>.png) with copies of several images."""
    for i in range(3):
        for sub in ("images", "masks"):
            (tmp_path / f"s{i}" / sub).mkdir(parents=True)
        Image.fromarray(np.zeros((8, 12), np.uint8)).save(tmp_path / f"s{i}/images/s{i}.png")
        Image.fromarray(np.zeros((8, 12), np.uint8)).save(tmp_path / f"s{i}/masks/m.png")
        Image.fromarray(np.zeros((8, 12), np.uint8)).save(tmp_path / f"s{i}/s{i}.png")
    settings = {"path": str(tmp_path), "images": ".", "masks": "{id}/masks", "recursive": True}
    with pytest.raises(DataLayoutError) as err:
        download_dataset(tmp_path / "out" / "manifest.json", "local", settings)
    text = str(err.value)
    assert text.startswith("3 files would share") and text.count("'s") == 3
    assert text.lower().count("rename or remove one") == 1


def test_every_unusable_object_of_one_image_is_counted(tmp_path):
    """An image's encodings (or COCO objects) stopped at its first unusable one: fixed, the
    next of the same image failed the rerun."""
    _images(tmp_path, 2)
    rows = ["ImageId,EncodedPixels", "a00.png,1 2", "a00.png,90 20", "a00.png,5 2",
            "a00.png,80 40", "a00.png,0 3", "a01.png,1 2"]
    (tmp_path / "train.csv").write_text("\n".join(rows) + "\n")
    settings = {"path": str(tmp_path), "images": "images", "rle": RLE}
    with pytest.raises(DataLayoutError, match=r"(?s)3 encodings of a00\.png are unusable.*"
                       r"line 3: .*'90 20'.*line 5: .*line 6: .*Fix or remove the rows"):
        download_dataset(tmp_path / "out" / "manifest.json", "local", settings)
    pytest.importorskip("pycocotools")
    settings = _coco(tmp_path, [(12, 8)] * 2)
    data = json.loads((tmp_path / "coco.json").read_text())
    data["annotations"] += [{"id": 7 + k, "image_id": 0, "category_id": 1,
                             "segmentation": [[1, 1, 5, 1, 5, 5, 1]]} for k in range(3)]
    (tmp_path / "coco.json").write_text(json.dumps(data))
    with pytest.raises(DataLayoutError, match=r"a00\.png \(annotations 7, 8, 9\) have unusable"):
        download_dataset(tmp_path / "out" / "manifest.json", "local", settings)


def test_every_class_mask_and_band_of_another_size_is_named_at_once(tmp_path):
    """Class folders' masks merged per image and band files stacked per image went through
    the same pass, which stopped at the first image."""
    _images(tmp_path, 3)
    for k in ("c1", "c2"):
        (tmp_path / k).mkdir()
        for i in range(3):
            size = (5, 5) if k == "c2" and i != 1 else (8, 12)
            Image.fromarray(np.zeros(size, np.uint8)).save(tmp_path / k / f"a{i:02d}.png")
    settings = {"path": str(tmp_path), "images": "images", "masks": ["c1", "c2"],
                "mask_folders": "classes"}
    with pytest.raises(DataLayoutError, match=r"^2 masks cannot be merged:\n.*a00\.png is 5x5"):
        download_dataset(tmp_path / "out" / "manifest.json", "local", settings)
    settings = {"path": str(tmp_path), "images": "images", "masks": "c1",
                "band_files": ["c2/a{id}.png"], "image_prefix": "a", "mask_prefix": "a"}
    with pytest.raises(DataLayoutError, match=r"^2 images' bands cannot be stacked:\n.*a00"):
        download_dataset(tmp_path / "out2" / "manifest.json", "local", settings)


def test_mask_parts_that_cannot_be_read_are_called_masks(tmp_path):
    """Empty mask parts (a failed copy) were listed as images, with an image's fix."""
    from unet.common.imageio import ImageReadError

    _images(tmp_path, 3)
    (tmp_path / "masks").mkdir()
    for i in range(3):
        Image.fromarray(np.zeros((8, 12), np.uint8)).save(tmp_path / "masks" / f"a{i:02d}.png")
        (tmp_path / "masks" / f"a{i:02d}_1.png").write_bytes(b"")
    settings = {"path": str(tmp_path), "images": "images", "masks": "masks",
                "mask_parts": r"_\d+"}
    with pytest.raises(ImageReadError) as err:
        download_dataset(tmp_path / "out" / "manifest.json", "local", settings)
    text = str(err.value)
    assert text.startswith("3 masks cannot be merged:") and text.count("cannot read mask") == 3
    assert "cannot read image" not in text and text.endswith("(and its image).")
