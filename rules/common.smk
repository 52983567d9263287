# Shared helpers: paths, per-experiment settings, module dependencies.
import hashlib
import os
import sys
from pathlib import Path
from types import SimpleNamespace

from unet.dataset.layout import (
    IMAGE_EXTENSIONS,
    DataLayoutError,
    Layout,
    data_files,
    layout_from,
    local_root,
)
from unet.dataset.layout_kinds import layout_modules
from unet.dataset.per_id import new_images
from unet.dataset.sources import SOURCE_MODULES
from unet.dataset.split import ID_KEYS, SPLITS
from unet.deps import module_files
from unet.common.applicable import UNUSED, applicable, tracked, untracked
from unet.cache.detected import tracked_masks
from unet.model.encoder_check import fetch_markers, folder_files
from unet.config.experiments import (
    ConfigError,
    check_config,
    experiment_config,
    experiment_section,
    model_owner,
)
from unet.config.labelmap import fill_labelmap
from unet.config.spacing_path import spacing_table_path
from unet.config.metadata_path import metadata_path
from unet.evaluate.ground_truth import truth_files
from unet.config.targets import predict_target_error
from unet.dataset.blank import blank_background
from unet.dataset.json_masks import drawn_ignore, drawn_objects, unset_tables_dropped
from unet.dataset.rle_ids import without_unset_id_path

# A config mistake is the user's, not the code's: its message alone, without stack frames.
try:
    fill_labelmap(config)  # masks.labelmap's classes, checked with the lists set by hand
    check_config(config)
    SPACING_TABLE = spacing_table_path(config)  # evaluate.voxel_spacing's table, if a path
    METADATA = metadata_path(config)  # split.metadata's table, if set
except ConfigError as err:
    sys.exit(f"ConfigError: {err}")

DATASET = config["dataset"]["name"]
DATA = f"results/{DATASET}"  # split and cache, shared by every experiment
# predict/<name> for a name the folder wildcard refuses: Snakemake's own word is only "No
# rule to produce"; this names the folder and the fix. The targets are read from the command
# line: Snakemake gives the workflow none while it reads the rules.
if (_refused := predict_target_error(sys.argv[1:], DATA)) is not None:
    sys.exit(f"WorkflowError: {_refused}")
EXP = f"{DATA}/{{experiment}}"  # one folder per experiment, beside the data it was trained on
RESOURCES = f"resources/{DATASET}"
EXPERIMENTS = list(config["experiments"])
FOLDS = list(range(config["split"]["folds"]))  # cross-validation folds; [] = one model


# experiment: only configured names ('.' escaped: names may hold it). folder: one safe path
# component like unet.config.experiments.NAME, so predict/.. cannot read resources/predict/..
# (= resources/).
wildcard_constraints:
    experiment=(
        "|".join(e.replace(".", r"\.") for e in EXPERIMENTS)
        if EXPERIMENTS
        else r"(?!\.\.?$)[A-Za-z0-9._-]+"
    ),
    split="|".join(SPLITS),
    folder=r"(?!\.\.?$)[A-Za-z0-9._-]+",
    fold="[0-9]+",
    # smp's names (efficientnet-b0, tu-convnext_tiny.fb_in22k); tu-hf-hub:org/repo percent-encoded
    encoder=r"(?!\.)[A-Za-z0-9._%-]+",
    weights=r"(?!\.)[A-Za-z0-9._-]+",


def literal(path):
    """An input path Snakemake can take literally. It reads every {name} in an input path as
    a wildcard, with no escape (doubled braces match too), so a data file c{1}.png would stop
    the DAG: such a path is given as a link to it under .snakemake/literal_paths/, named by
    its hash; Snakemake follows links for times, so changing the file still reruns."""
    text = str(path)
    if "{" not in text and "}" not in text:
        return text
    target = os.path.abspath(text)
    name = hashlib.sha1(target.encode()).hexdigest()[:20] + Path(text).suffix
    link = Path(".snakemake", "literal_paths", name)
    link.parent.mkdir(parents=True, exist_ok=True)
    if not link.is_symlink():
        link.symlink_to(target)
    return str(link)


