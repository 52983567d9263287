"""Keys that do not apply in the current mode (preprocess.width under native, train.momentum
under adamw, any crf key with the CRF off, ...) rerun nothing: their value cannot change an
output. Each case dry-runs the tiny run's outputs as if made under `base`, then with `change`
over it; a control case shows the same key does rerun where it applies."""

from __future__ import annotations

import re
import shutil
from dataclasses import asdict
from pathlib import Path

import pytest

from tests.conftest import TINY, snakemake
from tests.test_rerun import _from

pytestmark = pytest.mark.workflow


def planned(tiny_run: Path, tmp_path: Path, base: str, change: str) -> set[str]:
    """Rules a dry run would execute with `change` (YAML) over `base` over the tiny config, the
    tiny run's outputs counting as made under `base` (--touch records its settings)."""
    wd = tiny_run
    if base:
        wd = tmp_path / "wf"
        shutil.copytree(tiny_run, wd, symlinks=True)
        (wd / "base.yaml").write_text(base)
        snakemake(wd, "--cores", "1", "--configfile", TINY, "base.yaml", "--touch", "--quiet")
    (wd / "base.yaml").write_text(base or "{}\n")
    (wd / "change.yaml").write_text(change)
    out = snakemake(wd, "--cores", "1", "--configfile", TINY, "base.yaml", "change.yaml", "-n",
                    "--quiet", "rules")
    return set(re.findall(r"^(\w+)\s+\d+$", out.stdout, re.M)) - {"total", "all", "job"}


def check(tiny_run, tmp_path, base, change, first):
    assert planned(tiny_run, tmp_path, base, change) == (_from(first) if first else set())


NATIVE = "preprocess: {mode: native}\ntrain: {patch: {size: [32, 32]}}\n"


@pytest.mark.parametrize(("base", "change", "first"), [
    (NATIVE, "preprocess: {width: 40, height: 24}", None),  # native: each image's own size
    (NATIVE, "preprocess: {scale: 0.5}", "preprocess"),
    # max_values only refuses lossy masks: the cache was made under a value that accepted them
    ("", "masks: {max_values: 8}", None),
    # masks.separate false is no param (caches made before the key stay fresh); true parts
    # the cached targets: preprocess and all after it rerun, not the download or the split
    ("", "masks: {separate: false}", None),
    ("masks: {threshold: 0}", "masks: {threshold: 0, separate: true}", "preprocess"),
])
def test_preprocess_keys_of_the_other_mode(tiny_run, tmp_path, base, change, first):
    check(tiny_run, tmp_path, base, change, first)


def test_max_values_still_refuses_lossy_masks(tiny_run, tmp_path):
    # Not a param, yet the check reads the value set now: 2 refuses 3-value masks.
    wd = tmp_path / "wf"
    shutil.copytree(tiny_run, wd, symlinks=True)
    (wd / "change.yaml").write_text("dataset: {synthetic: {classes: 2}}\nmasks: {max_values: 2}\n")
    out = snakemake(wd, "--cores", "1", "--configfile", TINY, "change.yaml", "--until",
                    "preprocess", check=False)
    assert out.returncode != 0
    log = (wd / "results/synthetic/logs/preprocess.log").read_text()
    assert "masks.max_values=2" in log


@pytest.mark.parametrize(("base", "change", "first"), [
    ("", "model: {encoder: resnet18, encoder_weights: null}", None),  # arch unet has none
    ("", "train: {momentum: 0.5}", None),  # adamw
    ("train: {optimizer: sgd}", "train: {momentum: 0.5}", "train_unet"),
    ("train: {optimizer: rmsprop}", "train: {momentum: 0.5}", "train_unet"),
    ("", "train: {augment: {elastic_sigma: 4.0, elastic_p: 0.2}}", None),  # elastic 0: off
    ("train: {augment: {elastic: 30.0}}", "train: {augment: {elastic_sigma: 4.0}}", "train_unet"),
    ("", "train: {patch: {foreground: 0.5, per_image: 2}}", None),  # whole images
    ("train: {patch: {size: [32, 32]}}", "train: {patch: {foreground: 0.5}}", "train_unet"),
    ("", "train: {amp: false}", None),  # device cpu
    ("train: {device: auto}", "train: {amp: false}", "train_unet"),  # auto may be CUDA
    ("", "predict: {amp: false}", None),  # device cpu
    ("predict: {device: auto}", "predict: {amp: false}", "predict_masks"),
    # fine-tuning: the source model's weights replace the encoder's pretrained ones
    ("model: {arch: smp, encoder: resnet18, depth: 3}\ntrain: {init_from: config/config.yaml}",
     "model: {encoder_weights: null}", None),
    ("", "train: {deterministic: true}", None),  # device cpu: auto is deterministic there
    ("train: {schedule: plateau}", "train: {warmup_epochs: 0}", None),  # plateau: no warm-up
    ("train: {schedule: constant}", "train: {warmup_epochs: 0}", "train_unet"),
    ("", "train: {deterministic: false}", "train_unet"),
])
def test_training_and_prediction_keys_of_another_mode(tiny_run, tmp_path, base, change, first):
    check(tiny_run, tmp_path, base, change, first)


