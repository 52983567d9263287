"""Torch files of other kinds given as a model: each refused naming the file and what it is."""

from __future__ import annotations

import gzip
import os
import pickle
import re
import warnings
import zipfile
from pathlib import Path

import pytest
import torch

from unet.model import checkpoint
from unet.model.checkpoint import CheckpointError
from unet.model.unet import UNet, UNetConfig


def _net() -> UNet:
    return UNet(UNetConfig(in_channels=3, num_classes=2, depth=2, base_width=4)).eval()


def _load_quietly(path: Path) -> CheckpointError:
    """The refusal of `checkpoint.load_model`, failing on any warning torch printed on the way."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(CheckpointError) as err:
            checkpoint.load_model(path)
    return err.value


@pytest.mark.parametrize("how", ["script", "trace"])
def test_a_torchscript_file_is_named_as_one_not_as_a_damaged_file(tmp_path, how):
    # torch.jit.save's archive read "not a readable torch file (RuntimeError: Cannot use
    # ``weights_only=True`` with TorchScript archives ...): it is empty, cut off, or not
    # written by torch.save. Copy it again", after torch's warning that it was "dispatching
    # to 'torch.jit.load'": neither copying again nor retraining helps
    net, path = _net(), tmp_path / "model.pt"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.jit's deprecation notice
        jit = torch.jit.script(net) if how == "script" else torch.jit.trace(
            net, torch.rand(1, 3, 32, 32))
    jit.save(str(path))
    message = str(_load_quietly(path))
    assert message.startswith(f"{path} is a TorchScript archive"), message
    assert "cut off" not in message and "Copy it again" not in message
    assert "model.pt" in message and "code" in message


class SystemPayload:
    """Unpickling this runs `os.system`: the classic payload."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_a_pickle_dump_that_calls_code_is_named_as_code(tmp_path, protocol):
    # pickle.dump (not torch.save) of an os.system payload read "not a readable torch file
    # (the safe unpickler refused it): it is empty, cut off ..." for protocols 4 and 5, after
    # torch's warning about the protocol; it must read as code that would run, and not run
    marker, path = tmp_path / "pwned", tmp_path / "model.pt"
    with open(path, "wb") as f:
        pickle.dump({"state_dict": SystemPayload(marker)}, f, protocol=protocol)
    message = str(_load_quietly(path))
    assert message.startswith(f"{path} is not a plain-data checkpoint"), message
    assert "system" in message and "would execute code" in message
    assert "cut off" not in message
    assert not marker.exists()


def test_a_pickle_dump_of_plain_data_says_pickle_dump(tmp_path):
    # A dict of lists pickled with pickle.dump (protocol 4, Python's default) is no torch file;
    # it read "empty, cut off": it is whole, written by another tool
    path = tmp_path / "weights.pt"
    with open(path, "wb") as f:
        pickle.dump({"weights": [1.0, 2.0]}, f)
    message = str(_load_quietly(path))
    assert message.startswith(f"{path} is a Python pickle (pickle.dump"), message
    assert "cut off" not in message and "torch.save" in message


@pytest.mark.parametrize(("members", "says"), [
    ({"readme.txt": "hello", "data/a.csv": "1,2"}, r"a zip archive of 2 files \(readme\.txt, "
                                                   r"data/a\.csv\), not a torch\.save file"),
    ({"model.pt": "x"}, r"a zip archive of 1 file \(model\.pt\).*unzip it"),
])
def test_a_zip_of_something_else_says_what_it_holds(tmp_path, members, says):
    # A zip named .pt read "not a readable torch file (RuntimeError: [enforce fail at
    # inline_container.cc:180] ): it is empty, cut off ... Copy it again": it is whole
    path = tmp_path / "model.pt"
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    message = str(_load_quietly(path))
    assert re.match(rf"{re.escape(str(path))} is {says}", message), message
    assert "cut off" not in message and "inline_container" not in message


