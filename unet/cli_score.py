"""`unet score`'s arguments and run: predicted masks against an external folder's own masks."""

from __future__ import annotations

import argparse

from unet.cli_types import number
from unet.cli_types import path as path_arg


def _ignore_value(text: str) -> int | list[int]:
    """--ignore: a grey level (255), or a colour R,G,B for a colour-mask model."""
    try:
        parts = [int(p) for p in text.split(",")]
    except ValueError:
        parts = []
    if len(parts) not in (1, 3) or not all(0 <= p <= 65535 for p in parts):
        raise argparse.ArgumentTypeError(f"{text!r}: give a grey level (e.g. 255) or a colour "
                                         "R,G,B (e.g. 0,0,0)")
    return parts[0] if len(parts) == 1 else parts


def score_arguments(p: argparse.ArgumentParser) -> None:
    """unet score's arguments."""
    p.add_argument("pred", type=path_arg, help="the folder unet predict wrote (-o)")
    p.add_argument("truth", type=path_arg,
                   help="the ground-truth masks of the same images, named as the predictions "
                        "(1.png: 1.tif), or with --mask-prefix/--mask-suffix")
    p.add_argument("--model", type=path_arg,
                   help="the model.pt that predicted them (or its experiment's folder): its "
                        "class values, threshold and ignore value read the truth, as the "
                        "training masks were read (default: the model PRED's .unet-predict."
                        "jsonl names; one of other weights than it names is refused)")
    p.add_argument("--out", type=path_arg, metavar="DIR",
                   help="folder for per_image.csv and summary.json (default: PRED_score "
                        "beside PRED; never inside TRUTH)")
    p.add_argument("--mask-prefix", default="", metavar="P",
                   help="before the name in the truth's file names (ETIS: p, p1.tif for 1.png)")
    p.add_argument("--mask-suffix", default="", metavar="S",
                   help="after the name in the truth's file names (e.g. _mask)")
    p.add_argument("--mask-stem", nargs=2, default=("", ""), metavar=("PATTERN", "REPLACE"),
                   help="a regular expression matching a prediction's whole name and the truth "
                        r"stem it makes (KITTI Road: '(.+)_(\d+)' '\1_road_\2' for "
                        "um_road_000000.png beside um_000000's mask), as dataset.<source>."
                        "mask_stem; not with --mask-prefix/--mask-suffix")
    p.add_argument("--recursive", action="store_true",
                   help="subfolders too, paired by their path (as unet predict --recursive "
                        "mirrors them)")
    p.add_argument("--partial", action="store_true",
                   help="score the pairs found, skipping predictions without truth and truth "
                        "without prediction (else refused, named)")
    p.add_argument("--threshold", type=number(float, 0), metavar="T",
                   help="binarise the truth at T (above: the higher class value), e.g. 127 for "
                        "JPEG masks of a model trained on 0/255 PNGs (default: the model's)")
    p.add_argument("--ignore", type=_ignore_value, metavar="V",
                   help="a truth value not scored (grey level, or R,G,B; default: the "
                        "model's masks.ignore)")
    p.add_argument("--threads", type=number(int, 1), default=4, metavar="N",
                   help="processes (default 4)")


def run_score(args: argparse.Namespace) -> int:
    """Score, write per_image.csv and summary.json, print the Dice table."""
    from unet.evaluate.external import default_out, score_folder, score_table
    from unet.evaluate.external_model import scored_model
    from unet.evaluate.external_pairs import Pairing
    from unet.infer.named import named_models

    # the model that made PRED's masks (its record), or --model checked against it; folds
    # share one mapping (check_same_data)
    model = named_models(scored_model(args.pred, args.model))[0]
    pairing = Pairing(args.mask_prefix, args.mask_suffix, args.recursive, args.partial,
                      tuple(args.mask_stem))
    summary = score_folder(args.pred, args.truth, model, args.out, pairing, args.threshold,
                           args.ignore, args.threads)
    out = args.out or default_out(args.pred)
    print(f"{summary['images']} pair{'s' * (summary['images'] != 1)} scored; per_image.csv "
          f"and summary.json in {out}\n{score_table(summary)}")
    return 0
