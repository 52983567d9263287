"""model.arch smp: a pretrained-encoder Unet that pads any size and rebuilds from its file."""

import pytest
import torch

from unet.model import checkpoint
from unet.model.build import build_model
from unet.model.describe import describe_model
from unet.model.unet import UNetConfig

pytest.importorskip("segmentation_models_pytorch", reason="pip install -e '.[smp]'")


def test_smp_model_any_size_and_safe_round_trip(tmp_path):
    cfg = UNetConfig(
        in_channels=1, num_classes=2, depth=3, arch="smp", encoder="resnet18", encoder_weights=None
    )
    net = build_model(cfg).eval()
    x = torch.rand(2, 1, 37, 53)
    with torch.no_grad():
        out = net(x)
    assert out.shape == (2, 2, 37, 53)
    meta = {"class_values": [0, 255], "size": [53, 37], "in_channels": 1, "num_classes": 2}
    record = checkpoint.model_record(
        cfg.to_dict(), net.state_dict(), meta, {}, 1, None, [0.5, 0.5], "h"
    )
    checkpoint.save(tmp_path / "m.pt", record)
    assert torch.load(tmp_path / "m.pt", weights_only=True)["model_config"]["arch"] == "smp"
    rebuilt, _ = checkpoint.load_model(tmp_path / "m.pt")
    with torch.no_grad():
        assert torch.allclose(rebuilt(x), out, atol=1e-5)
    assert torch.allclose(rebuilt.mean, net.mean)  # the normalisation travels with the file


def test_describe_names_the_encoder_and_normalisation(tmp_path):
    # `unet info` used to call any model "UNet ... base width ...", settings smp does not use.
    cfg = UNetConfig(
        in_channels=3, num_classes=2, depth=3, arch="smp", encoder="resnet18", encoder_weights=None
    )
    meta = {"class_values": [0, 255], "size": [48, 32], "in_channels": 3, "num_classes": 2}
    record = checkpoint.model_record(
        cfg.to_dict(), build_model(cfg).state_dict(), meta, {}, 1, None, [0.5, 0.5], "h"
    )
    checkpoint.save(tmp_path / "m.pt", record)
    out = describe_model(tmp_path / "m.pt")
    assert "smp Unet, encoder resnet18 (weights none, randomly initialised), depth 3" in out
    assert "mean 0.485, 0.456, 0.406, std 0.229, 0.224, 0.225" in out
    assert "base width" not in out


def _fake_hub(monkeypatch, tmp_path, fail: bool = False) -> list[str]:
    """smp's Hugging Face download, served from a local file of random resnet18 weights (or
    failing as it does without a network); returns the repositories asked for."""
    from safetensors.torch import save_file
    from segmentation_models_pytorch import encoders

    weights = tmp_path / "model.safetensors"
    save_file(encoders.get_encoder("resnet18").state_dict(), str(weights))
    (tmp_path / "config.json").write_text("{}")
    asked: list[str] = []

    def download(repo_id, filename, revision=None, **_):
        asked.append(repo_id)
        if fail:
            raise OSError("[Errno 101] Network is unreachable")
        return str(tmp_path / filename)

    monkeypatch.setattr(encoders, "hf_hub_download", download)
    return asked


def test_encoder_weights_are_fetched_ahead_of_training(monkeypatch, tmp_path):
    """fetch_encoder_weights (a local rule: where Snakemake runs, so compute nodes without a
    network train from the cache) asks smp for exactly the weights training loads, and marks
    them fetched."""
    from unet.model.pretrained import fetch_encoder_weights

    asked = _fake_hub(monkeypatch, tmp_path)
    fetch_encoder_weights("resnet18", "imagenet", tmp_path / "enc/resnet18/imagenet.json")
    assert asked and all("resnet18" in repo for repo in asked)
    marker = (tmp_path / "enc/resnet18/imagenet.json").read_text()
    assert '"encoder": "resnet18"' in marker and '"weights": "imagenet"' in marker


def test_a_failed_fetch_says_what_needs_the_network(monkeypatch, tmp_path):
    from unet.model.pretrained import ModelError, fetch_encoder_weights

    _fake_hub(monkeypatch, tmp_path, fail=True)
    message = r"imagenet weights of encoder resnet18.*network.*encoder_weights: null"
    with pytest.raises(ModelError, match=message):
        fetch_encoder_weights("resnet18", "imagenet", tmp_path / "m.json")
    assert not (tmp_path / "m.json").exists()


def test_training_without_the_fetched_weights_names_the_step_and_the_fix(monkeypatch, tmp_path):
    # A compute node whose Hugging Face cache is not the one fetch_encoder_weights filled (or a
    # cache emptied since the marker was written): training died in a bare hub traceback.
    from unet.model.pretrained import ModelError

    _fake_hub(monkeypatch, tmp_path, fail=True)
    cfg = UNetConfig(in_channels=3, num_classes=2, depth=3, arch="smp", encoder="resnet18",
                     encoder_weights="imagenet")
    with pytest.raises(ModelError) as err:
        build_model(cfg)
    message = str(err.value)
    assert "imagenet weights of encoder resnet18" in message and "Network is unreachable" in message
    assert "fetch_encoder_weights" in message and "HF_HOME" in message
    assert "resources/encoders/resnet18/imagenet.json" in message  # the marker to delete


