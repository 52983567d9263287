"""preprocess warns once when mode resize stretches images of mixed aspect ratios."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from tests.conftest import write_inputs, write_pair
from unet.cache.preprocess import preprocess
from unet.cache.settings import PreprocessSettings


def _run(root, sizes, caplog, **settings) -> list[str]:
    """Preprocess pairs of these (w, h) sizes; the warnings about aspect ratios."""
    pairs = []
    for i, (w, h) in enumerate(sizes):
        rng = np.random.default_rng(i)
        pair = write_pair(root, i, rng.integers(0, 255, (h, w, 3), np.uint8),
                          rng.choice(np.array([0, 255], np.uint8), (h, w)))
        pairs.append({**pair, "size": [w, h]})
    write_inputs(root, pairs)
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        preprocess(root / "manifest.json", root / "split.json", root / "cache",
                   PreprocessSettings(**settings))
    return [r.getMessage() for r in caplog.records if "aspect" in r.getMessage()]


def test_mixed_aspect_ratios_stretched_to_the_cache_are_said_once(tmp_path, caplog):
    # Portrait and landscape photos went to 192x128 alike without a word: a portrait one is
    # squeezed to 0.44 of its width relative to its height, a landscape one not at all
    said = _run(tmp_path, [(60, 40), (40, 60), (60, 40), (40, 40), (60, 40)], caplog,
                width=30, height=20)
    assert len(said) == 1, said
    assert "2 of 5 images" in said[0] and "0.67 to 1.50" in said[0], said[0]
    assert "30x20 (1.50)" in said[0], said[0]
    assert "preprocess.mode: native" in said[0] and "preprocess.scale" in said[0], said[0]


@pytest.mark.parametrize("sizes, settings", [
    ([(40, 40)] * 4, {"width": 30, "height": 20}),  # one aspect: every image stretched alike
    ([(60, 40), (61, 40), (59, 40), (60, 41)], {"width": 30, "height": 20}),  # within 10 %
    ([(60, 40), (40, 60), (40, 40), (60, 40)], {"mode": "native", "scale": 0.5}),  # kept
])
def test_no_word_where_nothing_is_stretched_unevenly(tmp_path, caplog, sizes, settings):
    assert _run(tmp_path, sizes, caplog, **settings) == []


def test_a_cache_of_another_aspect_than_most_images_suggests_theirs(tmp_path, caplog):
    said = _run(tmp_path, [(40, 40), (40, 40), (40, 40), (60, 40)], caplog, width=30, height=20)
    assert "3 of 4 images" in said[0] and "most common aspect (1.00)" in said[0], said
