"""The images `unet predict` is given as users give them: patterns the shell left as they were."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_cli import _new_images
from unet.cli import main
from unet.infer.resume import RECORD
from unet.train.settings import TrainSettings
from unet.train.train import train_unet


@pytest.fixture(scope="module")
def model(synthetic_cache) -> Path:
    cache = synthetic_cache("cli_in", {"count": 8, "width": 60, "height": 40, "seed": 4},
                            (48, 32))
    root = cache.parent
    train_unet(cache, root / "model.pt", root / "history.csv", root / "ck",
               {"depth": 2, "base_width": 4}, TrainSettings(epochs=1, batch_size=2, device="cpu"))
    return root / "model.pt"


def test_a_pattern_the_shell_left_is_expanded(model, tmp_path, capsys):
    # Quoted ('new/*.png'), from a script or a shell that passes a pattern on: it was refused
    # as "new/*.png: no such image file or folder" beside the very images it names.
    folder = _new_images(tmp_path / "new")
    out = tmp_path / "out"
    assert main(["predict", str(model), str(folder / "r*.png"), "-o", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir() if p.name != RECORD) == ["rgb.png", "rgba.png"]
    assert main(["predict", str(model), str(folder / "*.jpg"), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{folder / '*.jpg'}: no file matches this pattern" in err, err
