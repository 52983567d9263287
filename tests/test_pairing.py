"""Pairing images and masks by stem; unpaired files are named in the error."""

import pytest

from unet.dataset.layout import DataLayoutError, Layout
from unet.dataset.pairing import pair_files


def _touch(folder, *names):
    folder.mkdir(parents=True, exist_ok=True)
    for n in names:
        (folder / n).write_bytes(b"")


def test_pairs_by_stem_with_suffix(tmp_path):
    _touch(tmp_path / "train", "a.jpg", "b.jpg")
    _touch(tmp_path / "train_masks", "a_mask.gif", "b_mask.gif")
    pairs = pair_files(tmp_path, Layout(images="train", masks="train_masks", mask_suffix="_mask"))
    assert [(i, im.name, m.name) for i, im, m in pairs] == [
        ("a", "a.jpg", "a_mask.gif"), ("b", "b.jpg", "b_mask.gif")]


def test_unpaired_files_are_named(tmp_path):
    _touch(tmp_path / "images", "a.png", "b.png", "lonely.png")
    _touch(tmp_path / "masks", "a.png", "b.png", "orphan.png")
    hint = r"lonely\.png.*orphan\.png.*set dataset\.local\.allow_unpaired"
    with pytest.raises(DataLayoutError, match=hint):
        pair_files(tmp_path, Layout())
    pairs = pair_files(tmp_path, Layout(allow_unpaired=True))
    assert [p[0] for p in pairs] == ["a", "b"]


def test_missing_folder_names_the_key(tmp_path):
    with pytest.raises(DataLayoutError, match="does not exist.*dataset.local"):
        pair_files(tmp_path / "nowhere", Layout())


def test_empty_folder(tmp_path):
    _touch(tmp_path / "images")
    _touch(tmp_path / "masks")
    with pytest.raises(DataLayoutError, match="no image/mask pairs"):
        pair_files(tmp_path, Layout())


def test_image_suffix_drive_layout(tmp_path):
    # DRIVE: images/21_training.tif pairs with 1st_manual/21_manual1.gif; the id is "21".
    _touch(tmp_path / "images", "21_training.tif", "22_training.tif")
    _touch(tmp_path / "1st_manual", "21_manual1.gif", "22_manual1.gif")
    layout = Layout(masks="1st_manual", image_suffix="_training", mask_suffix="_manual1")
    assert [(i, im.name, m.name) for i, im, m in pair_files(tmp_path, layout)] == [
        ("21", "21_training.tif", "21_manual1.gif"), ("22", "22_training.tif", "22_manual1.gif")]


def test_images_and_masks_in_one_folder(tmp_path):
    # Kaggle's LGG brain MRI: TCGA_x_1.tif beside TCGA_x_1_mask.tif; masks are not images.
    _touch(tmp_path / "data", "a_1.tif", "a_1_mask.tif", "a_2.tif", "a_2_mask.tif")
    layout = Layout(images="data", masks="data", mask_suffix="_mask",
                    image_extensions=(".tif",), mask_extensions=(".tif",))
    assert [(i, im.name, m.name) for i, im, m in pair_files(tmp_path, layout)] == [
        ("a_1", "a_1.tif", "a_1_mask.tif"), ("a_2", "a_2.tif", "a_2_mask.tif")]


def test_recursive_finds_files_in_subfolders(tmp_path):
    _touch(tmp_path / "kaggle_3m" / "p1", "p1_1.tif", "p1_1_mask.tif")
    _touch(tmp_path / "kaggle_3m" / "p2", "p2_1.tif", "p2_1_mask.tif", "p2_2.tif", "p2_2_mask.tif")
    layout = Layout(images="kaggle_3m", masks="kaggle_3m", mask_suffix="_mask", recursive=True)
    with pytest.raises(DataLayoutError, match="no image/mask pairs"):
        pair_files(tmp_path, Layout(images="kaggle_3m", masks="kaggle_3m", mask_suffix="_mask"))
    assert [(i, im.parent.name) for i, im, _ in pair_files(tmp_path, layout)] == [
        ("p1_1", "p1"), ("p2_1", "p2"), ("p2_2", "p2")]


@pytest.mark.parametrize(("names", "recursive"), [
    (["a/x.png", "b/x.png"], True),  # one stem in two subfolders
    (["x.png", "x.jpg"], False),  # one stem, two extensions
])
def test_two_files_for_one_id_are_refused_naming_both(tmp_path, names, recursive):
    for name in names:
        _touch(tmp_path / "images" / name.rpartition("/")[0], name.rpartition("/")[2])
    _touch(tmp_path / "masks", "x.png")
    with pytest.raises(DataLayoutError, match=r"x\.\w+ and .*x\.\w+.*same id"):
        pair_files(tmp_path, Layout(recursive=recursive))


