"""`unet`: predict with a trained model, describe it, export it; no workflow or config needed.

    unet predict MODEL INPUT... -o OUT [--recursive] [--tta] [--device auto|cpu|cuda[:N]]
                 [--no-amp] [--overlap F]
    unet info MODEL
    unet score PRED TRUTH --model MODEL [--out DIR] [--mask-prefix P] [--mask-suffix S]
               [--recursive] [--partial] [--threshold T] [--ignore V]
    unet --version
    unet export MODEL --onnx OUT.onnx
    unet unstack STACK.tif FOLDER
    unet unstack VOLUME.nii.gz... FOLDER [--name CASE]    (or .nrrd, .mha, .mhd, .dcm)
    unet unstack DICOM_SERIES_FOLDER FOLDER [--series UID] [--name CASE]
    unet unstack ARRAY.npy|.npz|.h5|.mat FOLDER [--key K] [--axis N] [--name STEM]
                 [--classes channels --background C]
    unet restack MASKS_FOLDER IMAGE.nii.gz -o LABELS.nii.gz [--name CASE] [--series UID]
    unet stack FOLDER TEMPLATE... -o OUT [--prefix P] [--suffix S] [--nodata V]
    unet raw FILE... FOLDER --dtype '>u2' [--shape HxW] [--offset B] [--bits N] [--invert]
    unet rtstruct RTSTRUCT.dcm CT_FOLDER OUT_FOLDER [--roi NAME...] [--list]

It calls the package functions the Snakemake rules call: `unet predict` writes the same masks
as the predict_folder rule, in the data's own mask values.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from unet.cli_raw import raw_arguments
from unet.cli_restack import restack_arguments
from unet.cli_rle import check_rle_flags, rle_arguments
from unet.cli_rtstruct import rtstruct_arguments
from unet.cli_score import run_score, score_arguments
from unet.cli_stack import stack_arguments
from unet.cli_types import device, number
from unet.cli_types import path as path_arg
from unet.cli_unstack import _unstack, unstack_arguments
from unet.common.logs import input_error, setup_logging
from unet.common.schema import bounds, defaults
from unet.infer.named import dashed_names, image_bases, named_models

_PREDICT = defaults("predict")  # the predict rule's defaults: config/schema.yaml


def _predict(args: argparse.Namespace) -> int:
    from unet.infer.predict import PredictSettings
    from unet.infer.predict_folder import predict_files

    settings = PredictSettings(tta=args.tta, device=args.device, overlap=args.overlap,
                               batch_size=args.batch_size, amp=not args.no_amp,
                               rescale=args.rescale)
    check_rle_flags(args)
    models, stat = named_models(args.model), None
    if args.rle:
        from unet.common.labels import mapping_from_meta
        from unet.dataset.rle_submission import check_submission_target, submission_columns
        from unet.infer.resume import model_stat
        from unet.model.checkpoint import load_model_file

        check_submission_target(Path(args.rle))  # before any work
        stat = model_stat(models[0])  # the file the classes are read from, before the read
        checkpoint = load_model_file(models[0])
        mapping, names = mapping_from_meta(checkpoint), checkpoint.get("class_names")
        submission_columns(mapping, args.rle_columns)  # before any work
        _check_rle_class(args.rle_class, names, models[0])
    bases = image_bases(args.inputs, args.roi, args.out, args.recursive)
    files = list(bases)
    # refused before work
    ids = _rle_ids(files, bases, args.rle_id_path, args.recursive) if args.rle else []
    n = predict_files(models, files, args.out, settings, args.threads, roi=args.roi,
                      overwrite=args.overwrite, model_stat=stat, base=bases)
    print(f"{n} mask{'s' * (n != 1)} written to {args.out}"
          + (f" ({len(files) - n} there already: skipped)" if n < len(files) else ""))
    if args.rle:
        from unet.dataset.rle_submission import write_submission
        from unet.infer.out_checks import mask_names

        masks = [(i, Path(args.out) / m)
                 for i, m in zip(ids, mask_names(files, bases).values(), strict=True)]
        rows = write_submission(masks, mapping, Path(args.rle), args.rle_order or "columns",
                                args.rle_objects, args.rle_columns, args.rle_id == "stem",
                                args.rle_starts or "absolute", args.rle_empty, names,
                                None if args.rle_class is None else args.rle_class == "name")
        print(f"{rows} run-length rows written to {args.rle}")
    return 0


def _rle_ids(files: list[Path], bases: dict, id_path: str | None,
             recursive: bool) -> list[str]:
    """Each image's --rle id: its name, or with --recursive its path mirrored under -o (x.png's
    image x.ome.tif: the whole extension back, not the last part); with --rle-id-path the id
    that makes of it (rle_ids.submission_ids)."""
    from unet.common.stems import extension, without_extension
    from unet.dataset.rle_ids import submission_ids
    from unet.infer.out_checks import mask_names

    names = [f"{without_extension(Path(m)).as_posix()}{extension(f)}"
             for f, m in mask_names(files, bases).items()]
    return submission_ids(names, id_path, recursive) if id_path else names


def _check_rle_class(rle_class: str | None, names: list | None, model: Path) -> None:
    """Refuse --rle-class name for a model that records no class names: values would be
    written under a column the competition reads names from."""
    if rle_class == "name" and not any(names or []):
        raise ValueError(f"--rle-class name: {model} records no class names; give them "
                         "(masks.names) and train again, or write values (--rle-class value)")


def _info(args: argparse.Namespace) -> int:
    from unet.model.describe import describe_model

    models = named_models(args.model)
    for path in models:  # with cross-validation, each fold's model
        print(f"{path}\n{describe_model(path)}" if len(models) > 1 else describe_model(path))
    return 0


def _export(args: argparse.Namespace) -> int:
    from unet.model.export import export_onnx

    models = named_models(args.model)
    export_onnx(models, args.onnx)
    print(f"wrote {args.onnx}: input image (B, C, H, W) float in [0, 1], output logits"
          + (f" (of the {len(models)} folds' averaged probabilities), and fold_logits"
             if len(models) > 1 else ""))
    return 0


def _predict_arguments(p: argparse.ArgumentParser) -> None:
    """unet predict's arguments."""
    p.add_argument("model", type=path_arg,
                   help="model.pt written by train_unet, or an experiment's folder "
                        "(results/<dataset>/<experiment>: its model, or its "
                        "cross-validation folds' models, averaged)")
    p.add_argument("inputs", nargs="+", type=path_arg,
                   help="image files, folders of images, or patterns (quoted: expanded here)")
    p.add_argument("-o", "--out", required=True, type=path_arg, help="folder for <stem>.png masks")
    p.add_argument("--recursive", action="store_true",
                   help="read folders' subfolders too, mirrored under -o (DIR/s1/a.png -> "
                        "OUT/s1/a.png), and a pattern's matches from its folders before the "
                        "first wildcard ('data/**/*.png': data), as predict.recursive does")
    p.add_argument("--overwrite", action="store_true", help="predict every image again; "
                   "remove a folder's masks of another model or settings (else refused)")
    p.add_argument("--tta", action="store_true",
                   help="average over flips (the axis the model was trained to flip, else both)")
    p.add_argument("--device", default="auto", type=device,
                   help="auto (CUDA if present), cpu, cuda, cuda:N")
    p.add_argument("--no-amp", action="store_true",
                   help="float32 on CUDA too, as the CPU and an ONNX export compute (default: "
                        "bf16 autocast on CUDA, fp16 before compute capability 8.0)")
    p.add_argument("--threads", type=number(int, 1), default=4, help="CPU threads (default 4)")
    p.add_argument("--overlap", type=number(float, *bounds("predict", "overlap")),
                   default=_PREDICT["overlap"],
                   help="patch-trained models: sliding-window tile overlap (default %(default)s)")
    p.add_argument("--batch-size", type=number(int, *bounds("predict", "batch_size")),
                   default=_PREDICT["batch_size"],
                   help="images of one size per forward pass, or tiles of a patch-trained "
                        "model's sliding window (default %(default)s; 1: each image alone, "
                        "as before batching, bit for bit)")
    p.add_argument("--rescale", type=number(float, *bounds("predict", "rescale")),
                   default=_PREDICT["rescale"], metavar="FACTOR",
                   help="native-size models: each image enters the model FACTOR times its "
                        "size, its mask written at its own: its pixel size / the training "
                        "images' (HuBMAP: 0.229 um under a 0.4 um model: 0.5725; default 1)")
    p.add_argument("--roi", metavar="TEMPLATE", type=path_arg,
                   help="each image's region of interest, a path with {id} for the image's "
                        "file stem (e.g. test/mask/{id}_mask.gif): class 0 outside it, as for "
                        "a model trained with dataset roi, which never learnt there")
    rle_arguments(p)


