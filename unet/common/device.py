"""Device choice and the CUDA speed settings (AMP dtype, channels_last, cudnn)."""

from __future__ import annotations

import logging
import os

import torch

log = logging.getLogger(__name__)


class DeviceError(RuntimeError):
    """The configured device is not available here."""


def pick_device(requested: str) -> torch.device:
    """'auto' -> CUDA when present, else CPU; 'cuda' without a GPU is a clear error."""
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if requested.startswith("cuda") and not torch.cuda.is_available():
        raise DeviceError(
            f"train.device is {requested!r} but PyTorch sees no CUDA device here "
            f"(torch {torch.__version__}); set train.device: auto or cpu, or run on a GPU node"
        )
    return torch.device(requested)


def set_threads(threads: int) -> int:
    """torch's CPU threads: the rule's threads, but no more than the cores this process may use
    (`--cores 4` on a 2-core machine would otherwise oversubscribe and slow every step)."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    n = max(1, min(threads, usable or 1))
    torch.set_num_threads(n)
    return n


def cpu_has_amx() -> bool:
    """Intel AMX tiles (Sapphire Rapids and later): where oneDNN's bf16 convolutions are fast."""
    probe = getattr(torch.cpu, "_is_amx_tile_supported", None)
    return bool(probe and probe())


def amp_dtype(
    device: torch.device, enabled: bool, cpu: bool | str = False
) -> torch.dtype | None:
    """The autocast dtype, None for full precision. CUDA (`enabled`): bf16 where the GPU
    supports it, else fp16. CPU (`cpu`): `True` is bf16 wherever oneDNN has bf16 kernels
    (AVX512-BF16 or AMX) and refused where it would be emulated; 'auto' is bf16 only with AMX
    and float32 elsewhere, because AVX512-BF16 alone trained slower than float32 (0.77 s vs
    0.68 s a step on a Xeon without AMX; bf16 was 1.9x faster on a machine read as AMX)."""
    if device.type == "cuda":
        if not enabled:
            return None
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if cpu not in ("auto", True, False):
        raise ValueError(f"amp_cpu: {cpu!r}; use auto, true or false")
    if not cpu:
        return None
    if cpu == "auto":
        if cpu_has_amx():
            return torch.bfloat16
        log.info("amp_cpu auto: no AMX on this CPU, where bf16 is not faster; float32")
        return None
    if not torch.ops.mkldnn._is_mkldnn_bf16_supported():
        raise DeviceError(
            "amp_cpu: this CPU has no bf16 support in oneDNN (AVX512-BF16 or AMX), where bf16 "
            "would be slower than float32; set train.amp_cpu and predict.amp_cpu to false"
        )
    return torch.bfloat16


def set_deterministic(mode: bool | str, device: torch.device) -> bool:
    """train.deterministic: 'auto' (on except on CUDA), true or false; returns whether it is on.

    On, the same seed, config and thread count give bitwise-equal weights; off, cudnn autotunes
    its kernels on CUDA (faster, not repeatable).
    """
    if mode not in ("auto", True, False):
        raise ValueError(f"train.deterministic: {mode!r}; use auto, true or false")
    # CUDA's autotuned kernels are much faster and some ops there have no deterministic kernel;
    # on the CPU the deterministic algorithms cost nothing measurable for this model.
    enabled = device.type != "cuda" if mode == "auto" else bool(mode)
    if enabled and device.type == "cuda":
        # cuBLAS needs a fixed workspace to repeat itself; bilinear upsampling's backward and
        # 2-D cross-entropy have no deterministic CUDA kernel at all, so those only warn.
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        log.warning(
            "train.deterministic on CUDA: every op that has a deterministic kernel uses it, but "
            "the upsampling backward and the loss do not have one; runs are bitwise equal on CPU"
        )
    torch.use_deterministic_algorithms(enabled, warn_only=device.type == "cuda")
    # NaN-filling every new tensor only changes ops that read memory they never wrote (none
    # here), yet it is the whole CPU cost of deterministic mode (about 7 % a training step):
    # `auto` leaves it out, an explicit `true` keeps PyTorch's full guarantee.
    torch.utils.deterministic.fill_uninitialized_memory = enabled and mode != "auto"
    torch.backends.cudnn.benchmark = device.type == "cuda" and not enabled
    return enabled