def test_recursive_images_folder_holding_the_masks_folder(tmp_path):
    # data/a.png, data/sub/b.png with masks in data/masks/: the masks are not images.
    _touch(tmp_path / "data", "a.png")
    _touch(tmp_path / "data" / "sub", "b.png")
    _touch(tmp_path / "data" / "masks", "a.png", "b.png")
    layout = Layout(images="data", masks="data/masks", recursive=True)
    assert [(i, im.relative_to(tmp_path).as_posix()) for i, im, _ in pair_files(tmp_path, layout)] \
        == [("a", "data/a.png"), ("b", "data/sub/b.png")]


def test_files_of_an_unlisted_extension_are_named_with_the_key(tmp_path):
    # Kvasir-SEG: masks/cju0.jpg beside images/cju0.jpg; .jpg is not a default mask extension,
    # so every image looked maskless while its mask sat in masks/ under the same stem.
    _touch(tmp_path / "images", "cju0.jpg", "cju1.jpg")
    _touch(tmp_path / "masks", "cju0.jpg", "cju1.jpg", ".DS_Store")
    hint = (r"masks holds 2 files? not picked up \(\.jpg: 2\).*"
            r"dataset\.local\.mask_extensions.*masks\.threshold")
    with pytest.raises(DataLayoutError, match=hint):
        pair_files(tmp_path, Layout())
    with pytest.raises(DataLayoutError, match=r"no image/mask pairs.*\.jpg: 2"):
        pair_files(tmp_path, Layout(allow_unpaired=True))
    pairs = pair_files(tmp_path, Layout(mask_extensions=(".jpg",)))
    assert [p[0] for p in pairs] == ["cju0", "cju1"]


def test_unlisted_image_extension_is_named(tmp_path):
    _touch(tmp_path / "images", "a.webp", "b.WEBP")
    _touch(tmp_path / "masks", "a.png", "b.png")
    with pytest.raises(DataLayoutError, match=r"\.webp: 2.*dataset\.local\.image_extensions"):
        pair_files(tmp_path, Layout())


def test_shared_folder_does_not_count_the_other_sides_files_as_skipped(tmp_path):
    _touch(tmp_path / "data", "a.jpg", "a_mask.png", "b.jpg", "scan.xyz")
    layout = Layout(images="data", masks="data", mask_suffix="_mask")
    with pytest.raises(DataLayoutError) as err:
        pair_files(tmp_path, layout)
    assert "b.jpg" in str(err.value) and ".jpg:" not in str(err.value)
    assert "masks holds 1 file not picked up (.xyz: 1)" in str(err.value)


def test_one_folder_told_apart_by_extension(tmp_path):
    """MSRA10K keeps each photo and its mask in one folder as 0_0_77.jpg and 0_0_77.png: no
    suffix tells them apart, disjoint extension lists do."""
    _touch(tmp_path / "data", "a.jpg", "a.png", "b.jpg", "b.png")
    with pytest.raises(DataLayoutError, match=r"mask_extensions.*no extension in common"):
        pair_files(tmp_path, Layout(images="data", masks="data"))
    layout = Layout(images="data", masks="data", image_extensions=(".jpg",),
                    mask_extensions=(".png",))
    assert [(i, im.name, m.name) for i, im, m in pair_files(tmp_path, layout)] == [
        ("a", "a.jpg", "a.png"), ("b", "b.jpg", "b.png")]


def test_a_second_annotators_masks_taken_for_images_are_named(tmp_path):
    """CHASE_DB1: Image_01L.jpg, its mask Image_01L_1stHO.png and a second annotator's
    Image_01L_2ndHO.png in one folder; the .png among the image extensions takes it in."""
    _touch(tmp_path / "data", "Image_01L.jpg", "Image_01L_1stHO.png", "Image_01L_2ndHO.png",
           "Image_01R.jpg", "Image_01R_1stHO.png", "Image_01R_2ndHO.png")
    layout = Layout(images="data", masks="data", mask_suffix="_1stHO")
    with pytest.raises(DataLayoutError, match=r"Image_01L_2ndHO\.png beside Image_01L\.jpg.*"
                       r"image_extensions to \['\.jpg'\]"):
        pair_files(tmp_path, layout)
    narrowed = Layout(images="data", masks="data", mask_suffix="_1stHO",
                      image_extensions=(".jpg",))
    assert [i for i, _, _ in pair_files(tmp_path, narrowed)] == ["Image_01L", "Image_01R"]


def test_a_missing_folder_found_one_level_down_names_the_root(tmp_path):
    # Most archives unpack into a folder of their own (Kvasir-SEG.zip -> Kvasir-SEG/images):
    # the error said only "set dataset.url.root", not to what.
    _touch(tmp_path / "Kvasir-SEG" / "images", "a.jpg")
    _touch(tmp_path / "Kvasir-SEG" / "masks", "a.png")
    _touch(tmp_path / "__MACOSX" / "Kvasir-SEG" / "images", "._a.jpg")
    with pytest.raises(DataLayoutError, match=r"Kvasir-SEG/images.*set dataset\.url\.root: "
                       r"'Kvasir-SEG'") as err:
        pair_files(tmp_path, Layout(section="dataset.url"))
    assert "__MACOSX" not in str(err.value)
    local = f"set dataset\\.local\\.path: '{tmp_path / 'Kvasir-SEG'}'"
    with pytest.raises(DataLayoutError, match=local):
        pair_files(tmp_path, Layout())


