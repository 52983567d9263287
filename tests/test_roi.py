"""dataset.<source>.roi: each image's region of interest (DRIVE's field-of-view masks,
mask/<id>_training_mask.gif). Pixels outside it are left out of the loss, the CRF tuning, the
final-mask choice and the metrics, as masks.ignore's are. Before, the key did not exist: the
black surround of a fundus photograph counted as easy background in every score."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.test_value_spaces import H, W, _disc
from unet.cache.preprocess import preprocess
from unet.cache.settings import PreprocessSettings
from unet.common.fileio import read_json, write_json
from unet.common.labels import IGNORE_INDEX, MaskMapping, MaskValueError
from unet.common.roi import within_roi
from unet.crf.dense import CRFParams
from unet.crf.tune import _summed
from unet.dataset.download import write_manifest
from unet.dataset.layout import DataLayoutError, data_files, layout_from
from unet.evaluate.evaluate import ScoreJob, score_image
from unet.postprocess.finalize import score_candidates

SETTINGS = {"images": "images", "image_suffix": "_training", "masks": "manual",
            "mask_suffix": "_manual1", "roi": "fov/{id}_training_mask.gif"}


def _fov() -> np.ndarray:
    """(H, W) bool: a round field of view, the corners outside."""
    yy, xx = np.mgrid[:H, :W]
    return np.hypot(yy - H / 2, xx - W / 2) < 0.45 * W


def _drive(root: Path, n: int = 8) -> None:
    """DRIVE's layout: images/21_training.png, manual/21_manual1.png, fov/21_training_mask.gif."""
    for d in ("images", "manual", "fov"):
        (root / d).mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        disc = _disc(i) > 0.5
        grey = (60 + 150 * disc + rng.normal(0, 8, disc.shape)).clip(0, 255).astype(np.uint8)
        Image.fromarray(grey).save(root / f"images/{20 + i}_training.png")
        Image.fromarray(disc.astype(np.uint8) * 255).save(root / f"manual/{20 + i}_manual1.png")
        Image.fromarray(_fov().astype(np.uint8) * 255).save(
            root / f"fov/{20 + i}_training_mask.gif")


def _manifest(root: Path, **changes) -> dict:
    return write_manifest(root / "manifest.json", "local", root,
                          layout_from({**SETTINGS, **changes}, "local"))


def test_pairs_carry_their_roi_and_its_files_are_data(tmp_path):
    _drive(tmp_path)
    pair = _manifest(tmp_path)["pairs"][0]
    assert pair["id"] == "20" and pair["roi"] == str(tmp_path / "fov/20_training_mask.gif")
    files = data_files(tmp_path, layout_from(SETTINGS, "local"))
    assert tmp_path / "fov/27_training_mask.gif" in files  # a changed ROI makes it stale


def test_a_missing_roi_is_refused_naming_it_or_skipped(tmp_path, caplog):
    _drive(tmp_path)
    (tmp_path / "fov/23_training_mask.gif").unlink()
    with pytest.raises(DataLayoutError, match="23_training_mask.gif.*dataset.local.roi"):
        _manifest(tmp_path)
    pairs = _manifest(tmp_path, allow_unpaired=True)["pairs"]
    assert [p["id"] for p in pairs] == ["20", "21", "22", "24", "25", "26", "27"]
    assert "23_training_mask.gif" in caplog.text


def test_a_template_without_id_is_refused(tmp_path):
    _drive(tmp_path)
    with pytest.raises(DataLayoutError, match=r"dataset.local.roi.*\{id\}"):
        _manifest(tmp_path, roi="fov/mask.gif")


def test_outside_the_roi_is_ignored(tmp_path):
    mask = tmp_path / "m.png"
    target = np.ones((H, W), np.uint8)
    roi = tmp_path / "roi.png"
    Image.fromarray(_fov().astype(np.uint8)).save(roi)  # 0/1: any non-zero is inside
    out = within_roi(target, str(roi), str(mask))
    assert (out[_fov()] == 1).all() and (out[~_fov()] == IGNORE_INDEX).all()
    assert within_roi(target, None, str(mask)) is target


def test_a_roi_of_another_size_is_refused_naming_both(tmp_path):
    roi = tmp_path / "roi.png"
    Image.fromarray(np.ones((H, W + 2), np.uint8)).save(roi)
    with pytest.raises(MaskValueError, match=rf"roi.png is {W + 2}x{H}.*m.png is {W}x{H}"):
        within_roi(np.ones((H, W), np.uint8), str(roi), "m.png")


def test_the_cache_ignores_pixels_outside_the_roi(tmp_path):
    _drive(tmp_path)
    manifest = _manifest(tmp_path)
    ids = [p["id"] for p in manifest["pairs"]]
    write_json(tmp_path / "split.json", {"train": ids[:4], "val": ids[4:6], "test": ids[6:]})
    preprocess(tmp_path / "manifest.json", tmp_path / "split.json", tmp_path / "cache",
               PreprocessSettings(width=W, height=H))
    masks = np.load(tmp_path / "cache/train_masks.npy")
    assert (masks[:, ~_fov()] == IGNORE_INDEX).all()
    assert set(np.unique(masks[:, _fov()])) == {0, 1}


