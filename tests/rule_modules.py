"""Each rule's pinned unet/ modules (its entry modules, and the closure they import), for
test_deps and the planning tests."""

# imageio decodes through decoders (tifffile, imagecodecs) and dicom (pydicom), refusing slide
# formats it cannot (slides): one unit wherever images are read; band_ranges: wide images
# scaled per band
IMAGEIO = {"common.imageio", "common.colour", "common.decoders", "common.maskio",
           "common.orientation", "common.pages", "common.pixels", "common.slides",
           "common.levels", "common.gdal_fill", "common.dicom", "common.band_ranges"}
FILEIO = {"common.fileio", "common.durable"}  # fileio fsyncs through durable
LABELS = {"common.labels", "common.label_tables"}  # the label mapping reads through its tables
COMMON = {*FILEIO, *IMAGEIO, *LABELS, "common.parallel"}
SETTINGS = {"common.schema"}  # settings dataclasses take their defaults from the schema
# model.pretrained names the file timm reads from a tu-local-dir: folder as planning does: the
# order lives in model.timm_files (tiny, changes only with timm), not in model.encoder_check
PRETRAINED = {"model.pretrained", "model.timm_files"}
BANDS = {"common.bands"}  # multi-band TIFFs: wherever the model's input or a view is read
# a mask's sidecar: the scene's georeferencing (a .jp2's GeoJP2 box too), and its no-data
# pixels read from its bands; a PNG tile's world file or .aux.xml (world_file)
GEOREF = {"common.georef", "common.jp2_boxes", "common.nodata", "common.world_file", *BANDS}
# download_dataset's code for every source and layout (pairing, the manifest); each source
# adds its own (unet.dataset.sources), each layout kind its own (unet.dataset.layout_kinds:
# rle, coco, class folders, band files, ...), so editing archive or COCO code reruns no
# synthetic data set or folder of mask files.
DOWNLOAD = {*FILEIO, *(IMAGEIO - {"common.maskio"}), "common.parallel", "dataset.download",
            "common.bad_files", "dataset.layout", "dataset.layout_kinds", "dataset.names",
            "dataset.volume_notes",
            "dataset.pairing", "dataset.precheck", "dataset.sources", "dataset.packed",
            "common.jp2_boxes", "common.stems",
            "common.pair_reads", "common.pair_sizes"} | SETTINGS  # jp2_boxes: .jp2 files whose
# place is lost, named; stems: ids from file names (x.ome.tif is x); pair_reads: the masks'
# headers named beside an unreadable image (not their georeferencing: no georef code here)
FETCH = {"dataset.archives", "dataset.archive_kinds", "dataset.archive_links", "dataset.http_get",
         "dataset.member_names", "dataset.url"}
SOURCES = {"synthetic": {"dataset.synthetic", "common.maskio"}, "local": set(), "url": FETCH,
           "kaggle": FETCH | {"dataset.kaggle"}}
