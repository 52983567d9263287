# Params functions: what of the config each rule tracks (a change reruns it) and what it
# gets untracked (speed keys, labels), and rules' threads; included after common.smk.


def setting(section, without=()):
    """Params function: one config section with the experiment's overrides applied, less the
    keys that do not apply in its mode (unet.common.applicable), its speed keys (speed()'s)
    and the keys `without` (another rule's): changing them must not rerun this one."""

    def get(wildcards):
        values = experiment_section(config, section, wildcards.experiment)
        train = experiment_section(config, "train", wildcards.experiment)  # fine-tuning's model
        values = tracked(section, applicable(section, values, train))
        return {k: v for k, v in values.items() if k not in without}

    return get


def speed(section):
    """Params function: the section's keys that change how fast a step runs, not its output
    (unet.common.fit_unused.SPEED, e.g. train.num_workers; train.deterministic on the CPU), in
    a value Snakemake does not compare: changing one reruns nothing, and the step gets it."""

    def get(wildcards):
        return untracked(section, experiment_section(config, section, wildcards.experiment))

    return get


TRAIN_THREADS = 4  # torch's own threads in training (on a GPU: its host-side work)


def train_threads(wildcards):
    """A training job's threads: torch's own and one per DataLoader worker (train.num_workers),
    each a busy process of its own. Snakemake caps them at --cores; on SLURM they are the
    job's cpus-per-task; training shares what it gets (unet.common.device.share_cores)."""
    workers = experiment_section(config, "train", wildcards.experiment)["num_workers"]
    return TRAIN_THREADS + workers


def cache_masks():
    """The masks section as the cache depends on it: less masks.max_values (applicable) and
    masks.names, which only label the classes (unet.common.labels.shown_names): renaming a
    class reruns the tables and the report that show names, not the cache and training. A
    masks.values list equal to the values the cache detected reads as null (the same cache:
    unet.cache.detected); preprocess gets the list itself (masks_checked)."""
    masks = {k: v for k, v in applicable("masks", config["masks"]).items() if k != "names"}
    return tracked_masks(masks, f"{DATA}/cache/meta.json")


def masks_checked(*keys):
    """Params value: masks.max_values and masks.names, which preprocess checks against the
    data, and training writes names into model.pt, and further masks `keys`, in a value
    Snakemake does not compare (as speed()'s): changing one reruns neither."""
    return SimpleNamespace(**{k: config["masks"][k] for k in ("max_values", "names", *keys)})


def predict_params(wildcards):
    """The predict section as prediction of a split uses it (_predict_values)."""
    return _predict_values(wildcards, ())


def _predict_values(wildcards, own):
    """The predict section as prediction uses it: less predict.roi, predict.recursive and
    predict.rescale (predict_folder's own, but those in `own`), and
    less predict.overlap for a model trained on whole images (no sliding window to tile)."""
    folder_only = tuple(k for k in ("roi", "recursive", "rescale") if k not in own)
    values = setting("predict", without=folder_only)(wildcards)
    if not experiment_section(config, "train", wildcards.experiment)["patch"]["size"]:
        values.pop("overlap")
    return values


def predict_folder_params(wildcards):
    """predict_params with predict.rescale, which only new images take (the cache is at the
    training's pixel size); left out at 1 (unet.common.applicable)."""
    return _predict_values(wildcards, ("rescale",))


def experiment_config_params(wildcards):
    """The config as this experiment sees it (for the report), less the unused sources, the
    keys that do not apply (unet.common.applicable) and the predict settings no result in
    the report depends on (predict_params); masks.values as cache_masks tracks them; the
    report section only with report.bands set."""
    cfg = experiment_config(config, wildcards.experiment)
    cfg.update({name: tracked(name, applicable(name, values, cfg["train"]))
                for name, values in cfg.items() if name in UNUSED})
    cfg["predict"] = predict_params(wildcards)
    cfg["masks"] = tracked_masks(cfg["masks"], f"{DATA}/cache/meta.json")  # as cache_masks
    cfg["evaluate"] = evaluate_params()
    if not (cfg.get("report") or {}).get("bands"):  # report.bands: a param only when set,
        cfg.pop("report", None)  # so reports made before the key existed stay fresh
    source = cfg["dataset"]["source"]
    cfg["dataset"] = {
        k: v for k, v in cfg["dataset"].items() if not isinstance(v, dict) or k == source
    }
    return cfg


