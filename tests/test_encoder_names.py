"""arch smp's encoder and weights are checked with the config: a name smp or timm does not know
failed only when training built the network, after the data was downloaded and preprocessed."""

import pytest

from tests.test_config_checks import _default_config, _refused
from unet.config.experiments import check_config

pytest.importorskip("segmentation_models_pytorch", reason="pip install -e '.[smp]'")


def _smp(encoder: str, weights: str | None = None, experiment: bool = False) -> dict:
    config = _default_config()
    model = {"arch": "smp", "encoder": encoder, "encoder_weights": weights}
    if experiment:
        config["experiments"]["enc"] = {"model": model}
    else:
        config["model"].update(model)
    return config


@pytest.mark.parametrize(("encoder", "weights"), [
    ("resnet18", None), ("resnet18", "imagenet"), ("resnet18", "ssl"), ("efficientnet-b0", None),
    ("tu-resnet18", None), ("tu-resnet18", "imagenet"), ("tu-mobilenetv3_small_100", None),
    ("tu-resnet18.a1_in1k", "imagenet"), ("timm-efficientnet-b0", None),
    # timm's Hub and folder names are not in its registry: nothing to check offline
    ("tu-hf-hub:timm/resnet18.a1_in1k", None), ("tu-local-dir:/models/net", None),
])
def test_known_encoders_pass(encoder, weights):
    check_config(_smp(encoder, weights))  # no download: names and weights are checked offline


def test_unknown_timm_name_is_refused_before_any_step():
    # RuntimeError: Unknown model (resnet_18), from train_unet after preprocessing
    err = _refused(_smp("tu-resnet_18"), r"model\.encoder tu-resnet_18")
    assert "timm" in err and "tu-resnet18" in err  # the near name


def test_unknown_smp_name_is_refused_with_near_names():
    err = _refused(_smp("resnet_34"), r"model\.encoder resnet_34")
    assert "resnet34" in err and "tu-<name>" in err


def test_unknown_name_in_an_experiment_names_it():
    _refused(_smp("tu-no_such_net", experiment=True), r"experiments\.enc: model\.encoder")


def test_weights_the_encoder_lacks_are_refused():
    err = _refused(_smp("resnet18", "instagram"), r"model\.encoder_weights instagram")
    assert "imagenet" in err and "null" in err
    # a timm model without pretrained weights: the fetch step failed on the network
    _refused(_smp("tu-coatnet_0_224", "imagenet"), r"model\.encoder_weights imagenet")
    check_config(_smp("tu-coatnet_0_224", None))


def test_a_name_found_good_is_not_looked_up_again(tmp_path, monkeypatch):
    # importing smp and timm to look a name up made planning an smp config seconds slower on
    # every Snakemake call; a good name is kept (with the versions), a problem never is
    from unet.model import encoder_check

    cache = tmp_path / ".snakemake" / "unet-encoders.json"
    assert encoder_check.encoder_problem("resnet18", None, cache) is None
    assert encoder_check.encoder_problem("tu-resnet_18", None, cache)

    def again(*_):
        raise AssertionError("looked up again")

    monkeypatch.setattr(encoder_check, "_problem", again)
    assert encoder_check.encoder_problem("resnet18", None, cache) is None
    with pytest.raises(AssertionError, match="again"):
        encoder_check.encoder_problem("tu-resnet_18", None, cache)