def test_scores_leave_out_errors_outside_the_roi(tmp_path):
    _drive(tmp_path)
    pair = _manifest(tmp_path)["pairs"][0]
    mapping = MaskMapping((0, 255))
    truth = mapping.read_index(pair["mask"])
    wrong_outside = np.where(_fov(), truth, 1).astype(np.uint8)  # all vessel outside the FOV
    mapping.write(tmp_path / "pred.png", wrong_outside)
    job = ScoreJob("20", pair["mask"], {"raw": str(tmp_path / "pred.png")}, mapping, 2,
                   pair["roi"])
    assert score_image(job)["scores"]["raw"]["dice"][1] == pytest.approx(1.0)
    # The final-mask choice scores validation the same way.
    probs = np.stack([1.0 - wrong_outside, wrong_outside]).astype(np.float16)
    (tmp_path / "val/probs").mkdir(parents=True)
    np.save(tmp_path / "val/probs/20.npy", probs)
    meta = {"class_values": [0, 255], "num_classes": 2, "splits": {"val": {"ids": ["20"]}}}
    scores, *_ = score_candidates(read_json(tmp_path / "manifest.json"), meta,
                                  tmp_path / "val", None, None, 12, ())
    assert scores["raw"] == pytest.approx(1.0)
    # And so does the CRF tuning: nothing outside the field of view is counted.
    manifest = read_json(tmp_path / "manifest.json")
    raw, _ = _summed(manifest, meta, tmp_path / "val", ["20"], [CRFParams()], 1, 1024)
    assert raw.sum() == _fov().sum()


@pytest.fixture(scope="module")
def vessel_everywhere(tmp_path_factory) -> tuple[Path, list[str]]:
    """A data set with regions of interest, cached, and a model that calls every pixel vessel
    (the network never learnt the surround: ignored, so what it draws there is noise)."""
    import torch

    from unet.train.settings import TrainSettings
    from unet.train.train import train_unet

    root = tmp_path_factory.mktemp("roi")
    _drive(root)
    ids = [p["id"] for p in _manifest(root)["pairs"]]
    write_json(root / "split.json", {"train": ids[:4], "val": ids[4:6], "test": ids[6:]})
    meta = preprocess(root / "manifest.json", root / "split.json", root / "cache",
                      PreprocessSettings(width=W, height=H))
    assert meta["splits"]["test"]["rois"] == [str(root / f"fov/{i}_training_mask.gif")
                                              for i in ids[6:]]
    train_unet(root / "cache", root / "model.pt", root / "history.csv", root / "ck",
               {"depth": 2, "base_width": 4},
               TrainSettings(epochs=1, batch_size=2, device="cpu", deterministic=True))
    ckpt = torch.load(root / "model.pt", weights_only=True)
    ckpt["state_dict"]["head.bias"][1] = 100.0  # vessel everywhere
    torch.save(ckpt, root / "model.pt")
    return root, ids


def test_predicted_masks_are_background_outside_the_roi(vessel_everywhere):
    """The masks (and the probabilities the CRF refines) say background outside."""
    from unet.infer.predict import PredictSettings, predict_masks

    root, ids = vessel_everywhere
    predict_masks([root / "model.pt"], root / "cache", "test", root / "pred",
                  PredictSettings(device="cpu"))
    for i in ids[6:]:
        mask = np.asarray(Image.open(root / f"pred/masks/{i}.png"))
        assert (mask[_fov()] == 255).all() and (mask[~_fov()] == 0).all()
        probs = np.load(root / f"pred/probs/{i}.npy")
        assert (probs[0][~_fov()] == 1).all() and (probs[1][~_fov()] == 0).all()


def test_unet_predict_takes_the_new_images_rois(vessel_everywhere, tmp_path, capsys):
    from unet.cli import main

    root, _ = vessel_everywhere
    model, images = str(root / "model.pt"), str(root / "images")
    roi = str(root / "fov/{id}_mask.gif")  # image 20_training.png: fov/20_training_mask.gif
    assert main(["predict", model, images, "-o", str(tmp_path / "o"), "--roi", roi]) == 0
    for png in sorted((tmp_path / "o").glob("*.png")):
        mask = np.asarray(Image.open(png))
        assert (mask[_fov()] == 255).all() and (mask[~_fov()] == 0).all()
    assert len(list((tmp_path / "o").glob("*.png"))) == 8
    (root / "fov/22_training_mask.gif").rename(root / "fov/22.gif")
    try:
        assert main(["predict", model, images, "-o", str(tmp_path / "p"), "--roi", roi]) == 2
    finally:
        (root / "fov/22.gif").rename(root / "fov/22_training_mask.gif")
    err = capsys.readouterr().err
    assert "22_training_mask.gif" in err and "--roi" in err
    assert not (tmp_path / "p").exists() or not list((tmp_path / "p").iterdir())
    assert main(["predict", model, images, "-o", str(tmp_path / "q"), "--roi", "fov/x.gif"]) == 2
    assert "{id}" in capsys.readouterr().err


