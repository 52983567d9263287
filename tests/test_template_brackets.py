"""'[' and ']' in the literal parts of path templates (masks with {id}, band_files, roi,
{group} images) name themselves: they were read as glob character classes, so the files
were not found, or other files were taken."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from unet.dataset.groups import find_groups
from unet.dataset.layout import Layout, data_files
from unet.dataset.pairing import pair_files
from unet.dataset.per_id import names_one


def _png(path: Path, value: int = 0) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((8, 8), value, np.uint8)).save(path)


def test_wildcard_escapes_all_but_the_fields():
    from unet.dataset.layout import wildcard

    assert wildcard("a [1]/{id}_m[x].png", "{id}") == "a [[]1]/*_m[[]x].png"
    assert wildcard("{group}/img", "{id}", "{group}") == "*/img"


def test_mask_folders_under_a_bracketed_folder_pair_each_image(tmp_path):
    # The masks folders went unmatched, so every mask was taken for an image: "m.png and
    # m.png would have the same id".
    for pid in ("img[1]", "img1", "b"):
        _png(tmp_path / f"st [1]/{pid}/images/{pid}.png")
        _png(tmp_path / f"st [1]/{pid}/masks/m.png", 255)
    layout = Layout(images="st [1]", masks="st [1]/{id}/masks", recursive=True)
    pairs = pair_files(tmp_path, layout)
    assert [(p, i.name, [m.name for m in ms]) for p, i, ms in pairs] == [
        ("b", "b.png", ["m.png"]), ("img1", "img1.png", ["m.png"]),
        ("img[1]", "img[1].png", ["m.png"])]
    listed = data_files(tmp_path, layout)
    assert {p.parent.parent.name for p in listed if p.name == "m.png"} == {"img[1]", "img1", "b"}


def test_bracketed_band_and_roi_templates_list_their_files(tmp_path):
    # A local folder's band files and regions of interest are download_dataset's inputs:
    # none was listed, so changing one reran nothing.
    for pid in ("x[1]", "x1"):
        _png(tmp_path / f"img/{pid}.png")
        _png(tmp_path / f"msk/{pid}.png", 255)
        _png(tmp_path / f"nir [b]/n_{pid}.png", 7)
        _png(tmp_path / f"roi[a]/{pid}.png", 255)
    layout = Layout(images="img", masks="msk", band_files=("nir [b]/n_{id}.png",),
                    roi="roi[a]/{id}.png")
    listed = {p.relative_to(tmp_path).as_posix() for p in data_files(tmp_path, layout)}
    assert {"nir [b]/n_x[1].png", "nir [b]/n_x1.png", "roi[a]/x[1].png", "roi[a]/x1.png"} <= listed


def test_a_region_of_interest_in_a_bracketed_folder_is_not_an_image(tmp_path):
    assert names_one(tmp_path / "roi[a]/x1.png", tmp_path, "roi[a]/{id}.png")
    assert not names_one(tmp_path / "roia/x1.png", tmp_path, "roi[a]/{id}.png")


def test_bracketed_group_folders_are_found(tmp_path):
    for group in ("p[1]", "p2"):
        _png(tmp_path / f"scans [v2]/{group}/img/a.png")
        _png(tmp_path / f"scans [v2]/{group}/msk/a.png", 255)
    layout = Layout(images="scans [v2]/{group}/img", masks="scans [v2]/{group}/msk")
    assert find_groups(tmp_path, layout)[0] == ["p2", "p[1]"]