def test_a_fetch_refused_by_hf_hub_offline_says_so(monkeypatch, tmp_path):
    # HF_HUB_OFFLINE=1 (set for compute nodes) also forbids the fetch step's download, where
    # "it needs the network there" sent users to check a network that was up.
    from unet.model.pretrained import ModelError, fetch_encoder_weights

    _fake_hub(monkeypatch, tmp_path, fail=True)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelError, match=r"HF_HUB_OFFLINE=1 is set.*unset it for"):
        fetch_encoder_weights("resnet18", "imagenet", tmp_path / "m.json")


def test_extra_bands_keep_the_normalisation_of_the_weights_they_reuse(monkeypatch, tmp_path):
    # smp (and timm) give band i of a 2-, 4- or more-band input the pretrained filter of RGB
    # channel i % 3; every band was normalised with the RGB channels' average instead, so an
    # RGB+NIR image's R, G and B no longer met the statistics their filters learnt. A 6-band
    # image that is an RGB image twice now gives the RGB encoder's features exactly.
    import json

    from unet.model.pretrained import IMAGENET

    _fake_hub(monkeypatch, tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({"mean": IMAGENET[0], "std": IMAGENET[1]}))
    nets = {}
    for bands in (3, 6):
        cfg = UNetConfig(in_channels=bands, num_classes=2, depth=3, arch="smp",
                         encoder="resnet18", encoder_weights="imagenet")
        nets[bands] = build_model(cfg).eval()
    assert nets[6].mean.flatten().tolist() == pytest.approx(list(IMAGENET[0]) * 2)
    rgb = torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        three, six = (net.net.encoder((x - net.mean) / net.std)[-1]
                      for net, x in ((nets[3], rgb), (nets[6], torch.cat([rgb, rgb], 1))))
    assert torch.allclose(three, six, atol=1e-5)


@pytest.mark.parametrize("encoder, timm_name", [("timm-regnetx_002", "regnetx_002"),
                                                 ("timm-mobilenetv3_small_100",
                                                  "tf_mobilenetv3_small_100")])
def test_smp_names_of_timm_encoders_get_the_timm_weights_normalisation(encoder, timm_name):
    # smp builds its older timm- names (timm-regnet*, timm-resnest*, timm-mobilenetv3*, ...) as
    # timm's own tu- encoders, and the config check takes them with imagenet weights, but
    # training asked smp's table for their normalisation, which no longer lists them: a bare
    # KeyError after the weights had been fetched.
    import timm

    from unet.model.pretrained import normalisation

    cfg = UNetConfig(in_channels=3, num_classes=2, depth=3, arch="smp", encoder=encoder,
                     encoder_weights="imagenet")
    want = timm.models.get_pretrained_cfg(timm_name)
    assert normalisation(cfg) == (list(want.mean), list(want.std))


def test_a_timm_encoder_from_a_folder_builds_with_its_own_normalisation(tmp_path):
    # tu-local-dir:<folder> (weights downloaded elsewhere: no network needed) built, then
    # training asked timm's registry for that name's statistics: "local-dir:... does not have
    # pretrained weights and preprocessing parameters". They are the folder's config's now.
    import json

    import timm
    from safetensors.torch import save_file

    save_file(timm.create_model("resnet18", pretrained=False).state_dict(),
              str(tmp_path / "model.safetensors"))
    mean, std = [0.5, 0.4, 0.3], [0.2, 0.25, 0.3]
    (tmp_path / "config.json").write_text(json.dumps({
        "architecture": "resnet18", "num_classes": 1000,
        "pretrained_cfg": {"mean": mean, "std": std, "input_size": [3, 224, 224],
                           "first_conv": "conv1", "classifier": "fc"}}))
    cfg = UNetConfig(in_channels=4, num_classes=2, depth=3, arch="smp",
                     encoder=f"tu-local-dir:{tmp_path}", encoder_weights="imagenet")
    net = build_model(cfg)
    assert net.mean.flatten().tolist() == pytest.approx(mean + mean[:1])
    assert net.std.flatten().tolist() == pytest.approx(std + std[:1])


def test_a_folder_encoders_model_without_its_folder_names_it(tmp_path):
    # A model trained with tu-local-dir:<folder> is rebuilt from the folder's config.json (for
    # unet predict, info and export too); with the folder gone that was a FileNotFoundError
    # traceback from timm, read as a bug.
    from unet.model.pretrained import ModelError

    cfg = UNetConfig(in_channels=3, num_classes=2, depth=3, arch="smp",
                     encoder=f"tu-local-dir:{tmp_path / 'gone'}", encoder_weights="imagenet")
    with pytest.raises(ModelError, match=r"model.encoder tu-local-dir:.*gone.*config.json"):
        build_model(cfg, pretrained=False)


