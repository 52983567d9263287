"""Several unreadable files found where every file is opened anyway: one error names them all."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.conftest import write_inputs, write_pair
from unet.cache.preprocess import preprocess
from unet.cache.settings import PreprocessSettings
from unet.common.bad_files import raise_all
from unet.common.imageio import ImageReadError
from unet.common.labels import MaskValueError
from unet.dataset.download import download_dataset


def test_every_unreadable_image_of_a_local_folder_is_named_at_once(tmp_path):
    """Images that are not images (a failed copy, an HTML error page saved as .png) stopped
    download_dataset at the first; each fix and rerun found the next."""
    for sub in ("images", "masks"):
        (tmp_path / sub).mkdir()
    for i in range(5):
        Image.fromarray(np.zeros((6, 8, 3), np.uint8)).save(tmp_path / "images" / f"a{i}.png")
        Image.fromarray(np.zeros((6, 8), np.uint8)).save(tmp_path / "masks" / f"a{i}.png")
    for i in (0, 2, 3):
        (tmp_path / "images" / f"a{i}.png").write_bytes(b"<html>not found</html>")
    settings = {"path": str(tmp_path), "images": "images", "masks": "masks"}
    with pytest.raises(ImageReadError) as err:
        download_dataset(tmp_path / "out" / "manifest.json", "local", settings)
    text = str(err.value)
    assert text.startswith("3 images cannot be read")
    assert all(f"a{i}.png" in text for i in (0, 2, 3)) and "a1.png" not in text
    assert text.count("Replace or remove") == 1
    assert not (tmp_path / "out" / "manifest.json").exists()


def test_one_error_is_raised_as_it_was_and_mixed_kinds_as_a_value_error():
    one = MaskValueError("mask a.png holds values [7]")
    with pytest.raises(MaskValueError) as err:
        raise_all([("a", one)])
    assert err.value is one
    mixed = [("b", ImageReadError("cannot read image b.png", "Replace it")), ("a", one)]
    with pytest.raises(ValueError, match=r"2 pairs cannot be cached:\n  mask a\.png") as err:
        raise_all(mixed)
    assert type(err.value) is ValueError


@pytest.mark.parametrize("processes", [1, 2])
def test_every_truncated_mask_is_named_when_values_are_detected(tmp_path, processes):
    """Without masks.values every mask is decoded to find its values: that scan stopped at
    the first truncated mask."""
    pairs = [write_pair(tmp_path, i) for i in range(5)]
    for i in (1, 2, 4):
        path = Path(pairs[i]["mask"])
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    write_inputs(tmp_path, pairs)
    with pytest.raises(ImageReadError) as err:
        preprocess(tmp_path / "manifest.json", tmp_path / "split.json", tmp_path / "cache",
                   PreprocessSettings(width=20, height=16), processes=processes)
    text = str(err.value)
    assert text.startswith("3 masks cannot be read") and "cannot read mask" in text
    assert all(f"msk{i}.png" in text for i in (1, 2, 4)) and "msk3.png" not in text
    assert text.count("Replace or remove") == 1


def test_every_image_of_another_band_count_is_named(tmp_path):
    """Multi-band TIFFs of mixed band counts named the first and one other: a rerun each."""
    import tifffile

    from tests.test_bands import _rgbir
    from tests.test_value_spaces import H, W

    _rgbir(tmp_path)
    for i, bands in ((2, 6), (5, 5), (7, 6)):
        tifffile.imwrite(tmp_path / f"img{i}.tif", np.zeros((H, W, bands), np.uint8),
                         photometric="minisblack", planarconfig="contig")
    with pytest.raises(ValueError, match=r"img0\.tif has 4 bands but 3 images do not") as err:
        preprocess(tmp_path / "manifest.json", tmp_path / "split.json", tmp_path / "cache",
                   PreprocessSettings(width=W, height=H))
    assert all(f"img{i}.tif has {b}" in str(err.value) for i, b in ((2, 6), (5, 5), (7, 6)))


def test_every_colour_mask_with_an_unlisted_colour_is_named(tmp_path):
    """masks.colors [black, red] and two masks holding green or blue besides."""
    from unet.cache.settings import settings_from_config
    from unet.common.maskio import pack_rgb

    red, black = [255, 0, 0], [0, 0, 0]
    masks = np.zeros((5, 30, 40, 3), np.uint8)
    masks[:, :10] = red
    masks[1, :3, :3], masks[4, :3, :3] = [0, 255, 0], [0, 0, 255]
    pairs = [write_pair(tmp_path, i, mask=masks[i]) for i in range(5)]
    write_inputs(tmp_path, pairs)
    settings = settings_from_config({"width": 20, "height": 16},
                                    {"values": None, "colors": [black, red], "threshold": None,
                                     "max_values": 16, "ignore": None})
    assert settings.mask_values == tuple(pack_rgb(np.array([black, red], np.uint8)).tolist())
    with pytest.raises(MaskValueError, match=r"(?s)msk1\.png holds values \[\(0, 255, 0\)\]"
                       r".*msk4\.png holds values \[\(0, 0, 255\)\]"):
        preprocess(tmp_path / "manifest.json", tmp_path / "split.json", tmp_path / "cache",
                   settings)


def test_a_shared_fix_is_not_cut_at_an_abbreviation():
    """Soft masks with the same fractional values share '(e.g. [0.5]); ...': the fix said once
    was cut at 'e.g. ', each line ending '(e.g' and the fix starting '[0.5]); masks hold'."""
    def soft(name: str) -> ImageReadError:
        return ImageReadError(f"mask {name} is a float image whose values are not whole numbers "
                              "(e.g. [0.5]); masks hold one integer value per class: save it "
                              "with class values (e.g. an 8-bit PNG of 0/255)")
    with pytest.raises(ImageReadError) as err:
        raise_all([("b.tif", soft("b.tif")), ("a.tif", soft("a.tif"))], "masks cannot be read")
    lines = str(err.value).splitlines()
    assert lines[1].endswith("a.tif is a float image whose values are not whole numbers "
                             "(e.g. [0.5])")
    assert lines[3].startswith("Masks hold one integer value per class")


def test_the_odd_band_count_is_named_when_its_image_comes_first(tmp_path):
    """One 6-band image among 4-band ones, first in the split: the error named it as the
    reference and told the user that the seven good images were the wrong ones."""
    import tifffile

    from tests.test_bands import _rgbir
    from tests.test_value_spaces import H, W

    _rgbir(tmp_path)
    tifffile.imwrite(tmp_path / "img0.tif", np.zeros((H, W, 6), np.uint8),
                     photometric="minisblack", planarconfig="contig")
    with pytest.raises(ValueError) as err:
        preprocess(tmp_path / "manifest.json", tmp_path / "split.json", tmp_path / "cache",
                   PreprocessSettings(width=W, height=H))
    text = str(err.value)
    assert "img0.tif has 6" in text and "img1.tif has 4 bands" in text
    assert not any(f"img{i}.tif has 4 bands" in text for i in range(2, 8)), text


def test_a_shared_fix_never_takes_part_of_a_file_name():
    """Files whose names end alike from a '. ' on ('1. final.png', '2. final.png'): the fix
    said once began there, each line ending '.../1' and the fix naming no file."""
    def cut_off(name: str) -> ImageReadError:
        return ImageReadError(f"cannot read mask {name}: image file is truncated",
                              "Replace or remove the file (and its image)")
    names = ["/data/1. final.png", "/data/2. final.png"]
    with pytest.raises(ImageReadError) as err:
        raise_all([(n, cut_off(n)) for n in names], "masks cannot be read")
    lines = str(err.value).splitlines()
    assert all(n in line for n, line in zip(names, lines[1:3], strict=True)), lines


def test_errors_whose_class_takes_other_arguments_are_still_raised_together():
    """raise_all rebuilt the error as kind(message): two errors of a class whose constructor
    takes other arguments (NameClash: two names and an archive; UnicodeDecodeError: five)
    raised a TypeError about the constructor instead of naming the files."""
    from unet.dataset.member_names import NameClash

    clashes = [(n, NameClash(f"{n}/a.png", f"{n}/A.png", "data.zip")) for n in ("x", "y")]
    with pytest.raises(ValueError, match=r"2 pairs cannot be cached:\n  members 'x/a\.png'"):
        raise_all(clashes)
    bad = [(n, UnicodeDecodeError("utf-8", b"\xff", 0, 1, f"in {n}")) for n in ("p", "q")]
    with pytest.raises(UnicodeError, match=r"2 names cannot be read:\n  'utf-8' codec") as err:
        raise_all(bad, "names cannot be read")
    assert "in q" in str(err.value)
    # a class whose str quotes its message (KeyError) is not used: the message stays readable
    with pytest.raises(LookupError) as err:
        raise_all([(n, KeyError(f"no {n}")) for n in ("k", "l")], "keys are missing")
    assert str(err.value).startswith("2 keys are missing:\n")


@pytest.mark.parametrize("fix, said", [
    ("masks.unlisted: ignore skips the values no class lists", "masks.unlisted: ignore"),
    ("allow_unpaired: true skips the pairs that lack a mask", "allow_unpaired: true"),
    ("`unet predict --roi` takes a template with {id}", "`unet predict"),
    ("e.g. set masks.threshold to binarise the masks", "E.g. set"),
    ("give every mask one of the listed values", "Give every"),
])
def test_a_shared_fix_starting_with_a_key_keeps_the_key_as_written(fix, said):
    errors = [(f"{n}.png", ValueError(f"{n}.png holds 7; {fix}")) for n in "ab"]
    with pytest.raises(ValueError) as caught:
        raise_all(errors, "masks cannot be read")
    assert str(caught.value).splitlines()[-1].startswith(said)  # 'Masks.unlisted' is no key
