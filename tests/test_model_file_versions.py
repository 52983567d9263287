"""Model files from elsewhere: weights saved through torch.compile or DataParallel, a newer
PyTorch's file format, a bare state dict; each works, or is one line naming the file and fix."""

from __future__ import annotations

import zipfile

import pytest
import torch

from tests.test_cli_folds import tiny_record
from unet.cli import main
from unet.model import checkpoint
from unet.model.checkpoint import CheckpointError
from unet.model.unet import UNetConfig
from unet.train.finetune import source_record, source_weights

META = {"class_values": [0, 255], "in_channels": 3, "num_classes": 2}


def _wrapped(record: dict, prefix: str, averaged: bool = False) -> dict:
    """`record` with its weights' names as a wrapper's state_dict gives them."""
    state = {prefix + k: v for k, v in record["state_dict"].items()}
    if averaged:  # torch.optim.swa_utils.AveragedModel counts its averages beside the weights
        state["n_averaged"] = torch.tensor(3)
    return {**record, "state_dict": state}


@pytest.mark.parametrize("prefix,averaged", [("_orig_mod.", False), ("module.", False),
                                             ("module._orig_mod.", False), ("module.", True)])
def test_weights_saved_through_a_wrapper_load_for_prediction_and_fine_tuning(
        prefix, averaged, tmp_path):
    # torch.compile's state_dict names every weight _orig_mod.<name>, DataParallel's (and
    # AveragedModel's) module.<name>: such a file was refused as "edited, or written by
    # another version of unet-pipeline; retrain", though its weights are the network's.
    record = tiny_record()
    checkpoint.save(tmp_path / "plain.pt", record)
    checkpoint.save(tmp_path / "wrapped.pt", _wrapped(record, prefix, averaged))
    x = torch.rand(1, 3, 16, 16)
    want = checkpoint.load_model(tmp_path / "plain.pt")[0](x)
    net, ckpt = checkpoint.load_model(tmp_path / "wrapped.pt")
    assert torch.equal(net(x), want)
    assert list(ckpt["state_dict"]) == list(record["state_dict"])
    config = UNetConfig(in_channels=3, num_classes=2, depth=1, base_width=4)
    tuned = source_record(tmp_path / "wrapped.pt", config, META)
    assert source_weights(tmp_path / "wrapped.pt", config, META, ckpt=tuned).keys() == \
        record["state_dict"].keys()


def test_a_partly_prefixed_file_is_still_refused(tmp_path):
    # only names that all carry a wrapper's prefix are its: a mix is a file that does not fit
    record = tiny_record()
    state = dict(record["state_dict"])
    first = next(iter(state))
    state["module." + first] = state.pop(first)
    checkpoint.save(tmp_path / "model.pt", {**record, "state_dict": state})
    with pytest.raises(CheckpointError, match="do not fit"):
        checkpoint.load_model(tmp_path / "model.pt")


def test_a_file_of_a_newer_pytorch_names_the_upgrade_not_a_damaged_file(tmp_path, capsys):
    # torch.load refuses a file whose zip format is newer than it reads ("Attempted to read a
    # PyTorch file with version 99"): that was called empty or cut off, "delete it and
    # retrain", of a good model trained on a machine with a newer torch.
    checkpoint.save(tmp_path / "model.pt", tiny_record())
    newer = tmp_path / "newer.pt"
    with zipfile.ZipFile(tmp_path / "model.pt") as src, \
            zipfile.ZipFile(newer, "w", zipfile.ZIP_STORED) as out:
        for item in src.infolist():
            data = src.read(item.filename)
            out.writestr(item, b"99\n" if item.filename.endswith("/version") else data)
    with pytest.raises(CheckpointError, match=r"newer\.pt.*newer PyTorch.*99.*upgrade") as err:
        checkpoint.load(newer)
    assert "retrain" not in str(err.value) and "cut off" not in str(err.value)
    assert main(["info", str(newer)]) == 2
    assert "newer PyTorch" in capsys.readouterr().err


def test_a_bare_state_dict_given_to_fine_tune_names_the_setting_and_the_fix(tmp_path):
    torch.save(tiny_record()["state_dict"], tmp_path / "weights.pth")
    config = UNetConfig(in_channels=3, num_classes=2, depth=1, base_width=4)
    with pytest.raises(CheckpointError, match=r"train\.init_from: .*weights\.pth.*bare state "
                                              r"dict.*use a model\.pt"):
        source_record(tmp_path / "weights.pth", config, META)


def test_a_model_file_of_a_newer_format_is_refused_naming_the_update(tmp_path, capsys):
    # model files carried no format number: one written by a later unet-pipeline whose keys
    # mean something else was read as if it were this version's, without a word
    record = tiny_record()
    assert record["format"] == checkpoint.MODEL_FORMAT
    checkpoint.save(tmp_path / "model.pt", {**record, "format": checkpoint.MODEL_FORMAT + 1})
    with pytest.raises(CheckpointError, match=r"model\.pt .*newer unet-pipeline.*update"):
        checkpoint.load_model(tmp_path / "model.pt")
    assert main(["info", str(tmp_path / "model.pt")]) == 2
    assert "newer unet-pipeline" in capsys.readouterr().err
    old = {k: v for k, v in record.items() if k != "format"}  # files from before the number
    checkpoint.save(tmp_path / "old.pt", old)
    assert checkpoint.load_model(tmp_path / "old.pt")[1]["epoch"] == 1
