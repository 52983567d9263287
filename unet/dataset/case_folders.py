"""unstack's advice for a data set's folder of case folders (BraTS2021_Training_Data/, KiTS19's
data/): what lies a level down, from file names alone, and the loop or call that splits it."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from unet.dataset.names import file_kind, is_volume
from unet.dataset.volume_notes import loop_kind, sh

# Case folders looked into: enough to name the layout, few enough that a data set of a
# thousand cases costs no more than a listing of its root
LOOKED = 20
_STACKS = (".tif", ".tiff", ".gif")  # multi-page image files unstack splits, by name alone
ONE_A_CALL = "unstack splits one volume (or one case's channel volumes) a call"


def _visible(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if not p.name.startswith("."))


def _found(folders: list[Path], total: int) -> str:
    """'a (2 .nii.gz), b (1 .tif), ... (N folders in all)': each folder's files by kind."""
    def kinds(folder: Path) -> str:
        counts = Counter(file_kind(p) for p in _visible(folder) if p.is_file())
        return ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "no file"

    shown = ", ".join(f"{d.name} ({kinds(d)})" for d in folders[:3])
    return f"{shown}{', ...' if total > 3 else ''} ({total} folder(s) in all)"


def _first_call(folder: Path, file: Path, out_dir: Path) -> str:
    """The call that splits `file`, its slices named after its folder where its name does not
    start with the folder's (KiTS19's every case holds imaging.nii.gz: their slices would clash)."""
    name = "" if file.name.startswith(folder.name) else f" --name {sh(folder.name)}"
    return f"unet unstack {sh(file)} {sh(out_dir)}{name}"


def case_folders_advice(folder: Path, out_dir: Path) -> str:
    """Where `folder` holds no stack file itself but folders a level down, what they hold and
    how to split it: the loop over every case folder (BraTS), a folder's own loop (nnU-Net's
    imagesTr), or one call per volume or stack; '' where it holds a stack file itself."""
    from unet.dataset.structure_volumes import structures_loop
    from unet.dataset.volume_notes import label_loops, modality_loop

    entries = _visible(folder)
    if any(p.is_file() and p.suffix.lower() in _STACKS for p in entries):
        return ""  # a folder of stacks: unstack's own advice
    subs = [p for p in entries if p.is_dir()]
    if not subs:
        return ""
    looked = subs[:LOOKED]
    held = {d: [p for p in _visible(d) if p.is_file()] for d in looked}
    with_volumes = [d for d in looked if any(is_volume(p) for p in held[d])]
    head = f"{folder} holds no volume itself; a level down: {_found(subs, len(subs))}"
    if structures := structures_loop(folder, out_dir):  # TotalSegmentator's subjects
        return f"{head}: {ONE_A_CALL}; {structures}"
    loops: dict[str, str] = {}  # by kind: patients kept as NIfTI and as MetaImage get both
    for sub in with_volumes:
        kinds = [k for k in dict.fromkeys(loop_kind(p) for p in held[sub] if is_volume(p))
                 if k not in loops]
        modal = modality_loop(sub, out_dir) if kinds else ""  # the same for every kind
        for kind in kinds:
            # ACDC's patient folders: frames beside their _gt labels (and a cine): loops over all
            if loop := modal or label_loops(sub, kind, out_dir, folder):
                loops[kind] = loop
    if loops:
        return f"{head}: {ONE_A_CALL}; {'; '.join(dict.fromkeys(loops.values()))}"
    first = next(((d, p) for d in looked for p in held[d]
                  if is_volume(p) or p.suffix.lower() in _STACKS), None)
    if first is None:
        return (f"{head}: no volume or stack in the {len(looked)} looked into; unstack splits "
                "one volume or stack file a call; give it such a file")
    how = "each volume (or stack) its own call" if with_volumes else "each stack its own call"
    return f"{head}: {ONE_A_CALL}, {how}, e.g. {_first_call(*first, out_dir)}"
