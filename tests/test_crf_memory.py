"""The CRF's tiles with many classes: DenseCRF2D's memory grows with the classes as with the
pixels, so a tile of many classes is smaller than `crf.tile`, taking what a 2-class one takes."""

from __future__ import annotations

import numpy as np
import pytest

import unet.crf.dense as dense
from unet.crf.dense import CRFParams, refine
from unet.crf.tiles import BYTES_FIXED, BYTES_PER_CLASS, tile_area, tile_cores


def _bytes(pixels: int, classes: int) -> int:
    return pixels * (BYTES_FIXED + BYTES_PER_CLASS * classes)


def test_the_tile_shrinks_with_the_classes_to_the_2_class_memory():
    assert tile_area(2048, 2, 128) == 2048 * 2048
    for classes in (3, 21, 150):
        area = tile_area(2048, classes, 128)
        assert _bytes(area, classes) <= _bytes(2048 * 2048, 2)  # about 1.6 GB
        assert _bytes(area, classes) > 0.99 * _bytes(2048 * 2048, 2)
    assert tile_area(300, 150, 100) == 264 * 264  # a tile keeps a 64 px centre
    assert tile_area(200, 150, 100) == 200 * 200  # refused by refine, naming crf.tile


def _tiles(h: int, w: int, cores: tuple[int, int], ov: int) -> list[int]:
    """Pixels of each tile of the grid `cores`, as refine cuts it."""
    (cy, cx) = cores
    return [(min(h, y + cy + ov) - max(0, y - ov)) * (min(w, x + cx + ov) - max(0, x - ov))
            for y in range(0, h, cy) for x in range(0, w, cx)]


@pytest.mark.parametrize("h,w,area,ov", [(512, 683, 265_000, 128), (1024, 2048, 1_555_000, 128),
                                         (8192, 8192, 2048 * 2048, 128), (200, 260, 96 * 96, 24),
                                         (5000, 70, 70 * 300, 50), (333, 1, 64 * 64, 60)])
def test_tiles_fit_the_area_and_are_few(h, w, area, ov):
    cores = tile_cores(h, w, area, ov)
    tiles = _tiles(h, w, cores, ov)
    assert max(tiles) <= area
    if area < h * w <= 2 * area:  # ADE20K's 512x683 at 150 classes, Cityscapes' 2048x1024 at 19
        assert len(tiles) == 2  # two strips, not a square grid 2.4x the whole image's time
    if h == w == 8192:
        assert sum(tiles) < 1.3 * h * w


def test_an_image_of_many_classes_is_refined_in_tiles_of_that_memory(monkeypatch):
    rng = np.random.default_rng(0)
    c, n = 40, 200
    truth = np.zeros((n, n), np.int64)
    truth[40:160, 30:120], truth[100:190, 110:190] = 7, 39
    probs = np.full((c, n, n), 0.2 / (c - 1), np.float32)
    np.put_along_axis(probs, truth[None], 0.8, axis=0)
    image = (truth * 6 + rng.normal(0, 5, (n, n))).clip(0, 255).astype(np.uint8)
    params = CRFParams(iterations=2, tile=256, tile_overlap=16)
    sizes, whole = [], dense._refine_whole

    def recorded(rgb, part, *args):
        sizes.append(part.shape[1] * part.shape[2])
        return whole(rgb, part, *args)

    monkeypatch.setattr(dense, "_refine_whole", recorded)
    labels = refine(image, probs.astype(np.float16), params)
    # the 200x200 image within crf.tile 256 took 3.1x the memory of a 2-class 256 tile whole
    assert len(sizes) > 1 and max(_bytes(s, c) for s in sizes) <= _bytes(256 * 256, 2)
    np.testing.assert_array_equal(labels, truth)  # label ids kept, tiles without seams


def test_the_slurm_profile_gives_the_crf_rules_their_workers_memory():
    # refine_crf and tune_crf run a CRF tile in each of their `threads` workers: at the default
    # crf.tile (2048 x 2048, 1.6 GB a tile) 4 workers need over 7 GB, but the profile's default
    # 4000 MB was all they got, and SLURM killed them (Carvana's 1918x1280: 4 x 1.0 GB too).
    import re
    from pathlib import Path

    import yaml

    from unet.common.schema import default

    repo = Path(__file__).resolve().parents[1]
    profile = yaml.safe_load((repo / "profiles/slurm/config.yaml").read_text())
    rules = (repo / "rules/crf.smk").read_text() + (repo / "rules/postprocess.smk").read_text()
    tile = default("crf", "tile")
    for rule in ("refine_crf", "tune_crf", "finalize_masks"):
        threads = int(re.search(rf"rule {rule}:.*?threads: (\d+)", rules, re.S).group(1))
        need_mb = threads * (_bytes(tile * tile, 2) / 1e6 + 150) + 200  # + each interpreter
        given = profile["set-resources"].get(rule, profile["default-resources"])["mem_mb"]
        # `N * attempt` (a retry asks for more): the first try's N must suffice
        first = int(re.fullmatch(r"(\d+)(\s*\*\s*attempt)?", str(given).strip()).group(1))
        assert first >= need_mb, (rule, given, need_mb)
