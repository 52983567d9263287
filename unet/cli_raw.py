"""`unet raw`: headerless raw images (JSRT's .IMG) to PNG or TIFF files, values kept."""

from __future__ import annotations

import argparse
from pathlib import Path

from unet.cli_types import number
from unet.cli_types import path as path_arg


def _shape(text: str) -> tuple[int, int]:
    """HEIGHTxWIDTH, e.g. 2048x2048."""
    try:
        height, width = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give HEIGHTxWIDTH, e.g. 2048x2048") from None
    if height < 1 or width < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: both sides must be 1 or more")
    return height, width


def _raw(args: argparse.Namespace) -> int:
    from unet.dataset.raw import convert_raw

    files = [Path(f) for f in args.files]
    written = convert_raw(files, Path(args.folder), args.dtype, args.shape, args.bits,
                          args.invert, args.bin, args.offset)
    print(f"{len(written)} image{'s' * (len(written) != 1)} written to {args.folder} "
          f"({written[0].name}" + f" ... {written[-1].name}" * (len(written) > 1) + ")")
    return 0


def raw_arguments(p: argparse.ArgumentParser) -> None:
    """unet raw's arguments."""
    p.set_defaults(run=_raw)
    p.add_argument("files", nargs="+", type=path_arg,
                   help="headerless raw files, one image each, e.g. All247images/*.IMG")
    p.add_argument("folder", type=path_arg,
                   help="folder for <stem>.png (8- or 16-bit unsigned) or <stem>.tif (other "
                        "types); all written or none, never overwritten")
    p.add_argument("--dtype", required=True,
                   help="numpy's pixel type with its byte order: '>u2' big-endian 16-bit "
                        "unsigned (JSRT), '<u2' little-endian, 'u1' 8-bit, '<f4' ...")
    p.add_argument("--shape", type=_shape,
                   help="HEIGHTxWIDTH (JSRT: 2048x2048); default: the square the file's size "
                        "holds, where its rows read as continuing each other (else refused); "
                        "checked against each file's size either way")
    p.add_argument("--offset", type=number(int, 0), default=0, metavar="BYTES",
                   help="bytes of fixed header before the pixels, skipped (the size check "
                        "counts the rest; default 0)")
    p.add_argument("--bits", type=number(int, 1, 32),
                   help="bits the scanner used (JSRT: 12): values above 2^bits - 1 are refused, "
                        "and --invert counts from 2^bits - 1 (default: the type's own; --invert "
                        "then refuses values under half of it)")
    p.add_argument("--invert", action="store_true",
                   help="write 2^bits - 1 - v, for data whose high values are dark (JSRT's "
                        "optical densities; DICOM's MONOCHROME1), so that bone reads bright; "
                        "unsigned types only")
    p.add_argument("--bin", type=number(int, 1), default=1, metavar="N",
                   help="average each N x N block: the images at the size their masks were "
                        "drawn at (SCR's masks of JSRT: 2, 1024x1024; default 1: as stored)")
