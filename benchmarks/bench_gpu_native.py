"""GPU on the native path at Carvana size: patch training through the real loader (patches/s,
the share of time waiting for data) and sliding-window prediction (images/s).

Carvana-shaped pairs (1918x1280 JPEG + GIF) are cached with `preprocess.mode: native, scale:
0.5` (959x640, as milesial's --scale 0.5), then:

- training: PatchRows (512x512 patches, a third centred on the car, flips) through a DataLoader
  with carvana.yaml's workers, batch and AMP, vs the same steps on one batch resident on the GPU;
- prediction: `predict_masks` on the test split, as the rule runs it: sliding window of the
  patch size, overlap 0.5, Gaussian blending, probabilities upsampled back to 1918x1280 and
  written with the masks.

`--device cpu` is a smoke test of this code on a machine without CUDA (small images).
"""

from __future__ import annotations

import argparse
import itertools
import os
import time
from pathlib import Path

import torch

from benchmarks.bench_gpu import carvana_settings, epochs, timed_steps, train_step, warm_up
from benchmarks.common import Row, absent, row
from benchmarks.fixtures import build_cache, carvana_like, scratch
from unet.common.device import amp_dtype
from unet.common.fileio import read_json
from unet.infer.predict import PredictSettings, predict_masks
from unet.model import checkpoint
from unet.model.unet import UNet, UNetConfig
from unet.train import augment
from unet.train.patches import PatchRows

NAMES = (
    "gpu native: train patches/s, loader vs resident batch",
    "gpu native: fraction of time waiting for data",
    "gpu native: sliding-window prediction images/s",
)
SIZES = {False: (48, 100), True: (16, 10)}  # pairs (70/15/15 split), timed steps
PER_IMAGE = 4  # patches per image and epoch, for the images/s the note gives


def run(quick: bool = False, device: str | None = None) -> list[Row]:
    if device is None and not torch.cuda.is_available():
        return [absent(name, "no CUDA device") for name in NAMES]
    dev = torch.device(device or "cuda")
    gpu = dev.type == "cuda"
    size, patch = ((1918, 1280), (512, 512)) if gpu else ((240, 160), (64, 64))
    n, steps = SIZES[quick]
    model_settings, s = carvana_settings()
    folder = scratch() / "gpu_native"
    pairs = carvana_like(folder / "raw", n, size)
    cache = build_cache(folder, pairs, size, (0, 1), os.cpu_count() or 1, mode="native",
                        scale=0.5)
    meta = read_json(cache / "meta.json")
    n_train, n_test = (len(meta["splits"][k]["ids"]) for k in ("train", "test"))
    torch.backends.cudnn.benchmark = gpu  # as train() sets it
    config = UNetConfig(in_channels=meta["in_channels"], num_classes=2, **model_settings)
    torch.manual_seed(0)
    model = UNet(config).to(dev).to(memory_format=torch.channels_last)
    dtype = amp_dtype(dev, s.amp)
    rows = [("train", k) for k in range(n_train)]
    transform = augment.build(augment.AugmentSettings(flip=True), patch)
    # One epoch longer than the timed steps: the workers start once, before the timing, as
    # in a real epoch of thousands of steps (train() builds a new DataLoader per epoch).
    per_image = -(-(steps + 1) * s.batch_size // n_train)
    data = PatchRows(cache, rows, patch, 0.33, per_image, transform)
    if s.num_workers:  # as train() does: foreground found once, not by each epoch's workers
        data.prepare()
    step, batches = train_step(model, dtype), epochs(data, s, dev)
    resident_batch = warm_up(step, batches, dev)
    loaded, waited = timed_steps(step, batches, steps, dev)
    resident, _ = timed_steps(step, itertools.repeat(resident_batch), steps, dev)
    n = steps * s.batch_size
    note = (f"{size[0]}x{size[1]} cached at scale 0.5, {patch[0]}x{patch[1]} patches, batch "
            f"{s.batch_size}, {s.num_workers} workers, depth {config.depth}, width "
            f"{config.base_width}, AMP {dtype}, {torch.cuda.get_device_name(dev) if gpu else dev}; "
            f"at {PER_IMAGE} patches per image and epoch: {n / loaded / PER_IMAGE:.1f} images/s")
    out = [row(NAMES[0], n / loaded, "patches/s", n / resident, note=note),
           row(NAMES[1], waited / loaded, "fraction", goal=("<", 0.05, "figure"),
               note="time blocked on the next batch")]
    out.append(_predict_row(model, config, meta, folder, dev, patch, n_test))
    return out


def _predict_row(model, config, meta, folder: Path, dev, patch, n_test: int) -> Row:
    """predict_masks over the test split with the trained weights, after a warm-up image."""
    settings = {"patch": {"size": [patch[1], patch[0]], "foreground": 0.33,
                          "per_image": PER_IMAGE}}
    record = checkpoint.model_record(config.to_dict(), model.state_dict(), meta, settings, 1,
                                     None, [0.0, 0.0], "benchmark")
    checkpoint.save(folder / "model.pt", record)
    options = PredictSettings(batch_size=8, device=dev.type, overlap=0.5)
    args = ([folder / "model.pt"], folder / "cache")
    predict_masks(*args, "val", folder / "warm", options, threads=4)  # cudnn picks kernels
    t0 = time.perf_counter()
    predict_masks(*args, "test", folder / "pred", options, threads=4)
    seconds = time.perf_counter() - t0
    return row(NAMES[2], n_test / seconds, "images/s",
               note=f"{n_test} images, tiles {patch[0]}x{patch[1]} overlap 0.5 batch 8 at scale "
               "0.5, upsampled to full size, probabilities and masks written")


if __name__ == "__main__":
    from benchmarks.run import print_table

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--device", help="e.g. cpu: smoke-test the code without a GPU")
    args = ap.parse_args()
    print_table(run(args.quick, args.device))
