"""masks.tolerance: colour (and grey) masks saved as JPEG or resized bilinearly hold colours near
the listed ones; a pixel within N levels in every channel of one class's colour reads as it."""

import numpy as np
import pytest
from PIL import Image

from unet.cache.mapping import choose_mapping
from unet.cache.settings import PreprocessSettings, settings_from_config
from unet.common.applicable import applicable
from unet.common.labels import IGNORE_INDEX, MaskValueError, mapping_from_meta
from unet.config.checks import ConfigError, _check_mapping

COLOURS = [[0, 0, 0], [200, 30, 30], [30, 160, 60]]  # background, polyp, tool


def _truth(seed: int) -> np.ndarray:
    """(256, 384) class indices: an ellipse of class 1 and a bar of class 2."""
    yy, xx = np.mgrid[:256, :384]
    index = np.zeros((256, 384), np.uint8)
    index[((yy - 120) / 72.0) ** 2 + ((xx - 140 - seed) / 96.0) ** 2 < 1] = 1
    index[160:224, 248:360] = 2
    return index


def _jpeg_masks(tmp_path, n: int = 2) -> list[tuple[str, np.ndarray]]:
    """Colour masks saved as JPEG (quality 90, as Kvasir-SEG's exports), with their truth."""
    out = []
    for i in range(n):
        truth = _truth(i)
        path = str(tmp_path / f"m{i}.jpg")
        Image.fromarray(np.asarray(COLOURS, np.uint8)[truth]).save(path, quality=90)
        out.append((path, truth))
    return out


def _settings(**masks) -> PreprocessSettings:
    base = {"values": None, "threshold": None, "ignore": None, "colors": COLOURS}
    return settings_from_config({}, {**base, **masks})


def test_jpeg_colour_masks_are_refused_without_tolerance(tmp_path):
    masks = _jpeg_masks(tmp_path)
    mapping = choose_mapping([{"mask": m} for m, _ in masks], _settings(), 1)
    with pytest.raises(MaskValueError, match="masks.tolerance"):
        mapping.read_index(masks[0][0])


def test_jpeg_colour_masks_read_with_tolerance(tmp_path):
    masks = _jpeg_masks(tmp_path)
    settings = _settings(tolerance=40, unlisted="ignore")
    mapping = choose_mapping([{"mask": m} for m, _ in masks], settings, 1)
    for path, truth in masks:
        index = mapping.read_index(path)
        assert (index == truth).mean() > 0.99  # 0.9952 here (0.85 at tolerance 0)
        assert ((index == truth) | (index == IGNORE_INDEX)).all()  # none read as another class


def test_far_colours_stay_unlisted(tmp_path):
    rgb = np.zeros((8, 8, 3), np.uint8)
    rgb[2, 2] = (100, 100, 100)  # near no listed colour
    rgb[4, 4] = (215, 20, 45)  # within 15 of class 1's (200, 30, 30)
    Image.fromarray(rgb).save(tmp_path / "m.png")
    mapping = choose_mapping([{"mask": str(tmp_path / "m.png")}], _settings(tolerance=15), 1)
    with pytest.raises(MaskValueError, match=r"\(100, 100, 100\)"):
        mapping.read_index(tmp_path / "m.png")
    ignoring = choose_mapping([{"mask": str(tmp_path / "m.png")}],
                              _settings(tolerance=15, unlisted="ignore"), 1)
    index = ignoring.read_index(tmp_path / "m.png")
    assert index[2, 2] == IGNORE_INDEX and index[4, 4] == 1 and index[0, 0] == 0


def test_overlapping_boxes_are_refused_at_planning():
    # (0, 0, 0) and (30, 160, 60) are 160 apart; (200, 30, 30) and (30, 160, 60): 170 apart
    masks = {"colors": [[0, 0, 0], [60, 10, 0], [0, 200, 0]], "tolerance": 30}
    with pytest.raises(ConfigError) as err:
        _check_mapping(masks)
    text = str(err.value)
    assert "(0, 0, 0)" in text and "(60, 10, 0)" in text and "29" in text
    _check_mapping({**masks, "tolerance": 29})  # boxes apart: accepted


def test_tolerance_needs_listed_classes_and_no_threshold():
    with pytest.raises(ConfigError, match="masks.colors"):
        _check_mapping({"tolerance": 20})
    with pytest.raises(ConfigError, match="masks.threshold"):
        _check_mapping({"values": [0, 255], "tolerance": 20, "threshold": 127})


def test_grey_jpeg_masks_read_with_tolerance(tmp_path):
    truth = _truth(0) > 0
    Image.fromarray(np.where(truth, 255, 0).astype(np.uint8)).save(tmp_path / "g.jpg", quality=75)
    pairs = [{"mask": str(tmp_path / "g.jpg")}]
    grey = settings_from_config({}, {"values": [0, 255], "threshold": None, "ignore": None,
                                     "tolerance": 60})
    index = choose_mapping(pairs, grey, 1).read_index(tmp_path / "g.jpg")
    assert (index == truth).mean() > 0.99
    exact = settings_from_config({}, {"values": [0, 255], "threshold": None, "ignore": None})
    with pytest.raises(MaskValueError):
        choose_mapping(pairs, exact, 1).read_index(tmp_path / "g.jpg")