EXIT_CODES = ("exit status: 0: done; 1: a failure mid-run (a full disk, a lost mount), or a bug "
              "(with its traceback); 2: bad arguments or input (one line naming the file and "
              "the fix); 130: interrupted (Ctrl-C: what was written is whole); 141: the reader "
              "of the output went away")


def _command(sub, name: str, summary: str, run, more: str = "") -> argparse.ArgumentParser:
    """Sub-command `name`: its summary in `unet --help` and atop its own --help (with `more`)."""
    p = sub.add_parser(name, help=summary, description=summary + more, epilog=EXIT_CODES)
    p.set_defaults(run=run)
    return p


class _Version(argparse.Action):
    """--version: the versions are read (torch imported) only when asked, not at every start."""

    def __call__(self, ap, namespace, values, option_string=None) -> None:
        from unet.common.versions import version_line

        print(version_line())
        ap.exit()


def parser() -> argparse.ArgumentParser:
    """The command line: predict, info, score, export, unstack, restack, stack, raw and
    rtstruct sub-commands."""
    ap = argparse.ArgumentParser(prog="unet", description=__doc__.split("\n")[0],
                                 epilog=EXIT_CODES)
    ap.add_argument("--version", action=_Version, nargs=0,
                    help="the versions of unet-pipeline, Python, torch and pydensecrf, and the "
                         "device --device auto picks: one line for a bug report")
    sub = ap.add_subparsers(dest="command", required=True)
    _predict_arguments(_command(sub, "predict", "masks for new images, at their own size",
                                _predict))
    i = _command(sub, "info", "architecture, classes, training data and scores", _info)
    i.add_argument("model", type=path_arg,
                   help="model.pt, or an experiment's folder (each fold's model)")
    score_arguments(_command(sub, "score", "score predicted masks against a folder's own "
                             "ground truth", run_score, ": Dice, IoU, HD95 and boundary F1 per "
                             "image and class, as the workflow's evaluation scores them"))
    e = _command(sub, "export", "export to ONNX (dynamic batch, height and width)", _export,
                 ": input image (B, C, H, W) float in [0, 1], output logits, the class values "
                 "in its metadata. Needs the onnx extra: pip install -e '.[onnx]'")
    e.add_argument("model", type=path_arg,
                   help="model.pt, or an experiment's folder: its model, or its "
                        "cross-validation folds' models as one ensemble graph")
    e.add_argument("--onnx", required=True, type=path_arg, help="output .onnx file")
    u = _command(sub, "unstack", "split a multi-page TIFF into one PNG per page, or a volume "
                 "(NIfTI, NRRD, MetaImage, multi-frame DICOM) or an array (.npy, .npz, .h5, "
                 "a Zarr store) into one file per slice", _unstack,
                 ", its values unchanged (a TIFF's bit depth too; a NIfTI volume needs the "
                 "nifti extra: pip install -e '.[nifti]', an HDF5 file the hdf5 extra: "
                 "pip install -e '.[hdf5]', NRRD, MetaImage and DICOM volumes the volumes extra)")
    unstack_arguments(u)
    restack_arguments(_command(sub, "restack", "join a case's slice masks back into a volume "
                               "on its image's grid", None, " (the inverse of unstack)"))
    stack_arguments(_command(sub, "stack", "stack bands kept a file each into multi-band "
                             "TIFFs", None, ", one per image, for a model trained on "
                             "multi-band images"))
    raw_arguments(_command(sub, "raw", "headerless raw images (JSRT's .IMG) to PNG or TIFF "
                           "files, values kept", None, ": give the pixel type and byte order, "
                           "and the shape unless the files are square"))
    rtstruct_arguments(_command(sub, "rtstruct", "a DICOM RTSTRUCT's contours to a label PNG "
                                "per slice of its CT series", None, ", classes in --roi order"))
    return ap