def evaluate_params():
    """The evaluate section, less evaluate.regions and voxel_spacing when unset (UNUSED):
    evaluations (and reports) made before the keys existed stay fresh."""
    return applicable("evaluate", config["evaluate"])


def truth_groups():
    """Whether evaluate.ground_truth's folder has {group} (CTC's '{group}_GT/SEG')."""
    return "{group}" in (config["evaluate"].get("ground_truth") or {}).get("masks", "")


def truth_group_params():
    """The data set's source and settings where evaluate.ground_truth's folder has {group}
    (its test ids split into group and file id as the data set's own): none otherwise, so
    other evaluations stay fresh."""
    if not truth_groups():
        return {}
    return {"dataset": {"source": config["dataset"]["source"], "settings": source_settings()}}


def truth_group_code():
    """The data set's group code that such a ground truth runs (loaded by name): else none."""
    return {"group_code": modules("dataset.per_id", "dataset.groups")} if truth_groups() else {}


def per_case_output(path):
    """evaluate_masks' per_case.csv, where split.group_by names the cases: none otherwise."""
    return {"per_case": path} if config["split"].get("group_by") else {}


def per_case_chart(path):
    """plot_results' per-case Dice chart, where split.group_by names the cases: none otherwise."""
    if not config["split"].get("group_by"):
        return {}
    return {"cases": report(path, caption="../report/per_case.rst", category="{experiment}",
                            subcategory="metrics")}


def pr_curve_chart(path):
    """plot_results' precision-recall chart, where evaluate.pr_curve is on: none otherwise."""
    if not config["evaluate"].get("pr_curve"):
        return {}
    return {"pr_curve": report(path, caption="../report/pr_curve.rst", category="{experiment}",
                               subcategory="metrics")}


def per_case_params():
    """split.group_by for the per-case scores, only when set: evaluations (and reports) of
    ungrouped data stay fresh."""
    group_by = config["split"].get("group_by")
    return {"group_by": group_by} if group_by else {}


def crf_tuning(wildcards):
    """The tuning result that refine_crf uses, when the CRF and its tuning are on for this
    experiment."""
    crf = experiment_section(config, "crf", wildcards.experiment)
    on = crf["enabled"] and crf["tune"]["enabled"]
    return [f"{DATA}/{wildcards.experiment}/crf_tuning.json"] if on else []


def crf_masks(wildcards):
    """The CRF-refined test masks, when the CRF is on for this experiment (crf.enabled)."""
    crf = experiment_section(config, "crf", wildcards.experiment)
    return [f"{DATA}/{wildcards.experiment}/crf"] if crf["enabled"] else []


def source_settings():
    """Only the active source's settings, so editing an unused source reruns nothing; with
    missing_mask: empty, class 0's value where it is not 0 (the blank masks are written in it);
    with LabelMe or QuPath JSONs, masks.ignore (their don't-care labels are drawn as it); with
    drawn objects and masks.separate, separate_objects (their ids are drawn too); rle.id_path
    left out where '' and an unset wkt section left out (keys added later: data sets made
    before them keep their params and stay fresh)."""
    source = config["dataset"]["source"]
    settings = unset_tables_dropped(without_unset_id_path(config["dataset"].get(source, {})))
    ignore = drawn_ignore(settings, config.get("masks") or {})
    if ignore is not None:
        settings = {**settings, "ignore_value": ignore}
    if drawn_objects(settings, config.get("masks") or {}):  # masks.separate: ids drawn too
        settings = {**settings, "separate_objects": True}
    blank = blank_background(settings, config.get("masks") or {})
    if blank is None:
        return settings
    return {**settings, "blank_background": list(blank) if isinstance(blank, tuple) else blank}
