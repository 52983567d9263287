"""Settings that must agree with the class count, refused when the config is read where
masks.values or masks.colors lists the classes, not by the step that counts them."""

from __future__ import annotations

import pytest

from unet.config.experiments import ConfigError, check_config


def test_a_prob_clip_above_one_over_the_listed_classes_is_refused_at_once(config):
    """crf.prob_clip 0.5 with masks.values [0, 1, 2] was refused by refine_crf, after the
    whole training, though the three classes were in the config."""
    config["masks"]["values"] = [0, 1, 2]
    config["crf"]["prob_clip"] = 0.5
    with pytest.raises(ConfigError, match=r"^crf\.prob_clip 0\.5 is above 1/3 = 0\.3333 "
                                          r"for 3 classes \(masks\.values lists 3\)"):
        check_config(config)
    config["crf"]["prob_clip"] = 0.3
    check_config(config)
    config["experiments"] = {"clip": {"crf": {"prob_clip": 0.4}}}
    with pytest.raises(ConfigError, match=r"^experiments\.clip: crf\.prob_clip 0\.4 "):
        check_config(config)


def test_a_prob_clip_is_not_checked_when_the_crf_is_off(config):
    config["masks"]["values"] = [0, 1, 2]
    config["crf"].update(prob_clip=0.5, enabled=False)
    check_config(config)


def test_a_colour_listed_twice_is_refused_at_once(config):
    """masks.values listing a value twice was refused when the config was read, but
    masks.colors listing a colour twice only by preprocess, after the download and split."""
    config["masks"]["colors"] = [[0, 0, 0], [[128, 0, 0], [0, 128, 0]], [0, 128, 0]]
    with pytest.raises(ConfigError, match=r"^masks\.colors lists \(0, 128, 0\) twice"):
        check_config(config)
    config["masks"]["colors"] = [[0, 0, 0], [[128, 0, 0], [0, 128, 0]], [0, 0, 128]]
    check_config(config)


@pytest.mark.parametrize("values", [[0, 255], [0, [1, 255]]])
def test_an_ignore_value_that_is_a_class_value_is_refused_at_once(config, values):
    """masks.ignore 255 with masks.values [0, 255] (every foreground pixel skipped by the loss
    and the metrics) was refused only by preprocess."""
    config["masks"].update(values=values, ignore=255)
    with pytest.raises(ConfigError, match=r"^masks\.ignore 255 is also class 1's value in "
                                          r"masks\.values"):
        check_config(config)
    config["masks"]["ignore"] = 3
    check_config(config)


@pytest.mark.parametrize(("masks", "says"), [
    ({"values": [0, 1, 2], "threshold": 0.5}, r"masks\.threshold binarises, so masks\.values "
                                              r"must list two values .*got \[0, 1, 2\]"),
    ({"values": [0, 255], "threshold": 255}, r"masks\.threshold 255 must lie between the two "
                                             r"class values \[0, 255\]"),
    ({"values": [0, [1, 2]], "threshold": 0.5}, r"masks\.threshold 0\.5 binarises, which takes "
                                                r"one value per class"),
    ({"colors": [[0, 0, 0], [128, 0, 0]], "threshold": 127},
     r"masks\.threshold binarises each channel .* masks\.colors' \[128, 0, 0\]"),
    ({"colors": [[0, 0, 0], [255, 0, 0]], "threshold": 255},
     r"masks\.threshold 255 must lie in 0\.\.254 for colour masks"),
])
def test_a_threshold_the_listed_classes_cannot_take_is_refused_at_once(config, masks, says):
    """What preprocess refuses of masks.threshold with listed values or colours, after the
    download and split, is known from the config."""
    config["masks"].update(masks)
    with pytest.raises(ConfigError, match=says):
        check_config(config)


def test_a_threshold_the_listed_classes_can_take_passes(config):
    config["masks"].update(values=[0, 255], threshold=127)
    check_config(config)
    config["masks"].update(values=None, colors=[[0, 0, 0], [255, 0, 0], [0, 255, 255]])
    check_config(config)
