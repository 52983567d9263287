"""Which file timm 1.0 reads a `tu-local-dir:<folder>` encoder's weights from, for planning
(encoder_check) and training's errors (pretrained) alike.

A mirror of timm.models._hub.load_state_dict_from_path's choice, without importing timm or
torch: planning asks for this file before any step runs. tests/test_timm_files.py compares it
with timm's own choice, so that a timm that changes its order fails a test, not a user.
"""

from __future__ import annotations

from pathlib import Path

# timm's preferred names, first found wins (timm.models._hub._PREFERRED_FILES)
NAMES = ("model.safetensors", "pytorch_model.bin", "pytorch_model.pth", "model.pth",
         "open_clip_model.safetensors", "open_clip_pytorch_model.safetensors",
         "open_clip_pytorch_model.bin", "open_clip_pytorch_model.pth")
# else the first file by name of the first of these endings any file has (_EXT_PRIORITY)
SUFFIXES = (".safetensors", ".pth", ".pth.tar", ".bin")


def weights_file(folder: str | Path) -> Path | None:
    """The file of `folder` timm reads the weights from, or None where it reads none (a
    folder of `.pt` files only: timm raises 'No suitable checkpoints found')."""
    folder = Path(folder)
    found = next((folder / n for n in NAMES if (folder / n).exists()), None)
    for suffix in SUFFIXES:
        found = found or next(iter(sorted(folder.glob(f"*{suffix}"))), None)
    return found


def no_weights_fix(folder: str | Path) -> str:
    """What to do about a `folder` that holds no file timm reads, in words."""
    unread = ", ".join(str(p) for p in sorted(Path(folder).glob("*.pt")))
    takes = f"timm reads {NAMES[0]}, {NAMES[1]}, else a file ending {', '.join(SUFFIXES)}"
    if unread:  # torch.save's files: timm reads them (torch.load) once named .pth
        return (f"{takes}, and never {unread}: rename it to model.pth, or convert it to "
                f"{NAMES[0]}")
    return f"{takes}, and the folder holds none: copy the weights file there, beside config.json"
