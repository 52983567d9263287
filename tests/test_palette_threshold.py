"""masks.threshold on palette masks (DAVIS 2017's object ids): predictions are written as a
palette index the data holds, with its palette, and every reader takes them back as written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from tests.test_instance_labels import _voc_palette
from tests.test_value_spaces import H, W, _disc, _preprocess, _train_and_predict
from unet.cache.mapping import choose_mapping
from unet.cache.settings import PreprocessSettings
from unet.common.fileio import write_json
from unet.common.labels import mapping_from_meta
from unet.evaluate.reading import ScoreJob, read_scored

DAVIS = _voc_palette()  # DAVIS 2017 annotations use this colour map: 1 red, 255 void


def _objects(i: int) -> np.ndarray:
    """(H, W) uint8 object ids: a disc of object 1 (absent from frame 0) and boxes of 2, 3."""
    ids = np.zeros((H, W), np.uint8)
    ids[2:8, 2:10] = 2
    ids[24:30, 28:38] = 3
    if i:
        ids[_disc(i) > 0.5] = 1
    return ids


def _davis(root: Path, n: int = 8, palette: list[int] = DAVIS) -> list[dict]:
    """n pairs of an image and a palette PNG of object ids 1..3, as DAVIS 2017 saves them."""
    rng = np.random.default_rng(1)
    pairs = []
    for i in range(n):
        ids = _objects(i)
        img, msk = root / f"img{i}.png", root / f"msk{i}.png"
        Image.fromarray((50 + 60 * (ids > 0) + rng.integers(0, 20, (H, W))).astype(np.uint8)
                        ).save(img)
        mask = Image.fromarray(ids, "P")
        mask.putpalette(palette)
        mask.save(msk)
        pairs.append({"id": f"p{i}", "image": str(img), "mask": str(msk), "size": [W, H]})
    ids = [p["id"] for p in pairs]
    write_json(root / "manifest.json", {"pairs": pairs})
    write_json(root / "split.json", {"train": ids[:4], "val": ids[4:6], "test": ids[6:]})
    return pairs


def test_threshold_0_writes_davis_ids_as_index_1_with_their_palette(tmp_path):
    """With masks.threshold: 0 (every object id foreground), predictions were grey PNGs of
    0/255, which DAVIS's tools read as index 255, its void (shown (224, 224, 192)). They are
    palette PNGs of 0 and 1 (DAVIS's red), and evaluation reads them back as written."""
    pairs = _davis(tmp_path)
    meta = _preprocess(tmp_path, PreprocessSettings(width=W, height=H, mask_threshold=0))
    assert meta["class_values"] == [0, 1]  # frame 0 holds no 1: the smallest held id overall
    masks = _train_and_predict(tmp_path)
    mapping = mapping_from_meta(meta)
    for pair in pairs[6:]:
        png = masks / f"{pair['id']}.png"
        im = Image.open(png)
        assert im.mode == "P" and im.getpalette()[:6] == DAVIS[:6], png
        written = np.asarray(im)
        assert set(np.unique(written).tolist()) <= {0, 1}, png
        job = ScoreJob(pair["id"], pair["mask"], {"raw": str(png)}, mapping, 2.0)
        target, read, _ = read_scored(job)
        assert np.array_equal(read["raw"], written)  # evaluate: the classes written
        assert np.array_equal(target, (_objects(6 + pairs[6:].index(pair)) > 0))
    # the CRF and finalize write through mapping.write and read through read_index
    labels = (_objects(3) > 0).astype(np.uint8)
    mapping.write(tmp_path / "crf.png", labels)
    assert np.array_equal(np.asarray(Image.open(tmp_path / "crf.png")), labels)
    assert np.array_equal(mapping.read_index(tmp_path / "crf.png"), labels)


def _mapping(tmp_path: Path, palette: list[int], **keys):
    tmp_path.mkdir(exist_ok=True)
    pairs = _davis(tmp_path, 2, palette)
    return choose_mapping(pairs, PreprocessSettings(width=W, height=H, **keys), 1)


def test_the_smallest_held_id_above_the_threshold_is_written(tmp_path):
    """DAVIS's index 1 (128, 0, 0) is 38 bright, 2 (0, 128, 0) 75, 3 (128, 128, 0) 113: at
    masks.threshold 50 object 1 is background and 2 the first foreground id."""
    mapping = _mapping(tmp_path, DAVIS, mask_threshold=50)
    assert mapping.values == (0, 2) and mapping.palette[:9] == tuple(DAVIS[:9])
    labels = np.array([[0, 1]], np.uint8)
    mapping.write(tmp_path / "w.png", labels)
    assert np.array_equal(mapping.read_index(tmp_path / "w.png"), labels)


def test_grey_masks_keep_their_written_values(tmp_path):
    """Grey 8-bit masks stay 0/255 (no palette), and a palette whose index 0 reads above the
    threshold keeps grey 0/255."""
    bright0 = [255, 255, 255] + DAVIS[3:]
    assert _mapping(tmp_path / "b", bright0, mask_threshold=0).values == (0, 255)
    ids = _objects(1) * 80
    Image.fromarray(ids).save(tmp_path / "g.png")
    grey = choose_mapping([{"id": "g", "mask": str(tmp_path / "g.png")}],
                          PreprocessSettings(width=W, height=H, mask_threshold=0), 1)
    assert grey.values == (0, 255) and grey.palette is None


def test_masks_sharing_a_palette_compute_its_brightness_once(tmp_path, monkeypatch):
    """Each mask's palette was converted to its indices' brightness anew, though a data set's
    masks mostly share one (DAVIS's 3455 frames): once per distinct palette, same mapping."""
    from unet.cache import palette_threshold

    calls = []
    original = palette_threshold.index_luminance
    monkeypatch.setattr(palette_threshold, "index_luminance",
                        lambda palette: calls.append(palette) or original(palette))
    tmp_path.mkdir(exist_ok=True)
    pairs = _davis(tmp_path, 6)
    mapping = choose_mapping(pairs, PreprocessSettings(width=W, height=H, mask_threshold=0), 1)
    assert mapping.values == (0, 1) and len(calls) == 1


def test_listed_values_on_palette_masks_are_written_with_their_palette(tmp_path):
    """VOC SegmentationObject's keys (masks: {threshold: 0, ignore: 255, values: [0, 1]}) wrote
    grey 0/1 PNGs, where masks.threshold alone writes the data's palette: the listed values are
    palette indices too, so they get the palette (1: VOC's red) and read back as written."""
    mapping = _mapping(tmp_path, DAVIS, mask_threshold=0, mask_values=(0, 1), mask_ignore=255)
    assert mapping.values == (0, 1) and mapping.palette[:6] == tuple(DAVIS[:6])
    labels = (_objects(3) > 0).astype(np.uint8)
    mapping.write(tmp_path / "w.png", labels)
    im = Image.open(tmp_path / "w.png")
    assert im.mode == "P" and im.getpalette()[:6] == DAVIS[:6]
    assert np.array_equal(np.asarray(im), labels)
    assert np.array_equal(mapping.read_index(tmp_path / "w.png"), labels)


def test_listed_values_the_palette_would_misread_stay_grey(tmp_path):
    """A listed value whose palette colour reads on the wrong side of the threshold (VOC's 255,
    (224, 224, 192), is 218 bright: class 0 under masks.threshold 230) would read back as the
    other class: those are written grey, as before, and read back as written."""
    mapping = _mapping(tmp_path, DAVIS, mask_threshold=230, mask_values=(0, 255))
    assert mapping.values == (0, 255) and mapping.palette is None
    labels = (_objects(3) > 0).astype(np.uint8)
    mapping.write(tmp_path / "w.png", labels)
    assert np.array_equal(mapping.read_index(tmp_path / "w.png"), labels)
    black1 = DAVIS[:3] + [0, 0, 0] + DAVIS[6:]  # index 1 reads as 0: background at threshold 0
    assert _mapping(tmp_path / "b", black1, mask_threshold=0, mask_values=(0, 1)).palette is None
