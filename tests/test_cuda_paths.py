"""CUDA code paths checked without a GPU: torch.cuda answered by fakes, as a GPU of a given
compute capability would answer, and the arguments the code passes checked."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import pytest
import torch

from unet.common import device


@pytest.fixture
def gpus(monkeypatch):
    """A machine whose CUDA devices have the given capabilities (index -> (major, minor)):
    torch.cuda.is_bf16_supported answers as torch's does, for the current device, True where
    bf16 is only emulated (before Ampere, 8.0) unless including_emulation=False."""
    current = [0]

    def install(capabilities: dict[int, tuple[int, int]]) -> None:
        @contextlib.contextmanager
        def on_device(dev):
            index = torch.device(dev).index
            before, current[0] = current[0], current[0] if index is None else index
            try:
                yield
            finally:
                current[0] = before

        def bf16(including_emulation: bool = True) -> bool:
            return including_emulation or capabilities[current[0]] >= (8, 0)

        monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
        monkeypatch.setattr(torch.cuda, "device_count", lambda: len(capabilities))
        monkeypatch.setattr(torch.cuda, "current_device", lambda: current[0])
        monkeypatch.setattr(torch.cuda, "device", on_device)
        monkeypatch.setattr(torch.cuda, "is_bf16_supported", bf16)

    return install


@pytest.mark.parametrize("name, capability, expected", [
    ("V100", (7, 0), torch.float16),  # bf16 only emulated: no bf16 tensor cores, fp16 has them
    ("T4", (7, 5), torch.float16),
    ("A100", (8, 0), torch.bfloat16),
    ("H100", (9, 0), torch.bfloat16),
])
def test_amp_takes_bf16_only_where_the_gpu_has_it_natively(gpus, name, capability, expected):
    gpus({0: capability})
    assert device.amp_dtype(torch.device("cuda"), True) is expected, name
    assert device.amp_dtype(torch.device("cuda:0"), True) is expected, name
    assert device.amp_dtype(torch.device("cuda"), False) is None


@pytest.mark.parametrize("capability, expected", [((7, 0), torch.float16),
                                                    ((8, 6), torch.bfloat16)])
def test_amp_on_a_torch_without_the_emulation_argument(gpus, monkeypatch, capability, expected):
    # pyproject allows torch 2.1, whose is_bf16_supported() takes no including_emulation
    gpus({0: capability})
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda dev=None: capability)
    assert device.amp_dtype(torch.device("cuda"), True) is expected


def test_amp_asks_the_gpu_training_runs_on(gpus):
    # cuda:1 is a V100 beside an A100 at cuda:0 (the current device): fp16 on cuda:1
    gpus({0: (8, 0), 1: (7, 0)})
    assert device.amp_dtype(torch.device("cuda:1"), True) is torch.float16
    assert device.amp_dtype(torch.device("cuda:0"), True) is torch.bfloat16
    gpus({0: (7, 0), 1: (9, 0)})
    assert device.amp_dtype(torch.device("cuda:1"), True) is torch.bfloat16
    assert torch.cuda.current_device() == 0  # left as it was


def test_training_steps_leave_the_gpu_running_ahead(monkeypatch):
    """A step's loss.item() waits for the GPU to finish that step before the next is queued:
    the epoch's loss is summed on the device and read once, at the end of the epoch. Counted
    on the CPU: the project's reads of a tensor in an epoch of 4 steps."""
    from types import SimpleNamespace

    from torch.utils.data import TensorDataset

    from unet.model.unet import UNetConfig
    from unet.train.loop import build_run, train_epoch
    from unet.train.settings import TrainSettings

    images = torch.rand(8, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    data = TensorDataset(images, (images[:, 0] > 0.5).long())
    settings = TrainSettings(epochs=1, batch_size=2, device="cpu")
    config = UNetConfig(in_channels=3, num_classes=2, depth=2, base_width=4)
    run = build_run(settings, config, data, data)
    losses, reads, real = [], [], torch.Tensor.item
    loss_fn = run.loss_fn
    run.loss_fn = lambda logits, masks, *extra: (
        losses.append(loss_fn(logits, masks, *extra)) or losses[-1])

    def item(t):  # the project's reads (torch's optimisers read their CPU step counts)
        if "unet" in Path(sys._getframe(1).f_code.co_filename).parts:
            reads.append(1)
        return real(t)

    monkeypatch.setattr(torch.Tensor, "item", item)
    loss, seen = train_epoch(run, 1, SimpleNamespace(signal=0), 0)
    count = len(reads)
    assert count <= 1, f"{count} reads of the GPU in an epoch of 4 steps"
    assert seen == 8 and isinstance(loss, float)
    assert loss == sum(float(one.detach()) * 2 for one in losses) / 8  # the batches' mean


def test_a_chosen_gpu_becomes_the_current_device(gpus, monkeypatch):
    """torch puts some things on the current device, not on train.device: the DataLoader pins
    its batches (pin_memory, its pin thread) there. Training on cuda:1 left cuda:0 current and
    opened a context, some 500 MB, on a GPU the run was not given (perhaps full)."""
    gpus({0: (8, 0), 1: (8, 0)})
    chosen = []
    monkeypatch.setattr(torch.cuda, "set_device", lambda d: chosen.append(torch.device(d)))
    assert device.pick_device("cuda:1") == torch.device("cuda:1")
    assert chosen == [torch.device("cuda:1")]
    chosen.clear()
    assert device.pick_device("cuda") == torch.device("cuda")  # the current one: left as is
    assert device.pick_device("auto") == torch.device("cuda")
    assert device.pick_device("cpu") == torch.device("cpu") and chosen == []


def test_a_gpu_index_beyond_the_visible_ones_names_cuda_visible_devices(gpus, monkeypatch):
    """A SLURM job given one GPU of eight sees it as cuda:0 (CUDA_VISIBLE_DEVICES=5): a
    device: cuda:5 copied from the node's nvidia-smi must not read 'this machine has 1'."""
    gpus({0: (9, 0)})
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "5")
    with pytest.raises(device.DeviceError) as err:
        device.pick_device("cuda:5")
    message = str(err.value)
    assert "CUDA_VISIBLE_DEVICES=5" in message and "cuda:0" in message, message
    assert "this machine has" not in message, message
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES")
    with pytest.raises(device.DeviceError, match="cuda:0 to cuda:0"):
        device.pick_device("cuda:1", "predict.device")


