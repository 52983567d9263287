"""Model files whose settings do not fit their weights: one line naming the file and what
disagrees, from `unet info` as from `unet predict`, never a traceback."""

from __future__ import annotations

import pytest
import torch

from tests.test_cli_folds import tiny_record
from unet.cli import main
from unet.model import checkpoint
from unet.model.checkpoint import CheckpointError


def _variants() -> dict[str, tuple[dict, str]]:
    """name -> (record, words the error must hold)."""
    extra = tiny_record()
    extra["model_config"]["attention"] = True
    deeper = tiny_record()
    deeper["model_config"]["depth"] = 2
    wider = tiny_record()
    wider["model_config"]["base_width"] = 8
    missing = tiny_record()
    missing["state_dict"].pop(next(iter(missing["state_dict"])))
    channels = tiny_record()
    channels["in_channels"] = 1
    classes = tiny_record()
    classes["num_classes"] = 3
    return {
        "extra_key": (extra, "model_config key 'attention'"),
        "deeper": (deeper, "missing"),
        "wider": (wider, "shape"),
        "missing_weight": (missing, "missing"),
        "in_channels": (channels, "in_channels 1"),
        "num_classes": (classes, "num_classes 3"),
    }


@pytest.mark.parametrize("name", list(_variants()))
def test_settings_that_do_not_fit_the_weights_are_named(name, tmp_path, capsys):
    record, words = _variants()[name]
    path = tmp_path / "model.pt"
    torch.save(record, path)
    with pytest.raises(CheckpointError, match=r"model\.pt") as err:
        checkpoint.load_model(path)
    assert words in str(err.value) and "do not fit" in str(err.value), str(err.value)
    assert main(["info", str(path)]) == 2
    out = capsys.readouterr()
    assert "model.pt" in out.err and words in out.err and "Traceback" not in out.err
    assert not out.out


def test_a_model_file_that_fits_loads(tmp_path):
    torch.save(tiny_record(), tmp_path / "model.pt")
    net, ckpt = checkpoint.load_model(tmp_path / "model.pt")
    assert net(torch.rand(1, 3, 16, 16)).shape == (1, 2, 16, 16)


def test_info_counts_parameters_not_buffers(tmp_path, capsys):
    # BatchNorm's running statistics (and smp's mean/std) were counted as parameters.
    from unet.cli import main
    from unet.model.build import build_model
    from unet.model.unet import UNetConfig

    torch.save(tiny_record(), tmp_path / "model.pt")
    net = build_model(UNetConfig(in_channels=3, num_classes=2, depth=1, base_width=4))
    params = sum(p.numel() for p in net.parameters())
    buffers = sum(b.numel() for b in net.buffers() if b.is_floating_point())
    assert buffers
    assert main(["info", str(tmp_path / "model.pt")]) == 0
    out = capsys.readouterr().out
    assert f"; {params:,} parameters" in out and f"{buffers:,} buffer values" in out, out


def test_info_names_only_the_buffers_the_network_has(tmp_path, capsys):
    # A plain UNet's buffers are BatchNorm's running statistics: "running statistics, input
    # mean/std" named smp's normalisation, which it does not have
    torch.save(tiny_record(), tmp_path / "model.pt")
    assert main(["info", str(tmp_path / "model.pt")]) == 0
    out = capsys.readouterr().out
    assert "buffer values: running statistics)" in out and "mean/std" not in out, out
