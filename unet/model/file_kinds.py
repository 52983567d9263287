"""What a torch file that `checkpoint.load` refuses is, in words: damaged, cut off, code to
run, or another project's checkpoint."""

from __future__ import annotations

import json
import pickletools
import re
import zipfile
from pathlib import Path
from typing import Any

import torch


class CheckpointError(ValueError):
    """A torch file that is not a readable, plain-data checkpoint (or model file)."""


# The keys prediction, export and fine-tuning read from a model file (model_record).
MODEL_KEYS = ("model_config", "state_dict", "class_values", "in_channels", "num_classes")
# The model-file format this version writes and reads (files without the key: 1). Raise it
# when a key changes meaning, so that older versions refuse the file instead of misreading it.
MODEL_FORMAT = 2


def newer_format(path: Path, ckpt: dict) -> CheckpointError | None:
    """The refusal of a model file a later unet-pipeline wrote; None for this one's or older."""
    found = ckpt.get("format", 1)
    if not isinstance(found, int) or found <= MODEL_FORMAT:
        return None
    return CheckpointError(
        f"{path} was written by a newer unet-pipeline (model-file format {found}; this version "
        f"reads up to {MODEL_FORMAT}): update unet-pipeline here (git pull, then pip install -e "
        ".), or use the file with the version that trained it")


def damaged_part(path: Path) -> str | None:
    """The first part of a torch zip file whose bytes fail its CRC-32 (torch.load does not
    check them: a weight changed in place loads); None when all pass or it is no whole zip."""
    try:
        with zipfile.ZipFile(path) as archive:
            return archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):  # torch.load names these
        return None


def zip_names(path: Path) -> list[str] | None:
    """The member names of a zip file (as torch.save writes), None when it is no whole zip."""
    try:
        with zipfile.ZipFile(path) as archive:
            return archive.namelist()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        return None


def safetensors_count(path: Path) -> int | None:
    """How many tensors a safetensors file holds (an 8-byte header length, then its JSON
    header), None when the file is not one."""
    try:
        with open(path, "rb") as f:
            size = int.from_bytes(f.read(8), "little")
            if not 2 <= size <= min(path.stat().st_size - 8, 1 << 27) or f.read(1) != b"{":
                return None
            header = json.loads(b"{" + f.read(size - 1))
    except (OSError, ValueError):
        return None
    return len([k for k in header if k != "__metadata__"]) if isinstance(header, dict) else None


def stored_instead(path: Path) -> str | None:
    """What a file saved in place of a model is, with the fix (a Git LFS pointer, a web page,
    other text, a gzip of the file); None for other bytes."""
    try:
        with open(path, "rb") as f:
            head = f.read(512)
    except OSError:
        return None
    if head[:2] == b"\x1f\x8b":
        return "gzip-compressed: unpack it (gunzip, or 7-Zip) and give the file inside"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        text = head[:-3].decode("utf-8", "replace") if len(head) == 512 else ""
    if not text.strip() or not all(c.isprintable() or c in "\t\r\n" for c in text):
        return None
    if text.startswith("version https://git-lfs"):
        return ("a Git LFS pointer, not the file itself (a clone without Git LFS): run "
                "`git lfs pull` in its repository, or download the file itself")
    if text.lstrip()[:15].lower().startswith(("<!doctype html", "<html")):
        return ("a web page (HTML) saved instead of the model (a login, quota or virus-scan "
                "page): download the model itself again")
    first = text.strip().splitlines()[0][:40]
    return f"a text file (it begins {first!r}), not a file torch.save wrote"


# Leading bytes of the image formats the pipeline reads: an image given where the model goes
# (`unet predict new.png model.pt`, the arguments swapped) is named as one, not as a cut-off file
_IMAGE_MAGIC = ((b"\x89PNG", "PNG"), (b"\xff\xd8\xff", "JPEG"), (b"II*\x00", "TIFF"),
                (b"MM\x00*", "TIFF"), (b"II+\x00", "TIFF"), (b"MM\x00+", "TIFF"),
                (b"GIF8", "GIF"), (b"BM", "BMP"))


