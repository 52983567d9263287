"""The precision a model file's training computed in, as its record (`trained_precision`) says."""

from __future__ import annotations

_DTYPES = {None: "float32", "bfloat16": "bf16 autocast", "float16": "fp16 autocast"}
_DEVICES = {"cpu": "the CPU", "cuda": "CUDA"}


def in_words(ckpt: dict) -> str | None:
    """'trained on the CPU in bf16 autocast', with each span's epochs where a resumed run went
    on in another (the kept epoch ends the last); None for a file without the record (written
    before it was kept: unknown)."""
    kept = ckpt.get("epoch")
    spans = [s for s in ckpt.get("trained_precision") or []  # spans after it: not its weights'
             if kept is None or s["from_epoch"] <= kept]
    if not spans:
        return None
    ends = [s["from_epoch"] - 1 for s in spans[1:]] + [kept]
    said = []
    for span, end in zip(spans, ends, strict=True):
        what = (f"on {_DEVICES.get(span['device'], span['device'])} in "
                f"{_DTYPES.get(span['dtype'], span['dtype'])}")
        said.append(what if len(spans) == 1 else f"{what} (epochs {span['from_epoch']}-{end})")
    return "trained " + ", then ".join(said)


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
