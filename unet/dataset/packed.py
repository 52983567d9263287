"""Compressed extensions among a layout's image or mask extensions: refused at planning with
how to unpack (STARE's .ppm.gz) or, for a volume (.nii.gz), how to split it into slices."""

from __future__ import annotations

from unet.dataset.names import COMPRESSED, VOLUMES
from unet.dataset.volume_notes import NIFTI_FIX, fix_text


def packed_extensions(kw: dict, section: str) -> str:
    """Why a compressed extension (STARE's .ppm.gz) among image_extensions or mask_extensions
    cannot be read, with how to unpack; '' when there is none. Each file would pair, then fail
    to decode (`.gz`), or pick up nothing at all (`.ppm.gz`: a file's extension is its last)."""
    for side in ("image", "mask"):
        exts = kw.get(f"{side}_extensions", ())
        if packed := [e for e in exts if e.lower().endswith(COMPRESSED)]:
            folder = kw.get("images" if side == "image" else "masks")
            folder = folder if isinstance(folder, str) else "imagesTr"
            if packed[0].lower() in VOLUMES:  # .nii.gz: gunzip reveals a volume all the same
                return (f"{section}.{side}_extensions holds {packed[0]}: a 3-D volume, not "
                        "read (the pipeline reads 2-D images); "
                        + fix_text(NIFTI_FIX, folder) + " and list .png and .tif")
            return (f"{section}.{side}_extensions holds {packed[0]}: compressed files are not "
                    "read; unpack them in place first (STARE's `gunzip stare-images/*.gz "
                    "labels-ah/*.gz` gives im0001.ppm and im0001.ah.ppm) and list the extension "
                    "they reveal, e.g. .ppm, in image_extensions and mask_extensions")
    return ""