def other_model_kind(path: Path) -> str | None:
    """What an image or ONNX file given as the model is, with the fix; None for other files.
    An ONNX file is protobuf: field 1 (ir_version, tag 0x08) first, then the producer's name."""
    try:
        with open(path, "rb") as f:
            head = f.read(64)
    except OSError:
        return None
    kind = next((name for magic, name in _IMAGE_MAGIC if head.startswith(magic)), None)
    if kind:
        return (f"a {kind} image, not a model: give a model.pt this pipeline trained "
                "(results/<dataset>/<experiment>/model.pt); unet predict takes it first: "
                "unet predict MODEL INPUT... -o OUT")
    if path.suffix.lower() == ".onnx" or (head[:1] == b"\x08" and b"pytorch" in head):
        return ("an ONNX model (as unet export writes): the pipeline and the unet command read "
                "the model.pt it was exported from (results/<dataset>/<experiment>/model.pt); "
                "run the ONNX file with onnxruntime")
    return None


def foreign(path: Path) -> CheckpointError | None:
    """The refusal of a whole file of a kind torch.load does not read as a checkpoint, named
    from its bytes without running any of it; None when it is of no such kind."""
    stored = stored_instead(path) or other_model_kind(path)
    if stored:
        return CheckpointError(f"{path} is not a readable torch file: it is {stored}")
    tensors = safetensors_count(path)
    if tensors is not None:
        return CheckpointError(
            f"{path} is a safetensors file of {tensors} tensor{'s' * (tensors != 1)} (as "
            "save_pretrained writes): weights alone, without the network settings, mask values "
            "and input layout prediction needs. Use a model.pt this pipeline trained "
            "(results/<dataset>/<experiment>/model.pt)")
    names = zip_names(path) or []
    if any(n.endswith("/constants.pkl") or "/code/" in n for n in names):  # torch.jit.save's
        return CheckpointError(
            f"{path} is a TorchScript archive (torch.jit.save of a scripted or traced "
            "network): it holds the network as code to run, without the mask values and input "
            "layout prediction needs, so it was not loaded. Use a model.pt this pipeline trained "
            "(results/<dataset>/<experiment>/model.pt); `unet export --onnx` makes a portable "
            "copy of one")
    if names and not any(n.endswith("data.pkl") for n in names):  # torch.save's has data.pkl
        n, shown = len(names), ", ".join(names[:3]) + ", ..." * (len(names) > 3)
        inner = [x for x in names if x.endswith((".pt", ".pth", ".ckpt"))]
        return CheckpointError(
            f"{path} is a zip archive of {n} file{'s' * (n != 1)} ({shown}), not a torch.save "
            "file" + (f": unzip it and give its {inner[0]}" if inner else
                      ": give a model.pt this pipeline trained "
                      "(results/<dataset>/<experiment>/model.pt)"))
    return None


# torch's refusal of a zip whose format version is newer than it reads
_NEWER = re.compile(r"PyTorch file with version (\d+), but the maximum supported version for "
                    r"reading is (\d+)")


def newer_torch(path: Path, err: Exception) -> CheckpointError | None:
    """The refusal of a good file that a newer torch saved (a model trained on a machine with a
    newer torch), which is neither damaged nor cut off; None for other errors."""
    found = _NEWER.search(str(err))
    if not found:
        return None
    return CheckpointError(
        f"{path} was saved by a newer PyTorch than torch {torch.__version__} here: its file "
        f"format is version {found[1]}, this torch reads up to {found[2]}. The file is not "
        "damaged: upgrade torch here (pip install -U torch), or use it where it was trained")


# The names wrappers give a network's weights in their state_dict: DataParallel's,
# DistributedDataParallel's and AveragedModel's module.<name>, torch.compile's _orig_mod.<name>
_WRAPPERS = ("module.", "_orig_mod.")


def unwrapped(state: dict) -> dict:
    """`state` with the prefix a wrapper gave all its names taken off (repeatedly: a compiled
    network in DataParallel), AveragedModel's n_averaged count dropped; `state` itself when
    no prefix is on every name."""
    while True:
        names = [k for k in state if k != "n_averaged"]
        prefix = next((p for p in _WRAPPERS if names and all(k.startswith(p) for k in names)),
                      None)
        if prefix is None:
            return state
        state = {k[len(prefix):]: state[k] for k in names}


def runs_code(path: Path, what: str) -> CheckpointError:
    """The refusal of a file whose loading would call `what` (e.g. 'it calls posix.system')."""
    return CheckpointError(
        f"{path} is not a plain-data checkpoint ({what}): loading it would execute "
        "code from the file, so it was not loaded. Re-save it with plain contents (tensors, "
        "numbers, strings, lists, dicts) from a copy you trust, or delete it and retrain"
    )


