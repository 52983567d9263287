"""dataset.<source>.ignore_regions: each image's regions to leave out (NuInsSeg's vague areas,
present for some images only). Their pixels weigh 0 in the loss and are left out of the CRF
tuning, the final-mask choice and every score, but, unlike roi's outside, the predicted masks
keep what the model says there. Before, the key did not exist: README had users write each
image's roi as the inverse of its vague mask, which also forced the masks to class 0 there."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from unet.cache.preprocess import preprocess
from unet.cache.settings import PreprocessSettings
from unet.common.fileio import read_json, write_json
from unet.common.labels import IGNORE_INDEX, MaskMapping, MaskValueError
from unet.crf.dense import CRFParams
from unet.crf.tune import _summed
from unet.dataset.download import write_manifest
from unet.dataset.layout import DataLayoutError, data_files, layout_from
from unet.evaluate.evaluate import ScoreJob, score_image
from unet.postprocess.finalize import score_candidates

H, W = 32, 40
SETTINGS = {"images": "tissue", "masks": "labels", "ignore_regions": "vague/{id}.png"}
VAGUE = (slice(20, 24), slice(24, 40))  # 4 x 16 = 64 px: 32 of the second nucleus, 32 not


def _truth() -> np.ndarray:
    """(H, W) 0/1: two 8x8 nuclei (128 px); the vague band cuts the second one in half."""
    truth = np.zeros((H, W), np.uint8)
    truth[4:12, 4:12] = 1
    truth[20:28, 28:36] = 1
    return truth


def _vague() -> np.ndarray:
    vague = np.zeros((H, W), bool)
    vague[VAGUE] = True
    return vague


def _nuinsseg(root: Path, n: int = 8, without: tuple[int, ...] = (3,)) -> None:
    """tissue/<id>.png, labels/<id>.png and vague/<id>.png, the last for all but `without`."""
    for d in ("tissue", "labels", "vague"):
        (root / d).mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        grey = (60 + 150 * _truth() + rng.normal(0, 8, (H, W))).clip(0, 255).astype(np.uint8)
        Image.fromarray(grey).save(root / f"tissue/s{i}.png")
        Image.fromarray(_truth() * 255).save(root / f"labels/s{i}.png")
        if i not in without:
            Image.fromarray(_vague().astype(np.uint8) * 255).save(root / f"vague/s{i}.png")


def _manifest(root: Path, **changes) -> dict:
    return write_manifest(root / "manifest.json", "local", root,
                          layout_from({**SETTINGS, **changes}, "local"))


def test_pairs_carry_their_ignore_file_and_a_missing_one_ignores_nothing(tmp_path):
    _nuinsseg(tmp_path)
    pairs = {p["id"]: p for p in _manifest(tmp_path)["pairs"]}
    assert len(pairs) == 8  # s3 has no vague file: kept, not refused as roi would be
    assert pairs["s0"]["ignore_regions"] == str(tmp_path / "vague/s0.png")
    assert "ignore_regions" not in pairs["s3"] and "roi" not in pairs["s0"]
    files = data_files(tmp_path, layout_from(SETTINGS, "local"))
    assert tmp_path / "vague/s5.png" in files  # a changed vague file makes the data set stale


def test_a_template_without_id_is_refused(tmp_path):
    _nuinsseg(tmp_path)
    with pytest.raises(DataLayoutError, match=r"dataset.local.ignore_regions.*\{id\}"):
        _manifest(tmp_path, ignore_regions="vague/all.png")


def _cache(root: Path, **changes) -> dict:
    ids = [p["id"] for p in _manifest(root, **changes)["pairs"]]
    write_json(root / "split.json", {"train": ids[:4], "val": ids[4:6], "test": ids[6:]})
    return preprocess(root / "manifest.json", root / "split.json", root / "cache",
                      PreprocessSettings(width=W, height=H, mask_ignore=7))


def test_the_cache_ignores_the_vague_pixels_with_roi_and_masks_ignore(tmp_path):
    _nuinsseg(tmp_path)
    mask = np.asarray(Image.open(tmp_path / "labels/s0.png")).copy()
    mask[0, :] = 7  # masks.ignore's value: ignored too
    Image.fromarray(mask).save(tmp_path / "labels/s0.png")
    (tmp_path / "fov").mkdir()
    for i in range(8):  # roi: the left column outside
        fov = np.full((H, W), 255, np.uint8)
        fov[:, 0] = 0
        Image.fromarray(fov).save(tmp_path / f"fov/s{i}.png")
    meta = _cache(tmp_path, roi="fov/{id}.png")
    masks = np.load(tmp_path / "cache/train_masks.npy")  # s0, s1, s2, s3
    ignored = masks == IGNORE_INDEX
    assert ignored[0].sum() == 64 + W + H - 1  # vague band, top row, left column (one shared)
    assert (ignored[:3, VAGUE[0], VAGUE[1]]).all() and ignored[0, 0].all()
    assert not ignored[3, VAGUE[0], VAGUE[1]].any()  # s3: no vague file, nothing ignored there
    assert "rois" in meta["splits"]["test"]  # roi's, for prediction; the vague files are not
    assert meta["splits"]["test"]["rois"] == [str(tmp_path / f"fov/s{i}.png") for i in (6, 7)]


def test_scores_leave_out_the_vague_pixels_hand_counted(tmp_path):
    _nuinsseg(tmp_path)
    pair = _manifest(tmp_path)["pairs"][0]
    mapping = MaskMapping((0, 255))
    wrong = _truth().copy()
    wrong[VAGUE] = 1  # all nucleus in the vague band: 32 false positives there, only there
    mapping.write(tmp_path / "pred.png", wrong)

    def scores(ignored: str | None) -> dict:
        job = ScoreJob("s0", pair["mask"], {"raw": str(tmp_path / "pred.png")}, mapping, 2,
                       None, objects=True, ignored=ignored, relaxed=1.0)
        return score_image(job)

    left_out = scores(pair["ignore_regions"])
    raw, cm = left_out["scores"]["raw"], left_out["scores"]["raw"]["confusion"]
    assert cm.sum() == H * W - 64  # 1216 pixels scored
    assert cm[1].sum() == 128 - 32  # target_px: the half nucleus inside the band left out
    assert cm[:, 1].sum() == 96 and raw["dice"][1] == pytest.approx(1.0)
    assert raw["relaxed"][1].tolist() == [96] * 4  # relaxed counts: the band's 32 px left out
    # objects: the cut nucleus scored on its remaining 32 px, matched whole (IoU 1, not 2/3)
    objects = left_out["objects"]["raw"]["1"]
    assert (objects["true"], objects["tp"], objects["iou_sum"]) == (2, 2, pytest.approx(2.0))
    before = scores(None)
    assert before["scores"]["raw"]["dice"][1] == pytest.approx(2 * 128 / (128 + 160))
    assert before["objects"]["raw"]["1"]["iou_sum"] == pytest.approx(1 + 2 / 3)


def test_the_final_choice_and_crf_tuning_leave_out_the_vague_pixels(tmp_path):
    _nuinsseg(tmp_path)
    _manifest(tmp_path)
    wrong = _truth().astype(np.float32)
    wrong[VAGUE] = 1
    (tmp_path / "val/probs").mkdir(parents=True)
    np.save(tmp_path / "val/probs/s0.npy", np.stack([1 - wrong, wrong]).astype(np.float16))
    meta = {"class_values": [0, 255], "num_classes": 2, "splits": {"val": {"ids": ["s0"]}}}
    manifest = read_json(tmp_path / "manifest.json")
    scores, *_ = score_candidates(manifest, meta, tmp_path / "val", None, None, 12, ())
    assert scores["raw"] == pytest.approx(1.0)
    raw, _ = _summed(manifest, meta, tmp_path / "val", ["s0"], [CRFParams()], 1, 1024)
    assert raw.sum() == H * W - 64 and raw[0, 1] == 0


def test_an_ignore_file_of_another_size_is_refused_naming_it_and_the_fix(tmp_path):
    _nuinsseg(tmp_path)
    Image.fromarray(np.zeros((H, W + 2), np.uint8)).save(tmp_path / "vague/s1.png")
    with pytest.raises(MaskValueError, match=rf"vague/s1.png is {W + 2}x{H}.*s1.png is {W}x{H}"
                       r".*fix dataset.<source>.ignore_regions"):
        _cache(tmp_path)


def test_unset_it_is_no_download_param():
    # the schema fills ignore_regions: '' into every source: as a param it would rerun every
    # data set made before the key existed, and all that follows
    from unet.common.schema import defaults
    from unet.dataset.json_masks import unset_tables_dropped

    settings = {**defaults("dataset", "local"), "path": "/data"}
    assert settings["ignore_regions"] == "" and "ignore_regions" not in unset_tables_dropped(
        settings)
    used = {**settings, "ignore_regions": "vague/{id}.png"}
    assert unset_tables_dropped(used)["ignore_regions"] == "vague/{id}.png"


def test_predicted_masks_keep_the_models_classes_in_the_vague_band(tmp_path):
    """A model calling every pixel nucleus: its masks say so in the band too, as they do from
    the cache of the same data without the key (a roi there would have said background)."""
    import torch

    from unet.infer.predict import PredictSettings, predict_masks
    from unet.train.settings import TrainSettings
    from unet.train.train import train_unet

    _nuinsseg(tmp_path)
    _cache(tmp_path)
    train_unet(tmp_path / "cache", tmp_path / "model.pt", tmp_path / "history.csv",
               tmp_path / "ck", {"depth": 2, "base_width": 4},
               TrainSettings(epochs=1, batch_size=2, device="cpu", deterministic=True))
    ckpt = torch.load(tmp_path / "model.pt", weights_only=True)
    ckpt["state_dict"]["head.bias"][1] = 100.0  # nucleus everywhere
    torch.save(ckpt, tmp_path / "model.pt")
    predict_masks([tmp_path / "model.pt"], tmp_path / "cache", "test", tmp_path / "with",
                  PredictSettings(device="cpu"))
    _cache(tmp_path, ignore_regions="")  # the same data, nothing ignored
    predict_masks([tmp_path / "model.pt"], tmp_path / "cache", "test", tmp_path / "without",
                  PredictSettings(device="cpu"))
    for i in ("s6", "s7"):
        mask = np.asarray(Image.open(tmp_path / f"with/masks/{i}.png"))
        assert (mask[VAGUE] == 255).all() and (mask == 255).all()
        assert (mask == np.asarray(Image.open(tmp_path / f"without/masks/{i}.png"))).all()


def test_nuinsseg_organ_folders_find_their_vague_areas(tmp_path):
    """NuInsSeg: an organ a {group} folder, with spaces in its folder names; an image's vague
    areas under the same organ, present for some images only."""
    for organ in ("human liver", "mouse kidney"):
        _nuinsseg(tmp_path / organ, n=2, without=(1,))
    settings = {"images": "{group}/tissue", "masks": "{group}/labels",
                "ignore_regions": "{group}/vague/{id}.png"}
    layout = layout_from(settings, "local")
    pairs = write_manifest(tmp_path / "manifest.json", "local", tmp_path, layout)["pairs"]
    noted = {p["id"]: p.get("ignore_regions") for p in pairs}
    assert noted == {"human liver_s0": str(tmp_path / "human liver/vague/s0.png"),
                     "human liver_s1": None,
                     "mouse kidney_s0": str(tmp_path / "mouse kidney/vague/s0.png"),
                     "mouse kidney_s1": None}
    assert tmp_path / "mouse kidney/vague/s0.png" in data_files(tmp_path, layout)
    with pytest.raises(DataLayoutError, match=r"ignore_regions.*has no \{group\}"):
        write_manifest(tmp_path / "manifest.json", "local", tmp_path,
                       layout_from({**settings, "ignore_regions": "vague/{id}.png"}, "local"))


def test_a_template_that_names_no_file_is_refused_naming_the_key_and_a_path(tmp_path):
    # a misspelt folder left every image with every pixel scored, without a word
    _nuinsseg(tmp_path)
    with pytest.raises(DataLayoutError, match=r"dataset.local.ignore_regions 'vauge/\{id\}.png'"
                       r".*no image.*vauge/s0.png.*fix"):
        _manifest(tmp_path, ignore_regions="vauge/{id}.png")
