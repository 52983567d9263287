"""Patterns given to `unet predict` (unet/infer/named.py): what a '**' pattern over a data
folder takes when the masks go into a folder below it."""

import numpy as np
from PIL import Image

from unet.infer.named import named_images


def _images(root, names) -> None:
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.full((8, 8), 9, np.uint8)).save(root / name)


def test_a_pattern_spanning_folders_leaves_out_the_masks_of_an_earlier_run(tmp_path, caplog):
    # 'data/**/*.png' -o data/pred, run again, took the masks in data/pred for images: refused
    # as images of one name ("rename one of each"), or their masks' masks predicted.
    _images(tmp_path, ["data/a.png", "data/sub/c.png", "data/pred/a.png", "data/pred/c.png",
                       "data/pred/deep/x.png"])
    (tmp_path / "data/pred/.unet-predict.jsonl").write_text("{}\n")  # an earlier run's record
    with caplog.at_level("INFO"):
        got = named_images([f"{tmp_path}/data/**/*.png"], None, str(tmp_path / "data/pred"))
    assert got == [tmp_path / "data/a.png", tmp_path / "data/sub/c.png"]
    assert "3 files in" in caplog.text and "left out" in caplog.text, caplog.text
    # the -o folder's own files, named by a pattern that reaches no other: still refused later
    assert named_images([f"{tmp_path}/data/pred/*.png"], None, str(tmp_path / "data/pred")) \
        == [tmp_path / "data/pred/a.png", tmp_path / "data/pred/c.png"]


def test_a_run_again_into_a_folder_below_the_images_predicts_only_the_images(tmp_path, capsys):
    import torch

    from tests.test_cli_folds import tiny_record
    from unet.cli import main

    torch.save(tiny_record(), tmp_path / "model.pt")
    _images(tmp_path, ["data/a.png", "data/sub/c.png"])
    args = ["predict", str(tmp_path / "model.pt"), f"{tmp_path}/data/**/*.png", "-o",
            str(tmp_path / "data/pred")]
    assert main(args) == 0
    assert main(args) == 0, capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "data/pred").glob("*.png")) == ["a.png", "c.png"]


def test_a_link_to_a_folder_above_is_named_not_walked_without_end(tmp_path):
    # glob's ** follows links to folders: 'up -> ..' and 'self -> .' in one folder made
    # 'data/**/*.png' go round both to the system's link limit, 2^40 paths: it never returned.
    import pytest

    _images(tmp_path, ["data/d/a.png", "data/e/b.png"])
    (tmp_path / "data/d/up").symlink_to("..")
    (tmp_path / "data/d/self").symlink_to(".")
    with pytest.raises(ValueError) as err:
        named_images([f"{tmp_path}/data/**/*.png"], None)
    assert f"{tmp_path}/data/d/" in str(err.value) and "loop" in str(err.value), str(err.value)
    # a link to a folder beside (not above) is walked as before, its images once each
    (tmp_path / "data/d/up").unlink()
    (tmp_path / "data/d/self").unlink()
    (tmp_path / "data/d/other").symlink_to(tmp_path / "data/e")
    assert named_images([f"{tmp_path}/data/**/*.png"], None) == [
        tmp_path / "data/d/a.png", tmp_path / "data/d/other/b.png"]


def test_links_that_loop_through_a_folder_beside_are_named_not_walked_without_end(tmp_path):
    # d/x -> ../e, d/y -> ../e and e/back -> ../d: no link points above its own folder, but
    # ** went d/x/back/y/back/... to the link limit, 2^20 folders (minutes; it seemed hung).
    import signal

    import pytest

    _images(tmp_path, ["data/d/a.png", "data/e/b.png"])
    (tmp_path / "data/d/x").symlink_to("../e")
    (tmp_path / "data/d/y").symlink_to("../e")
    (tmp_path / "data/e/back").symlink_to("../d")

    def hung(*_):
        raise TimeoutError("the pattern was still being walked after 20 s")

    signal.signal(signal.SIGALRM, hung)
    signal.alarm(20)
    try:
        with pytest.raises(ValueError) as err:
            named_images([f"{tmp_path}/data/**/*.png"], None)
    finally:
        signal.alarm(0)
    assert f"{tmp_path}/data/e/back" in str(err.value) and "loop" in str(err.value), err.value


def test_an_images_folder_as_o_is_still_refused_under_a_pattern(tmp_path, capsys):
    # 'data/**/*.png' -o data/sub, sub/ holding images of the user's own (no earlier run):
    # they were left out as 'masks', and a.png's mask written in among them.
    import torch

    from tests.test_cli_folds import tiny_record
    from unet.cli import main

    torch.save(tiny_record(), tmp_path / "model.pt")
    _images(tmp_path, ["data/a.png", "data/sub/b.png"])
    args = ["predict", str(tmp_path / "model.pt"), f"{tmp_path}/data/**/*.png", "-o",
            str(tmp_path / "data/sub")]
    assert main(args) == 2
    assert "holds the images to predict (b.png)" in capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "data/sub").iterdir()) == ["b.png"]


def test_another_runs_masks_below_the_images_are_not_taken_for_images(tmp_path, caplog):
    # `unet predict m.pt data -o data/pred_a`, then the same folder with another model into
    # data/pred_b: the warning offered pred_a's masks as images ("pred_a/ holds 2 (name them
    # all: 'data/**/*.png')"), and that pattern then refused them as images of one name.
    from unet.infer.extensions import images_below

    _images(tmp_path, ["data/a.png", "data/c.png", "data/pred_a/a.png", "data/pred_a/c.png",
                       "data/sub/d.png"])
    (tmp_path / "data/pred_a/.unet-predict.jsonl").write_text("{}\n")  # an earlier run's record
    said = images_below(tmp_path / "data", [".png"], None, tmp_path / "data/pred_b", cli=True)
    assert "pred_a" not in said and "sub/ holds 1" in said, said
    with caplog.at_level("INFO"):
        got = named_images([f"{tmp_path}/data/**/*.png"], None, str(tmp_path / "data/pred_b"))
    assert got == [tmp_path / "data/a.png", tmp_path / "data/c.png", tmp_path / "data/sub/d.png"]
    assert "pred_a" in caplog.text and "left out" in caplog.text, caplog.text
