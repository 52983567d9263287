"""timm's choice of weights file in a tu-local-dir: folder, kept in one place
(unet.model.timm_files) for planning (encoder_check) and training's error (pretrained), and
checked against timm's own."""

import json

import pytest

from unet.model.unet import UNetConfig

pytest.importorskip("segmentation_models_pytorch", reason="pip install -e '.[smp]'")


def _folder(path, weights: str, data: bytes = b"not a checkpoint") -> UNetConfig:
    """A tu-local-dir: folder of a timm resnet18 config.json and one weights file `weights`."""
    (path / "config.json").write_text(json.dumps({
        "architecture": "resnet18", "num_classes": 1000,
        "pretrained_cfg": {"first_conv": "conv1", "classifier": "fc"}}))
    (path / weights).write_bytes(data)
    return UNetConfig(in_channels=3, num_classes=2, depth=3, arch="smp",
                      encoder=f"tu-local-dir:{path}", encoder_weights="imagenet")


def test_a_folder_of_a_pt_file_is_told_to_rename_it_not_to_copy_it_again(tmp_path):
    # timm never reads *.pt (it takes .safetensors, .pth, .pth.tar, .bin): a folder holding
    # only weights.pt was listed as "the pretrained weights in .../weights.pt" with "copy the
    # weights file there again", which copies the same unread file back.
    import torch

    from unet.model.build import build_model
    from unet.model.pretrained import ModelError

    buf = __import__("io").BytesIO()
    torch.save({"w": torch.zeros(1)}, buf)
    cfg = _folder(tmp_path, "weights.pt", buf.getvalue())
    with pytest.raises(ModelError) as err:
        build_model(cfg)
    message = str(err.value)
    assert "weights.pt" in message and "rename" in message
    assert "copy the weights file there again" not in message


def test_a_cut_short_pth_tar_is_named_as_the_file_timm_read(tmp_path):
    # timm reads model_best.pth.tar (a timm training run's checkpoint); the message listed
    # files by their last suffix (.tar), so said the folder had no weights file at all.
    from unet.model.build import build_model
    from unet.model.pretrained import ModelError

    cfg = _folder(tmp_path, "model_best.pth.tar")
    with pytest.raises(ModelError) as err:
        build_model(cfg)
    assert str(tmp_path / "model_best.pth.tar") in str(err.value)
    assert "no .safetensors" not in str(err.value)


@pytest.mark.parametrize("names", [
    ["weights.pt"], ["b.bin", "a.pth", "c.pth.tar"], ["x.pth.tar", "y.bin"],
    ["open_clip_pytorch_model.bin", "z.safetensors"], ["model.pth", "pytorch_model.pth"],
    ["a.safetensors", "b.safetensors"], ["optimizer.pt", "pytorch_model.bin"]])
def test_the_file_is_the_one_timm_itself_reads(tmp_path, monkeypatch, names):
    # The order is timm's (timm.models._hub.load_state_dict_from_path), mirrored so that
    # planning needs no timm: a timm that changes it fails here.
    from timm.models import _hub

    from unet.model.timm_files import weights_file

    for name in names:
        (tmp_path / name).write_text("x")
    seen = []
    monkeypatch.setattr(_hub, "load_state_dict", lambda path, **_: seen.append(path) or {})
    try:
        _hub.load_state_dict_from_path(tmp_path)
    except RuntimeError:  # "No suitable checkpoints found"
        seen.append(None)
    assert seen == [weights_file(tmp_path)]


def test_the_names_and_endings_are_timms():
    from timm.models import _hub

    from unet.model import timm_files

    if not hasattr(_hub, "_PREFERRED_FILES"):  # a timm that renamed them: the test above stands
        pytest.skip("timm keeps its preferred names elsewhere")
    assert tuple(_hub._PREFERRED_FILES) == timm_files.NAMES
    assert tuple(_hub._EXT_PRIORITY) == timm_files.SUFFIXES


def test_planning_refuses_a_folder_of_only_a_pt_file_with_the_rename(tmp_path):
    # Planning asked for .../model.safetensors (Snakemake: missing input), so a user renamed
    # weights.pt, a torch pickle, to model.safetensors, which timm then failed to read.
    from tests.test_config_checks import _refused
    from tests.test_encoder_names import _smp

    _folder(tmp_path, "weights.pt")
    err = _refused(_smp(f"tu-local-dir:{tmp_path}", "imagenet"), r"model\.encoder tu-local-dir:")
    assert "weights.pt" in err and "model.pth" in err
