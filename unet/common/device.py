"""Device choice and the CUDA speed settings (AMP dtype, channels_last, cudnn)."""

from __future__ import annotations

import functools
import logging
import os
import re
import time

import torch
import torch.nn.functional as F

log = logging.getLogger(__name__)


class DeviceError(ValueError):
    """The configured device is not available here."""


DEVICE_PATTERN = re.compile(r"^(auto|cpu|cuda(:[0-9]+)?)$")  # as config/schema.yaml's devices


def pick_device(requested: str, key: str = "train.device") -> torch.device:
    """'auto' -> CUDA when present, else CPU (but not in a SLURM job given a GPU); a CUDA device
    this machine lacks is a clear error naming `key`, the setting it came from. cuda:N becomes
    the current CUDA device."""
    if not DEVICE_PATTERN.match(requested):
        raise DeviceError(f"{key} is {requested!r}: use auto, cpu, cuda or cuda:N")
    if requested == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        _refuse_unseen_slurm_gpu(key)
        return torch.device("cpu")
    if requested.startswith("cuda") and not torch.cuda.is_available():
        raise DeviceError(
            f"{key} is {requested!r} but PyTorch sees no CUDA device here "
            f"(torch {torch.__version__}); set {key} to auto or cpu, or run on a GPU node"
        )
    device = torch.device(requested)
    if device.type == "cuda" and (device.index or 0) >= torch.cuda.device_count():
        raise DeviceError(_beyond(key, requested, torch.cuda.device_count()))
    if device.index is not None:
        # What torch puts on the current device goes to cuda:N too: the DataLoader's pinned
        # batches (and its pin thread) would otherwise open a context on cuda:0.
        torch.cuda.set_device(device)
    return device


def _slurm_gpus() -> str | None:
    """`VAR=value` of the SLURM variable that says this job was given GPUs, else None."""
    count = os.environ.get("SLURM_GPUS_ON_NODE", "")
    if count.isdigit() and int(count) > 0:
        return f"SLURM_GPUS_ON_NODE={count}"
    for var in ("SLURM_STEP_GPUS", "SLURM_JOB_GPUS"):  # the GPUs' indices: "0" is one
        # A digit, not just text: some SLURM versions set '(null)' for a job given no GPU.
        if re.search(r"[0-9]", os.environ.get(var, "")):
            return f"{var}={os.environ[var]}"
    return None


def _refuse_unseen_slurm_gpu(key: str) -> None:
    """`auto` without CUDA in a SLURM job given a GPU: an error, not hours on the CPU while
    the GPU idles (a CPU-only torch, or a driver older than torch's CUDA)."""
    given = _slurm_gpus()
    if given is None:
        return
    build = (f"built for CUDA {torch.version.cuda}: the node's driver may be older than that "
             "(nvidia-smi prints the CUDA version it supports)" if torch.version.cuda
             else "a CPU-only build")
    raise DeviceError(
        f"{key} is 'auto' and this SLURM job was given a GPU ({given}), but PyTorch sees no "
        f"CUDA device (torch {torch.__version__}, {build}); install a PyTorch build for the "
        f"node's CUDA driver in the environment the job runs, or set {key} to cpu to train or "
        "predict on the CPU (then give the rule no gpu in the profile)"
    )


def _beyond(key: str, requested: str, count: int) -> str:
    """The error for a GPU index past the `count` visible ones. A job given some of a node's
    GPUs (SLURM, CUDA_VISIBLE_DEVICES) numbers them from cuda:0, whatever nvidia-smi says."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    gpus = f"{count} CUDA device(s), cuda:0 to cuda:{count - 1}"
    if visible is None:
        return f"{key} is {requested!r} but this machine has {gpus}"
    return (f"{key} is {requested!r} but this job sees {gpus}: CUDA_VISIBLE_DEVICES={visible} "
            "(set by SLURM or a launcher) numbers the GPUs it gives from cuda:0, whatever their "
            f"number on the node; set {key} to cuda or cuda:0")


def job_cores(threads: int) -> int:
    """The cores a job may keep busy: the rule's threads, but no more than this process may use
    (`--cores 4` on a 2-core machine would otherwise oversubscribe and slow every step)."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(threads, usable or 1))


def set_threads(threads: int) -> int:
    """torch's CPU threads: the rule's threads, within the cores this process may use."""
    n = job_cores(threads)
    torch.set_num_threads(n)
    return n


