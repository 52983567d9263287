"""`unet stack`: bands kept a file each (or a pair's images) stacked into multi-band TIFFs."""

from __future__ import annotations

import argparse

from unet.cli_types import path as path_arg


def _stack(args: argparse.Namespace) -> int:
    from unet.dataset.band_files import stack_folder

    written = stack_folder(args.folder, args.bands, args.out, args.prefix, args.suffix,
                           args.nodata)
    print(f"{len(written)} images stacked into {args.out}")
    return 0


def stack_arguments(p: argparse.ArgumentParser) -> None:
    """unet stack's arguments."""
    p.set_defaults(run=_stack)
    p.add_argument("folder", type=path_arg,
                   help="folder of each image's first band, e.g. test_red/")
    p.add_argument("bands", nargs="+", metavar="TEMPLATE", type=path_arg,
                   help="each further band's file, a path with {id} for the image's id, in "
                        "the model's band order, e.g. test_nir/nir_{id}.TIF")
    p.add_argument("-o", "--out", required=True, type=path_arg,
                   help="folder for <id>.tif, one per image; never overwritten")
    p.add_argument("--prefix", default="", help="before the id in the folder's file names")
    p.add_argument("--suffix", default="", help="after the id in the folder's file names")
    p.add_argument("--nodata", type=float, help="the bands' no-data value where a file declares "
                   "none, e.g. 0 for Sentinel-2's .jp2 reflectances: the stacks' nodata tag")