def _safe_globals() -> set[str]:
    """The functions and classes torch's weights_only unpickler rebuilds (tensors, dtypes)."""
    try:
        from torch import _weights_only_unpickler as safe  # private: names only, if present
        return {str(name) for name in safe._get_allowed_globals()} | {"collections.OrderedDict"}
    except (ImportError, AttributeError):
        return {"collections.OrderedDict"}


def pickle_calls(path: Path) -> tuple[int, str | None] | None:
    """(protocol, the first function or class outside torch's safe set that it names, or
    None) of a plain pickle (pickle.dump), read by pickletools without running any of it;
    None when the file is no whole pickle."""
    protocol, recent, memo, safe = 0, [], {}, _safe_globals()
    try:
        with open(path, "rb") as f:
            for op, arg, _ in pickletools.genops(f):
                name = op.name
                if name == "PROTO":
                    protocol = arg
                elif name in ("MEMOIZE", "PUT", "BINPUT", "LONG_BINPUT"):
                    memo[len(memo) if name == "MEMOIZE" else arg] = recent[-1] if recent else None
                elif name in ("GET", "BINGET", "LONG_BINGET"):
                    recent.append(memo.get(arg))
                elif name in ("GLOBAL", "STACK_GLOBAL"):
                    called = (arg.replace(" ", ".") if name == "GLOBAL"
                              else ".".join(str(x) for x in recent[-2:]))
                    if called not in safe:
                        return protocol, called
                    recent.append(None)
                elif name != "FRAME":
                    recent.append(arg if isinstance(arg, str) else None)
    except (ValueError, EOFError, OSError, UnicodeDecodeError):
        return None
    return protocol, None


def foreign_pickle(path: Path) -> CheckpointError | None:
    """The refusal of a file pickle.dump wrote (protocol 3 or later: torch's unpickler stops at
    its framing before any function it names), by what it names; None for other files."""
    with open(path, "rb") as f:
        head = f.read(2)
    found = pickle_calls(path) if head[:1] == b"\x80" and head[1:] >= b"\x03" else None
    if found is None:
        return None
    protocol, called = found
    if called:
        return runs_code(path, f"a pickle that calls {called}")
    return CheckpointError(
        f"{path} is a Python pickle (pickle.dump, protocol {protocol}), not a torch.save file: "
        "a model file is a model.pt this pipeline trained "
        "(results/<dataset>/<experiment>/model.pt)")


def unreadable(path: Path, why: str) -> CheckpointError:
    first = why.splitlines()[0].split(". ")[0] if why else "no data"  # torch's first words
    return CheckpointError(
        f"{path} is not a readable torch file ({first}): it is empty, cut off, or not written "
        "by torch.save. Copy it again, or delete it and retrain"
    )


def held(ckpt: Any) -> str:
    """What a torch file that is not a model file holds, in words."""
    if not isinstance(ckpt, dict) or not ckpt:
        return f"a{'n empty' * (ckpt == {})} {type(ckpt).__name__}"
    if "pytorch-lightning_version" in ckpt:
        return f"a PyTorch Lightning checkpoint (epoch {ckpt.get('epoch')})"
    if {"state_dict", "optimizer", "state"} <= ckpt.keys():  # what last_record writes
        return "a training checkpoint (checkpoints/last.pt, to resume from); use model.pt"
    if ckpt and all(isinstance(v, torch.Tensor) for v in ckpt.values()):
        n = len(ckpt)
        return f"a bare state dict of {n} tensor{'s' * (n != 1)}, without the network settings"
    if "model_config" in ckpt or "class_values" in ckpt:  # a model file with keys lost
        return f"a dict without {', '.join(k for k in MODEL_KEYS if k not in ckpt)}"
    keys = sorted(map(str, ckpt))
    more = f" and {len(keys) - 8} more" if len(keys) > 8 else ""
    return f"another project's checkpoint (keys {', '.join(keys[:8])}{more})"


# torch's two wordings of a pickle naming a function to call: "Unsupported global: GLOBAL
# io.open ...", and for blocked modules "Trying to load unsupported GLOBAL posix.system whose
# module posix is blocked" (os.system, the classic payload)
CODE = re.compile(r"unsupported global(?:: GLOBAL)? (\S+?)[.,]?(?:\s|$)", re.IGNORECASE)


def reason(err: Exception) -> str:
    """The useful line of torch's weights_only refusal, e.g. 'it calls io.open'."""
    found = CODE.search(str(err))
    if found:
        return f"it calls {found.group(1)}"
    found = re.search(r"WeightsUnpickler error: ([^\n]+)", str(err))
    return found.group(1).strip() if found else "the safe unpickler refused it"
