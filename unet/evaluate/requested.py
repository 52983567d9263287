"""The scores evaluate_masks adds where the config asks for them, beside the pixel scores."""

from __future__ import annotations

from unet.common.labels import MaskMapping
from unet.evaluate.objects import add_objects
from unet.evaluate.pr_curve import PrPool
from unet.evaluate.regions import region_summary
from unet.evaluate.relaxed import relaxed_summary
from unet.evaluate.thresholded import thresholded_iou


def add_requested(summary: dict, results: list[dict], by_id: dict, mapping: MaskMapping,
                  regions: dict[str, list] | None, objects: bool,
                  iou_threshold: float | None, relaxed_slack: float | None = None,
                  pool: PrPool | None = None) -> None:
    """The scores the config asks for beside the pixel scores (evaluate.objects, .iou_threshold,
    .relaxed_slack, .regions, .pr_curve: `pool`, the probabilities' histograms), added to
    `summary`."""
    methods = list(summary["methods"])
    if objects:  # found, missed, added, split or merged objects
        add_objects(summary, results, by_id, mapping.threshold)
    if iou_threshold is not None:  # an image's IoU under it counts 0
        summary["iou_threshold"] = thresholded_iou(results, methods, mapping.scored_from,
                                                   iou_threshold)
    if relaxed_slack is not None:  # pixels within the slack of the other mask's (roads)
        summary["relaxed"] = relaxed_summary(results, methods, mapping.scored_from, relaxed_slack)
    if pool:  # the raw probabilities' MaxF, AP, OIS and curve
        summary["pr_curve"] = pool.summary([r["id"] for r in results], range(
            mapping.scored_from, mapping.num_classes), methods)
    if regions:
        summary["regions"] = region_summary(results, methods, regions, mapping,
                                            summary["class_names"])