def modules(*names):
    """unet/ files that these modules import (transitively): Snakemake does not track imports.
    Relative to the working directory: absolute paths made a moved project rerun everything."""
    return [os.path.relpath(p) for p in module_files(names, root=workflow.basedir)]


def source_modules():
    """The configured source's own modules (downloads, archives, generation), beside
    dataset.download: editing another source's code reruns nothing."""
    return SOURCE_MODULES[config["dataset"]["source"]]


def layout_code():
    """The configured layout's own modules (run-length encodings, COCO, class folders, band
    files, ...; unet.dataset.layout_kinds), beside dataset.download: editing another layout's
    code reruns nothing. A synthetic data set is one folder of mask files."""
    source = config["dataset"]["source"]
    if source == "synthetic":
        return layout_modules(Layout())
    try:
        return layout_modules(layout_from(source_settings(), source))
    except DataLayoutError as err:  # rle.csv and coco.json both set: the user's to fix
        sys.exit(f"DataLayoutError: {err}")


def spacing_table_input():
    """evaluate_masks' input of evaluate.voxel_spacing's table, where it names one: editing
    a case's row (a volume split again) reruns the evaluation."""
    return {"spacing": literal(SPACING_TABLE)} if SPACING_TABLE else {}


def ground_truth_input():
    """evaluate_masks' input of evaluate.ground_truth's masks, where set and its folder is known
    before the download (absolute, or under a local data set's folder): editing one reruns
    the evaluation."""
    local = config["dataset"]["local"]["path"] if config["dataset"]["source"] == "local" else None
    # a {group} folder: the local data set's groups' (its layout refused later, in layout_code)
    layout = local and truth_groups() and layout_from(source_settings(), "local")
    files = truth_files(config["evaluate"].get("ground_truth"), local, layout or None)
    return {"ground_truth": [literal(f) for f in files]} if files else {}


def metadata_input():
    """split_dataset's input of split.metadata's table, where set: editing it reruns the split."""
    return {"metadata": literal(METADATA)} if METADATA else {}


def id_lists(split):
    """The text files split.test_ids, val_ids and exclude_ids name (a string each): editing
    one reruns the split."""
    return [literal(split[k]) for k in ID_KEYS if isinstance(split[k], str)]


_LISTED = {}  # local_data's files, listed once a run: its digest param needs them too


def local_data(wildcards):
    """Files a source reads in place, inputs of download_dataset so that adding, removing or
    editing one makes the data set stale: a local folder's images and masks, and a url
    source's file:// archives. Listed once per run (20,000 pairs: 0.9 s a listing)."""
    if "files" not in _LISTED:
        _LISTED["files"] = _local_data()
    return list(_LISTED["files"])


def _local_data():
    settings = source_settings()
    if config["dataset"]["source"] == "url":
        from unet.dataset.url import file_url_path

        paths = [file_url_path(a["url"]) for a in settings.get("archives", [])]
        return [literal(p) for p in paths if p is not None and p.is_file()]
    if config["dataset"]["source"] != "local":
        return []
    root = local_root(settings["path"])
    return [literal(p) for p in data_files(root, layout_from(settings, "local"))]


def data_fingerprint(wildcards):
    """Params function: one digest of what local_data's files hold, so that a file replaced
    by an older-dated one (rsync -a, cp -p, tar) reruns the data set; a touch does not."""
    from unet.dataset.fingerprint import fingerprint
    from unet.dataset.layout import DataLayoutError
    from unet.dataset.precheck import check_changed_pairs

    digest = fingerprint(local_data(wildcards), Path(RESOURCES) / ".data_digests.json")
    manifest = Path(RESOURCES) / "manifest.json"
    try:  # before download_dataset runs, which would delete the manifest of the last good run
        check_changed_pairs(manifest, digest, config["dataset"]["source"], source_settings())
    except DataLayoutError as err:
        sys.exit(f"DataLayoutError: {err}. Nothing was run: {manifest} and the results after "
                 "it are as the last run left them.")
    return digest


