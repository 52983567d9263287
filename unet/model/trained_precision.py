"""The precision a model file's training computed in, as its record (`trained_precision`) says."""

from __future__ import annotations

_DTYPES = {None: "float32", "bfloat16": "bf16 autocast", "float16": "fp16 autocast"}
_DEVICES = {"cpu": "the CPU", "cuda": "CUDA"}


def in_words(ckpt: dict) -> str | None:
    """'trained on the CPU in bf16 autocast', with each span's epochs where a resumed run went
    on in another (the kept epoch ends the last) or a fine-tuning source's came first; None for
    a file without the record (written before it was kept: unknown)."""
    kept, spans = ckpt.get("epoch"), ckpt.get("trained_precision") or []
    sources = [s for s in spans if s.get("source")]  # each with its own epochs: not filtered
    own = [s for s in spans if not s.get("source")  # spans after it: not its weights'
           if kept is None or s["from_epoch"] <= kept]
    if not own:
        return None
    ends = [s["from_epoch"] - 1 for s in own[1:]] + [kept]
    said = [_source_words(s) for s in sources]
    for span, end in zip(own, ends, strict=True):
        what, alone = _what(span), len(sources + own) == 1
        said.append(what if alone else f"{what} (epochs {span['from_epoch']}-{end})")
    return "trained " + ", then ".join(said)


def _what(span: dict) -> str:
    """'on the CPU in float32': one span's device and autocast dtype."""
    return (f"on {_DEVICES.get(span['device'], span['device'])} in "
            f"{_DTYPES.get(span['dtype'], span['dtype'])}")


def _source_words(span: dict) -> str:
    """A fine-tuning source's span, its epochs in its own numbering; `source` 2 is the source's
    source. One older than the record is unknown."""
    whose = "its fine-tuning source" + "'s source" * (span["source"] - 1)
    epochs = f"epochs {span['from_epoch']}-{span['to_epoch']} of {whose}"
    if span["device"] is None:
        return f"in an unrecorded precision ({epochs}, a file older than the record)"
    return f"{_what(span)} ({epochs})"


def from_settings(settings: dict) -> str:
    """The precision the training may have run in, from train.device, amp and amp_cpu (amp is
    CUDA's alone: a CPU run's 'amp true' computed in float32), for a file without its record."""
    cpu = settings.get("amp_cpu")
    on_cpu = ("float32" if not cpu else "bf16 autocast" if cpu is True
              else "bf16 autocast where measured faster, else float32")
    on_cuda = "bf16 autocast (fp16 before compute capability 8.0)" if settings.get("amp") \
        else "float32"
    device = str(settings.get("device"))
    if device == "cpu":
        return f"trained on the CPU in {on_cpu}"
    if device.startswith("cuda"):
        return f"trained on CUDA in {on_cuda}"
    return f"trained with device {device}: on CUDA in {on_cuda}, on the CPU in {on_cpu}"
