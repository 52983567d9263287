"""Classes made of several mask values (a list in masks.values or masks.colors) and values
left out of every class (masks.unlisted: ignore): Cityscapes' labelIds, BraTS' tumour labels,
CamVid's 32 colours grouped into 11 classes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.test_value_spaces import H, W, _disc, _preprocess, _train_and_predict, _write_split
from unet.cache.settings import settings_from_config
from unet.cache.values import mapping_from_values
from unet.common.labels import IGNORE_INDEX, MaskValueError, mapping_from_meta
from unet.model import checkpoint

ROAD, SIDEWALK, VEHICLES, VOID = 7, 8, (26, 27, 28), (0, 1, 4)


def _masks(**kw) -> dict:
    return {"values": None, "colors": None, "threshold": None, "max_values": 16,
            "ignore": None, "names": None, "unlisted": "error", **kw}


def _label_ids(tmp_path: Path) -> list[np.ndarray]:
    """8 pairs of Cityscapes-shaped labelIds masks: road (7) below, sidewalk (8) in a band,
    a vehicle disc of car, truck or bus (26, 27, 28), and void ids (0, 1, 4) in the sky. The
    truth is the class index each pixel reads as, 255 where it is skipped."""
    rng = np.random.default_rng(0)
    pairs, truth = [], []
    for i in range(8):
        ids = np.full((H, W), ROAD, np.uint8)
        ids[: H // 3] = rng.choice(VOID, (H // 3, W))
        ids[H // 3 : H // 3 + 4] = SIDEWALK
        ids[_disc(i) > 0.5] = VEHICLES[i % 3]
        cls = np.select([ids == ROAD, ids == SIDEWALK, np.isin(ids, VEHICLES)], [0, 1, 2], 255)
        img, msk = tmp_path / f"img{i}.png", tmp_path / f"msk{i}.png"
        Image.fromarray((ids * 7 + rng.integers(0, 20, (H, W))).astype(np.uint8)).save(img)
        Image.fromarray(ids).save(msk)
        pairs.append({"id": f"p{i}", "image": str(img), "mask": str(msk), "size": [W, H]})
        truth.append(cls.astype(np.uint8))
    _write_split(tmp_path, pairs)
    return truth


def test_label_ids_train_on_grouped_classes_and_predict_in_label_ids(tmp_path):
    from unet.cache.reader import load_split

    truth = _label_ids(tmp_path)
    masks = _masks(values=[ROAD, SIDEWALK, list(VEHICLES)], unlisted="ignore")
    meta = _preprocess(tmp_path, settings_from_config({"width": W, "height": H}, masks))
    assert meta["class_values"] == [ROAD, SIDEWALK, 26] and meta["num_classes"] == 3
    assert np.array_equal(load_split(tmp_path / "cache", "train")[1], np.stack(truth[:4]))
    # The mapping travels with the cache and the model file: targets read the same everywhere.
    raw = np.asarray(Image.open(tmp_path / "msk6.png"))
    assert np.array_equal(mapping_from_meta(meta).to_index(raw), truth[6])
    written = _train_and_predict(tmp_path)
    model = checkpoint.load(tmp_path / "model.pt")
    assert np.array_equal(mapping_from_meta(model).to_index(raw), truth[6])
    values = {int(v) for png in written.glob("*.png") for v in np.unique(Image.open(png))}
    assert values and values <= {ROAD, SIDEWALK, 26}  # a group is written as its first value


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int32, np.int64])
def test_a_group_reads_as_one_class_in_every_integer_type(dtype):
    # BraTS: whole tumour = necrosis 1, oedema 2, enhancing 4.
    mapping = mapping_from_values(set(), [0, [1, 2, 4]], None, 16)
    raw = np.array([[0, 1, 2, 4]], dtype)
    assert mapping.to_index(raw).tolist() == [[0, 1, 1, 1]]
    assert mapping.to_values(np.array([0, 1])).tolist() == [0, 1]
    assert mapping.labels() == ["0", "[1, 2, 4]"]
    with pytest.raises(MaskValueError, match=r"values \[3\].*masks.unlisted: ignore"):
        mapping.to_index(np.array([[0, 3]], dtype))


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int64])
def test_unlisted_values_are_skipped(dtype):
    mapping = mapping_from_values(set(), [7, 8], None, 16, unlisted=True)
    raw = np.array([[7, 8, 0, 33, 255]], dtype)
    assert mapping.to_index(raw).tolist() == [[0, 1] + [IGNORE_INDEX] * 3]


def test_colour_groups_and_unlisted_colours():
    # CamVid-like: car and SUV colours are one class; any other colour is skipped.
    masks = _masks(colors=[[0, 0, 0], [[64, 0, 128], [64, 128, 192]]], unlisted="ignore")
    settings = settings_from_config({"width": W, "height": H}, masks)
    mapping = mapping_from_values(set(), list(settings.mask_values), None, 16, rgb=True,
                                  unlisted=settings.mask_unlisted)
    rgb = np.array([[[0, 0, 0], [64, 0, 128], [64, 128, 192], [128, 128, 128]]], np.uint32)
    packed = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]
    assert mapping.to_index(packed).tolist() == [[0, 1, 1, IGNORE_INDEX]]
    assert mapping.labels() == ["[0, 0, 0]", "[[64, 0, 128], [64, 128, 192]]"]
    assert mapping.to_values(np.array([1])).tolist() == [(64 << 16) | 128]


@pytest.mark.parametrize(
    ("values", "kw", "match"),
    [
        ([0, [1, 2], [2, 4]], {}, r"masks.values lists 2 twice \(classes 1 and 2\)"),
        ([0, [1, 2]], {"ignore": 2}, r"masks.ignore 2 is also class 1's value"),
        ([0, [1, 255]], {"threshold": 127}, r"masks.threshold.*one value per class"),
        ([0, []], {}, r"masks.values' class 1 is an empty list"),
    ],
)
def test_groups_that_cannot_work_are_refused(values, kw, match):
    with pytest.raises(MaskValueError, match=match):
        mapping_from_values(set(), values, kw.get("threshold"), 16, kw.get("ignore"))


def test_unlisted_ignore_needs_listed_values(tmp_path):
    with pytest.raises(MaskValueError, match=r"masks.unlisted: ignore.*masks.values"):
        mapping_from_values({0, 255}, None, None, 16, unlisted=True)


def test_the_schema_takes_groups_and_unlisted(tmp_path):
    from snakemake.utils import validate

    from tests.conftest import REPO

    config = {"masks": {"values": [7, [26, 27, 28]], "unlisted": "ignore"}}
    validate(config, str(REPO / "config" / "schema.yaml"))
    assert config["masks"]["unlisted"] == "ignore"
    colours = {"masks": {"colors": [[0, 0, 0], [[64, 0, 128], [64, 128, 192]]]}}
    validate(colours, str(REPO / "config" / "schema.yaml"))


@pytest.mark.parametrize("split", ["val", "test"])
def test_a_split_whose_masks_are_all_skipped_is_refused(tmp_path, split):
    # Cityscapes' test labels are withheld: every labelId is 0, which unlisted: ignore skips.
    # The test split scored 1.0 for every class (0/0 over no pixel), and an unlabelled
    # validation split would keep the first epoch (Dice 1.0 that later ones never beat).
    _label_ids(tmp_path)
    members = {"val": (4, 5), "test": (6, 7)}[split]
    for i in members:
        Image.fromarray(np.zeros((H, W), np.uint8)).save(tmp_path / f"msk{i}.png")
    masks = _masks(values=[ROAD, SIDEWALK, list(VEHICLES)], unlisted="ignore")
    settings = settings_from_config({"width": W, "height": H}, masks)
    with pytest.raises(MaskValueError, match=rf"every mask of the {split} split.*msk{members[0]}"
                                             r".*split.test_ids"):
        _preprocess(tmp_path, settings)
    assert not (tmp_path / "cache" / "meta.json").exists()  # no cache that looks complete


def test_unlabelled_images_are_named_and_left_out_of_the_scores(tmp_path, caplog):
    from unet.evaluate.evaluate import evaluate_masks

    truth = _label_ids(tmp_path)
    Image.fromarray(np.zeros((H, W), np.uint8)).save(tmp_path / "msk7.png")
    masks = _masks(values=[ROAD, SIDEWALK, list(VEHICLES)], unlisted="ignore")
    with caplog.at_level("WARNING"):
        meta = _preprocess(tmp_path, settings_from_config({"width": W, "height": H}, masks))
    assert "p7" in caplog.text and "no labelled pixel" in caplog.text
    assert meta["unlabelled"] == {"train": [], "val": [], "test": ["p7"]}
    pred = tmp_path / "pred"
    pred.mkdir()
    values = np.array([ROAD, SIDEWALK, 26], np.uint8)
    Image.fromarray(values[np.where(truth[6] == 255, 0, truth[6])]).save(pred / "p6.png")
    Image.fromarray(np.full((H, W), SIDEWALK, np.uint8)).save(pred / "p7.png")  # all wrong
    summary = evaluate_masks(tmp_path / "manifest.json", tmp_path / "cache" / "meta.json",
                             {"raw": pred}, tmp_path / "per_image.csv", tmp_path / "s.json")
    assert summary["images"] == 1 and summary["unlabelled"] == ["p7"]
    scores = summary["methods"]["raw"]["classes"]
    assert all(scores[c]["mean_per_image"]["dice"] == 1.0 for c in "012")
    assert "p7" not in (tmp_path / "per_image.csv").read_text()
