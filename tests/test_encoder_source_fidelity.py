"""A model file's record of a timm folder or Hub encoder rebuilds the network it was trained
as: smp chooses some encoders' feature layers by words in the name it is given ('dla',
'tresnet'), which a folder's path and the architecture's own name need not share."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from unet.model import checkpoint
from unet.model.build import build_model
from unet.model.unet import UNetConfig

pytest.importorskip("segmentation_models_pytorch", reason="pip install -e '.[smp]'")
META = {"class_values": [0, 255], "size": [32, 32], "in_channels": 3, "num_classes": 2}


def _folder(path: Path, arch: str) -> Path:
    """A timm folder naming `arch` (its config.json; no weights: encoder_weights null)."""
    path.mkdir(parents=True)
    (path / "config.json").write_text(json.dumps({"architecture": arch, "num_classes": 1000,
                                                  "pretrained_cfg": {}}))
    return path


@pytest.mark.parametrize("arch,where", [("dla34", "models/encoder"),  # smp: 'dla' not in name
                                        ("resnet18", "models/dla-runs/r18")])  # and in it
def test_a_recorded_encoder_loads_as_trained_when_smp_reads_its_name(arch, where, tmp_path,
                                                                     caplog):
    # The record rebuilt dla34 as tu-dla34, whose name smp reads as a DLA's (other feature
    # layers) though the folder's path, all smp saw when training, lacked 'dla' (and the other
    # way for a folder under dla-runs/): the file was refused as not fitting its weights, even
    # with the folder in place.
    folder = _folder(tmp_path / where, arch)
    cfg = UNetConfig(in_channels=3, num_classes=2, depth=3, arch="smp",
                     encoder=f"tu-local-dir:{folder}", encoder_weights=None)
    net = build_model(cfg).eval()
    assert net.source is None and "feature layers" in caplog.text  # training says why
    record = checkpoint.model_record(cfg.to_dict(), net.state_dict(), META, {}, 1, None,
                                     [0.5, 0.5], "h", net.source)
    checkpoint.save(tmp_path / "model.pt", record)
    rebuilt, _ = checkpoint.load_model(tmp_path / "model.pt")
    x = torch.rand(1, 3, 32, 32)
    assert torch.equal(rebuilt(x), net(x))


def test_a_record_that_rebuilds_the_network_is_kept(tmp_path):
    # a folder whose path says 'dla' as the architecture does: the record stands, no folder
    folder = _folder(tmp_path / "dla34", "dla34")
    cfg = UNetConfig(in_channels=3, num_classes=2, depth=3, arch="smp",
                     encoder=f"tu-local-dir:{folder}", encoder_weights=None)
    net = build_model(cfg).eval()
    assert net.source == {"architecture": "dla34", "model_args": {}}
    record = checkpoint.model_record(cfg.to_dict(), net.state_dict(), META, {}, 1, None,
                                     [0.5, 0.5], "h", net.source)
    checkpoint.save(tmp_path / "model.pt", record)
    folder.rename(tmp_path / "moved")
    rebuilt, _ = checkpoint.load_model(tmp_path / "model.pt")
    x = torch.rand(1, 3, 32, 32)
    assert torch.equal(rebuilt(x), net(x))


def test_a_record_written_unchecked_falls_back_to_the_folder(tmp_path):
    # model files written before the record was checked may hold one of another network:
    # they load from the folder, as training built them, while it is there
    from unet.model.pretrained import encoder_source

    folder = _folder(tmp_path / "models" / "encoder", "dla34")
    cfg = UNetConfig(in_channels=3, num_classes=2, depth=3, arch="smp",
                     encoder=f"tu-local-dir:{folder}", encoder_weights=None)
    net = build_model(cfg).eval()
    record = checkpoint.model_record(cfg.to_dict(), net.state_dict(), META, {}, 1, None,
                                     [0.5, 0.5], "h", encoder_source(cfg.encoder))
    checkpoint.save(tmp_path / "model.pt", record)
    rebuilt, ckpt = checkpoint.load_model(tmp_path / "model.pt")
    x = torch.rand(1, 3, 32, 32)
    assert torch.equal(rebuilt(x), net(x))
    # fine-tuning from it builds from the folder too, not from the record that does not fit
    from unet.train.finetune import recorded_encoder, source_record

    assert ckpt["encoder_source"] is None
    tuned = source_record(tmp_path / "model.pt", cfg, META)
    assert recorded_encoder(tuned) is None


@pytest.mark.parametrize("arch,where", [("tresnet_m", "models/encoder"),
                                        ("resnet18", "models/dla-runs/r18")])
def test_a_folder_whose_path_misleads_smp_names_the_word_and_the_fix(arch, where, tmp_path):
    # smp took a TResNet's feature layers for another network's when the folder's path lacked
    # 'tresnet', and a ResNet's at depth 5 under a 'dla' path: a bare AssertionError or
    # IndexError from inside smp at training, naming neither the folder nor the fix.
    from unet.model.pretrained import ModelError

    folder = _folder(tmp_path / where, arch)
    cfg = UNetConfig(in_channels=3, num_classes=2, depth=5, arch="smp",
                     encoder=f"tu-local-dir:{folder}", encoder_weights=None)
    word = "tresnet" if "tresnet" in arch else "dla"
    with pytest.raises(ModelError, match=rf"{folder}.*{arch}.*'{word}'.*(holds|lacks)"):
        build_model(cfg)