def test_resume_ignores_inapplicable_train_keys():
    from unet.train.resume import settings_hash
    from unet.train.settings import TrainSettings

    model = {"arch": "unet", "depth": 2, "encoder": "resnet34"}

    def chash(model_over=None, **over):
        return settings_hash({**model, **(model_over or {})}, asdict(TrainSettings(**over)), {})

    assert chash(momentum=0.5) == chash(momentum=0.9)  # adamw: an interrupted run resumes
    assert chash(optimizer="sgd", momentum=0.5) != chash(optimizer="sgd", momentum=0.9)
    assert chash(device="cpu", amp=False) == chash(device="cpu", amp=True)
    assert chash(schedule="plateau", warmup_epochs=0) == chash(schedule="plateau")
    assert chash({"encoder": "resnet18"}) == chash()
    assert chash({"arch": "smp", "encoder": "resnet18"}) != chash({"arch": "smp"})


def test_resume_across_devices_only_within_one_kind():
    """As the README says: another GPU (or auto on the CPU for cpu) resumes a last.pt, while the
    CPU's epochs are not resumed on a GPU, nor the reverse (amp and amp_cpu set the precision)."""
    from dataclasses import asdict

    from unet.train.resume import settings_hash
    from unet.train.settings import TrainSettings

    def chash(device, runs_on):
        return settings_hash({"arch": "unet"}, asdict(TrainSettings(device=device)), {}, runs_on)

    assert chash("cuda:0", "cuda") == chash("cuda:1", "cuda") == chash("auto", "cuda")
    assert chash("cpu", "cpu") == chash("auto", "cpu")
    assert chash("cpu", "cpu") != chash("cuda", "cuda")


NO_CRF = "crf: {enabled: false}\n"


@pytest.mark.parametrize(("base", "change", "first"), [
    # the CRF off: no crf key but those finalize_masks scores the other candidates with
    (NO_CRF, "crf: {iterations: 3, bilateral_sxy: 40.0, tile: 512, tune: {enabled: false, "
             "grid: {gaussian_sxy: [1.0, 2.0]}}}", None),
    (NO_CRF, "crf: {tune: {max_images: 1}}", "finalize_masks"),
    ("crf: {tune: {enabled: false}}", "crf: {tune: {grid: {gaussian_sxy: [1.0, 2.0]}}}", None),
    ("", "crf: {bilateral_srgb: 10.0}", None),  # the grid tries its own bilateral_srgb values
    # refine_crf reads no tune key (tune_crf's choice reaches it as a file): with tuning off,
    # max_images (finalize_masks' window count) reran the test split's CRF
    ("crf: {tune: {enabled: false}}", "crf: {tune: {max_images: 1}}", "finalize_masks"),
    ("", "crf: {bilateral_sxy: 40.0}", "tune_crf"),  # not in the grid
])
def test_crf_keys_that_do_not_apply(tiny_run, tmp_path, base, change, first):
    check(tiny_run, tmp_path, base, change, first)


TEST_IDS = "split: {test_ids: [synth_0002, synth_0007, synth_0009]}\n"
VAL_IDS = "split: {val_ids: [synth_0004, synth_0005, synth_0011]}\n"


@pytest.mark.parametrize(("base", "change", "first"), [
    (TEST_IDS, "split: {test_fraction: 0.4}", None),  # the test part is named outright
    (TEST_IDS, "split: {val_fraction: 0.4}", "split_dataset"),
    (VAL_IDS, "split: {val_fraction: 0.4}", None),
    ("", "postprocess: {min_sizes: [16, 64]}", None),  # no small_objects candidate
    ("postprocess: {candidates: [crf, small_objects]}", "postprocess: {min_sizes: [16, 64]}",
     "finalize_masks"),
])
def test_split_and_postprocess_keys_that_do_not_apply(tiny_run, tmp_path, base, change, first):
    check(tiny_run, tmp_path, base, change, first)


