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