@pytest.mark.parametrize("first, now", [(torch.bfloat16, torch.float16),
                                        (torch.float16, torch.bfloat16)])
def test_a_run_resumed_on_a_gpu_of_another_precision_says_so(caplog, first, now):
    """A last.pt of an A100 (bf16) resumed on a V100 (fp16), as a cluster's retry on another
    node does: its epochs then equal an unbroken run in neither precision."""
    import logging
    from types import SimpleNamespace

    from unet.train.train import keep_autocast

    settings = SimpleNamespace(amp=True, amp_cpu=False)
    run = SimpleNamespace(device=torch.device("cuda"), dtype=now, settings=settings)
    state = {"epoch": 3, "cuda_autocast": first}
    with caplog.at_level(logging.WARNING):
        keep_autocast(run, state)
    names = [str(d).removeprefix("torch.") for d in (first, now)]
    assert f"3 epochs trained in {names[0]} autocast on another GPU" in caplog.text
    assert run.dtype is now and state["cuda_autocast"] is now  # this GPU's, from now on
    caplog.clear()
    keep_autocast(run, {"epoch": 0})  # a new run, or a last.pt before this record: quiet
    fresh = {"epoch": 2}
    keep_autocast(run, fresh)
    assert fresh["cuda_autocast"] is now and not caplog.text


@pytest.mark.parametrize("var, value", [("SLURM_GPUS_ON_NODE", "1"), ("SLURM_JOB_GPUS", "3"),
                                        ("SLURM_STEP_GPUS", "0,1")])
def test_auto_in_a_slurm_job_given_a_gpu_torch_cannot_see_is_refused(monkeypatch, var, value):
    """A SLURM job given a GPU (--gpus=1) whose torch sees none (a CPU-only wheel, a driver
    older than torch's CUDA) trained on the CPU under `auto`, holding the GPU idle for the
    whole walltime (720 minutes in the profile) at a fraction of the speed, with no error."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    for other in ("SLURM_GPUS_ON_NODE", "SLURM_JOB_GPUS", "SLURM_STEP_GPUS"):
        monkeypatch.delenv(other, raising=False)
    assert device.pick_device("auto") == torch.device("cpu")  # no GPU given: the CPU, as before
    monkeypatch.setenv(var, value)
    with pytest.raises(device.DeviceError) as err:
        device.pick_device("auto", "predict.device")
    message = str(err.value)
    assert f"{var}={value}" in message and "predict.device" in message, message
    assert "cpu" in message and torch.__version__ in message, message
    assert device.pick_device("cpu") == torch.device("cpu")  # asked for: still the CPU


@pytest.mark.parametrize("env", [{"SLURM_JOB_GPUS": "(null)"}, {"SLURM_STEP_GPUS": "(null)"},
                                 {"SLURM_GPUS_ON_NODE": "0", "SLURM_JOB_GPUS": "(null)"},
                                 {"SLURM_JOB_GPUS": "N/A"}])
def test_auto_in_a_slurm_cpu_job_stays_on_the_cpu(monkeypatch, env):
    """Some SLURM versions set the GPU lists of a job given no GPU to '(null)': `auto` refused
    such a CPU job (a CPU partition's predict or a GPU node's CPU-only step) as one given a GPU."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    for other in ("SLURM_GPUS_ON_NODE", "SLURM_JOB_GPUS", "SLURM_STEP_GPUS"):
        monkeypatch.delenv(other, raising=False)
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    assert device.pick_device("auto") == torch.device("cpu")
