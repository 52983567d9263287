"""Rules list the unet/ modules they import: each rule's closure is pinned exactly."""

import re

import pytest

from tests.conftest import REPO
from unet.deps import EXEMPT, module_files

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
# Every rule's entry modules (as in rules/*.smk) and the exact modules they depend on; a new
# import shows up here, so a wider (or narrower) rerun is a decision, not an accident.
RULES = {
    "download_dataset": (("dataset.download",), DOWNLOAD),
    "split_dataset": (("dataset.split",), {*FILEIO, "dataset.split",
                                         "dataset.split_order", "dataset.split_checks",
                                         "dataset.split_groups"}),
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
                             "dataset.split_groups",
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
         "infer.predict", "model.trained",
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
                  "dataset.split_groups", "infer.forward", "common.argmax",
                  "infer.predict_folder", "infer.predict", "infer.batches", "infer.memory",
                  "cache.reader", "dataset.packed",
                  "model.trained", *GEOREF,
                  "infer.extensions", "infer.input_checks", "infer.out_checks", "infer.resume",
                  "infer.tiles", "infer.upsample", "infer.writer", "model.build",
                  "model.checkpoint", "model.file_kinds", *PRETRAINED,
                  "model.unet", "common.shapes", *SETTINGS},
    ),
    "tune_crf": (
        ("crf.tune",),
        COMMON | SETTINGS | BANDS | {"common.probs", "common.roi", "crf.dense", "crf.features",
                                     "crf.tune", "crf.sparse_truth", "common.nodata",
                                     "evaluate.metrics", "evaluate.void"},
    ),
    "refine_crf": (
        ("crf.refine",),
        COMMON | SETTINGS | BANDS | {"common.probs", "common.roi", "crf.dense", "crf.features",
                                     "crf.refine", *GEOREF}
    ),
    "finalize_masks": (
        ("postprocess.finalize",),
        COMMON | SETTINGS | BANDS | {"common.layout", "common.probs", "common.roi", "crf.dense",
                                     "crf.features",
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
                  "dataset.split_groups", "dataset.split_order",
                  "evaluate.boundary", "evaluate.cases", "evaluate.detection",
                  "evaluate.distances", "evaluate.regions", "evaluate.reading",
                  "evaluate.case_volumes", "evaluate.volume", "dataset.spacing_table",
                  "evaluate.ground_truth",
                  "evaluate.evaluate", "evaluate.metrics", "evaluate.void",
                  "evaluate.objects", "evaluate.objects3d", "evaluate.rows", "evaluate.thresholded",
                  "common.nodata", *BANDS},  # void: the scene's no-data, for tuning's scores
    ),
    "plot_results": (
        ("report.plot", "common.layout"),
        {*FILEIO, *IMAGEIO, *BANDS, *LABELS, "common.layout", "common.roi",
         "report.case_chart", "report.charts", "report.figures", "report.plot", "train.history",
         "report.training", "report.cross_validation", "train.collapse", "report.regions",
         "report.cases", "report.objects", "report.band_names",
         "report.ignored"},
    ),
    "compare_experiments": (("report.compare",), {*FILEIO, "report.compare", "report.regions",
                                                  "report.cases", "report.objects"}),
    "cross_validation": (
        ("report.cross_validation",),
        {*FILEIO, "report.cross_validation", "train.history"},
    ),
}


def _modules(paths: list[str]) -> set[str]:
    """'.../unet/a/b.py' -> 'a.b', package __init__ files left out."""
    rel = (p.split("/unet/", 1)[1] for p in paths if not p.endswith("__init__.py"))
    return {r[:-3].replace("/", ".") for r in rel}


@pytest.mark.parametrize("rule", list(RULES))
def test_each_rule_depends_on_exactly_its_modules(rule):
    entries, expected = RULES[rule]
    assert _modules(module_files(entries, root=REPO)) == expected


@pytest.mark.parametrize("rule", list(RULES))
def test_rules_name_the_entry_modules_pinned_here(rule):
    text = "\n".join(p.read_text() for p in (REPO / "rules").glob("*.smk"))
    block = re.search(rf"^(?:rule|use rule) {rule}\b.*?(?=^\S|\Z)", text, re.M | re.S)
    assert block, f"rule {rule} not found in rules/"
    named = re.search(r"modules\(([^)]*)\)", block.group(0))
    assert named, f"rule {rule} lists no modules"
    assert tuple(re.findall(r'"([^"]+)"', named.group(1))) == RULES[rule][0]


def test_package_init_files_are_inputs():
    files = module_files(["crf.refine"], root=REPO)
    assert str(REPO / "unet" / "__init__.py") in files
    assert str(REPO / "unet" / "crf" / "__init__.py") in files
    assert str(REPO / "unet" / "common" / "__init__.py") in files


def test_logging_is_exempt():
    # Logging cannot change an output: editing it must rerun nothing.
    for entries, _ in RULES.values():
        assert not any(p.endswith("common/logs.py") for p in module_files(entries, root=REPO))


