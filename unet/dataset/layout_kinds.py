"""Which modules each kind of data layout needs beyond plain pairing (one masks folder of
mask files): download_dataset imports them through this table, and the download rule lists
only the configured layout's as code inputs, so editing COCO or run-length code reruns no
data set of mask files, as unet.dataset.sources does for the sources."""

from __future__ import annotations

from types import ModuleType

from unet.dataset.layout import GROUP, Layout
from unet.dataset.sources import listed_module

# A layout kind's own modules (dotted, below unet).
LAYOUT_MODULES: dict[str, tuple[str, ...]] = {
    "groups": ("dataset.groups",),  # parallel folders, one per sequence or patient
    # run-length encodings in a CSV
    "rle": ("dataset.rle", "dataset.rle_ids", "dataset.rle_order", "dataset.rle_overlap"),
    "coco": ("dataset.coco", "dataset.coco_checks", "dataset.image_find"),  # COCO annotations
    # LabelMe annotations, a JSON per image (and the images some hold in imageData)
    "labelme": ("dataset.labelme", "dataset.json_masks", "dataset.labelme_images"),
    # QuPath's GeoJSON, one per image
    "qupath": ("dataset.qupath", "dataset.geojson_geometry", "dataset.json_masks"),
    # a GeoJSON per image in map coordinates (SpaceNet's), placed on its GeoTIFF, read as QuPath's
    "geojson": ("dataset.geo_vector", "dataset.qupath", "dataset.geojson_geometry",
                "dataset.json_masks"),
    # a JSON of WKT polygons in pixels per image (xView2's xBD), read as QuPath's
    "wkt": ("dataset.wkt_json", "dataset.qupath", "dataset.geojson_geometry",
            "dataset.json_masks"),
    "via": ("dataset.via", "dataset.image_find", "dataset.json_masks"),  # VIA: one JSON for all
    "yolo": ("dataset.yolo", "dataset.json_masks"),  # YOLO segmentation labels, a .txt each
    "xml": ("dataset.xml_masks", "dataset.json_masks"),  # ImageScope's or ASAP's XML, one each
    "classes": ("dataset.class_folders",),  # one masks folder per class
    "mask_folders": ("dataset.mask_folders",),  # a folder of masks per image ({id})
    "merge": ("dataset.merge",),  # several masks of one image, united
    "band_files": ("dataset.band_files",),  # one file per band, stacked
    "roi": ("dataset.roi_files",),  # a region of interest (or to ignore) per image
    "stem_map": ("dataset.stem_map",),  # mask stems made of ids by a regex (KITTI Road)
    "blank": ("dataset.blank",),  # images without a mask all background (missing_mask: empty)
}


def layout_kinds(layout: Layout) -> list[str]:
    """The kinds (LAYOUT_MODULES' keys) that pairing and writing the manifest of `layout`
    use; none for one masks folder of mask files."""
    several = not isinstance(layout.masks, str) and len(layout.masks) > 1
    per_image = any("{id}" in m for m in layout.mask_dirs)
    used = {
        "groups": GROUP in layout.images,
        "rle": bool(layout.rle),
        "coco": bool(layout.coco),
        "labelme": bool(layout.labelme),
        "qupath": bool(layout.qupath),
        "via": bool(layout.via),
        "yolo": bool(layout.yolo),
        "xml": bool(layout.xml),
        "geojson": bool(layout.geojson),
        "wkt": bool(layout.wkt),
        # class folders, or united ones whose missing parts are absent (paired as classes)
        "classes": layout.mask_folders == "classes"
        or (several and layout.missing_part == "absent"),
        "mask_folders": per_image,
        # a list of masks per image: further parts, several folders (their union), or a
        # folder of masks per image
        "merge": bool(layout.mask_parts) or per_image
        or (several and layout.mask_folders != "classes"),
        "band_files": bool(layout.band_files),
        "roi": bool(layout.roi or layout.ignore_regions),
        "stem_map": bool(layout.mask_stem[0]),
        "blank": layout.missing_mask == "empty",
    }
    return [kind for kind, on in used.items() if on]


def layout_modules(layout: Layout) -> list[str]:
    """The modules of `layout`'s kinds (dotted, below unet): the rule's code inputs."""
    return [m for kind in layout_kinds(layout) for m in LAYOUT_MODULES[kind]]


def layout_module(kind: str, name: str | None = None) -> ModuleType:
    """The module `name` of `kind` (by default its first): imported through LAYOUT_MODULES,
    which the rule's code inputs come from, so unet.deps sees it there, not as an import."""
    if name is not None and name not in LAYOUT_MODULES[kind]:
        raise ValueError(f"{name} is not a module of layout kind {kind!r}")
    return listed_module(name or LAYOUT_MODULES[kind][0])