def folder_images(wildcards):
    """The images in resources/predict/<folder> and their regions of interest (predict.roi),
    inputs of predict_folder: one replaced in place makes the folder's masks stale, though the
    folder's own mtime does not move."""
    folder = Path("resources/predict", wildcards.folder)
    if not folder.is_dir():  # Snakemake names the missing folder before any job runs
        return [str(folder)]
    key = (wildcards.folder, wildcards.experiment)  # listed once a run, as local_data
    if key not in _LISTED:
        roi = experiment_section(config, "predict", wildcards.experiment)["roi"]
        found = new_images(folder, image_extensions(), roi, folder_recursive(wildcards))
        _LISTED[key] = [literal(p) for p in found]
    return list(_LISTED[key])


def folder_recursive(wildcards):
    """predict.recursive: whether predict_folder reads the folder's subfolders too."""
    return experiment_section(config, "predict", wildcards.experiment)["recursive"]


def folder_fingerprint(wildcards):
    """Params function: one digest of what folder_images' files hold, so that an image
    replaced by an older-dated one (cp -p, rsync -a, unzip) makes the folder's masks stale; a
    touch does not. The digests are kept beside the folder, not in it."""
    from unet.dataset.fingerprint import fingerprint

    cache = Path("resources/predict", f".{wildcards.folder}.digests.json")
    return fingerprint(folder_images(wildcards), cache)


def image_extensions():
    """The data's image extensions (its source's layout), which predict_folder picks up."""
    return source_settings().get("image_extensions", list(IMAGE_EXTENSIONS))


def owning_experiment(wildcards):
    """The experiment that trains this one's model (unet.config.experiments.model_owner),
    keeping one whose folder has a model, its checkpoints or folds already as the owner."""
    made = ("model.pt", "checkpoints", "folds")
    trained = tuple(e for e in EXPERIMENTS if any(Path(DATA, e, m).exists() for m in made))
    return model_owner(config, wildcards.experiment, trained)


def trained_models(wildcards):
    """The experiment's model, or with cross-validation every fold's (an ensemble): those of
    the experiment that trains the same way (owning_experiment), which alone trains them."""
    owner = owning_experiment(wildcards)
    if not FOLDS:
        return [f"{DATA}/{owner}/model.pt"]
    return expand(f"{DATA}/{owner}/folds/{{fold}}/model.pt", fold=FOLDS)


def split_models(wildcards):
    """Models that predict a split. With folds, val (= fold 0) is predicted by fold 0's model
    alone, which never saw it: tuning the CRF on the ensemble would leak its training data."""
    if FOLDS and wildcards.split == "val":
        return [f"{DATA}/{owning_experiment(wildcards)}/folds/0/model.pt"]
    return trained_models(wildcards)


def init_model(wildcards):
    """train.init_from as an input: a changed source model retrains (and what follows)."""
    path = experiment_section(config, "train", wildcards.experiment)["init_from"]
    if path and "fold" in wildcards.keys():  # {fold}: each fold from the source's same fold
        path = path.replace("{fold}", wildcards.fold)
    return [literal(path)] if path else []


def encoder_weights(wildcards):
    """model.arch smp with pretrained weights: fetch_encoder_weights's marker, an input of
    training, so the download happens first, where Snakemake runs, or a tu-local-dir:
    folder's config.json and weights file (its config.json with random weights too); none
    when fine-tuning (train.init_from), whose source weights replace them."""
    model = experiment_section(config, "model", wildcards.experiment)
    if model["arch"] != "smp":
        return []
    if experiment_section(config, "train", wildcards.experiment)["init_from"]:
        return []
    markers = fetch_markers(model["encoder"], model["encoder_weights"])
    # a tu-local-dir: folder's own files: new weights there retrain
    return markers + [literal(p) for p in folder_files(model["encoder"], model["encoder_weights"])]


def histories(wildcards):
    """Training history CSVs: one, or one per fold."""
    return [str(Path(m).with_name("history.csv")) for m in trained_models(wildcards)]


def all_targets():
    targets = expand(f"{EXP}/report/curves.png", experiment=EXPERIMENTS)
    if FOLDS:
        targets += expand(f"{EXP}/report/cross_validation.tsv", experiment=EXPERIMENTS)
    return targets + [f"{DATA}/experiments.tsv"]
