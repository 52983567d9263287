"""Outputs in the data's own values, whatever path the mapping took (issue 11, items 1-4).

Grey levels, colours, a threshold over anti-aliased masks, grey data saved as LA or RGBA: the
channel count follows the pixels, not the file mode, and every written mask is in the values
the user's masks hold.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from unet.cache.preprocess import preprocess
from unet.cache.settings import PreprocessSettings, settings_from_config
from unet.cache.values import mapping_from_values
from unet.common.fileio import write_json
from unet.common.labels import MaskMapping, MaskValueError, mapping_from_meta
from unet.common.maskio import read_mask
from unet.infer.predict import PredictSettings, predict_masks
from unet.infer.predict_folder import predict_folder
from unet.train.settings import TrainSettings
from unet.train.train import train_unet

W, H = 40, 32


def _disc(i: int) -> np.ndarray:
    """(H, W) float coverage of a disc, soft at its rim (what anti-aliasing writes)."""
    yy, xx = np.mgrid[:H, :W]
    r = np.hypot(yy - 12 - i % 5, xx - 14 - i % 7)
    return np.clip(9.5 - r, 0, 1)


def _save(path: Path, grey: np.ndarray, mode: str) -> str:
    """Save a grey (H, W) uint8 array as `mode`: L, LA, RGB or RGBA (channels all equal)."""
    if mode in ("RGB", "RGBA"):
        arr = np.repeat(grey[..., None], 3, axis=2)
        if mode == "RGBA":
            arr = np.concatenate([arr, np.full((H, W, 1), 255, np.uint8)], axis=2)
    elif mode == "LA":
        arr = np.stack([grey, np.full_like(grey, 255)], axis=2)
    else:
        arr = grey
    Image.fromarray(arr, mode).save(path)
    return str(path)


def _dataset(root: Path, n: int, image_mode, mask_mode, mask_fn) -> Path:
    """n pairs: image i saved as image_mode(i), mask i = mask_fn(i) saved as mask_mode(i)."""
    rng = np.random.default_rng(0)
    pairs = []
    for i in range(n):
        disc = _disc(i)
        grey = (60 + 150 * disc + rng.normal(0, 8, disc.shape)).clip(0, 255).astype(np.uint8)
        img = _save(root / f"img{i}.png", grey, image_mode(i))
        msk = _save(root / f"msk{i}.png", mask_fn(i, disc), mask_mode(i))
        pairs.append({"id": f"p{i}", "image": img, "mask": msk, "size": [W, H]})
    ids = [p["id"] for p in pairs]
    write_json(root / "manifest.json", {"pairs": pairs})
    write_json(root / "split.json", {"train": ids[:-4], "val": ids[-4:-2], "test": ids[-2:]})
    return root


def _write_split(root: Path, pairs: list[dict]) -> None:
    """manifest.json of `pairs`, and split.json: 4 train, 2 validation, the rest test."""
    ids = [p["id"] for p in pairs]
    write_json(root / "manifest.json", {"pairs": pairs})
    write_json(root / "split.json", {"train": ids[:4], "val": ids[4:6], "test": ids[6:]})


def _antialiased(i: int, disc: np.ndarray) -> np.ndarray:
    return np.round(255 * disc).astype(np.uint8)  # 0/255 with soft edge values in between


def _preprocess(root: Path, settings: PreprocessSettings) -> dict:
    return preprocess(root / "manifest.json", root / "split.json", root / "cache", settings)


def _train_and_predict(root: Path) -> Path:
    train_unet(root / "cache", root / "model.pt", root / "history.csv", root / "ck",
          {"depth": 2, "base_width": 4},
          TrainSettings(epochs=1, batch_size=2, device="cpu", deterministic=True))
    predict_masks([root / "model.pt"], root / "cache", "test", root / "pred",
                  PredictSettings(device="cpu"))
    return root / "pred" / "masks"


def test_threshold_mapping_keeps_the_data_values():
    mapping = MaskMapping((0, 255), threshold=127)
    raw = np.array([[0, 90, 127, 128, 200, 255]], np.uint8)
    assert mapping.to_index(raw).tolist() == [[0, 0, 0, 1, 1, 1]]
    assert mapping.to_values(np.array([0, 1])).tolist() == [0, 255]


def test_threshold_with_the_minority_as_class_one():
    # ISBI-like: class 0 = 255 (cell), class 1 = 0 (membrane); dark pixels are the membrane.
    mapping = MaskMapping((255, 0), threshold=127)
    assert mapping.to_index(np.array([0, 40, 200, 255])).tolist() == [1, 1, 0, 0]
    assert mapping.to_values(np.array([1, 0])).tolist() == [0, 255]


def test_threshold_outside_the_values_is_refused():
    with pytest.raises(MaskValueError, match="masks.threshold 300"):
        mapping_from_values(set(), [0, 255], 300, 16)


def test_la_and_rgba_grey_with_threshold_trains_one_channel_and_writes_0_255(tmp_path):
    """Acceptance: LA images with RGBA grey ones mixed in, anti-aliased masks (some RGBA)."""
    root = _dataset(tmp_path, 10, lambda i: "RGBA" if i % 3 == 0 else "LA",
                    lambda i: "RGBA" if i % 4 == 0 else "L", _antialiased)
    settings = PreprocessSettings(width=W, height=H, mask_threshold=127)
    meta = _preprocess(root, settings)
    assert meta["in_channels"] == 1
    assert meta["class_values"] == [0, 255]
    masks = _train_and_predict(root)
    for png in sorted(masks.glob("*.png")):
        assert Image.open(png).mode == "L"
        assert set(np.unique(read_mask(png)).tolist()) <= {0, 255}
    assert mapping_from_meta(meta).to_values(np.array([1])).tolist() == [255]


def test_grey_rgba_masks_are_grey_values(tmp_path):
    root = _dataset(tmp_path, 8, lambda i: "RGB", lambda i: "RGBA" if i % 2 else "L",
                    lambda i, d: np.where(d > 0.5, 255, 0).astype(np.uint8))
    meta = _preprocess(root, PreprocessSettings(width=W, height=H, mask_values=(0, 255)))
    assert meta["class_values"] == [0, 255] and meta["mask_rgb"] is False
    assert meta["in_channels"] == 1  # RGB files whose channels are equal hold grey images


def test_grey_rgba_mask_values_are_reported_as_grey(tmp_path):
    def stray(i, d):
        out = np.where(d > 0.5, 255, 0).astype(np.uint8)
        out[0, 0] = 13 if i == 1 else 0
        return out

    root = _dataset(tmp_path, 8, lambda i: "RGB", lambda i: "RGBA", stray)
    with pytest.raises(MaskValueError, match=r"msk1\.png holds values \[13\].*\[0, 255\]"):
        _preprocess(root, PreprocessSettings(width=W, height=H, mask_values=(0, 255)))


def test_detected_grey_values_from_mixed_modes(tmp_path):
    root = _dataset(tmp_path, 8, lambda i: "L", lambda i: "RGBA" if i % 2 else "LA",
                    lambda i, d: np.where(d > 0.5, 255, 0).astype(np.uint8))
    meta = _preprocess(root, PreprocessSettings(width=W, height=H))
    assert meta["class_values"] == [0, 255] and meta["mask_rgb"] is False


def test_colour_masks_are_colours_even_beside_grey_files(tmp_path):
    red = np.array([200, 0, 0], np.uint8)

    def colour(i, d):
        return (d > 0.5)[..., None] * red

    rng = np.random.default_rng(1)
    pairs = []
    for i in range(8):
        img = tmp_path / f"img{i}.png"
        Image.fromarray(rng.integers(0, 255, (H, W, 3), np.uint8)).save(img)
        msk = tmp_path / f"msk{i}.png"
        Image.fromarray(colour(i, _disc(i)).astype(np.uint8)).save(msk)
        pairs.append({"id": f"p{i}", "image": str(img), "mask": str(msk), "size": [W, H]})
    ids = [p["id"] for p in pairs]
    write_json(tmp_path / "manifest.json", {"pairs": pairs})
    write_json(tmp_path / "split.json", {"train": ids[:4], "val": ids[4:6], "test": ids[6:]})
    meta = _preprocess(tmp_path, PreprocessSettings(width=W, height=H))
    assert meta["mask_rgb"] is True and meta["class_values"] == [0, 0xC80000]


def test_predict_folder_writes_colour_masks_as_colours(tmp_path):
    red, black = [200, 0, 0], [0, 0, 0]
    rng = np.random.default_rng(2)
    pairs = []
    for i in range(8):
        disc = _disc(i) > 0.5
        img, msk = tmp_path / f"img{i}.png", tmp_path / f"msk{i}.png"
        Image.fromarray((disc[..., None] * [250, 250, 40] + rng.integers(0, 40, (H, W, 3)))
                        .clip(0, 255).astype(np.uint8)).save(img)
        Image.fromarray((disc[..., None] * np.array(red)).astype(np.uint8)).save(msk)
        pairs.append({"id": f"p{i}", "image": str(img), "mask": str(msk), "size": [W, H]})
    ids = [p["id"] for p in pairs]
    write_json(tmp_path / "manifest.json", {"pairs": pairs})
    write_json(tmp_path / "split.json", {"train": ids[:4], "val": ids[4:6], "test": ids[6:]})
    settings = settings_from_config({"width": W, "height": H},
                                    {"values": None, "colors": [black, red], "threshold": None,
                                     "max_values": 16, "ignore": None})
    _preprocess(tmp_path, settings)
    _train_and_predict(tmp_path)
    new = tmp_path / "new"
    new.mkdir()
    Image.fromarray(rng.integers(0, 255, (20, 30, 3), np.uint8)).save(new / "a.png")
    predict_folder([tmp_path / "model.pt"], new, tmp_path / "out", PredictSettings(device="cpu"))
    for png in [tmp_path / "out" / "a.png", *sorted((tmp_path / "pred/masks").glob("*.png"))]:
        written = Image.open(png)
        assert written.mode == "RGB", png
        colours = {tuple(c) for c in np.asarray(written).reshape(-1, 3).tolist()}
        assert colours <= {tuple(black), tuple(red)}, png


def test_overlay_paints_class_one_where_it_is_the_dark_value(tmp_path):
    """ISBI: masks.values [255, 0], membrane (0) = class 1: the overlay paints the membrane."""
    from unet.report.figures import class_layer

    mask = np.full((H, W), 255, np.uint8)
    mask[10:12, :] = 0  # a thin membrane
    Image.fromarray(mask).save(tmp_path / "m.png")
    layer = class_layer(tmp_path / "m.png", MaskMapping((255, 0)))
    painted = ~np.ma.getmaskarray(layer)
    assert painted.sum() == 2 * W and painted[10:12].all()
    assert set(np.unique(layer.compressed()).tolist()) == {1}


@pytest.mark.parametrize("mapping", [
    MaskMapping((0, 255), threshold=127),
    MaskMapping((0, 0xC80000), rgb=True),
    MaskMapping((2, 1), ignore=3),
])
def test_overlay_layer_in_every_value_space(tmp_path, mapping):
    from unet.report.figures import class_layer

    labels = np.zeros((H, W), np.uint8)
    labels[5:9, 5:25] = 1
    mapping.write(tmp_path / "m.png", labels)
    layer = class_layer(tmp_path / "m.png", mapping)
    assert np.array_equal(~np.ma.getmaskarray(layer), labels == 1)


def test_palette_masks_are_written_back_with_their_palette(tmp_path):
    """Carvana's GIF masks hold palette indices 0/1 shown black/white: the predictions keep
    both the values and the palette (as a grey PNG, 0/1 would look all black), in the test
    split and in predict_folder alike."""
    palette = [0, 0, 0, 255, 255, 255, 30, 90, 200]
    rng = np.random.default_rng(3)
    pairs = []
    for i in range(8):
        disc = _disc(i) > 0.5
        img, msk = tmp_path / f"img{i}.jpg", tmp_path / f"msk{i}.gif"
        Image.fromarray((60 + 150 * disc + rng.integers(0, 20, (H, W))).astype(np.uint8)).save(img)
        mask = Image.fromarray(disc.astype(np.uint8))
        mask.putpalette(palette)  # an L image becomes P: indices kept
        mask.save(msk)
        pairs.append({"id": f"p{i}", "image": str(img), "mask": str(msk), "size": [W, H]})
    ids = [p["id"] for p in pairs]
    write_json(tmp_path / "manifest.json", {"pairs": pairs})
    write_json(tmp_path / "split.json", {"train": ids[:4], "val": ids[4:6], "test": ids[6:]})
    meta = _preprocess(tmp_path, PreprocessSettings(width=W, height=H))
    assert meta["class_values"] == [0, 1]
    _train_and_predict(tmp_path)
    new = tmp_path / "new"
    new.mkdir()
    Image.fromarray(rng.integers(0, 255, (20, 30), np.uint8)).save(new / "a.png")
    predict_folder([tmp_path / "model.pt"], new, tmp_path / "out", PredictSettings(device="cpu"))
    written = [tmp_path / "out" / "a.png", *sorted((tmp_path / "pred/masks").glob("*.png"))]
    assert len(written) == 3
    for png in written:
        im = Image.open(png)
        assert im.mode == "P", png
        assert im.getpalette()[:6] == palette[:6], png
        assert set(np.unique(read_mask(png)).tolist()) <= {0, 1}, png


def test_overlays_of_large_images_are_drawn_from_shrunk_copies(tmp_path, monkeypatch):
    # A panel is about 400 px wide: at 4096x4096 drawing the full arrays took 4.3 GB and 61 s
    # for 4 rows (matplotlib makes float RGBA copies), so an 8192x8192 data set ran out of memory.
    import matplotlib.axes

    from unet.report.figures import DISPLAY_SIDE, plot_overlays

    big = np.zeros((2000, 3000), np.uint8)
    big[500:1500, 800:2000] = 255
    Image.fromarray(big).convert("RGB").save(tmp_path / "img.png")
    Image.fromarray(big).save(tmp_path / "m.png")
    shapes = []
    real = matplotlib.axes.Axes.imshow

    def imshow(self, x, *args, **kwargs):
        shapes.append(np.shape(x))
        return real(self, x, *args, **kwargs)

    monkeypatch.setattr(matplotlib.axes.Axes, "imshow", imshow)
    rows = [{"id": "a", "image": tmp_path / "img.png", "panels": [("gt", tmp_path / "m.png")]}]
    plot_overlays(rows, tmp_path / "o.png", MaskMapping((0, 255)))
    assert shapes and all(max(s[:2]) <= DISPLAY_SIDE for s in shapes), shapes
    assert (tmp_path / "o.png").stat().st_size > 0
