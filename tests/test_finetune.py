"""train.init_from: fine-tuning starts from the source model, refuses a mismatch, and a changed
source file retrains."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tests.conftest import TINY, copy_workflow, snakemake
from unet.model import checkpoint
from unet.train.settings import TrainingError, TrainSettings
from unet.train.train import train_unet

MODEL = {"depth": 2, "base_width": 8}


@pytest.fixture(scope="module")
def cache(synthetic_cache) -> Path:
    return synthetic_cache("ft", {"count": 40, "width": 48, "height": 32, "seed": 5}, (48, 32))


def _train(cache: Path, out: Path, model: dict = MODEL, **kw) -> dict:
    settings = TrainSettings(**{"batch_size": 4, "device": "cpu", **kw})
    train_unet(cache, out / "model.pt", out / "history.csv", out / "ck", model, settings)
    return checkpoint.load(out / "model.pt")


def _first_epoch_dice(out: Path) -> float:
    from unet.train.history import read_history  # epoch 1: a fine-tuned run's first is 0

    return next(r["val_dice"] for r in read_history(out / "history.csv") if r["epoch"] == 1)


def test_first_epoch_starts_near_the_source_model(cache, tmp_path):
    source = _train(cache, tmp_path / "a", epochs=30, lr=0.01)
    best = source["val_dice"][1]
    _train(cache, tmp_path / "b", epochs=1, lr=1e-4, warmup_epochs=0,
           init_from=str(tmp_path / "a" / "model.pt"))
    _train(cache, tmp_path / "c", epochs=1, lr=1e-4, warmup_epochs=0)  # from scratch
    tuned, scratch = _first_epoch_dice(tmp_path / "b"), _first_epoch_dice(tmp_path / "c")
    assert abs(tuned - best) < 0.05, (tuned, best)
    assert tuned > scratch + 0.15, (tuned, scratch)  # what training from scratch gets



def test_the_source_loaded_for_fine_tuning_scores_its_own_validation_dice(cache, tmp_path):
    # README: a young source's first epoch falls (BatchNorm statistics move), not its loading
    from unet.common.fileio import read_json
    from unet.common.labels import mapping_from_meta
    from unet.model.unet import UNetConfig
    from unet.train import train as T
    from unet.train.loop import build_run, validate_epoch

    source = _train(cache, tmp_path / "a", epochs=6, lr=0.01)
    assert min(source["val_dice"]) > 0.3  # one that tells the classes apart, not all one class
    meta = read_json(cache / "meta.json")
    config = UNetConfig(in_channels=meta["in_channels"], num_classes=meta["num_classes"], **MODEL)
    s = TrainSettings(batch_size=4, device="cpu", init_from=str(tmp_path / "a" / "model.pt"))
    train_set, val_set = T._datasets(cache, meta, s, None)
    start = T._read_source(s, config, meta, None, tmp_path / "b" / "model.pt")
    run = build_run(s, config, train_set, val_set, mapping_from_meta(meta).scored_from)
    T._start_from_source(run, start, config, {})
    assert validate_epoch(run, 0, 0.0, 1, 1.0)["val_dice"] == source["val_dice"][1]

def test_other_network_is_refused_naming_the_difference(cache, tmp_path):
    _train(cache, tmp_path / "a", epochs=1)
    with pytest.raises(TrainingError, match=r"model.base_width 8 there vs 4 here"):
        _train(cache, tmp_path / "b", {"depth": 2, "base_width": 4}, epochs=1,
               init_from=str(tmp_path / "a" / "model.pt"))
    with pytest.raises(TrainingError, match="no such model file"):
        _train(cache, tmp_path / "c", epochs=1, init_from=str(tmp_path / "missing.pt"))


def test_a_changed_source_model_retrains(tmp_path):
    wd = copy_workflow(tmp_path)
    target = "results/synthetic/baseline/model.pt"
    snakemake(wd, target, "--cores", "2", "--configfile", TINY)
    source = wd / "source.pt"
    source.write_bytes((wd / target).read_bytes())
    (wd / "ft.yaml").write_text(f"train: {{init_from: {source}}}\n")
    args = ("--cores", "2", "--configfile", TINY, "ft.yaml")
    snakemake(wd, target, *args)
    assert "starting from the weights of" in (
        wd / "results/synthetic/baseline/logs/train_unet.log"
    ).read_text()
    done = snakemake(wd, target, "-n", *args)
    assert "Nothing to be done" in done.stdout + done.stderr
    ckpt = torch.load(source, weights_only=True)
    ckpt["epoch"] = 99  # another model at the same path
    torch.save(ckpt, source)
    planned = snakemake(wd, target, "-n", "--quiet", "rules", *args).stdout
    assert "train_unet" in planned


def test_colour_classes_of_the_same_numbers_are_other_classes(cache, tmp_path):
    # A colour mask's classes are packed 0xRRGGBB numbers: [0, 0, 0] and [0, 0, 255] pack to
    # 0 and 255, the values of a grey model. The check compared the numbers alone.
    from unet.model.unet import UNetConfig
    from unet.train.finetune import source_weights

    grey = _train(cache, tmp_path / "a", epochs=1)
    config = UNetConfig(**grey["model_config"])
    colour = {"class_values": grey["class_values"], "mask_rgb": True}
    with pytest.raises(TrainingError, match=r"mask values \['0', '255'\] there vs "
                                            r"\['\[0, 0, 0\]', '\[0, 0, 255\]'\] here"):
        source_weights(tmp_path / "a" / "model.pt", config, colour)
    assert source_weights(tmp_path / "a" / "model.pt", config, {**colour, "mask_rgb": False})


def test_a_class_of_other_values_is_another_class(cache, tmp_path):
    # A class made of several values (masks.values [0, [255, 254]]) is not the source's class
    # of 255 alone, though both write 255.
    from unet.model.unet import UNetConfig
    from unet.train.finetune import source_weights

    grey = _train(cache, tmp_path / "a", epochs=1)
    config = UNetConfig(**grey["model_config"])
    grouped = {"class_values": grey["class_values"], "class_groups": [[0], [255, 254]]}
    with pytest.raises(TrainingError, match=r"\['0', '255'\] there vs \['0', '\[255, 254\]'\]"):
        source_weights(tmp_path / "a" / "model.pt", config, grouped)


def test_a_model_file_from_before_smp_fine_tunes(cache, tmp_path):
    # model files written before model.arch existed have no arch/encoder/encoder_weights in
    # model_config: prediction rebuilds them with the defaults, and so must fine-tuning (it
    # refused them as "model.arch None there vs unet here")
    from unet.model.unet import UNetConfig
    from unet.train.finetune import source_weights

    source = _train(cache, tmp_path / "a", epochs=1)
    for key in ("arch", "encoder", "encoder_weights"):
        del source["model_config"][key]
    torch.save(source, tmp_path / "old.pt")
    config = UNetConfig(in_channels=3, num_classes=2, **MODEL)
    weights = source_weights(tmp_path / "old.pt", config, source)
    assert weights.keys() == source["state_dict"].keys()


def test_a_file_whose_settings_do_not_fit_its_weights_is_refused(cache, tmp_path):
    # model_config says base_width 8, the weights are of width 4: refused as unet predict
    # refuses it, not a state_dict size-mismatch traceback from load_state_dict
    from unet.model.checkpoint import CheckpointError

    source = _train(cache, tmp_path / "a", {"depth": 2, "base_width": 4}, epochs=1)
    source["model_config"]["base_width"] = 8
    torch.save(source, tmp_path / "edited.pt")
    with pytest.raises(CheckpointError, match=r"edited.pt: its settings do not fit its weights"):
        _train(cache, tmp_path / "b", epochs=1, init_from=str(tmp_path / "edited.pt"))


def test_settings_that_do_not_shape_the_weights_may_change(cache, tmp_path):
    # dropout has no weights, and the encoder's pretrained weights are replaced by the
    # source's: fine-tuning with more dropout is a common choice, not another network
    from unet.model.unet import UNetConfig
    from unet.train.finetune import source_weights

    source = _train(cache, tmp_path / "a", epochs=1)
    config = UNetConfig(in_channels=3, num_classes=2, **MODEL, dropout=0.3)
    assert source_weights(tmp_path / "a" / "model.pt", config, source)
    with pytest.raises(TrainingError, match=r"model.norm batch there vs group here"):
        source_weights(tmp_path / "a" / "model.pt", UNetConfig(3, 2, **MODEL, norm="group"),
                       source)


def test_other_channels_are_named_as_the_images_with_the_fix(cache, tmp_path):
    # in_channels comes from the images, not from a model setting: "model.in_channels 1 there
    # vs 3 here; fine-tune with the same model settings" named a key that does not exist
    from unet.model.unet import UNetConfig
    from unet.train.finetune import source_weights

    source = _train(cache, tmp_path / "a", epochs=1)
    bands = UNetConfig(in_channels=4, num_classes=2, **MODEL)  # grey and RGB are adapted
    with pytest.raises(TrainingError, match=r"3-channel images there vs 4-channel here") as err:
        source_weights(tmp_path / "a" / "model.pt", bands, source)
    assert "model.in_channels" not in str(err.value)
    assert "convert" in str(err.value)
    three = UNetConfig(in_channels=3, num_classes=3, **MODEL)
    with pytest.raises(TrainingError, match=r"mask values \['0', '255'\] there vs "
                                            r"\['0', '1', '2'\] here \(2 classes vs 3\)\); "
                                            r".*masks.values") as err:
        source_weights(tmp_path / "a" / "model.pt", three, {"class_values": [0, 1, 2]})
    assert "num_classes" not in str(err.value)


SMP = {"arch": "smp", "encoder": "resnet18", "depth": 3}


def _smp_source(cache: Path, path: Path) -> None:
    """An smp model file of the cache's layout (random weights, encoder_weights null)."""
    import json

    from unet.model.build import build_model
    from unet.model.unet import UNetConfig

    meta = json.loads((cache / "meta.json").read_text())
    cfg = UNetConfig(in_channels=3, num_classes=2, **SMP, encoder_weights=None)
    record = checkpoint.model_record(cfg.to_dict(), build_model(cfg).state_dict(), meta, {}, 1,
                                     None, [0.5, 0.5], "h")
    checkpoint.save(path, record)


