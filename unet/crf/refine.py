"""`refine_crf`: the dense CRF over every predicted image of a split, in parallel."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from unet.common.band_ranges import scale_of
from unet.common.durable import sync_tree
from unet.common.fileio import read_json
from unet.common.georef import georef_masks
from unet.common.labels import mapping_from_meta
from unet.common.probs import probs_path
from unet.crf.dense import CRFParams, CRFTask, refine_all

log = logging.getLogger(__name__)


def refine_crf(
    manifest_path: str | os.PathLike,
    meta_path: str | os.PathLike,
    pred_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    params: CRFParams,
    split: str = "test",
    processes: int = 1,
) -> int:
    """Refine pred_dir/probs/<id>.npy with each original image into out_dir/masks/<id>.png,
    beside it a GeoTIFF image's georeferencing (georef_masks)."""
    manifest, meta = read_json(manifest_path), read_json(meta_path)
    by_id = {p["id"]: p for p in manifest["pairs"]}
    mapping = mapping_from_meta(meta)
    tasks = [
        CRFTask(
            image_path=by_id[i]["image"],
            probs_path=str(probs_path(pred_dir, i)),
            out_path=str(Path(out_dir) / "masks" / f"{i}.png"),
            mapping=mapping,
            params=params,
            span=scale_of(meta),  # as the cache scaled the image (per band too)
            roi=by_id[i].get("roi"),
        )
        for i in meta["splits"][split]["ids"]
    ]
    Path(out_dir, "masks").mkdir(parents=True, exist_ok=True)
    refine_all(tasks, processes)
    georef_masks(manifest, meta["splits"][split]["ids"], Path(out_dir) / "masks",
                 mapping.ignore)
    sync_tree(out_dir)  # a rerun trusts the folder: on disk before the job reports done
    log.info("%d masks refined into %s with %s", len(tasks), out_dir, params)
    return len(tasks)
