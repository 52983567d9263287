"""A data or new-images folder holding a link to a file that is gone (an unmounted drive, a
moved folder, git-annex or DataLad content not fetched) is refused, naming the link."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from tests.test_cli_args import model  # noqa: F401  (the module's model fixture)
from unet.cli import main
from unet.dataset.layout import DataLayoutError, Layout
from unet.dataset.pairing import pair_files


def _pairs(root, names):
    for side in ("images", "masks"):
        (root / side).mkdir(parents=True)
        for n in names:
            Image.fromarray(np.zeros((8, 8), np.uint8)).save(root / side / n)


@pytest.mark.parametrize("recursive", [False, True])
def test_a_link_to_a_missing_image_is_named_not_called_unpaired(tmp_path, recursive):
    """The image was passed over as if absent: 'masks with no image: b.png', though
    images/b.png is there, a link whose target is gone; with allow_unpaired the pair was
    silently dropped."""
    _pairs(tmp_path, ["a.png", "b.png"])
    (tmp_path / "images" / "b.png").unlink()
    (tmp_path / "images" / "b.png").symlink_to(tmp_path / "annex" / "b.png")
    for allow in (False, True):
        with pytest.raises(DataLayoutError) as err:
            pair_files(tmp_path, Layout(recursive=recursive, allow_unpaired=allow))
        text = str(err.value)
        assert "images/b.png" in text and "annex/b.png" in text and "does not exist" in text
        assert "no image" not in text


def test_a_link_to_a_missing_new_image_is_refused_not_skipped(model, tmp_path, capsys):  # noqa: F811
    """`unet predict` wrote '1 masks written' for a folder of a.png and a dangling b.png."""
    folder = tmp_path / "new"
    folder.mkdir()
    Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(folder / "a.png")
    (folder / "b.png").symlink_to(tmp_path / "gone.png")
    code = main(["predict", str(model), str(folder), "-o", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and "b.png" in err and "gone.png" in err, err
    assert not (tmp_path / "out").exists()
