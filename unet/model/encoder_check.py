"""arch smp's model.encoder and model.encoder_weights, checked with the config: offline, from
smp's and timm's registries, before any step runs.

No torch at import: the Snakefile imports this for arch smp only, and a name found good is
remembered (with the smp and timm versions), so planning imports neither again for it.
"""

from __future__ import annotations

import difflib
import json
import os
from importlib import metadata
from pathlib import Path
from urllib.parse import quote, unquote

from unet.common.fileio import atomic_path
from unet.model.timm_files import no_weights_fix, weights_file

CACHE = Path(".snakemake", "unet-encoders.json")  # beside Snakemake's own metadata


def fetch_markers(encoder: str, weights: str | None) -> list[str]:
    """The fetch_encoder_weights marker that training of `encoder` with `weights` waits for:
    none without weights, nor for timm's `tu-local-dir:<folder>`, whose weights are read from
    that folder (nothing to download). A name with ':' or '/' (`tu-hf-hub:<org>/<repo>`) is
    percent-encoded, so that its marker is one file name in resources/encoders/."""
    if not weights or encoder.startswith("tu-local-dir:"):
        return []
    return [f"resources/encoders/{quote(encoder, safe='')}/{weights}.json"]


def folder_files(encoder: str, weights: str | None) -> list[str]:
    """The files training reads for a `tu-local-dir:<folder>` encoder (config.json, and with
    weights the weights file timm picks), so that replacing them retrains, as a fetch marker
    does for downloaded ones; model.safetensors where the folder has none timm reads, which
    Snakemake then names as missing before any step runs. None for other encoders."""
    if not encoder.startswith("tu-local-dir:"):
        return []
    folder = Path(encoder.partition(":")[2])
    if not weights:  # timm still builds the architecture its config.json names
        return [str(folder / "config.json")]
    # one file, so that another beside it (an optimizer's state) is no input
    found = weights_file(folder)
    return [str(folder / "config.json"), str(found or folder / "model.safetensors")]


def marker_encoder(name: str) -> str:
    """The encoder a marker's folder name (fetch_markers's) stands for."""
    return unquote(name)


def encoder_problem(encoder: str, weights: str | None, cache: str | os.PathLike | None = CACHE
                    ) -> str | None:
    """Why smp (or timm, for a `tu-` name) cannot build `encoder` with `weights`, in words, or
    None. Names found good are kept in `cache` (None: none kept); problems are never kept."""
    if encoder.startswith("tu-local-dir:"):  # timm and Snakemake take its path as given
        where = encoder.partition(":")[2]
        full = os.path.expanduser(os.path.expandvars(where))
        if full != where:
            return (f"model.encoder {encoder}: timm reads the folder's path as written, with "
                    f"no ~ or $VARIABLE expanded (nor does Snakemake, for training's inputs): "
                    f"give it in full, tu-local-dir:{full}")
        if weights and Path(where).is_dir() and weights_file(where) is None:  # e.g. weights.pt
            return (f"model.encoder {encoder}: {no_weights_fix(where)}, or set "
                    "model.encoder_weights: null to train from random weights")
    try:
        key = "|".join([encoder, str(weights), metadata.version("segmentation-models-pytorch"),
                        metadata.version("timm")])
    except metadata.PackageNotFoundError:  # the rules' own environment may have them
        return None
    good = _read(cache)
    if key in good:
        return None
    try:
        problem = _problem(encoder, weights)
    except AttributeError:  # another smp or timm's registries: training names what fails
        return None
    if problem is None and cache is not None:
        try:
            Path(cache).parent.mkdir(parents=True, exist_ok=True)
            # renamed in whole: a full disk, a kill or a second Snakemake planning at once
            # otherwise leaves (or reads) half a file, and every name kept is checked again
            with atomic_path(cache) as tmp:
                tmp.write_text(json.dumps(sorted({*good, key}), indent=1))
        except OSError:  # a read-only folder: checked again next time
            pass
    return problem


def _read(cache: str | os.PathLike | None) -> set[str]:
    try:
        return set(json.loads(Path(cache).read_text())) if cache else set()
    except (OSError, ValueError, TypeError):
        return set()


def _problem(encoder: str, weights: str | None) -> str | None:
    """encoder_problem's answer from the registries (importing smp, torch and timm)."""
    try:
        import segmentation_models_pytorch as smp
    except ImportError:
        return None
    if encoder.startswith("tu-"):
        import timm

        name = encoder[3:]
        if ":" in name:  # hf-hub:<repo>, local-dir:<folder>: timm reads them from there
            return None
        if not timm.is_model(name):
            near = difflib.get_close_matches(name, timm.list_models(), n=3)
            hint = f" (near: {', '.join('tu-' + n for n in near)})" if near else ""
            return (f"model.encoder {encoder}: timm has no model {name!r}{hint}; "
                    "timm.list_models() lists its names, which a tu- encoder takes")
        if weights and not timm.models.is_model_pretrained(name):
            return (f"model.encoder_weights {weights}: timm has no pretrained weights for "
                    f"{name}; set model.encoder_weights: null, or choose a pretrained model")
        return None
    known = smp.encoders.encoders
    if encoder not in known:
        if smp.encoders.is_equivalent_to_timm_universal(encoder):  # smp maps it to a tu- name
            return None
        near = difflib.get_close_matches(encoder, list(known), n=3)
        hint = f" (near: {', '.join(near)})" if near else ""
        return (f"model.encoder {encoder}: smp has no such encoder{hint}; name one of "
                "smp.encoders.get_encoder_names(), or a timm encoder as tu-<name>")
    offered = list(known[encoder]["pretrained_settings"])
    if weights and weights not in offered:
        return (f"model.encoder_weights {weights}: smp's {encoder} has "
                f"{', '.join(offered) or 'no pretrained weights'}; choose one, or null")
    return None
