"""Settings that do nothing for the configured data layout, said once when the workflow is
planned: not refused, as dropping one changes download_dataset's params and reruns the data
set, and not said by download_dataset, whose code any edit reruns for every data set."""

from __future__ import annotations


def idle_settings(dataset: dict) -> list[str]:
    """Warnings for the active source's keys that cannot apply: missing_part: absent decides
    only a part that one of several united masks folders lacks (class folders take a folder an
    image lacks as that class absent already)."""
    section = f"dataset.{dataset.get('source')}"
    settings = dataset.get(str(dataset.get("source"))) or {}
    if settings.get("missing_part") != "absent":
        return []
    key, masks = f"{section}.missing_part: absent", settings.get("masks", "masks")
    if settings.get("mask_folders") == "classes":
        return [f"{key} does nothing with mask_folders: classes, where a class folder an image "
                "(or group) lacks is that class absent already; drop it"]
    if isinstance(masks, str) or len(masks) < 2:
        return [f"{key} does nothing with one masks folder ({section}.masks {masks!r}): it "
                "unites the parts several masks folders hold (masks: [a, b]); an image without "
                "a mask is missing_mask's (empty: all background); drop it"]
    return []
