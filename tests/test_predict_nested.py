"""A folder of new images in subfolders (a folder per study and series, as SIIM-ACR's test set
and hospital exports come): with predict.recursive the masks mirror the subfolders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.test_predict_resume import _model
from unet.dataset.per_id import new_images
from unet.infer.predict import PredictSettings
from unet.infer.predict_folder import predict_folder


def _image(path: Path, seed: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 255, (20, 30, 3), np.uint8)).save(path)
    return path


def _nested(root: Path) -> Path:
    """Two img.png in two series, one image at the top, and a hidden folder's copy."""
    for k, rel in enumerate(["s1/a/img.png", "s2/b/img.png", "top.png", ".trash/old.png"]):
        _image(root / rel, k)
    return root


def _run(model: Path, folder: Path, out: Path, **kw) -> int:
    return predict_folder([model], folder, out, PredictSettings(device="cpu"), recursive=True,
                          extensions=[".png"], **kw)


def _masks(out: Path) -> list[str]:
    return sorted(p.relative_to(out).as_posix() for p in out.rglob("*.png"))


def test_nested_masks_mirror_the_subfolders(tmp_path):
    """Two img.png in two subfolders each get their own mask; a hidden folder is skipped."""
    model, folder = _model(tmp_path / "m.pt"), _nested(tmp_path / "new")
    out = tmp_path / "out"
    assert _run(model, folder, out) == 3
    assert _masks(out) == ["s1/a/img.png", "s2/b/img.png", "top.png"]
    for mask in _masks(out):
        assert Image.open(out / mask).size == (30, 20)


def test_one_image_added_in_a_subfolder_is_all_a_rerun_predicts(tmp_path):
    model, folder = _model(tmp_path / "m.pt"), _nested(tmp_path / "new")
    out = tmp_path / "out"
    _run(model, folder, out)
    before = {m: (out / m).stat().st_mtime_ns for m in _masks(out)}
    assert _run(model, folder, out) == 0
    _image(folder / "s2/b/more.png", 9)
    assert _run(model, folder, out) == 1
    after = {m: (out / m).stat().st_mtime_ns for m in _masks(out)}
    assert after.pop("s2/b/more.png") and after == before


def test_nested_regions_of_interest_mirror_the_images(tmp_path):
    """{id} is the image's path in the folder less its extension: fov/s1/a/img.png."""
    model, folder = _model(tmp_path / "m.pt"), _nested(tmp_path / "new")
    for rel in ["s1/a/img", "s2/b/img", "top"]:
        _image(folder / f"fov/{rel}.png").parent.mkdir(exist_ok=True)
        Image.fromarray(np.zeros((20, 30), np.uint8)).save(folder / f"fov/{rel}.png")
    out = tmp_path / "out"
    assert _run(model, folder, out, roi="fov/{id}.png") == 3
    assert _masks(out) == ["s1/a/img.png", "s2/b/img.png", "top.png"]
    assert not np.asarray(Image.open(out / "s1/a/img.png")).any()  # all outside its region
    listed = new_images(folder, [".png"], "fov/{id}.png", recursive=True)
    assert [p.relative_to(folder).as_posix() for p in listed] == [
        "s1/a/img.png", "s2/b/img.png", "top.png", "fov/s1/a/img.png", "fov/s2/b/img.png",
        "fov/top.png"]


def test_without_recursive_the_error_names_the_key(tmp_path):
    model, folder = _model(tmp_path / "m.pt"), tmp_path / "new"
    _image(folder / "study/series/1.2.3.png")
    with pytest.raises(FileNotFoundError, match=r"predict\.recursive: true"):
        predict_folder([model], folder, tmp_path / "out", PredictSettings(device="cpu"),
                       extensions=[".png"])


def test_masks_of_other_images_in_the_mirrored_subfolders_are_named(tmp_path, caplog):
    """With recursive the masks are paths under out; an earlier run's left beside them (in a
    subfolder, or a top-level img.png of no top-level image) went unnamed: only top-level names
    were compared, with the images' stems."""
    model, folder = _model(tmp_path / "m.pt"), _nested(tmp_path / "new")
    out = tmp_path / "out"
    _run(model, folder, out)
    for stale in ("img.png", "s3/x.png"):
        _image(out / stale, 5)
    caplog.set_level("INFO", logger="unet.infer.input_checks")
    _run(model, folder, out)
    said = [r.getMessage() for r in caplog.records if "already holds" in r.getMessage()]
    assert len(said) == 1 and "2 masks of other images (img.png, s3/x.png)" in said[0], said
    for stale in ("img.png", "s3/x.png"):
        (out / stale).unlink()
    caplog.clear()
    _run(model, folder, out)
    assert not [r for r in caplog.records if "already holds" in r.getMessage()]
