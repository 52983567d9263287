"""The GPU benchmarks' training steps are train()'s: the loss is not read back every step and the
DataLoader gets train()'s options (run on the CPU, a tiny model)."""

from __future__ import annotations

import torch

from benchmarks import bench_gpu
from unet.model.unet import UNet, UNetConfig
from unet.train.loop import loader_options
from unet.train.settings import TrainSettings


def test_step_does_not_read_the_loss_back(monkeypatch) -> None:
    # train() reads the epoch's loss once (a .item() a step is a GPU sync a step): the
    # benchmark's step must not add the sync that train() no longer has.
    reads = []
    item = torch.Tensor.item
    # the loss is the one read that requires grad (the optimiser reads its step counts)
    monkeypatch.setattr(torch.Tensor, "item",
                        lambda t: reads.append(t.requires_grad) or item(t))
    torch.manual_seed(0)
    model = UNet(UNetConfig(in_channels=3, num_classes=2, depth=2, base_width=4))
    step = bench_gpu.train_step(model, None)
    x, y = torch.rand(2, 3, 32, 32), torch.randint(0, 2, (2, 32, 32))
    for _ in range(3):
        step(x, y)
    assert True not in reads


def test_loader_has_trains_options(monkeypatch) -> None:
    seen = {}

    def loader(dataset, **kwargs):
        seen.update(kwargs)
        return [(torch.zeros(2, 3, 4, 4), torch.zeros(2, 4, 4, dtype=torch.long))]

    monkeypatch.setattr(bench_gpu, "DataLoader", loader)
    s = TrainSettings(num_workers=2, batch_size=2)
    next(bench_gpu.epochs([], s, torch.device("cpu")))
    for key, value in loader_options(s, torch.device("cpu")).items():
        assert seen.get(key) == value, key
