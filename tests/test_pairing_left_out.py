"""Files pairing leaves out (archives, licences, thumbnails) and missing roots: named with
the way on, never offered as images to convert."""

import pytest

from tests.test_pairing import _touch
from unet.dataset.layout import DataLayoutError, Layout
from unet.dataset.pairing import pair_files


def test_compressed_images_are_named_with_the_way_to_unpack_them(tmp_path):
    # STARE ships im0001.ppm.gz and im0001.ah.ppm.gz: the hint said "save them as PNG or TIFF".
    _touch(tmp_path / "images", "im0001.ppm.gz")
    _touch(tmp_path / "masks", "im0001.ah.ppm.gz")
    with pytest.raises(DataLayoutError, match=r"\.ppm\.gz: 1.*unpack them first .*gunzip"):
        pair_files(tmp_path, Layout(mask_suffix=".ah"))
    _touch(tmp_path / "vol" / "images", "case_01.nii.gz")
    _touch(tmp_path / "vol" / "masks", "case_01.nii.gz")
    with pytest.raises(DataLayoutError, match=r"\.nii\.gz: 1.*2-D images: export"):
        pair_files(tmp_path / "vol", Layout())


def test_a_wrong_archive_root_points_to_the_right_one(tmp_path):
    """url.root 'pkg' where the archive unpacks into pkg_v1/: the error only said the folder
    did not exist; with root '' it named pkg_v1."""
    from unet.dataset.names import missing_folder_hint

    (tmp_path / "data/pkg_v1/images").mkdir(parents=True)
    hint = missing_folder_hint(tmp_path / "data/pkg", "images", "dataset.url", "root", "pkg")
    assert hint.endswith("set dataset.url.root: 'pkg_v1'"), hint


def test_a_licence_file_is_not_offered_as_an_image_to_convert():
    """ISIC's ATTRIBUTION.txt beside the images: the error said to save it as PNG or TIFF."""
    from collections import Counter
    from pathlib import Path

    from unet.dataset.names import skipped_note

    note = skipped_note("images", Path("imgs"), Counter({".txt": 1}), "x.image_extensions",
                        (".png",))
    assert note == ""
    note = skipped_note("images", Path("imgs"), Counter({".txt": 1, ".webp": 2}),
                        "x.image_extensions", (".png",))
    assert "2 files" in note and ".txt" not in note


def test_a_local_path_that_is_an_archive_or_missing_says_so(tmp_path):
    # dataset.local.path naming a zip (or nothing) got only 'set path and images to the folder
    # that holds the images', not that the path itself is a file, or is not there.
    from unet.dataset.download import download_dataset

    (tmp_path / "set.zip").write_bytes(b"PK")
    with pytest.raises(DataLayoutError) as err:
        download_dataset(tmp_path / "r" / "manifest.json", "local",
                         {"path": str(tmp_path / "set.zip")})
    assert "dataset.local.path" in str(err.value) and "is a file, not a folder" in str(err.value)
    assert f"url: {(tmp_path / 'set.zip').as_uri()}" in str(err.value)
    for layout in ({}, {"images": "{group}"}, {"rle": {"csv": "a.csv"}}, {"masks": ["a", "b"]}):
        with pytest.raises(DataLayoutError, match=r"dataset.local.path .*nowhere does not exist"):
            download_dataset(tmp_path / "r" / "manifest.json", "local",
                             {"path": str(tmp_path / "nowhere"), **layout})


def test_windows_thumbnail_files_are_not_called_images_to_convert(tmp_path):
    """An unpaired error also said 'images holds 1 file not picked up (.db: 1) ...: save the
    images as PNG or TIFF', of the Thumbs.db that Windows leaves in image folders."""
    _touch(tmp_path / "images", "a.png", "Thumbs.db")
    _touch(tmp_path / "masks", "a.png", "b.png", "desktop.ini")
    with pytest.raises(DataLayoutError, match="masks with no image") as err:
        pair_files(tmp_path, Layout())
    assert "not picked up" not in str(err.value), err.value


def test_a_folder_of_new_images_holding_only_thumbnails_names_no_extension_to_add(tmp_path):
    # "no images ... it holds .db: 1: add the extension to the data's image_extensions"
    from unet.infer.predict_folder import list_images

    _touch(tmp_path / "new", "Thumbs.db", "scan.xyz")
    with pytest.raises(FileNotFoundError) as err:
        list_images(tmp_path / "new")
    assert ".xyz: 1" in str(err.value) and ".db" not in str(err.value), err.value