def _closed_pipe() -> int:
    """The reader left (`unet info MODEL | head -1`): end quietly, as a tool that SIGPIPE ends;
    stdout goes to devnull so the exit's own flush cannot fail again."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 128 + 13  # 141: killed by SIGPIPE, as the shell reports it


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `unet` command."""
    try:  # reading --device imports torch (seconds): a Ctrl-C then is one line too
        args = parser().parse_args(argv)
    except SystemExit as done:
        if done.code == 2:  # a usage error (--help and --version exit 0)
            for line in dashed_names(sys.argv[1:] if argv is None else argv):
                print(f"unet: {line}", file=sys.stderr)
        raise
    except KeyboardInterrupt:
        print("\nunet: interrupted; nothing was written", file=sys.stderr)
        return 128 + 2
    except BrokenPipeError:  # --help or --version to a reader that left
        return _closed_pipe()
    setup_logging()
    try:
        code = args.run(args)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
        return code
    except BrokenPipeError:
        return _closed_pipe()
    except Exception as err:
        # bad input (logs.input_error): one line; a bug (numpy's ValueError) keeps its traceback
        if not input_error(err):
            raise
        print(f"unet {args.command}: {err}", file=sys.stderr)
        named = (FileNotFoundError, FileExistsError, PermissionError, ValueError)
        return 2 if isinstance(err, named) else 1  # 1: a full disk, a lost mount, a killed worker
    except KeyboardInterrupt:  # Ctrl-C: every output is written whole or not at all
        print(f"\nunet {args.command}: interrupted; what was written is whole, the rest is "
              "not written", file=sys.stderr)
        return 128 + 2  # 130: ended by SIGINT, as the shell reports it


if __name__ == "__main__":
    sys.exit(main())
