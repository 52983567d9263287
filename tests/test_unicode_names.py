"""Names that look alike but are encoded apart: macOS zips write café.png decomposed (NFD,
e + combining accent), other tools composed (NFC). Pairing compares them normalised."""

import unicodedata

from unet.dataset.layout import Layout
from unet.dataset.pairing import pair_files

NFC, NFD = unicodedata.normalize("NFC", "café"), unicodedata.normalize("NFD", "café")


def test_a_decomposed_image_name_pairs_with_its_composed_mask(tmp_path):
    assert NFC != NFD
    for folder, stem in (("images", NFD), ("masks", NFC)):
        (tmp_path / folder).mkdir()
        for name in (stem, "plain"):
            (tmp_path / folder / f"{name}.png").write_bytes(b"")
    pairs = pair_files(tmp_path, Layout())
    assert [p[0] for p in pairs] == ["café", "plain"]
    assert pairs[0][0] == NFC and pairs[0][1].name == f"{NFD}.png"


def _image(path, h=4, w=6):
    import numpy as np
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.zeros((h, w), np.uint8)).save(path)


def test_decomposed_file_names_pair_with_composed_csv_and_json_names(tmp_path):
    """Files copied from a Mac (café.png decomposed) beside a CSV of encodings or a COCO JSON
    typed composed: each was refused as both an image the CSV does not name and a CSV id
    with no image, two names that print alike (or skipped, with allow_unpaired), and the
    COCO image as missing; class folders refused café_MA.png as a mask without an image."""
    import json

    from unet.dataset.class_folders import pair_class_folders
    from unet.dataset.coco import pair_coco
    from unet.dataset.rle import pair_rle

    _image(tmp_path / "images" / f"{NFD}.png")
    (tmp_path / "m.csv").write_text(f"ImageId,EncodedPixels\n{NFC}.png,1 3\n", encoding="utf-8")
    rle = {"csv": "m.csv", "id_column": "ImageId", "rle_column": "EncodedPixels",
           "order": "columns", "absent": "unpaired"}
    pairs = pair_rle(tmp_path, Layout(images="images", rle=tuple(sorted(rle.items()))))
    assert [p[0] for p in pairs] == [NFC]
    data = {"images": [{"id": 1, "file_name": f"{NFC}.png", "width": 6, "height": 4}],
            "categories": [{"id": 1, "name": "x"}], "annotations": []}
    (tmp_path / "a.json").write_text(json.dumps(data))
    pairs = pair_coco(tmp_path, Layout(images="images", coco=(("json", "a.json"),)))
    assert [p[0] for p in pairs] == [NFC]
    _image(tmp_path / "coco" / NFD / f"{NFD}.png")  # file_name with a folder, not recursive
    data["images"][0]["file_name"] = f"{NFC}/{NFC}.png"
    (tmp_path / "a.json").write_text(json.dumps(data))
    pairs = pair_coco(tmp_path, Layout(images="coco", coco=(("json", "a.json"),)))
    assert [p[0] for p in pairs] == [NFC]
    _image(tmp_path / "MA" / f"{NFC}_MA.png")
    pairs = pair_class_folders(tmp_path, Layout(images="images", masks=("MA",),
                                                mask_suffix="_MA", mask_folders="classes"))
    assert [p[0] for p in pairs] == [NFC]


def test_a_decomposed_region_of_interest_is_found_by_its_composed_id(tmp_path):
    """Ids are composed (NFC) while a Mac's files are named decomposed: the region-of-interest
    (or band) file '{id}_roi.png' of café was looked for composed and refused as missing."""
    from unet.dataset.download import write_manifest

    _image(tmp_path / "images" / f"{NFD}.png")
    _image(tmp_path / "masks" / f"{NFC}.png")
    _image(tmp_path / "roi" / f"{NFD}_roi.png")
    manifest = write_manifest(tmp_path / "out" / "m.json", "local", tmp_path,
                              Layout(roi="roi/{id}_roi.png"))
    assert [p["id"] for p in manifest["pairs"]] == [NFC]


def test_configured_paths_resolve_across_unicode_forms(tmp_path):
    """A folder copied from a Mac is named decomposed (café) while the config has it typed
    composed, or the reverse: dataset.local.path, images, masks, an RLE CSV and a COCO JSON
    were refused as missing ("does not exist"), naming a path that prints the same as the
    folder there."""
    from unet.config.checks import check_data
    from unet.dataset.download import download_dataset
    from unet.dataset.layout import Layout, data_files, on_disk

    root = tmp_path / NFD
    for sub in (f"img_{NFD}", f"mask_{NFC}"):
        _image(root / sub / "a.png")
    settings = {"path": str(tmp_path / NFC), "images": f"img_{NFC}", "masks": f"mask_{NFD}"}
    check_data({"dataset": {"source": "local", "local": settings}, "masks": {"values": None}})
    manifest = download_dataset(tmp_path / "out" / "m.json", "local", settings)
    assert manifest["pairs"][0]["image"] == str(root / f"img_{NFD}" / "a.png")
    assert manifest["root"] == str(root)
    layout = Layout(images=f"img_{NFC}", masks=f"mask_{NFD}")
    assert len(data_files(on_disk(tmp_path / NFC), layout)) == 2
    (root / f"{NFD}.csv").write_text("ImageId,EncodedPixels\na.png,1 3\n", encoding="utf-8")
    rle = {"csv": f"{NFC}.csv", "id_column": "ImageId", "rle_column": "EncodedPixels",
           "order": "columns", "absent": "unpaired"}
    manifest = download_dataset(tmp_path / "out2" / "m.json", "local", {**settings, "rle": rle})
    assert manifest["pairs"][0]["mask_from"] == str(root / f"{NFD}.csv")


def test_a_path_matching_two_unicode_forms_is_not_guessed(tmp_path):
    """Two entries that differ only in their Unicode form: neither is picked for the other.
    The Angstrom sign and A + ring above both compose to the letter Å."""
    from unet.dataset.layout import on_disk

    (tmp_path / "x" / NFD).mkdir(parents=True)
    assert on_disk(tmp_path / "x" / NFC / "y") == tmp_path / "x" / NFD / "y"
    assert on_disk(tmp_path / "x" / "none" / NFC) == tmp_path / "x" / "none" / NFC
    for name in ("\u212b", "A\u030a"):
        (tmp_path / name).mkdir()
    assert on_disk(tmp_path / "\u00c5") == tmp_path / "\u00c5"
