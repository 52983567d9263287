"""`unet restack`: a case's predicted slice masks back into one label volume."""

from __future__ import annotations

import argparse
from pathlib import Path

from unet.cli_types import path as path_arg


def _restack(args: argparse.Namespace) -> int:
    from unet.dataset.restack import restack_volume

    out = restack_volume(Path(args.folder), Path(args.reference), Path(args.out), args.name,
                          args.series)
    print(f"wrote {out} from the slices in {args.folder}, on the grid of {args.reference}")
    return 0


def restack_arguments(p: argparse.ArgumentParser) -> None:
    """unet restack's arguments."""
    p.set_defaults(run=_restack)
    p.add_argument("folder", type=path_arg,
                   help="folder of the case's slice masks, <case>_000.png ..., e.g. unet "
                        "predict's -o folder for the slices unet unstack wrote")
    p.add_argument("reference", type=path_arg,
                   help="the case's image volume that unet unstack split, e.g. "
                        "imagesTs/prostate_03.nii.gz (or .nrrd, .mha, .mhd, .dcm, or a DICOM "
                        "series' folder): its grid, "
                        "affine and header are kept; or a TIFF stack, e.g. EM's "
                        "test-volume.tif: a page each, in one multi-page TIFF")
    p.add_argument("-o", "--out", required=True, type=path_arg,
                   help="the label volume to write, e.g. prostate_03.nii.gz, in the reference's "
                        "format (a .dcm's or a DICOM series' as .nrrd or .mha, a stack's as "
                        ".tif); never overwritten")
    p.add_argument("--series", metavar="UID", help="the SeriesInstanceUID of the reference "
                   "series, where its folder holds several (as given to unet unstack)")
    p.add_argument("--name", help="the slices' stem, <name>_000.png ...; default: the "
                   "reference's file name less .nii.gz, .nrrd, ... (the name unet unstack "
                   "gave; for nnU-Net's <case>_0000.nii.gz, <case>); a TIFF stack's pages "
                   "are 00.png ... (zero-padded to the page count) as unstack wrote them, or "
                   "<name>_000.png ... given this")
