"""model.pt records the device and autocast dtype its training computed in: `unet info` and the
ONNX metadata say it in one line; an older file reads as its settings allow, as before."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from tests.test_train import BF16_CPU, _train, cache  # noqa: F401 (the fixture)
from unet.model import checkpoint
from unet.model.describe import describe_model


def _said(path) -> str:
    lines = {line[:10].strip(): line[11:] for line in describe_model(path).splitlines()}
    return lines["precision"]


@pytest.mark.skipif(not BF16_CPU, reason="this CPU has no bf16 support in oneDNN")
def test_a_bf16_cpu_training_records_bfloat16(cache, tmp_path):  # noqa: F811
    # With train.device auto, `unet info` could only list CUDA's and the CPU's possibilities:
    # a deployer comparing a float32 ONNX export with the workflow's masks could not tell
    # which precision the weights were learnt in.
    best = _train(cache, tmp_path, epochs=1, device="auto", amp_cpu=True)
    assert best["trained_precision"] == [{"device": "cpu", "dtype": "bfloat16", "from_epoch": 1}]
    said = _said(tmp_path / "model.pt")
    assert said.endswith("; trained on the CPU in bf16 autocast"), said
    assert "on CUDA in" not in said.split("; ")[-1], said


def test_a_float32_training_records_float32_and_an_older_file_reads_as_before(
        cache, tmp_path):  # noqa: F811
    _train(cache, tmp_path, epochs=1, device="auto", amp_cpu=False)
    record = checkpoint.load(tmp_path / "model.pt")
    assert record["trained_precision"] == [{"device": "cpu", "dtype": None, "from_epoch": 1}]
    assert _said(tmp_path / "model.pt").endswith("; trained on the CPU in float32")
    del record["trained_precision"]  # a model.pt of an older version: unknown, as said before
    checkpoint.save(tmp_path / "old.pt", record)
    said = _said(tmp_path / "old.pt")
    assert said.endswith("trained with device auto: on CUDA in bf16 autocast (fp16 before "
                         "compute capability 8.0), on the CPU in float32"), said


def _run(device: str, dtype) -> SimpleNamespace:
    return SimpleNamespace(device=torch.device(device), dtype=dtype)


def test_a_resumed_run_on_another_gpu_records_both_precisions():
    # A last.pt of bf16 epochs resumed on a GPU before compute capability 8.0 goes on in fp16
    # (precision.keep_autocast warns): both are recorded, with the epochs each computed.
    from unet.model.trained_precision import in_words
    from unet.train.precision import note_precision

    state = {"epoch": 0}
    note_precision(_run("cuda", torch.bfloat16), state)
    state["epoch"] = 3
    note_precision(_run("cuda", torch.bfloat16), state)  # resumed on the same kind: one span
    note_precision(_run("cuda", torch.float16), state)
    assert state["precision"] == [{"device": "cuda", "dtype": "bfloat16", "from_epoch": 1},
                                  {"device": "cuda", "dtype": "float16", "from_epoch": 4}]
    said = in_words({"trained_precision": state["precision"], "epoch": 6})
    assert said == ("trained on CUDA in bf16 autocast (epochs 1-3), then on CUDA in fp16 "
                    "autocast (epochs 4-6)"), said
    # the kept epoch before the switch: its weights never saw fp16
    assert in_words({"trained_precision": state["precision"], "epoch": 2}) == \
        "trained on CUDA in bf16 autocast"
    # a resumption that trained no epoch before the next one leaves no span behind
    note_precision(_run("cuda", torch.bfloat16), state)
    assert state["precision"][-1] == {"device": "cuda", "dtype": "bfloat16", "from_epoch": 1}
    assert len(state["precision"]) == 1
    assert in_words({"epoch": 3}) is None  # an older file: unknown


def test_the_onnx_metadata_says_the_trained_precision(tmp_path):
    # The export computes in float32; its user comparing masks needs the training's precision.
    pytest.importorskip("onnxscript", reason="pip install -e '.[onnx]'")
    from tests.test_export import _session
    from unet.model.export import export_onnx
    from unet.model.unet import UNet, UNetConfig

    config = UNetConfig(in_channels=3, num_classes=2, depth=2, base_width=4)
    meta = {"class_values": [0, 255], "size": [32, 32], "in_channels": 3, "num_classes": 2}
    record = checkpoint.model_record(config.to_dict(), UNet(config).state_dict(), meta,
                                     {"device": "auto", "amp": True, "amp_cpu": "auto"}, 1,
                                     None, [0.5, 0.5], "h")
    checkpoint.save(tmp_path / "old.pt", record)
    record["trained_precision"] = [{"device": "cpu", "dtype": "bfloat16", "from_epoch": 1}]
    checkpoint.save(tmp_path / "new.pt", record)
    for name in ("old", "new"):
        export_onnx(tmp_path / f"{name}.pt", tmp_path / f"{name}.onnx")
    old, new = (_session(tmp_path / f"{n}.onnx")[1]["trained_precision"] for n in ("old", "new"))
    assert new == "trained on the CPU in bf16 autocast", new
    assert old.startswith("unknown (a model file older than its record): trained with device "
                          "auto: on CUDA in"), old


def test_best_pt_records_the_precision_of_its_epochs(cache, tmp_path):  # noqa: F811
    # `unet info checkpoints/best.pt` (a killed run's best so far) could only guess from the
    # settings: best.pt now carries the spans up to its epoch, as model.pt does.
    _train(cache, tmp_path, epochs=1, device="auto", amp_cpu=False)
    best = checkpoint.load(tmp_path / "ck" / "best.pt")
    assert best["trained_precision"] == [{"device": "cpu", "dtype": None, "from_epoch": 1}]
    assert _said(tmp_path / "ck" / "best.pt").endswith("; trained on the CPU in float32")


def test_a_fine_tuned_model_carries_its_sources_precision_first(cache, tmp_path):  # noqa: F811
    # A model fine-tuned from a bf16-trained one said only its own float32 epochs: its
    # weights began as the source's, whose precision is now listed first, marked as the source's.
    _train(cache, tmp_path / "a", epochs=2, amp_cpu=False)
    source = checkpoint.load(tmp_path / "a" / "model.pt")
    source["trained_precision"] = [{"device": "cuda", "dtype": "bfloat16", "from_epoch": 1}]
    checkpoint.save(tmp_path / "a" / "model.pt", source)
    tuned = _train(cache, tmp_path / "b", epochs=1, amp_cpu=False,
                   init_from=str(tmp_path / "a" / "model.pt"))
    kept = source["epoch"]
    assert tuned["trained_precision"] == [
        {"device": "cuda", "dtype": "bfloat16", "from_epoch": 1, "to_epoch": kept, "source": 1},
        {"device": "cpu", "dtype": None, "from_epoch": 1}]
    assert _said(tmp_path / "b" / "model.pt").endswith(
        f"; trained on CUDA in bf16 autocast (epochs 1-{kept} of its fine-tuning source), "
        "then on the CPU in float32 (epochs 1-1)")
    # fine-tuned again: the first source's spans go one further back
    again = _train(cache, tmp_path / "c", epochs=1, amp_cpu=False,
                   init_from=str(tmp_path / "b" / "model.pt"))
    assert [s.get("source") for s in again["trained_precision"]] == [2, 1, None]
    assert "(epochs 1-1 of its fine-tuning source)" in _said(tmp_path / "c" / "model.pt")
    assert "of its fine-tuning source's source)" in _said(tmp_path / "c" / "model.pt")


def test_a_source_older_than_the_record_is_said_unknown(cache, tmp_path):  # noqa: F811
    _train(cache, tmp_path / "a", epochs=1, amp_cpu=False)
    source = checkpoint.load(tmp_path / "a" / "model.pt")
    del source["trained_precision"]  # a source of an older version
    checkpoint.save(tmp_path / "a" / "model.pt", source)
    tuned = _train(cache, tmp_path / "b", epochs=1, amp_cpu=False,
                   init_from=str(tmp_path / "a" / "model.pt"))
    assert tuned["trained_precision"][0] == {"device": None, "dtype": None, "from_epoch": 1,
                                             "to_epoch": 1, "source": 1}
    assert _said(tmp_path / "b" / "model.pt").endswith(
        "; trained in an unrecorded precision (epochs 1-1 of its fine-tuning source, a file "
        "older than the record), then on the CPU in float32 (epochs 1-1)")
