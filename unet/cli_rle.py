"""`unet predict`'s run-length options (--rle and the --rle-* flags that shape its rows):
Kaggle's usual submission CSV, or a competition's own form (TGS Salt's columns, SIIM-ACR's
relative starts and -1)."""

from __future__ import annotations

import argparse
import os

# The flags that shape --rle's rows, by their argparse names.
SHAPING = ("rle_order", "rle_objects", "rle_columns", "rle_id", "rle_id_path", "rle_class",
           "rle_starts", "rle_empty")


def _names(value: str) -> tuple[str, ...]:
    """Comma-separated column names: each non-empty, none twice."""
    names = tuple(n.strip() for n in value.split(","))
    if not all(names) or len(set(names)) != len(names):
        raise argparse.ArgumentTypeError(f"{value!r}: give distinct names, comma-separated")
    return names


def rle_arguments(p: argparse.ArgumentParser) -> None:
    """unet predict's run-length (Kaggle submission) options."""
    p.add_argument("--rle", metavar="CSV", type=os.path.expanduser,
                   help="also write the masks as run-length encodings, Kaggle-style: ImageId, "
                        "EncodedPixels (and ClassId for more than one scored class)")
    p.add_argument("--rle-order", choices=("columns", "rows"),
                   help="count pixels down each column first (default: Kaggle's usual; "
                        "Airbus, Severstal) or along rows (Carvana, as its train_masks.csv)")
    p.add_argument("--rle-objects", action="store_true",
                   help="a row per connected object, not per image and class (Airbus' ships)")
    p.add_argument("--rle-columns", type=_names, metavar="NAMES",
                   help="the CSV's column names, comma-separated: image and encoding (e.g. "
                        "id,rle_mask for TGS Salt), and for models of several scored classes "
                        "a class column: the name holding 'class' or 'label' wherever it "
                        "stands (Severstal: ImageId,EncodedPixels,ClassId), else between "
                        "them; its class names where it says 'label' or 'name', else values")
    p.add_argument("--rle-id", choices=("name", "stem"),
                   help="write each image's file name (default: Carvana, Airbus) or its stem, "
                        "without the extension (TGS Salt, HuBMAP, SIIM-ACR)")
    p.add_argument("--rle-id-path", metavar="REGEX",
                   help="ids made of each image's path (with --recursive, below the folder "
                        "given), as the data set's rle.id_path makes them: the groups joined "
                        "by '_' (UW-Madison GI Tract: '(case\\d+_day\\d+)/scans/(slice_\\d+)' "
                        "gives case123_day20_slice_0001)")
    p.add_argument("--rle-class", choices=("name", "value"),
                   help="the class column holds each class's name (UW-Madison's class: "
                        "large_bowel) or its mask value (Severstal's ClassId: 3); default: "
                        "the name where the column's name says label or name, else the value")
    p.add_argument("--rle-starts", choices=("absolute", "relative"),
                   help="each start counted from the image's first pixel, from 1 (default), or "
                        "from 0 after the end of the run before (SIIM-ACR, as rle.starts)")
    p.add_argument("--rle-empty", metavar="TEXT",
                   help="the encoding written for an image without objects (default: empty; "
                        "-1 for SIIM-ACR); for several scored classes, given, a row per image "
                        "and class, an absent class with TEXT (Severstal: --rle-empty '')")


def check_rle_flags(args: argparse.Namespace) -> None:
    """Refuse --rle-* flags given without --rle: taken and ignored, no CSV would come."""
    given = ["--" + f.replace("_", "-") for f in SHAPING if getattr(args, f) not in (None, False)]
    if given and not args.rle:  # a default given on purpose too
        raise ValueError(f"{' and '.join(given)} {'shape' if len(given) > 1 else 'shapes'} the "
                         "rows of --rle: give --rle FILE.csv too, or leave them out")
    if args.rle_id and args.rle_id_path:
        raise ValueError(f"--rle-id {args.rle_id} and --rle-id-path both make the ids: give one")