def test_roi_files_beside_the_images_are_not_predicted(vessel_everywhere, tmp_path):
    """predict_folder's roi is relative to the folder; the files it names, even beside the
    images with their extension, are regions of interest, not images to predict."""
    import shutil

    from unet.cli import main
    from unet.infer.predict import PredictSettings
    from unet.infer.predict_folder import predict_folder

    root, _ = vessel_everywhere
    folder = tmp_path / "new"
    shutil.copytree(root / "images", folder)
    for path in sorted((root / "fov").glob("*.gif")):  # 20_training_mask.gif
        Image.open(path).save(folder / path.name.replace(".gif", ".png"))
    n = predict_folder([root / "model.pt"], folder, tmp_path / "o", PredictSettings(device="cpu"),
                       roi="{id}_mask.png")
    assert n == 8 and len(list((tmp_path / "o").glob("*.png"))) == 8
    for png in sorted((tmp_path / "o").glob("*.png")):
        mask = np.asarray(Image.open(png))
        assert (mask[_fov()] == 255).all() and (mask[~_fov()] == 0).all()
    # unet predict: --roi is a path of its own; the folder's files it names are not predicted
    assert main(["predict", str(root / "model.pt"), str(folder), "-o", str(tmp_path / "c"),
                 "--roi", str(folder / "{id}_mask.png"), "--device", "cpu"]) == 0
    assert sorted(p.name for p in (tmp_path / "c").glob("*.png")) == sorted(
        p.name for p in (tmp_path / "o").glob("*.png"))


def test_the_cache_without_rois_has_no_roi_list(tmp_path):
    _drive(tmp_path)
    manifest = _manifest(tmp_path, roi="")
    ids = [p["id"] for p in manifest["pairs"]]
    write_json(tmp_path / "split.json", {"train": ids[:4], "val": ids[4:6], "test": ids[6:]})
    meta = preprocess(tmp_path / "manifest.json", tmp_path / "split.json", tmp_path / "cache",
                      PreprocessSettings(width=W, height=H))
    assert "rois" not in meta["splits"]["test"]  # unchanged meta: nothing reruns


def test_overlays_show_outside_the_roi_as_not_scored(tmp_path):
    from unet.report.figures import IGNORED_COLOUR, _painted, class_colours, class_layer

    _drive(tmp_path)
    pair = _manifest(tmp_path)["pairs"][0]
    mapping = MaskMapping((0, 255))
    layer = class_layer(pair["mask"], mapping, pair["roi"])
    rgba = _painted(layer, class_colours(mapping))
    assert np.allclose(rgba[~_fov(), :3], IGNORED_COLOUR) and (rgba[~_fov(), 3] > 0).all()
    assert (rgba[_fov(), 3][layer.data[_fov()] == 0] == 0).all()  # background: unpainted


def test_predicting_without_rois_with_a_model_that_had_them_warns(vessel_everywhere, tmp_path,
                                                                   caplog):
    from unet.infer.predict import PredictSettings
    from unet.infer.predict_folder import predict_folder

    root, _ = vessel_everywhere
    n = predict_folder([root / "model.pt"], root / "images", tmp_path / "o",
                       PredictSettings(device="cpu"))
    assert n == 8 and "regions of interest" in caplog.text and "--roi" in caplog.text


def test_info_says_the_model_learnt_within_rois(vessel_everywhere, capsys):
    from unet.cli import main

    root, _ = vessel_everywhere
    assert main(["info", str(root / "model.pt")]) == 0
    assert "roi        learnt within regions of interest only" in capsys.readouterr().out


def test_new_images_rois_of_the_wrong_size_or_missing_are_named_by_their_setting(
        vessel_everywhere, tmp_path):
    """A region of interest of another size was named as "its mask" (itself twice), and only
    once its image was being written; the rule's missing-file error named a --roi flag that
    the rule does not have."""
    import shutil

    from unet.infer.predict import PredictSettings
    from unet.infer.predict_folder import predict_folder

    root, _ = vessel_everywhere
    folder = tmp_path / "new"
    shutil.copytree(root / "images", folder)
    (folder / "fov").mkdir()
    for path in sorted(folder.glob("*.png")):
        Image.fromarray(_fov().astype(np.uint8) * 255).save(folder / f"fov/{path.stem}.png")
    Image.fromarray(np.ones((H, W + 3), np.uint8)).save(folder / "fov/23_training.png")
    with pytest.raises(MaskValueError, match=rf"23_training.png is {W + 3}x{H}.*image "
                                             rf".*new/23_training.png is {W}x{H}"):
        predict_folder([root / "model.pt"], folder, tmp_path / "o",
                       PredictSettings(device="cpu"), roi="fov/{id}.png")
    assert not list((tmp_path / "o").glob("*.png")) if (tmp_path / "o").exists() else True
    (folder / "fov/23_training.png").unlink()
    with pytest.raises(ValueError, match=r"^predict.roi .*fov/\{id\}.png: .*23_training.png"):
        predict_folder([root / "model.pt"], folder, tmp_path / "o",
                       PredictSettings(device="cpu"), roi="fov/{id}.png")