# split.stratify_by's modules and the id lists', which dataset.split imports
SPLIT_PARTS = {"dataset.split_ids", "dataset.split_strata", "dataset.split_stratified"}
# Every rule's entry modules (as in rules/*.smk) and the exact modules they depend on; a new
# import shows up here, so a wider (or narrower) rerun is a decision, not an accident.
RULES = {
    "download_dataset": (("dataset.download",), DOWNLOAD),
    "split_dataset": (("dataset.split",), {*FILEIO, "dataset.split",
                                         "dataset.split_order", "dataset.split_checks",
                                         "dataset.split_groups", *SPLIT_PARTS}),
    "preprocess": (
        ("cache.preprocess",),
        COMMON | SETTINGS | BANDS | {"cache.preprocess", "cache.channel_count", "common.channels",
                             "cache.class_checks", "cache.background_only", "cache.tolerance",
                             "cache.foreground",
                             "cache.detected", "cache.aspect", "cache.fill_labels", "common.nodata",
                             "cache.instance_labels", "cache.lost_classes", "cache.nearest",
                             "cache.thinned_strokes", "cache.cache_files",
                             "cache.mapping", "common.pair_sizes", "common.bad_files",
                             "cache.pair_places", *GEOREF, "common.probs",  # pair_places
                             "cache.pair_headers", "common.pair_reads",
                             "cache.palettes", "cache.palette_threshold",
                             "cache.intensity", "cache.band_intensity",
                             "cache.depths", "cache.ragged", "cache.values", "cache.settings",
                             "cache.hounsfield",
                             "dataset.names", "common.stems",
                             "dataset.volume_notes",
                             "dataset.split", "dataset.split_order", "dataset.split_checks",
                             "dataset.split_groups", *SPLIT_PARTS,
                             "common.roi", "cache.separate"},
    ),
    "train_unet": (
        ("train.train",),
        {"cache.ragged", "cache.reader", "common.channels", "common.device", *FILEIO, *IMAGEIO,
         "common.argmax", *LABELS, "evaluate.metrics", "infer.tiles", "model.build",
         "model.checkpoint", "model.file_kinds", "train.border",
         *PRETRAINED, "model.unet", "common.shapes", "train.augment", "train.patches",
         "train.budget", "train.dataset", "train.finetune", "train.folds", "train.history",
         "train.loop", "train.collapse", "train.classes", "train.divergence",
         "train.losses",
         "train.optim", "train.settings", *SETTINGS,
         "train.resume", "train.signals", "train.source_score", "train.train", "train.validate",
         "deps",
         "common.drop_keys", "common.fit_unused", "train.precision"},
    ),
    "predict_masks": (
        ("infer.predict",),
        {"cache.ragged", "cache.reader", "common.device", *FILEIO, *IMAGEIO,
         "common.argmax", *LABELS, "common.probs", "common.roi", "infer.forward",
         "infer.predict", "infer.rescale", "model.trained",
         "infer.tiles", "infer.upsample", "infer.writer", "model.build", "model.checkpoint",
         "model.file_kinds", *PRETRAINED, "model.unet", "common.shapes", *SETTINGS,
         *GEOREF},
    ),
    "predict_folder": (
        ("infer.predict_folder", "infer.predict"),
        COMMON | BANDS | {"common.channels", "cache.preprocess", "cache.channel_count",
                          "cache.class_checks", "cache.instance_labels", "cache.aspect",
                          "cache.foreground",
                          "cache.fill_labels", "cache.background_only",
                  "cache.detected", "cache.separate", "cache.tolerance",
                  "cache.lost_classes", "cache.nearest", "cache.mapping", "common.pair_sizes",
                  "cache.thinned_strokes", "cache.cache_files",
                  "cache.pair_places", "cache.pair_headers", "common.pair_reads",
                  "common.bad_files", "cache.palettes", "cache.palette_threshold",
                  "cache.ragged", "cache.intensity",
                  "cache.band_intensity", "cache.depths", "cache.hounsfield",
                  "cache.values", "cache.settings", "common.device", "dataset.names",
                  "dataset.volume_notes", "common.stems",
                  "common.probs", "common.roi", "dataset.layout", "dataset.per_id", "dataset.split",
                  "dataset.split_order", "dataset.split_checks",
                  "dataset.split_groups", *SPLIT_PARTS, "infer.forward", "common.argmax",
                  "infer.predict_folder", "infer.predict", "infer.batches", "infer.memory",
                  "cache.reader", "dataset.packed",
                  "model.trained", *GEOREF,
                  "infer.extensions", "infer.input_checks", "infer.out_checks", "infer.resume",
                  "infer.rescale",
                  "infer.tiles", "infer.upsample", "infer.writer", "model.build",
                  "model.checkpoint", "model.file_kinds", *PRETRAINED,
                  "model.unet", "common.shapes", *SETTINGS},
    ),
    "tune_crf": (
        ("crf.tune",),
        COMMON | SETTINGS | BANDS | {"common.probs", "common.roi", "crf.dense", "crf.features",
                                     "crf.tiles", "crf.tune", "crf.sparse_truth", "common.nodata",
                                     "evaluate.metrics", "evaluate.void"},
    ),
    "refine_crf": (
        ("crf.refine",),
        COMMON | SETTINGS | BANDS | {"common.probs", "common.roi", "crf.dense", "crf.features",
                                     "crf.tiles", "crf.refine", *GEOREF}
    ),
    "finalize_masks": (
        ("postprocess.finalize",),
        COMMON | SETTINGS | BANDS | {"common.layout", "common.probs", "common.roi", "crf.dense",
                                     "crf.features", "crf.tiles",
                                     "crf.tune", "crf.sparse_truth",
                                     "evaluate.metrics", "evaluate.void",
                                     "postprocess.components",
                                     "postprocess.finalize", "postprocess.threshold",
                                     *GEOREF},
    ),
    "evaluate_masks": (
        ("evaluate.evaluate", "common.layout"),
        COMMON | {"common.layout", "common.probs", "common.roi", "dataset.names", "common.stems",
                  "dataset.volume_notes",
                  "dataset.split", "dataset.split_checks",
                  "dataset.split_groups", *SPLIT_PARTS, "dataset.split_order",
                  "evaluate.boundary", "evaluate.cases", "evaluate.detection",
                  "evaluate.distances", "evaluate.regions", "evaluate.reading",
                  "evaluate.case_volumes", "evaluate.volume", "dataset.spacing_table",
                  "evaluate.ground_truth",
                  "evaluate.evaluate", "evaluate.metrics", "evaluate.void",
                  "evaluate.objects", "evaluate.objects3d", "evaluate.rows", "evaluate.thresholded",
                  "evaluate.relaxed", "evaluate.requested", "evaluate.smear", "evaluate.aji",
                  "evaluate.sbd", "evaluate.pr_curve",
                  "common.nodata", *BANDS},  # void: the scene's no-data, for tuning's scores
    ),
    "plot_results": (
        ("report.plot", "common.layout"),
        {*FILEIO, *IMAGEIO, *BANDS, *LABELS, "common.layout", "common.roi",
         "report.case_chart", "report.charts", "report.figures", "report.plot", "train.history",
         "report.training", "report.cross_validation", "train.collapse", "report.regions",
         "report.cases", "report.objects", "report.band_names", "report.relaxed",
         "report.ignored", "report.best_worst", "evaluate.void", "common.nodata",
         "common.gdal_fill", "report.pr_plot"},
    ),
    "compare_experiments": (("report.compare",), {*FILEIO, "report.compare", "report.regions",
                                                  "report.cases", "report.objects",
                                                  "report.relaxed"}),
    "cross_validation": (
        ("report.cross_validation",),
        {*FILEIO, "report.cross_validation", "train.history"},
    ),
}