def share_cores(threads: int, workers: int) -> tuple[int, int]:
    """(torch's threads, DataLoader workers) within a job's cores (job_cores): each worker is a
    busy process of its own, so together they take no more than the job has, torch keeping at
    least one; with one core the main process loads the batches itself (0 workers)."""
    cores = job_cores(threads)
    kept = max(0, min(workers, cores - 1))
    return cores - kept, kept


# bf16 autocast is taken by `amp_cpu: auto` only where it measured at least this much faster:
# CPUs with the same AVX512-BF16 flag differ (a Xeon without AMX trained 14 % slower in bf16, an
# AMD EPYC 1.8x faster), so the flags cannot tell, and a margin keeps a near-tie in float32.
MIN_BF16_SPEEDUP = 1.2


BF16_ROUNDS = 3  # rounds of the timing at most; a round below the bar is measured again


def _bf16_round(threads: int) -> float:
    """float32 time / bf16 time of two 3x3 convolutions' forward and backward (a UNet block,
    (2, 32, 96, 96) channels_last) with `threads` threads; about 0.3 s. The fastest of 9
    interleaved runs each, after a warm-up that builds the kernels."""
    gen = torch.Generator().manual_seed(0)  # the global RNG, which seeds training, is untouched
    x = torch.randn(2, 32, 96, 96, generator=gen).contiguous(memory_format=torch.channels_last)
    w1, w2 = ((torch.randn(32, 32, 3, 3, generator=gen) * 0.05).requires_grad_() for _ in "ab")

    def step(bf16: bool) -> float:
        start = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            y = F.conv2d(F.relu(F.conv2d(x, w1, padding=1)), w2, padding=1)
        y.float().square().mean().backward()
        return time.perf_counter() - start

    step(False), step(True)
    times = [(step(False), step(True)) for _ in range(9)]
    return min(t[0] for t in times) / min(t[1] for t in times)


@functools.cache
def cpu_bf16_speedup(threads: int) -> float:
    """bf16's measured speed-up over float32 on this CPU, once per process: the best of up to
    BF16_ROUNDS rounds, stopping at the first that reaches MIN_BF16_SPEEDUP. One round is
    short, and on a shared 2-core EPYC (1.8x in training) single rounds ran from 1.12 to 2.87;
    a CPU where bf16 is slower stays below the bar in every round (0.3 s each)."""
    best = 0.0
    for _ in range(BF16_ROUNDS):
        best = max(best, _bf16_round(threads))
        if best >= MIN_BF16_SPEEDUP:
            break
    return best


def cuda_bf16_native(device: torch.device) -> bool:
    """Whether CUDA `device` computes bf16 natively (compute capability 8.0, Ampere, or later).
    torch.cuda.is_bf16_supported() alone says yes on a V100 or T4 too, where bf16 is emulated
    without tensor cores (fp16 has them there), and asks the current device, not `device`."""
    with torch.cuda.device(device):  # cuda:N's own answer, the current device restored after
        try:
            return torch.cuda.is_bf16_supported(including_emulation=False)
        except TypeError:  # torch before 2.4 has no such argument, and counted no emulation
            return torch.cuda.get_device_capability(device) >= (8, 0)


def amp_dtype(
    device: torch.device, enabled: bool, cpu: bool | str = False
) -> torch.dtype | None:
    """The autocast dtype, None for full precision. CUDA (`enabled`): bf16 where the GPU
    computes it natively (cuda_bf16_native), else fp16 (with training's GradScaler). CPU
    (`cpu`): `True` is bf16 wherever oneDNN has bf16 kernels (AVX512-BF16 or AMX) and refused
    where it would be emulated; 'auto' is bf16 where those kernels measure at least
    MIN_BF16_SPEEDUP times float32's speed here, else float32."""
    if device.type == "cuda":
        if not enabled:
            return None
        return torch.bfloat16 if cuda_bf16_native(device) else torch.float16
    if cpu not in ("auto", True, False):
        raise ValueError(f"amp_cpu: {cpu!r}; use auto, true or false")
    if not cpu:
        return None
    has_kernels = torch.ops.mkldnn._is_mkldnn_bf16_supported()
    if cpu == "auto":
        if not has_kernels:
            log.info("amp_cpu auto: no bf16 kernels in oneDNN on this CPU; float32")
            return None
        speedup = cpu_bf16_speedup(torch.get_num_threads())
        faster = speedup >= MIN_BF16_SPEEDUP
        log.info("amp_cpu auto: bf16 measured %.2fx float32 on this CPU (%s needed); %s",
                 speedup, MIN_BF16_SPEEDUP, "bf16" if faster else "float32")
        return torch.bfloat16 if faster else None
    if not has_kernels:
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
