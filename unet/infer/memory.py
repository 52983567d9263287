"""Whether a model trained on whole images can predict an image in one forward pass. Its
activations at full resolution dominate: about BYTES_PER_CHANNEL bytes an input pixel for each
of base_width channels (float32, torch.no_grad; 35-40 measured on this project's UNet), so a
whole slide of 20000x20000 at width 16 would need about 240 GB."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import torch

BYTES_PER_CHANNEL = 40
HALF = (torch.float16, torch.bfloat16)
MEMINFO = Path("/proc/meminfo")
SELF_CGROUP = Path("/proc/self/cgroup")  # the process's cgroups: v2 '0::/path', v1 'n:memory:/path'
CGROUP_FS = Path("/sys/fs/cgroup")


def pass_bytes(models: list[torch.nn.Module], size: tuple[int, int], dtype: torch.dtype | None
               ) -> int:
    """Bytes one forward pass of an image of model input `size` (w, h) holds, the widest model's;
    0 for a model of unknown width (smp's encoders)."""
    per_pixel = max(map(_width, models)) * BYTES_PER_CHANNEL // (2 if dtype in HALF else 1)
    return size[0] * size[1] * per_pixel


def _width(model: torch.nn.Module) -> int:
    """base_width of this project's UNet inside `model` (a wrapper: SmallSides); 0 for others."""
    for part in model.modules():
        config = getattr(part, "config", None)
        if getattr(config, "arch", None) == "unet":
            return config.base_width
    return 0


def free_bytes(device: torch.device) -> int:
    """Memory free for a forward pass on `device`: CUDA's free memory, else the system's
    available memory (Linux's MemAvailable; all physical memory elsewhere), at most the
    process's cgroup limit (a SLURM job's --mem, a container's)."""
    if device.type == "cuda":
        return torch.cuda.mem_get_info(device)[0]
    return min(_system_free(), _cgroup_limit())


def _system_free() -> int:
    """The node's available memory."""
    try:
        with open(MEMINFO) as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # no sysconf (Windows): not checked
        return 1 << 62


def _cgroup_limit() -> int:
    """The tightest memory limit of the process's cgroup and those above it (v2 memory.max,
    v1 memory.limit_in_bytes); no limit, or no cgroups (not Linux): unbounded. The limit, not
    limit less usage: the page cache counts as usage and is given back on demand."""
    try:
        lines = SELF_CGROUP.read_text().splitlines()
    except OSError:
        return 1 << 62
    limits = [1 << 62]
    for line in lines:
        _, controllers, path = (line.split(":", 2) + ["", "", ""])[:3]
        name = {"": "memory.max", "memory": "memory.limit_in_bytes"}.get(controllers)
        if name is None or not path:
            continue
        folder = CGROUP_FS / ("memory" if controllers else "") / path.lstrip("/")
        for above in (folder, *folder.parents):  # up to the root of the tree
            with contextlib.suppress(OSError, ValueError):  # none there, or 'max'
                limits.append(int((above / name).read_text()))
            if above == CGROUP_FS:
                break
    return min(limits)


def batch_pixels(models: list[torch.nn.Module], dtype: torch.dtype | None, cap: int) -> int:
    """Model input pixels one batched pass may hold: `cap`, or fewer where the device's free
    memory takes fewer (a batch's images each hold their pass at once); `cap` for a model of
    unknown width."""
    per_pixel = pass_bytes(models, (1, 1), dtype)
    if per_pixel == 0:
        return cap
    return min(cap, free_bytes(next(models[0].parameters()).device) // per_pixel)


def check_one_pass(models: list[torch.nn.Module], files: list[Path],
                   sizes: list[tuple[int, int]], dtype: torch.dtype | None) -> None:
    """Refuse, before any decode, the images whose one forward pass at model input `sizes`
    (w, h) would not fit in the device's free memory, naming the largest and the settings
    that make it fit."""
    need = [pass_bytes(models, size, dtype) for size in sizes]
    if not need or max(need) == 0:
        return
    device = next(models[0].parameters()).device
    free = free_bytes(device)
    over = [k for k, n in enumerate(need) if n > free]
    if not over:
        return
    k = max(over, key=need.__getitem__)
    w, h = sizes[k]
    raise MemoryError(
        f"{files[k]} is {w}x{h} at the model's input size: "
        f"the model, trained on whole images, predicts it in one forward pass, which needs "
        f"about {need[k] / 2**30:.1f} GiB of {device.type} memory where {free / 2**30:.1f} GiB "
        f"is free ({len(over)} of {len(files)} image(s) too large). Train on patches "
        "(train.patch.size, e.g. [512, 512]): a patch-trained model predicts tile by tile, in "
        "memory bounded by a row of tiles; or cache at a smaller preprocess.scale (or mode "
        "resize); or predict on a device with more memory (predict.device)"
    )