def test_the_names_kept_survive_a_write_cut_short(tmp_path, monkeypatch):
    # the cache was written in place: a full disk (or a kill) part way left half a JSON file,
    # read as no names, so every good name was looked up again (smp and timm imported)
    import errno
    from pathlib import Path

    from unet.model import encoder_check

    cache = tmp_path / ".snakemake" / "unet-encoders.json"
    assert encoder_check.encoder_problem("resnet18", None, cache) is None
    kept = cache.read_text()

    def cut_short(self, text, *a, **k):
        with open(self, "w") as f:
            f.write(text[: len(text) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_text", cut_short)
    assert encoder_check.encoder_problem("resnet34", None, cache) is None
    monkeypatch.undo()
    assert cache.read_text() == kept
    assert not [p.name for p in cache.parent.iterdir() if p != cache]  # no scratch left


@pytest.mark.parametrize(("encoder", "fetched"), [
    ("tu-local-dir:{tmp}/net", False),  # weights in a folder: nothing to download
    ("tu-hf-hub:timm/resnet18.a1_in1k", True),  # a Hub repository: fetched where Snakemake runs
])
def test_timm_folder_and_hub_encoders_plan(tmp_path, encoder, fetched):
    # The check above takes them, but planning asked for the marker
    # resources/encoders/tu-local-dir:/models/net/imagenet.json, which no rule makes (the
    # encoder wildcard has no ':' or '/'): a MissingInputException before any step, for the very
    # setting that trains from pre-downloaded weights without a network.
    from tests.conftest import TINY, copy_workflow, snakemake

    wd = copy_workflow(tmp_path / "wf")
    encoder = encoder.format(tmp=tmp_path)
    (tmp_path / "net").mkdir()  # the folder's files are training's inputs: they must be there
    for name in ("config.json", "model.safetensors"):
        (tmp_path / "net" / name).write_text("{}")
    (wd / "enc.yaml").write_text(
        f'model: {{arch: smp, encoder: "{encoder}", encoder_weights: imagenet, depth: 3}}\n')
    args = ("--cores", "1", "--configfile", TINY, "enc.yaml", "-n", "--quiet", "rules")
    planned = snakemake(wd, "results/synthetic/baseline/model.pt", *args).stdout
    assert "train_unet" in planned
    assert ("fetch_encoder_weights" in planned) == fetched


@pytest.mark.parametrize(("names", "read"), [
    # timm takes model.safetensors over pytorch_model.bin; the others are no weights it reads
    (["model.safetensors", "pytorch_model.bin", "optimizer.pt", "training_args.bin"],
     "model.safetensors"),
    (["model_best.pth.tar"], "model_best.pth.tar"),  # a timm training run's checkpoint
    (["b.bin", "a.pth"], "a.pth"),  # no preferred name: .pth before .bin
])
def test_a_folder_encoders_input_is_the_file_timm_reads(tmp_path, monkeypatch, names, read):
    """folder_files listed every .safetensors/.bin/.pth/.pt file of a tu-local-dir: folder, so
    touching one timm never reads (an optimizer state, pytorch_model.bin beside the
    model.safetensors it prefers) retrained, and a folder holding only a .pth.tar, which timm
    reads, was named missing its model.safetensors."""
    from timm.models import _hub

    from unet.model.encoder_check import folder_files

    for name in names:
        (tmp_path / name).write_text("x")
    seen = []
    monkeypatch.setattr(_hub, "load_state_dict", lambda path, **_: seen.append(path) or {})
    _hub.load_state_dict_from_path(tmp_path)  # timm's own choice in this folder
    assert seen == [tmp_path / read]
    assert folder_files(f"tu-local-dir:{tmp_path}", "imagenet") == [
        str(tmp_path / "config.json"), str(tmp_path / read)]


@pytest.mark.parametrize("where", ["~/models/net", "$HOME/models/net"])
def test_a_folder_encoder_with_a_home_or_variable_is_refused_with_its_full_path(where):
    # timm reads tu-local-dir:<folder> as given, and Snakemake its files: ~/models/net was
    # a folder 'models/net' under one named '~', so a folder that is there was 'missing'
    import os

    full = os.path.expanduser(os.path.expandvars(where))
    err = _refused(_smp(f"tu-local-dir:{where}", "imagenet"), r"model\.encoder tu-local-dir:")
    assert f"tu-local-dir:{full}" in err


def test_a_folder_encoders_config_is_an_input_with_random_weights_too(tmp_path):
    # timm builds a tu-local-dir: encoder from its folder's config.json with encoder_weights
    # null as well (the architecture and its arguments), but training had no input there:
    # editing it retrained nothing, and a folder without it failed only inside training.
    from tests.conftest import TINY, copy_workflow, snakemake
    from unet.model.encoder_check import folder_files

    net = tmp_path / "net"
    assert folder_files(f"tu-local-dir:{net}", None) == [str(net / "config.json")]
    wd = copy_workflow(tmp_path / "wf")
    (wd / "enc.yaml").write_text(
        f'model: {{arch: smp, encoder: "tu-local-dir:{net}", encoder_weights: null, depth: 3}}\n')
    planned = snakemake(wd, "results/synthetic/baseline/model.pt", "--cores", "1",
                        "--configfile", TINY, "enc.yaml", "-n", check=False)
    assert planned.returncode != 0 and str(net / "config.json") in planned.stderr + planned.stdout
