"""unet.model.pretrained's copies of smp's choices (the words it picks timm feature layers by,
the timm names of its old timm- encoders, the arguments it gives timm), compared with what the
installed smp does, so that an smp upgrade that changes one fails here, not in a user's run."""

from __future__ import annotations

import inspect
import re
import warnings

import pytest
import torch

smp = pytest.importorskip("segmentation_models_pytorch", reason="pip install -e '.[smp]'")
from segmentation_models_pytorch import encoders  # noqa: E402
from segmentation_models_pytorch.encoders import timm_universal  # noqa: E402

from unet.model import pretrained  # noqa: E402


def test_the_words_smp_picks_feature_layers_by_are_pretraineds():
    source = inspect.getsource(timm_universal.TimmUniversalEncoder.__init__)
    assert set(re.findall(r"""["'](\w+)["'] in name""", source)) == set(pretrained._SMP_WORDS)


class _Built(Exception):
    """Raised in place of building: carries the timm name smp was about to build."""


@pytest.mark.parametrize("encoder", ["timm-mobilenetv3_small_100", "timm-mobilenetv3_large_075",
                                     "timm-regnetx_002", "timm-res2net50_26w_4s",
                                     "timm-resnest14d", "timm-gernet_s", "tu-resnet18"])
def test_as_built_names_the_timm_encoder_smp_builds(encoder, monkeypatch):
    def capture(name, **_):
        raise _Built(name)

    monkeypatch.setattr(encoders, "TimmUniversalEncoder", capture)
    with pytest.raises(_Built) as built, warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # smp's word on timm- names
        encoders.get_encoder(encoder)
    assert pretrained._as_built(encoder) == "tu-" + built.value.args[0]


def test_the_arguments_smp_gives_timm_are_those_a_record_leaves_out(monkeypatch):
    import timm

    real, given = timm.create_model, set()

    def create(name, **kwargs):
        if set(kwargs) != {"features_only"}:  # not smp's first look at the feature layers
            given.update(kwargs)
        return real(name, **kwargs)

    monkeypatch.setattr(timm_universal.timm, "create_model", create)
    with torch.device("meta"):
        for stride in (32, 16):  # smp leaves output_stride out at 32
            encoders.get_encoder("tu-resnet18", weights=None, output_stride=stride)
    assert given == pretrained._SMP_SETS