def test_tolerance_travels_in_meta_and_zero_is_left_out():
    meta = {"class_values": [0, 0xC81E1E], "mask_rgb": True, "mask_tolerance": 40}
    assert mapping_from_meta(meta).tolerance == 40
    assert mapping_from_meta({"class_values": [0, 255]}).tolerance == 0  # older files
    assert "tolerance" not in applicable("masks", {"colors": COLOURS, "tolerance": 0})
    assert applicable("masks", {"colors": COLOURS, "tolerance": 40})["tolerance"] == 40


def test_rgb_jpeg_of_a_grey_mask_reads_with_grey_values(tmp_path):
    # Kvasir-SEG's masks: 0/255 saved as 3-channel JPEGs whose channels differ by a level or
    # two here and there; with grey masks.values they were refused as "holds colours"
    truth = _truth(0) > 0
    grey = np.where(truth, 255, 0).astype(np.int16)[..., None]
    noise = np.random.default_rng(0).integers(-3, 4, (*truth.shape, 3))
    rgb = np.clip(grey + noise, 0, 255).astype(np.uint8)
    Image.fromarray(rgb).save(tmp_path / "k.jpg", quality=90, subsampling=0)
    assert np.asarray(Image.open(tmp_path / "k.jpg")).std(axis=-1).max() > 0  # not grey
    pairs = [{"mask": str(tmp_path / "k.jpg")}]
    settings = settings_from_config({}, {"values": [0, 255], "threshold": None, "ignore": None,
                                         "tolerance": 40, "unlisted": "ignore"})
    index = choose_mapping(pairs, settings, 1).read_index(tmp_path / "k.jpg")
    assert (index == truth).mean() > 0.99
    assert ((index == truth) | (index == IGNORE_INDEX)).all()


def test_real_colours_stay_refused_by_grey_values(tmp_path):
    rgb = np.zeros((8, 8, 3), np.uint8)
    rgb[2:5, 2:5] = (200, 30, 30)  # a red far beyond the tolerance from any grey
    Image.fromarray(rgb).save(tmp_path / "c.png")
    settings = settings_from_config({}, {"values": [0, 255], "threshold": None, "ignore": None,
                                         "tolerance": 40, "unlisted": "ignore"})
    mapping = choose_mapping([{"mask": str(tmp_path / "c.png")}], settings, 1)
    with pytest.raises(Exception, match="holds colours"):
        mapping.read_index(tmp_path / "c.png")


def test_far_grey_values_hint_threshold_in_place_of_tolerance(tmp_path):
    # the hint used to say "or set masks.threshold" with the tolerance still set: a pair the
    # config check then refused ("drop one of the two")
    grey = np.zeros((8, 8), np.uint8)
    grey[3, 3] = 128  # a JPEG edge pixel far from 0 and 255
    Image.fromarray(grey).save(tmp_path / "e.png")
    settings = settings_from_config({}, {"values": [0, 255], "threshold": None, "ignore": None,
                                         "tolerance": 40})
    mapping = choose_mapping([{"mask": str(tmp_path / "e.png")}], settings, 1)
    with pytest.raises(MaskValueError, match="masks.threshold in place of masks.tolerance"):
        mapping.read_index(tmp_path / "e.png")


def test_palette_masks_refuse_a_tolerance(tmp_path):
    # Palette masks hold colour-table indices: index 4 is no "near" colour of index 3, yet
    # masks.values [0, 3] with masks.tolerance 1 read it as class 1 without a word
    index = np.zeros((8, 8), np.uint8)
    index[2:5, 2:5], index[6, 6] = 3, 4
    mask = Image.fromarray(index)
    mask.putpalette([0, 0, 0, 200, 30, 30, 30, 160, 60, 250, 250, 0, 0, 0, 255])
    mask.save(tmp_path / "p.png")
    pairs = [{"mask": str(tmp_path / "p.png")}]
    settings = settings_from_config({}, {"values": [0, 3], "threshold": None, "ignore": None,
                                         "tolerance": 1, "unlisted": "ignore"})
    with pytest.raises(MaskValueError) as err:
        choose_mapping(pairs, settings, 1)
    text = str(err.value)
    assert "p.png" in text and "masks.tolerance: 0" in text and "palette" in text


def test_unet_info_shows_the_tolerance(monkeypatch):
    import torch

    from unet.model import checkpoint, describe
    ckpt = {"model_config": {"depth": 2, "base_width": 4, "bilinear": True, "norm": "batch",
                             "dropout": 0}, "in_channels": 3, "size": [64, 64],
            "class_values": [0, 255], "num_classes": 2, "epoch": 1, "val_dice": [0.9, 0.8]}
    for tolerance, shown in ((40, True), (0, False)):
        record = {**ckpt, **({"mask_tolerance": tolerance} if tolerance else {})}
        monkeypatch.setattr(checkpoint, "load_model",
                            lambda p, r=record: (torch.nn.Linear(1, 1), r))
        text = describe.describe_model("m.pt")
        assert ("masks.tolerance 40" in text) is shown