def test_a_failed_fetch_tells_an_offline_user_how_to_bring_the_weights(monkeypatch, tmp_path):
    # Behind a firewall the step offered the network or random weights only, though weights
    # brought from elsewhere train here: a copied Hugging Face cache, or a timm folder.
    from unet.model.pretrained import ModelError, fetch_encoder_weights

    _fake_hub(monkeypatch, tmp_path, fail=True)
    with pytest.raises(ModelError) as err:
        fetch_encoder_weights("resnet18", "imagenet", tmp_path / "m.json")
    assert "HF_HOME" in str(err.value) and "tu-local-dir:" in str(err.value)


@pytest.mark.parametrize(("encoder", "weights", "passed"), [
    ("tu-resnet10t", "imagenet", True), ("resnet18", "imagenet", "imagenet"),
    ("tu-resnet10t", None, None)])
def test_timm_encoders_ask_smp_for_their_weights_as_it_takes_them(encoder, weights, passed):
    # smp 0.5 and later warn at `encoder_weights='imagenet'` for a tu- encoder, whose weights
    # its own name gives: they take True (or None for random weights)
    from unet.model.pretrained import smp_weights

    assert smp_weights(encoder, weights) == passed


def test_a_corrupt_weights_file_in_a_folder_encoder_is_named(tmp_path):
    # A tu-local-dir:<folder> whose model.safetensors was cut short (a copy interrupted) was
    # reported as "the True weights ... from the Hugging Face cache", with a marker to delete
    # that no step writes for a folder: the file to copy again went unnamed.
    import json

    import timm
    from safetensors.torch import save_file

    from unet.model.pretrained import ModelError

    weights = tmp_path / "model.safetensors"
    save_file(timm.create_model("resnet18", pretrained=False).state_dict(), str(weights))
    weights.write_bytes(weights.read_bytes()[:5000])
    (tmp_path / "config.json").write_text(json.dumps({
        "architecture": "resnet18", "num_classes": 1000,
        "pretrained_cfg": {"first_conv": "conv1", "classifier": "fc"}}))
    cfg = UNetConfig(in_channels=3, num_classes=2, depth=3, arch="smp",
                     encoder=f"tu-local-dir:{tmp_path}", encoder_weights="imagenet")
    with pytest.raises(ModelError) as err:
        build_model(cfg)
    message = str(err.value)
    assert str(weights) in message and "encoder_weights: null" in message
    assert "True" not in message and "Hugging Face cache" not in message


def test_weights_missing_from_the_cache_name_the_marker_the_step_wrote(monkeypatch):
    # A tu- encoder asks smp for weights True: the message named 'the True weights' and a
    # marker resources/encoders/<encoder>/True.json that no step writes.
    from unet.model import pretrained
    from unet.model.encoder_check import fetch_markers

    def offline(*_, **__):
        raise OSError("[Errno 101] Network is unreachable")

    monkeypatch.setattr(pretrained, "_unet", offline)  # not in the cache, and no network
    cfg = UNetConfig(in_channels=3, num_classes=2, depth=3, arch="smp", encoder="tu-resnet18",
                     encoder_weights="imagenet")
    with pytest.raises(pretrained.ModelError) as err:
        build_model(cfg)
    message = str(err.value)
    assert "imagenet weights of encoder tu-resnet18" in message and "True" not in message
    assert fetch_markers("tu-resnet18", "imagenet")[0] in message


@pytest.mark.parametrize(("bands", "said"), [(1, "RGB filters summed"),
                                             (4, "band i gets RGB channel i % 3's filter")])
def test_training_says_how_the_first_convolution_met_the_bands(monkeypatch, tmp_path, caplog,
                                                                bands, said):
    # Grey or 4-band images with a 3-channel pretrained encoder: smp rewrites its first
    # convolution silently, and nothing in the log said how, nor which mean and std the
    # model normalises with, so a user could not tell what the pretrained filters saw.
    import json
    import logging

    from unet.model.pretrained import IMAGENET

    _fake_hub(monkeypatch, tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({"mean": IMAGENET[0], "std": IMAGENET[1]}))
    cfg = UNetConfig(in_channels=bands, num_classes=2, depth=3, arch="smp", encoder="resnet18",
                     encoder_weights="imagenet")
    with caplog.at_level(logging.INFO, logger="unet.model.pretrained"):
        net = build_model(cfg)
    text = caplog.text
    assert said in text and f"{bands} band" in text
    assert f"{net.mean.flatten()[0].item():.3f}" in text  # the normalisation it applies


def test_a_failed_fetch_quotes_the_hub_s_sentence_without_a_double_full_stop(monkeypatch, tmp_path):
    # The Hub's offline error ends with a full stop; the step printed "... is on.. This step".
    from unet.model import pretrained

    class Offline:
        def Unet(self, *args, **kwargs):  # noqa: N802 - smp's name
            raise OSError("Please make sure your Internet connection is on.")

    monkeypatch.setattr(pretrained, "_smp", Offline)
    with pytest.raises(pretrained.ModelError) as err:
        pretrained.fetch_encoder_weights("resnet18", "imagenet", tmp_path / "m.json")
    assert "connection is on. This step" in str(err.value)
