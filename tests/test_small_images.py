"""Images with a side under 2**depth: the network's poolings cannot take them, so prediction
pads them as the ONNX export does (replicating the bottom and right edges), then crops."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from tests.conftest import write_inputs
from tests.test_patches import _pairs
from unet.cache.preprocess import preprocess
from unet.cache.settings import PreprocessSettings
from unet.cli import main
from unet.model import checkpoint
from unet.model.unet import UNet, UNetConfig

SIZES = [(40, 30), (33, 20), (20, 20), (3, 2), (5, 1), (1, 7)]  # (w, h); 3x2 and on: new


@pytest.fixture(scope="module")
def native(tmp_path_factory):
    """A native-size cache of SIZES and an untrained depth-2 model of it (root/model.pt)."""
    root = tmp_path_factory.mktemp("small")
    write_inputs(root, _pairs(root, SIZES))
    meta = preprocess(root / "manifest.json", root / "split.json", root / "cache",
                      PreprocessSettings(mode="native", mask_values=(0, 255)))
    config = UNetConfig(in_channels=meta["in_channels"], num_classes=2, depth=2, base_width=4)
    torch.manual_seed(0)
    net = UNet(config)
    net.head.weight.data.mul_(50.0)  # spread the probabilities: masks with both classes
    checkpoint.save(root / "model.pt", checkpoint.model_record(
        config.to_dict(), net.state_dict(), meta, {}, 1, None, [0.0, 0.0], "test"))
    return root


def _padded_mask(model, image: np.ndarray) -> np.ndarray:
    """The mask of an (h, w, 3) image padded to 4 a side as export.PaddedUNet pads it."""
    net, _ = checkpoint.load_model(model)
    h, w = image.shape[:2]
    x = torch.from_numpy(np.array(image)).permute(2, 0, 1)[None].float() / 255  # writable
    x = F.pad(x, (0, max(0, 4 - w), 0, max(0, 4 - h)), mode="replicate")
    with torch.no_grad():
        return (net(x)[0, :, :h, :w].argmax(0).numpy() * 255).astype(np.uint8)


def test_cli_predicts_images_smaller_than_the_network_takes(native, tmp_path):
    files = [native / f"i{k}.png" for k in (3, 4, 5)]
    out = tmp_path / "out"
    assert main(["predict", str(native / "model.pt"), *map(str, files), "-o", str(out),
                 "--device", "cpu", "--batch-size", "1"]) == 0
    for file in files:
        image = np.asarray(Image.open(file).convert("RGB"))
        mask = np.asarray(Image.open(out / file.name))
        assert mask.shape == image.shape[:2]
        np.testing.assert_array_equal(mask, _padded_mask(native / "model.pt", image))

