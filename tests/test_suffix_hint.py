"""A layout whose images carry a suffix of their own that image_suffix does not name (cellpose's
000_img.png beside 000_masks.png, DRIVE's 21_training.tif): the refusal names the key to set."""

import pytest

from tests.test_pairing import _touch
from unet.dataset.layout import DataLayoutError, Layout
from unet.dataset.pairing import pair_files


def test_cellpose_folder_without_image_suffix_names_it(tmp_path):
    # The README's "one folder" row says mask_suffix; a cellpose user set only that, and every
    # file was refused as unpaired, with no word of image_suffix.
    _touch(tmp_path / "train", "000_img.png", "000_masks.png", "001_img.png", "001_masks.png",
           "010_img.png", "010_masks.png")
    layout = Layout(images="train", masks="train", mask_suffix="_masks")
    with pytest.raises(DataLayoutError, match=r"000_img\.png.*set dataset\.local\.image_suffix: "
                       r"'_img' \(the images' ids would then pair with all 3 masks\)"):
        pair_files(tmp_path, layout)
    layout = Layout(images="train", masks="train", mask_suffix="_masks", image_suffix="_img")
    assert [i for i, _, _ in pair_files(tmp_path, layout)] == ["000", "001", "010"]


def test_drive_images_without_image_suffix_name_it(tmp_path):
    _touch(tmp_path / "images", "21_training.tif", "22_training.tif")
    _touch(tmp_path / "1st_manual", "21_manual1.gif", "22_manual1.gif")
    with pytest.raises(DataLayoutError, match=r"image_suffix: '_training'"):
        pair_files(tmp_path, Layout(masks="1st_manual", mask_suffix="_manual1"))


def test_names_that_no_suffix_pairs_get_no_such_hint(tmp_path):
    _touch(tmp_path / "images", "a.png", "b.png", "lonely.png")
    _touch(tmp_path / "masks", "a.png", "b.png", "orphan.png")
    with pytest.raises(DataLayoutError) as err:
        pair_files(tmp_path, Layout())
    assert "image_suffix:" not in str(err.value)


def test_isic_superpixels_in_the_images_folder_name_image_extensions(tmp_path):
    # ISIC 2017's input folder holds ISIC_0000000_superpixels.png beside ISIC_0000000.jpg; the
    # refusal named allow_unpaired only, which would also pass over a real image left unpaired
    _touch(tmp_path / "input", "ISIC_0000000.jpg", "ISIC_0000000_superpixels.png",
           "ISIC_0000001.jpg", "ISIC_0000001_superpixels.png", "LICENSE.txt")
    _touch(tmp_path / "truth", "ISIC_0000000_segmentation.png", "ISIC_0000001_segmentation.png")
    layout = Layout(images="input", masks="truth", mask_suffix="_segmentation")
    with pytest.raises(DataLayoutError, match=r"ISIC_0000000_superpixels\.png beside "
                       r"ISIC_0000000\.jpg.*image_extensions to \['\.jpg'\]"):
        pair_files(tmp_path, layout)
    narrowed = Layout(images="input", masks="truth", mask_suffix="_segmentation",
                      image_extensions=(".jpg",))
    assert [i for i, _, _ in pair_files(tmp_path, narrowed)] == ["ISIC_0000000", "ISIC_0000001"]
