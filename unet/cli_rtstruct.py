"""`unet rtstruct`: a DICOM RTSTRUCT's contours to one label PNG per slice of its CT series."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from unet.cli_types import path as path_arg


def _rtstruct(args: argparse.Namespace) -> int:
    from unet.dataset.rtstruct import pick_rois, read_rois, roi_lines, warn_skipped
    from unet.dataset.rtstruct_masks import TABLE, check_references, read_slices, write_masks

    structure = read_rois(Path(args.rtstruct))
    rois = structure.rois
    if args.list:
        print("\n".join(roi_lines(rois)))
        return 0
    if args.ct is None or args.out is None:
        raise ValueError("give the CT series' folder and a folder for the masks after the "
                         "RTSTRUCT file (or --list to see its ROIs)")
    picked = pick_rois(rois, args.roi, Path(args.rtstruct))
    if not picked:
        raise ValueError(f"{args.rtstruct} holds no ROIs: nothing to draw")
    warn_skipped(picked)
    slices = read_slices(Path(args.ct))
    check_references(structure, slices, Path(args.rtstruct), Path(args.ct))
    written, over = write_masks(picked, slices, Path(args.out))
    print(f"{len(written)} mask{'s' * (len(written) != 1)} written to {args.out} "
          f"({written[0].name}" + f" ... {written[-1].name}" * (len(written) > 1)
          + f"), classes in {Path(args.out) / TABLE}")
    if over:
        print(f"note: {over} pixels lie in more than one ROI: each holds the class of the "
              "last given (--roi order)")
    names = ["background"] + [r.name for r in picked]
    print("for the config (images: the CT folder, image_extensions: [.dcm]):\n"
          f"  masks: {{values: {list(range(len(names)))}, names: {json.dumps(names)}}}")
    return 0


def rtstruct_arguments(p: argparse.ArgumentParser) -> None:
    """unet rtstruct's arguments."""
    p.set_defaults(run=_rtstruct)
    p.add_argument("rtstruct", type=path_arg, metavar="RTSTRUCT",
                   help="the structure set file (Modality RTSTRUCT)")
    p.add_argument("ct", nargs="?", type=path_arg, metavar="CT_FOLDER",
                   help="the folder of the CT series it was drawn on, a .dcm per slice")
    p.add_argument("out", nargs="?", type=path_arg, metavar="OUT_FOLDER",
                   help="folder for <CT file stem>.png, one per slice, and rtstruct_classes.csv "
                        "(value, ROI name, ROINumber); all written or none, never overwritten")
    p.add_argument("--roi", nargs="+", action="extend", metavar="NAME",
                   help="the ROIs to draw, class 1 the first, 2 the next ... (--roi A B or "
                        "--roi A --roi B; case ignored where no name matches exactly); a later "
                        "one is drawn over an earlier where they overlap; default: every ROI in "
                        "ROINumber order")
    p.add_argument("--list", action="store_true",
                   help="print the ROIs (ROINumber, name, contour counts) and exit")
