"""UNet shapes, sizes and the config round trip."""

import pytest
import torch

from unet.model.unet import UNet, UNetConfig


@pytest.mark.parametrize("size", [(33, 47), (64, 64), (17, 90), (16, 16)])
@pytest.mark.parametrize("bilinear", [True, False])
def test_output_shape_matches_odd_inputs(size, bilinear):
    model = UNet(UNetConfig(in_channels=3, num_classes=2, depth=3, base_width=4, bilinear=bilinear))
    x = torch.randn(2, 3, *size)
    assert model(x).shape == (2, 2, *size)


@pytest.mark.parametrize("norm", ["batch", "instance", "group", "none"])
def test_norms_and_grey_input(norm):
    model = UNet(
        UNetConfig(in_channels=1, num_classes=4, depth=2, base_width=8, norm=norm, dropout=0.1)
    )
    assert model(torch.randn(2, 1, 20, 30)).shape == (2, 4, 20, 30)


def test_unknown_norm_names_key():
    with pytest.raises(ValueError, match="model.norm"):
        UNet(UNetConfig(in_channels=3, num_classes=2, norm="layer"))


def test_rebuilt_from_config_dict():
    cfg = UNetConfig(in_channels=1, num_classes=3, depth=2, base_width=4)
    model = UNet(cfg)
    clone = UNet(UNetConfig(**cfg.to_dict()))
    clone.load_state_dict(model.state_dict())
    x = torch.randn(1, 1, 16, 24)
    model.eval()
    clone.eval()
    assert torch.equal(model(x), clone(x))


@pytest.mark.parametrize("width", [12, 6, 20])
def test_group_norm_at_widths_not_a_multiple_of_8(width):
    """base_width 12 with norm group failed at training: GroupNorm's 8 groups must divide the
    channels (12, 24, ...)."""
    model = UNet(UNetConfig(in_channels=3, num_classes=2, depth=2, base_width=width,
                            norm="group"))
    assert model(torch.rand(2, 3, 32, 48)).shape == (2, 2, 32, 48)
    for m in model.modules():  # the most groups up to 8 that divide the channels (8 as before
        if isinstance(m, torch.nn.GroupNorm):  # where it worked, and fewer channels alone)
            c = m.num_channels
            assert m.num_groups == max(g for g in range(1, 9) if c % g == 0), c