def test_fine_tuning_an_smp_model_downloads_no_encoder_weights(cache, tmp_path, monkeypatch):
    # The source's weights replace the encoder's pretrained ones: fetching imagenet weights
    # first was needless, and failed without a network
    pytest.importorskip("segmentation_models_pytorch")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    _smp_source(cache, tmp_path / "source.pt")
    tuned = _train(cache, tmp_path / "b", {**SMP, "encoder_weights": "imagenet"}, epochs=1,
                   init_from=str(tmp_path / "source.pt"))
    source = checkpoint.load(tmp_path / "source.pt")
    assert torch.equal(tuned["state_dict"]["mean"], source["state_dict"]["mean"])


def test_fine_tuning_plans_no_encoder_download(tmp_path):
    wd = copy_workflow(tmp_path)
    (wd / "source.pt").write_bytes(b"planned only")
    (wd / "ft.yaml").write_text(
        "model: {arch: smp, encoder: resnet18, encoder_weights: imagenet, depth: 3}\n"
        f"train: {{init_from: {wd / 'source.pt'}}}\n")
    args = ("--cores", "1", "--configfile", TINY, "ft.yaml", "-n", "--quiet", "rules")
    planned = snakemake(wd, "results/synthetic/baseline/model.pt", *args).stdout
    assert "train_unet" in planned
    assert "fetch_encoder_weights" not in planned


