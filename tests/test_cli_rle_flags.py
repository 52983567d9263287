"""`unet predict`'s --rle-* options without --rle: refused before any work, each one named."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from tests.test_cli_folds import tiny_record
from unet.cli import main


@pytest.mark.parametrize("flag", [["--rle-order", "rows"], ["--rle-order", "columns"],
                                  ["--rle-id", "name"], ["--rle-id", "stem"], ["--rle-objects"],
                                  ["--rle-starts", "relative"], ["--rle-empty", "-1"],
                                  ["--rle-id-path", "(s.*)"], ["--rle-class", "name"]])
def test_an_rle_option_without_rle_is_refused_naming_it(tmp_path, capsys, flag):
    # `--rle-order rows` (or an explicit `--rle-id name`) without --rle was taken and ignored:
    # the user believed the rows were set, and no CSV came; --rle-id stem alone was refused
    torch.save(tiny_record(), tmp_path / "model.pt")
    (tmp_path / "in").mkdir()
    Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(tmp_path / "in" / "a.png")
    out = tmp_path / "out"
    argv = ["predict", str(tmp_path / "model.pt"), str(tmp_path / "in"), "-o", str(out), *flag]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"{flag[0]} shapes the rows of --rle" in err and "give --rle FILE.csv" in err, err
    assert not out.exists()