def test_every_unet_module_a_script_imports_is_an_input_of_its_rule():
    # scripts/predict_folder.py imports unet.infer.predict, which predict_folder's code
    # inputs left out: editing it reran nothing.
    text = "\n".join(p.read_text() for p in (REPO / "rules").glob("*.smk"))
    for block in re.findall(r"^rule \w+:.*?(?=^\S|\Z)", text, re.M | re.S):
        script = re.search(r'script:\s*"\.\./scripts/(\w+\.py)"', block)
        named = re.search(r"modules\(([^)]*)\)", block)
        if not script or not named:
            continue
        source = (REPO / "scripts" / script.group(1)).read_text()
        imported = set(re.findall(r"^\s*from unet\.([\w.]+) import", source, re.M)) - EXEMPT
        closure = _modules(module_files(re.findall(r'"([^"]+)"', named.group(1)), root=REPO))
        assert imported <= closure, (script.group(1), imported - closure)


# Steps that read probabilities and masks with numpy alone: importing torch (through
# common.probs) cost each of their processes about 500 MB and a second or two of start-up.
NUMPY_ONLY = ("tune_crf", "refine_crf", "finalize_masks", "evaluate_masks", "plot_results",
              "preprocess", "split_dataset", "cross_validation", "compare_experiments")


@pytest.mark.parametrize("script", NUMPY_ONLY)
def test_numpy_only_steps_do_not_import_torch(script):
    import subprocess
    import sys

    source = (REPO / "scripts" / f"{script}.py").read_text()
    modules = re.findall(r"^from (unet[\w.]*) import", source, re.M)
    code = f"import sys\nfor m in {modules!r}: __import__(m)\nprint('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == "False", f"{script} imports torch"


@pytest.mark.parametrize("source", SOURCES)
def test_download_code_inputs_are_the_configured_sources_only(source):
    # rules/data.smk lists dataset.download and dataset.synthetic, whose closure held every
    # source's code: editing archive or HTTP code regenerated the synthetic data set.
    from unet.dataset.sources import SOURCE_MODULES

    entries = ("dataset.download", *SOURCE_MODULES[source])
    assert _modules(module_files(entries, root=REPO)) == DOWNLOAD | SOURCES[source]


def test_a_source_runs_no_unet_code_outside_its_code_inputs(tmp_path):
    # The source's module is imported by name (sources.SOURCE_MODULES): what actually loads
    # must stay within what the rule lists, or an edit to it would rerun nothing.
    import subprocess
    import sys

    from unet.dataset.sources import SOURCE_MODULES

    code = ("import sys; from unet.dataset.download import download_dataset; "
            f"download_dataset({str(tmp_path / 'm.json')!r}, 'synthetic', dict(count=2, "
            "width=16, height=16, seed=0, classes=1)); "
            "print(' '.join(m[5:] for m in sys.modules if m.startswith('unet.')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                         text=True, check=True)
    allowed = _modules(module_files(("dataset.download", *SOURCE_MODULES["synthetic"]),
                                    root=REPO)) | EXEMPT | {"common", "dataset"}
    assert set(out.stdout.split()) <= allowed


def _loaded_by(code: str) -> set[str]:
    """The unet modules (dotted, below unet) a fresh interpreter holds after running `code`."""
    import subprocess
    import sys

    code += "\nimport sys; print(' '.join(m[5:] for m in sys.modules if m.startswith('unet.')))"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return set(out.stdout.splitlines()[-1].split())


def test_predict_folder_runs_no_unet_code_outside_its_code_inputs(tmp_path):
    # Checked like a download: an ensemble of two models predicting a new image within its
    # region of interest, with the script's imports, loads only what rules/predict.smk lists,
    # so that editing any module the step runs reruns it (a function-level or by-name import
    # of a module outside the closure would not).
    import numpy as np
    from PIL import Image

    from tests.test_predict_batches import _model

    folder, out = tmp_path / "new", tmp_path / "out"
    (folder / "fov").mkdir(parents=True)
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (20, 30, 3), np.uint8)).save(
        folder / "a.png")
    roi = np.zeros((20, 30), np.uint8)
    roi[5:15, 5:25] = 255
    Image.fromarray(roi).save(folder / "fov" / "a.png")
    models = [str(_model(tmp_path / f"{k}.pt")) for k in range(2)]
    loaded = _loaded_by(
        "from unet.infer.predict import PredictSettings\n"
        "from unet.infer.predict_folder import predict_folder\n"
        f"predict_folder({models!r}, {str(folder)!r}, {str(out)!r}, "
        "PredictSettings(device='cpu'), roi='fov/{id}.png')")
    listed = _modules(module_files(RULES["predict_folder"][0], root=REPO))
    packages = {m.rsplit(".", 1)[0] for m in listed if "." in m}
    assert (out / "a.png").is_file() and "infer.predict_folder" in loaded
    assert loaded <= listed | EXEMPT | packages, sorted(loaded - listed - EXEMPT - packages)