def test_an_smp_model_into_a_unet_run_names_the_arch_not_unet_settings(cache, tmp_path):
    # base_width means nothing to an smp model: "model.base_width 16 there vs 8 here" beside
    # "model.arch smp there vs unet here" asked for a setting that cannot help
    pytest.importorskip("segmentation_models_pytorch")
    from unet.model.unet import UNetConfig
    from unet.train.finetune import source_weights

    _smp_source(cache, tmp_path / "source.pt")
    record = checkpoint.load(tmp_path / "source.pt")
    with pytest.raises(TrainingError, match=r"\(model.arch smp there vs unet here; model.depth "
                                            r"3 there vs 2 here\)"):
        source_weights(tmp_path / "source.pt", UNetConfig(3, 2, depth=2, base_width=8), record)


def test_info_names_the_source_of_a_fine_tuned_encoder():
    # Under train.init_from the encoder's pretrained weights do not apply (nor reach the model
    # file's config): unet info named ImageNet's for weights that came from the source model.
    from unet.model.describe import _network

    cfg = {"arch": "smp", "encoder": "resnet18", "encoder_weights": "imagenet", "depth": 3}
    assert "(weights from train.init_from base/model.pt)" in _network(cfg, "base/model.pt")
    assert "(weights imagenet)" in _network(cfg, None)


def test_an_unreadable_source_is_refused_naming_the_key_and_the_run(cache, tmp_path):
    # A CheckpointError named the file only ("junk.pt is not a torch file ..."): in a workflow
    # log the user could not tell it came from train.init_from, nor which experiment's.
    from unet.model.checkpoint import CheckpointError

    (tmp_path / "junk.pt").write_text("not a model\n")
    with pytest.raises(CheckpointError) as err:
        _train(cache, tmp_path / "b", epochs=1, init_from=str(tmp_path / "junk.pt"))
    message = str(err.value)
    assert message.startswith("train.init_from: "), message
    assert "junk.pt" in message and str(tmp_path / "b" / "model.pt") in message, message


def test_info_names_the_source_of_a_fine_tuned_unet():
    # unet info said where an smp model's weights began, not this project's UNet's: a model
    # fine-tuned from another read as one trained from scratch, its lineage lost to the user.
    from unet.model.describe import _network

    cfg = {"arch": "unet", "depth": 2, "base_width": 8, "bilinear": True, "norm": "batch",
           "dropout": 0.0}
    assert "(weights from train.init_from base/model.pt)" in _network(cfg, "base/model.pt")
    assert "init_from" not in _network(cfg, None)


def test_the_model_file_records_which_source_file_it_began_from(cache, tmp_path):
    # model.pt kept init_from's path only: after the file at that path was replaced (which
    # retrains), nothing told which of its contents a model had started from.
    import hashlib

    from unet.model.describe import describe_model

    _train(cache, tmp_path / "a", epochs=1)
    source = tmp_path / "a" / "model.pt"
    tuned = _train(cache, tmp_path / "b", epochs=1, init_from=str(source))
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    assert tuned["init_sha256"] == digest
    assert f"sha256 {digest[:12]}" in describe_model(tmp_path / "b" / "model.pt")
    assert _train(cache, tmp_path / "c", epochs=1)["init_sha256"] is None
