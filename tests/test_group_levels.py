"""{group} over nested folders: LoveDA keeps Train/Urban/images_png/1366.png beside
Train/Urban/masks_png/1366.png, and Train/Rural, Val/Urban, Val/Rural alike, so the level
that differs between its parts is two folders deep; ids may repeat from one part to the next."""

from __future__ import annotations

from unet.dataset.layout import Layout, data_files
from unet.dataset.pairing import pair_files
from unet.dataset.split import make_split

LOVEDA = {"images": "{group}/images_png", "masks": "{group}/masks_png"}
PARTS = {"Train/Urban": ("1366", "1367"), "Train/Rural": ("1366", "0"), "Val/Urban": ("3514",),
         "Val/Rural": ("2522",)}


def _loveda(root):
    """Both domains of Train and Val, 1366 in both of Train's; a README at the top."""
    for part, ids in PARTS.items():
        for side in ("images_png", "masks_png"):
            (root / part / side).mkdir(parents=True)
            for i in ids:
                (root / part / side / f"{i}.png").write_bytes(b"")
    (root / "README.txt").write_text("LoveDA")


def test_nested_parts_pair_as_groups(tmp_path):
    # 0 folders matched '{group}/images_png' and the run stopped: {group} took one level only.
    _loveda(tmp_path)
    pairs = pair_files(tmp_path, Layout(**LOVEDA))
    assert [(i, im.relative_to(tmp_path).as_posix(), m.relative_to(tmp_path).as_posix())
            for i, im, m in pairs] == sorted(
        (f"{p.replace('/', '_')}_{i}", f"{p}/images_png/{i}.png", f"{p}/masks_png/{i}.png")
        for p, ids in PARTS.items() for i in ids)


def test_nested_parts_are_inputs_and_split_by_their_names(tmp_path):
    _loveda(tmp_path)
    names = {p.relative_to(tmp_path).as_posix() for p in data_files(tmp_path, Layout(**LOVEDA))}
    assert names == {f"{p}/{s}/{i}.png" for p, ids in PARTS.items() for i in ids
                     for s in ("images_png", "masks_png")}
    ids = [i for i, _, _ in pair_files(tmp_path, Layout(**LOVEDA))]
    split = make_split(ids, seed=0, val_fraction=0.2, test_fraction=0.25, val_ids=["Val_*"])
    assert split["val"] == ["Val_Rural_2522", "Val_Urban_3514"]
    assert sorted(split["train"] + split["test"]) == [i for i in ids if i.startswith("Train_")]


def test_one_level_wins_where_it_matches(tmp_path):
    # A folder at the first level keeps CTC's one-level groups as they were.
    _loveda(tmp_path)
    for side in ("images_png", "masks_png"):
        (tmp_path / "extra" / side).mkdir(parents=True)
        (tmp_path / "extra" / side / "9.png").write_bytes(b"")
    assert [i for i, _, _ in pair_files(tmp_path, Layout(**LOVEDA))] == ["extra_9"]


def test_nested_parts_that_one_level_hides_are_named(tmp_path, caplog):
    # extra/images_png made {group} one level and Train/Urban ... were dropped without a word:
    # a data set a quarter of its size trained on, and nothing said why
    _loveda(tmp_path)
    for side in ("images_png", "masks_png"):
        (tmp_path / "extra" / side).mkdir(parents=True)
        (tmp_path / "extra" / side / "9.png").write_bytes(b"")
    with caplog.at_level("WARNING"):
        assert [i for i, _, _ in pair_files(tmp_path, Layout(**LOVEDA))] == ["extra_9"]
    said = caplog.text
    assert "Train/Urban/images_png" in said and "Val/Rural/images_png" in said, said
    assert "extra/images_png" in said and "dataset.local.images" in said, said


def test_one_level_groups_with_subfolders_of_their_own_say_nothing(tmp_path, caplog):
    # CTC's images: '{group}' matches every folder, 01_GT/SEG among them: no part is hidden
    for folder in ("01", "01_GT/SEG", "02", "02_GT/SEG"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "t000.tif").write_bytes(b"")
    with caplog.at_level("WARNING"):
        pair_files(tmp_path, Layout(images="{group}", masks="{group}_GT/SEG"))
    assert "deeper" not in caplog.text, caplog.text
