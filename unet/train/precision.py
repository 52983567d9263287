"""What a resumed run computes in: the autocast precision and the CPU thread count of its
first epochs."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from unet.train.loop import Run

log = logging.getLogger(__name__)


def _name(dtype) -> str:
    return str(dtype or "float32").removeprefix("torch.")


def keep_autocast(run, state: dict) -> None:
    """A resumed run's precision against its first epochs', recorded in `state` (which last.pt
    stores). CPU, `amp_cpu: auto`: it times bf16 against float32 in each process, and the
    timing can differ between a killed job and its resumption: the first choice is kept
    (amp_cpu is hashed, so a last.pt with a record was written under auto too). CUDA: `amp`
    takes bf16 or fp16 by the GPU (common.device.amp_dtype), and a last.pt may be resumed on
    another (train.device is not hashed; a cluster retries on another node): this GPU's is
    taken (an emulated bf16 is slow, and fp16 needs the GradScaler this run was built
    without), with a warning, as the epochs then equal an unbroken run in neither."""
    if run.device.type == "cuda":
        first = state.setdefault("cuda_autocast", run.dtype)
        if first != run.dtype and state["epoch"]:
            log.warning("resuming %d epochs trained in %s autocast on another GPU in %s on this "
                        "one (train.amp): the result will equal an unbroken run in neither",
                        state["epoch"], _name(first), _name(run.dtype))
        state["cuda_autocast"] = run.dtype
        return
    if run.device.type != "cpu" or run.settings.amp_cpu != "auto":
        return
    first = state.setdefault("cpu_autocast", run.dtype)  # torch.bfloat16, or None for float32
    if first != run.dtype:
        log.info("amp_cpu auto: keeping %s, chosen when this run started (%s measured now)",
                 _name(first), _name(run.dtype))
        run.dtype = first


def note_threads(run: Run, state: dict, threads: int) -> None:
    """On the CPU the thread count changes the weights (how sums are split), yet a last.pt is
    resumed under another (`--cores`, a cluster's cpus, train.num_workers): say so, as the
    result then equals an unbroken run on neither count. The count is kept in `state`, which
    last.pt stores."""
    if run.device.type != "cpu":
        return
    first = state.setdefault("cpu_threads", threads)
    if first != threads and state["epoch"]:
        log.warning(
            "resuming %d epochs trained on %d CPU threads with %d: the thread count changes "
            "the weights, so they will equal those of an unbroken run on neither count; run "
            "with --cores %d plus one per train.num_workers (torch gets the job's cores less "
            "one per worker) to repeat the first run", state["epoch"], first, threads, first,
        )
        state["cpu_threads"] = threads


def note_precision(run: Run, state: dict) -> None:
    """Record in `state` (which last.pt stores) the device type and autocast dtype (None:
    float32) the epochs from now on compute in, as spans of epochs: a last.pt resumed on
    another GPU may go on in fp16 after bf16 (keep_autocast), and model.pt says both. A span
    that trained no epoch (a resumption that stopped at once) is dropped."""
    dtype = None if run.dtype is None else _name(run.dtype)
    spans = [s for s in state.get("precision", []) if s["from_epoch"] <= state["epoch"]]
    if not spans or (spans[-1]["device"], spans[-1]["dtype"]) != (run.device.type, dtype):
        spans.append({"device": run.device.type, "dtype": dtype, "from_epoch": state["epoch"] + 1})
    state["precision"] = spans


def kept_spans(state: dict, epoch: int) -> list[dict]:
    """The precision spans that computed the kept `epoch`'s weights (later ones did not),
    after the fine-tuning source's (`state["source_precision"]`), which its weights began as."""
    own = [s for s in state.get("precision", []) if s["from_epoch"] <= epoch]
    return state.get("source_precision", []) + own


def source_spans(ckpt: dict | None) -> list[dict]:
    """A fine-tuning source model file's precision spans, marked as a source's: `source` 1 is
    its own epochs (ending at `to_epoch`, its kept one), 2 those of its source, and so on; a
    source older than the record gives one span of unknown device and dtype."""
    if ckpt is None:
        return []
    kept, spans = ckpt.get("epoch"), ckpt.get("trained_precision") or []
    own = [s for s in spans if not s.get("source") and (kept is None or s["from_epoch"] <= kept)]
    if not own:
        own = [{"device": None, "dtype": None, "from_epoch": 1}]
    ends = [s["from_epoch"] - 1 for s in own[1:]] + [kept]
    return ([{**s, "source": s["source"] + 1} for s in spans if s.get("source")]
            + [{**s, "to_epoch": end, "source": 1} for s, end in zip(own, ends, strict=True)])