def test_a_safetensors_file_named_pt_says_so(tmp_path):
    # smp's save_pretrained and Hugging Face write model.safetensors; renamed .pt it read "not a
    # readable torch file (the safe unpickler refused it): it is empty, cut off ..."
    save_file = pytest.importorskip("safetensors.torch").save_file
    path = tmp_path / "model.pt"
    save_file(_net().state_dict(), str(path))
    message = str(_load_quietly(path))
    assert message.startswith(f"{path} is a safetensors file of "), message
    assert "network settings" in message and "cut off" not in message


@pytest.mark.parametrize("content", [b"epoch,loss\n1,0.5\n", b"abc\n", b"G" + bytes(7)])
def test_bytes_that_crash_torchs_unpickler_are_refused_named(tmp_path, content):
    # history.csv (a text beginning with "a" or "e", pickle's APPEND opcodes) given as a model
    # raised a bare IndexError ("pop from empty list") traceback, and 8 bytes after "G" a
    # struct.error: neither named the file
    path = tmp_path / "model.pt"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match=rf"{re.escape(str(path))} is not a readable"):
        checkpoint.load_model(path)


@pytest.mark.parametrize(("text", "says"), [
    ("version https://git-lfs.github.com/spec/v1\noid sha256:4d7a\nsize 1234\n",
     r"a Git LFS pointer.*git lfs pull"),
    ("<!DOCTYPE html>\n<html><head><title>Virus scan warning</title></head></html>\n",
     r"a web page \(HTML\).*download"),
    ("epoch,loss\n1,0.5\n", r"a text file \(it begins 'epoch,loss'\)"),
])
def test_a_text_file_in_place_of_a_model_says_what_it_is(tmp_path, text, says):
    # A clone without Git LFS leaves a pointer; a download behind a login or a virus-scan notice
    # saves the page. Both read "not a readable torch file (the safe unpickler refused it): it
    # is empty, cut off ... Copy it again", which fetches the same text again
    path = tmp_path / "model.pt"
    path.write_text(text)
    message = str(_load_quietly(path))
    assert re.match(rf"{re.escape(str(path))} is not a readable torch file: it is {says}",
                    message), message
    assert "cut off" not in message


def test_a_gzipped_model_file_says_to_unpack_it(tmp_path):
    path = tmp_path / "model.pt"
    torch.save({"w": torch.zeros(2)}, tmp_path / "plain.pt")
    path.write_bytes(gzip.compress((tmp_path / "plain.pt").read_bytes()))
    message = str(_load_quietly(path))
    assert message.startswith(f"{path} is not a readable torch file: it is gzip-compressed")
    assert "gunzip" in message and "cut off" not in message


def _onnx_bytes() -> bytes:
    pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 4, 4])
    y = helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 3, 4, 4])
    graph = helper.make_graph([helper.make_node("Identity", ["image"], ["logits"])], "g", [x], [y])
    return helper.make_model(graph, producer_name="pytorch").SerializeToString()


@pytest.mark.parametrize(("kind", "says"), [
    ("PNG", "a PNG image"), ("JPEG", "a JPEG image"), ("TIFF", "a TIFF image"),
    ("onnx", "an ONNX model"),
])
def test_an_image_or_onnx_file_given_as_the_model_says_so(tmp_path, kind, says):
    # `unet predict new.png model.pt -o masks` (arguments swapped) or `unet info model.onnx`
    # read "not a readable torch file (the safe unpickler refused it): it is empty, cut off,
    # or not written by torch.save. Copy it again, or delete it and retrain": advice to delete
    # the user's image or export
    path = tmp_path / ("model.onnx" if kind == "onnx" else f"x.{kind.lower()}")
    if kind == "onnx":
        path.write_bytes(_onnx_bytes())
    else:
        from PIL import Image

        Image.new("RGB", (8, 8), (1, 2, 3)).save(path, kind)
    message = str(_load_quietly(path))
    assert re.match(rf"{re.escape(str(path))} is not a readable torch file: it is {says}",
                    message), message
    assert "cut off" not in message and "delete" not in message
    assert "model.pt" in message
