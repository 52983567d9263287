"""A folder with one bad pair of each kind gets one error naming them all, not one run each."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.conftest import write_inputs, write_pair
from tests.test_pair_places import _tiff
from unet.cache.preprocess import preprocess
from unet.cache.settings import PreprocessSettings
from unet.common.imageio import ImageReadError
from unet.dataset.download import download_dataset
from unet.dataset.layout import DataLayoutError
from unet.dataset.precheck import DIGEST, check_changed_pairs


def _cut(path: str | Path) -> None:
    """Keep the first half of the file: a copy that stopped part way."""
    path = Path(path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


@pytest.mark.parametrize("processes", [1, 2])
def test_one_preprocess_error_names_every_kind_of_bad_pair(tmp_path, processes):
    """An empty mask, a mask of another size, a mask on another tile's grid and two truncated
    PNGs (an image, a mask): the size check stopped preprocess before the place check, and
    both before the decode that named a truncated file: four runs for five files."""
    pairs = [write_pair(tmp_path, i) for i in range(8)]
    Path(pairs[1]["mask"]).write_bytes(b"")
    pairs[2] = write_pair(tmp_path, 2, mask=np.zeros((7, 9), np.uint8))
    image = np.zeros((30, 40), np.uint8)
    pairs[3]["image"] = _tiff(tmp_path / "img3.tif", image, 400000.0)
    pairs[3]["mask"] = _tiff(tmp_path / "msk3.tif", image, 400150.0)
    _cut(pairs[4]["mask"])
    _cut(pairs[6]["image"])
    write_inputs(tmp_path, pairs)
    with pytest.raises(ImageReadError) as err:
        preprocess(tmp_path / "manifest.json", tmp_path / "split.json", tmp_path / "cache",
                   PreprocessSettings(width=20, height=16), processes=processes)
    text = str(err.value)
    assert "msk1.png: it is empty" in text
    assert "msk2.png is 9x7" in text
    assert "msk3.tif at (400150" in text
    assert "msk4.png: image file is truncated" in text
    assert "img6.png: image file is truncated" in text
    assert not any(f"{name}{i}." in text for name in ("img", "msk") for i in (0, 5, 7))
    assert not (tmp_path / "cache").exists() or not list((tmp_path / "cache").iterdir())


def _persona_folder(tmp_path: Path) -> dict:
    """An empty image a1, a mask of another size a3, a truncated mask a4: the local settings."""
    for sub in ("images", "masks"):
        (tmp_path / sub).mkdir()
    rng = np.random.default_rng(0)
    for i in range(6):
        Image.fromarray(np.zeros((30, 40, 3), np.uint8)).save(tmp_path / "images" / f"a{i}.png")
        mask = rng.choice(np.array([0, 255], np.uint8), (30, 40))  # the cut falls in its pixels
        Image.fromarray(mask).save(tmp_path / "masks" / f"a{i}.png")
    (tmp_path / "images" / "a1.png").write_bytes(b"")
    Image.fromarray(np.zeros((25, 40), np.uint8)).save(tmp_path / "masks" / "a3.png")
    _cut(tmp_path / "masks" / "a4.png")
    return {"path": str(tmp_path), "images": "images", "masks": "masks"}


def _names_all_three(text: str) -> None:
    assert "images/a1.png: it is empty" in text
    assert "masks/a3.png is 40x25" in text
    assert "masks/a4.png: image file is truncated" in text


def test_one_download_error_names_the_masks_as_well_as_an_empty_image(tmp_path):
    """The persona's folder: an empty image refused download_dataset; fixed, preprocess named
    the mask of another size; fixed, the truncated mask: three runs for three files."""
    settings = _persona_folder(tmp_path)
    with pytest.raises(ImageReadError) as err:
        download_dataset(tmp_path / "out" / "manifest.json", "local", settings)
    _names_all_three(str(err.value))
    assert not (tmp_path / "out" / "manifest.json").exists()


def test_the_dag_build_check_names_the_masks_as_well(tmp_path):
    """A changed folder is checked at the DAG build (the last manifest kept): it named the
    empty image alone, so the job then found the masks, a run each."""
    settings = _persona_folder(tmp_path)
    manifest = tmp_path / "out" / "manifest.json"
    manifest.parent.mkdir()
    manifest.write_text("{}")  # the last good run's
    (manifest.parent / DIGEST).write_text("the last run's files")
    with pytest.raises(DataLayoutError) as err:
        check_changed_pairs(manifest, "changed files", "local", settings)
    _names_all_three(str(err.value))


def test_a_truncated_jpeg_image_is_named_with_a_bad_mask(tmp_path):
    """A JPEG cut short passes its header read: the mask-value pass named a damaged mask and
    stopped the run before the cache pass reached the image."""
    rng = np.random.default_rng(0)
    pairs = [write_pair(tmp_path, i) for i in range(5)]
    for i in range(5):
        pairs[i]["image"] = str(tmp_path / f"img{i}.jpg")
        Image.fromarray(rng.integers(0, 255, (30, 40, 3), np.uint8)).save(pairs[i]["image"])
    whole = tmp_path / "img0.jpg"  # bytes after its end marker: decoded, and let through
    whole.write_bytes(whole.read_bytes() + b"camera notes")
    _cut(pairs[1]["image"])
    Path(pairs[3]["mask"]).write_bytes(b"")
    write_inputs(tmp_path, pairs)
    with pytest.raises(ImageReadError) as err:
        preprocess(tmp_path / "manifest.json", tmp_path / "split.json", tmp_path / "cache",
                   PreprocessSettings(width=20, height=16))
    text = str(err.value)
    assert text.startswith("2 files cannot be read")
    assert "img1.jpg" in text and "msk3.png" in text and "img0.jpg" not in text