def test_a_missing_folder_names_the_folders_there_are(tmp_path):
    # ISBI's folders are image/ and label/, not the default images/ and masks/.
    _touch(tmp_path / "image", "0.png")
    _touch(tmp_path / "label", "0.png")
    with pytest.raises(DataLayoutError, match=r"it holds the folders image, label"):
        pair_files(tmp_path, Layout())


def test_prefixes_pair_the_cell_tracking_challenge_layout(tmp_path):
    # The U-Net paper's cell data (PhC-U373, DIC-HeLa) come from the Cell Tracking Challenge:
    # 01/t000.tif ... with masks for some frames in 01_GT/SEG/man_seg002.tif. A prefix could
    # not be expressed, so no frame paired.
    _touch(tmp_path / "01", *(f"t{i:03d}.tif" for i in range(6)))
    _touch(tmp_path / "01_GT" / "SEG", "man_seg002.tif", "man_seg005.tif", "notes.tif")
    layout = Layout(images="01", masks="01_GT/SEG", image_prefix="t", mask_prefix="man_seg",
                    allow_unpaired=True)
    assert [(i, im.name, m.name) for i, im, m in pair_files(tmp_path, layout)] == [
        ("002", "t002.tif", "man_seg002.tif"), ("005", "t005.tif", "man_seg005.tif")]
    with pytest.raises(DataLayoutError, match=r"image stem = image_prefix 't' \+ id"):
        pair_files(tmp_path, Layout(images="01", masks="01_GT/SEG", image_prefix="t",
                                    mask_prefix="man_seg"))


def test_prefixes_tell_apart_files_sharing_a_folder(tmp_path):
    _touch(tmp_path / "data", "a.png", "b.png", "mask_a.png", "mask_b.png")
    layout = Layout(images="data", masks="data", mask_prefix="mask_")
    assert [(i, im.name, m.name) for i, im, m in pair_files(tmp_path, layout)] == [
        ("a", "a.png", "mask_a.png"), ("b", "b.png", "mask_b.png")]


def test_a_shared_folders_images_are_not_named_as_masks_without_the_prefix(tmp_path, caplog):
    # CVC-ColonDB keeps 1.tiff beside its mask p1.tiff: with mask_prefix p, each image was
    # also warned of as a mask that pairs with nothing (no prefix 'p'), hiding a real stray.
    _touch(tmp_path / "colon", "1.tiff", "2.tiff", "p1.tiff", "p2.tiff")
    pairs = pair_files(tmp_path / "colon", Layout(images=".", masks=".", mask_prefix="p"))
    assert [(i, im.name, m.name) for i, im, m in pairs] == [
        ("1", "1.tiff", "p1.tiff"), ("2", "2.tiff", "p2.tiff")]
    assert "pair with nothing" not in caplog.text
    # and the other way round: t1.tif images beside 1.tif masks
    _touch(tmp_path / "ctc", "t1.tif", "1.tif")
    pairs = pair_files(tmp_path / "ctc", Layout(images=".", masks=".", image_prefix="t"))
    assert [(i, im.name, m.name) for i, im, m in pairs] == [("1", "t1.tif", "1.tif")]
    assert "pair with nothing" not in caplog.text


def test_masks_saved_as_arrays_are_not_called_an_unlisted_extension(tmp_path):
    # Masks as NumPy arrays (a common export): "add the extension there" led to a decode
    # error on every file; the pipeline reads image files only.
    _touch(tmp_path / "images", "a.png", "b.png")
    _touch(tmp_path / "masks", "a.npy", "b.npy")
    with pytest.raises(DataLayoutError, match=r"\.npy: 2\).*not image files.*PNG or TIFF") as err:
        pair_files(tmp_path, Layout())
    assert "add the extension" not in str(err.value)


def test_recursive_search_follows_linked_folders(tmp_path):
    # A data set assembled from links (one per patient) lost every linked folder: Path.rglob
    # does not enter symlinked directories, so their pairs vanished without a word.
    _touch(tmp_path / "store" / "p2" / "img", "b.png")
    _touch(tmp_path / "store" / "p2" / "msk", "b.png")
    _touch(tmp_path / "data" / "images" / "p1", "a.png")
    _touch(tmp_path / "data" / "masks" / "p1", "a.png")
    (tmp_path / "data" / "images" / "p2").symlink_to(tmp_path / "store" / "p2" / "img")
    (tmp_path / "data" / "masks" / "p2").symlink_to(tmp_path / "store" / "p2" / "msk")
    (tmp_path / "data" / "images" / "p1" / "loop").symlink_to(tmp_path / "data" / "images")
    pairs = pair_files(tmp_path / "data", Layout(recursive=True))
    assert [(i, im.parent.name) for i, im, _ in pairs] == [("a", "p1"), ("b", "p2")]
