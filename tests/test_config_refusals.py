"""Settings the config alone shows cannot work, refused when it is read (check_config), not
at the split, the download or the first training step."""

import pytest

from unet.config.experiments import ConfigError, check_config


def _local(c: dict, tmp: str, **layout) -> None:
    c["dataset"].update(source="local", name="mine")
    c["dataset"]["local"].update(path=tmp, **layout)


@pytest.mark.parametrize(("change", "key"), [
    (lambda c, t: c["split"].update(folds=1), "split.folds 1"),
    (lambda c, t: c["split"].update(folds=3, val_ids=["a"]), "split.val_ids"),
    (lambda c, t: c["split"].update(folds=3, val_ids="val.txt"), "split.val_ids"),
    (lambda c, t: c["split"].update(group_by="(P\\d+"), "split.group_by"),
    (lambda c, t: _local(c, t, mask_parts="_(\\d+"), "dataset.local.mask_parts"),
    # a bad mask_stem was refused only by download_dataset, once the jobs before it had run
    (lambda c, t: _local(c, t, mask_stem={"pattern": "(.+", "replace": "x"}),
     "dataset.local.mask_stem.pattern"),
    (lambda c, t: _local(c, t, mask_stem={"pattern": "(.+)_(\\d+)", "replace": "\\3"}),
     "dataset.local.mask_stem.replace"),
    (lambda c, t: c["masks"].update(values=[0, 128, 0]), "masks.values"),
    (lambda c, t: c["masks"].update(values=[0, [1, 2], [2, 3]]), "masks.values"),
    (lambda c, t: _local(c, t + "/missing"), "dataset.local.path"),
    # a folder configured without source: local trained the built-in shapes under its name
    (lambda c, t: c["dataset"]["local"].update(path=t), "dataset.source: local"),
    # a lab profile's data folder under a deliberate source: synthetic (a smoke test): the
    # refusal named no way to run the built-in shapes
    (lambda c, t: c["dataset"]["local"].update(path=t), 'dataset.local.path: ""'),
    (lambda c, t: c["train"]["augment"].update(crop=[256, 64]), "train.augment.crop"),
    (lambda c, t: c["model"].update(depth=8), "model.depth 8"),
    (lambda c, t: c["experiments"].update({"deep": {"model": {"depth": 8}}}),
     "experiments.deep: model.depth 8"),
    (lambda c, t: c["train"]["augment"].update(rot90=True), "train.augment.rot90"),
    (lambda c, t: c["train"]["augment"].update(rot90=True, crop=[64, 32]),
     "train.augment.rot90"),
    (lambda c, t: c["train"]["augment"].update(elastic=400, elastic_sigma=10) or
     c["train"]["patch"].update(size=[32, 32]), "train.augment.elastic_sigma 10"),
])
def test_refused_when_the_config_is_read(config, tmp_path, change, key):
    (tmp_path / "val.txt").write_text("a\n")
    change(config, str(tmp_path))
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        check_config(config)


@pytest.mark.parametrize("change", [
    lambda c, t: c["split"].update(group_by="folder"),  # a keyword, not a regex
    lambda c, t: c["split"].update(group_by="^(P\\d+)_"),
    lambda c, t: c["split"].update(folds=3),
    lambda c, t: _local(c, t, mask_parts="_\\d+"),
    lambda c, t: _local(c, t, mask_stem={"pattern": "(.+)_(\\d+)", "replace": "\\1_road_\\2"}),
    lambda c, t: c["masks"].update(values=[0, [1, 2], 3]),
    lambda c, t: c["train"]["augment"].update(crop=[64, 64], rot90=True),
    lambda c, t: c["train"]["augment"].update(rot90=True) or c["train"]["patch"].update(
        size=[64, 64]),
    lambda c, t: c["preprocess"].update(width=128, height=128) or c["train"]["augment"].update(
        rot90=True),
    lambda c, t: c["model"].update(depth=7),  # 128 px: 2^7
    lambda c, t: c["train"]["augment"].update(elastic=400, elastic_sigma=5) or
    c["train"]["patch"].update(size=[32, 32]),
])
def test_workable_settings_pass(config, tmp_path, change):
    change(config, str(tmp_path))
    check_config(config)


def test_the_size_rules_are_the_models():
    """check_config's depth rule is UNet.min_size, without importing torch to read a config."""
    from unet.config.experiments import min_side
    from unet.model.unet import UNet

    assert all(min_side(d) == UNet.min_size(d) for d in range(1, 9))


@pytest.mark.parametrize("change", [
    lambda s: s.update(folds=3),  # the folds deal the validation images
    lambda s: s.update(test_ids=["a", "b"]),
    lambda s: s.update(val_ids=["a", "b"]),
])
def test_unused_fractions_do_not_count_in_their_sum(config, change):
    config["split"].update(val_fraction=0.6, test_fraction=0.5)
    with pytest.raises(ConfigError, match=r"split\.val_fraction \+ split\.test_fraction"):
        check_config(config)
    change(config["split"])
    check_config(config)