def test_fractions_of_named_parts_are_unused():
    from unet.common.applicable import applicable
    from unet.dataset.split import make_split

    ids = [f"i{n}" for n in range(12)]
    split = {"seed": 0, "val_fraction": 0.2, "test_fraction": 0.2, "test_ids": ["i1"],
             "val_ids": [], "folds": 3}
    assert set(split) - set(applicable("split", split)) == {"test_fraction", "val_fraction"}
    # what make_split does with them: nothing (folds deal the validation sets)
    made = [make_split(ids, 0, v, t, test_ids=["i1"], folds=3) for v, t in ((0.1, 0.1), (0.5, 0.4))]
    assert made[0] == made[1]
    assert "test_fraction" in applicable("split", {**split, "test_ids": "ids.txt"})  # may be empty


def test_unet_only_model_keys_do_not_apply_to_smp():
    # arch smp builds smp's Unet, which has no base_width, bilinear, norm or dropout: changing
    # one of them retrained an smp model (params and resume hash) for the same network.
    from unet.common.applicable import applicable
    from unet.train.resume import settings_hash
    from unet.train.settings import TrainSettings

    smp = {"arch": "smp", "encoder": "resnet18", "encoder_weights": None, "depth": 3}
    own = {"base_width": 16, "bilinear": True, "norm": "batch", "dropout": 0.0}
    other = {"base_width": 8, "bilinear": False, "norm": "instance", "dropout": 0.3}
    assert applicable("model", {**smp, **own}) == applicable("model", {**smp, **other}) == smp
    train = asdict(TrainSettings())
    assert settings_hash({**smp, **own}, train, {}) == settings_hash({**smp, **other}, train, {})
    unet = {"arch": "unet", "depth": 2}  # where they apply they still count
    assert settings_hash({**unet, **own}, train, {}) != settings_hash({**unet, **other}, train, {})


def test_encoder_weights_do_not_apply_when_fine_tuning():
    # train.init_from builds the network without pretrained weights and loads the source
    # model's (its encoder's normalisation too): changing encoder_weights retrained for the
    # same weights (params, resume hash, and a second experiment trained its own model).
    from unet.common.applicable import applicable
    from unet.config.experiments import model_owner
    from unet.train.resume import settings_hash
    from unet.train.settings import TrainSettings

    smp = {"arch": "smp", "encoder": "resnet18", "depth": 3}
    tuned = asdict(TrainSettings(init_from="base/model.pt"))
    nets = [{**smp, "encoder_weights": w} for w in ("imagenet", None)]
    assert applicable("model", nets[0], tuned) == applicable("model", nets[1], tuned) == smp
    assert settings_hash(nets[0], tuned, {}) == settings_hash(nets[1], tuned, {})
    config = {"model": nets[0], "train": tuned,
              "experiments": {"a": {}, "b": {"model": {"encoder_weights": None}}}}
    assert model_owner(config, "b") == "a"
    scratch = asdict(TrainSettings())  # from the pretrained weights they still count
    assert settings_hash(nets[0], scratch, {}) != settings_hash(nets[1], scratch, {})
    assert model_owner({**config, "train": scratch}, "b") == "b"



def test_deterministic_true_is_auto_on_the_cpu():
    # On the CPU auto already turns the deterministic algorithms on; true adds only NaN-filled
    # new memory, which no op here reads (common.device): the same weights, a slower step.
    # Changing one to the other retrained; the script still gets the value (a speed key).
    from unet.common.applicable import applicable, tracked, untracked
    from unet.config.experiments import model_owner
    from unet.train.settings import TrainSettings

    def params(**over):
        section = asdict(TrainSettings(**over))
        return tracked("train", applicable("train", section)), vars(untracked("train", section))

    assert params(device="cpu")[0] == params(device="cpu", deterministic=True)[0]
    assert params(device="cpu", deterministic=True)[1]["deterministic"] is True
    assert params(device="cpu")[0] != params(device="cpu", deterministic=False)[0]
    assert params(device="auto")[0] != params(device="auto", deterministic=True)[0]  # CUDA?
    config = {"model": {"arch": "unet"}, "train": asdict(TrainSettings(device="cpu")),
              "experiments": {"a": {}, "b": {"train": {"deterministic": True}}}}
    assert model_owner(config, "b") == "a"


@pytest.mark.parametrize("section, key, values", [
    ("predict", "batch_size", (1, 8)), ("train", "channels_last", (True, False)),
    ("train", "compile", (False, True)), ("crf", "tile", (2048, 512)),
    ("crf", "tile_overlap", (128, 64))])
def test_keys_that_look_like_speed_but_change_bytes_stay_tracked(config, section, key, values):
    # Measured on the CPU: each changes what its step writes (applicable.py, README), so a
    # change must rerun the step, not keep results made under the other value.
    from unet.common.applicable import applicable, tracked

    def params(value):
        return tracked(section, applicable(section, {**config[section], key: value}))

    assert params(values[0]) != params(values[1]), key
