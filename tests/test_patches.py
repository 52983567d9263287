"""Native-size cache (flat, ragged) and patch sampling with foreground oversampling."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from tests.conftest import write_inputs
from unet.cache.preprocess import preprocess
from unet.cache.reader import cached_shapes, load_split
from unet.cache.settings import PreprocessSettings
from unet.common.labels import IGNORE_INDEX
from unet.train.augment import AugmentSettings, build
from unet.train.patches import PatchRows, crop_padded, foreground_locations

SIZES = [(90, 60), (33, 47), (64, 64), (120, 41), (50, 50)]  # (w, h), mixed, not multiples of 16


def _pairs(root, sizes=SIZES):
    rng = np.random.default_rng(0)
    pairs = []
    for i, (w, h) in enumerate(sizes):
        image = rng.integers(0, 255, (h, w, 3), np.uint8)
        mask = np.zeros((h, w), np.uint8)
        mask[h // 3 : h // 3 + 4, w // 2 : w // 2 + 3] = 255  # a small object
        Image.fromarray(image).save(root / f"i{i}.png")
        Image.fromarray(mask).save(root / f"m{i}.png")
        pairs.append({"id": f"p{i}", "image": str(root / f"i{i}.png"),
                      "mask": str(root / f"m{i}.png"), "size": [w, h]})
    return pairs


@pytest.fixture
def native_cache(tmp_path):
    pairs = _pairs(tmp_path)
    write_inputs(tmp_path, pairs)
    settings = PreprocessSettings(mode="native")
    meta = preprocess(tmp_path / "manifest.json", tmp_path / "split.json", tmp_path / "cache",
                      settings)
    return tmp_path, pairs, meta


def test_native_cache_keeps_every_image_at_its_own_size(native_cache):
    root, pairs, meta = native_cache
    assert meta["mode"] == "native" and meta["size"] is None
    by_id = {p["id"]: p for p in pairs}
    for split in ("train", "val", "test"):
        images, masks = load_split(root / "cache", split)
        ids = meta["splits"][split]["ids"]
        assert len(images) == len(masks) == len(ids)
        assert cached_shapes(meta, split) == [tuple(by_id[i]["size"][::-1]) for i in ids]
        for k, i in enumerate(ids):
            original = np.asarray(Image.open(by_id[i]["image"]))
            np.testing.assert_array_equal(images[k], original)  # the pixels, untouched
            target = np.asarray(Image.open(by_id[i]["mask"])) // 255  # class indices
            np.testing.assert_array_equal(masks[k], target)
            assert isinstance(images[k], np.memmap) or isinstance(images[k].base, np.memmap)


def test_native_scale_keeps_the_aspect_ratio(tmp_path):
    pairs = _pairs(tmp_path)
    write_inputs(tmp_path, pairs)
    meta = preprocess(tmp_path / "manifest.json", tmp_path / "split.json", tmp_path / "cache",
                      PreprocessSettings(mode="native", scale=0.5))
    assert meta["scale"] == 0.5
    by_id = {p["id"]: p for p in pairs}
    for k, i in enumerate(meta["splits"]["train"]["ids"]):
        w, h = by_id[i]["size"]
        assert tuple(meta["splits"]["train"]["shapes"][k]) == (round(h / 2), round(w / 2))
    images, _ = load_split(tmp_path / "cache", "train")
    assert images[0].shape[2] == 3


def test_patches_have_the_patch_size_and_pad_small_images_with_ignore(native_cache):
    root, _, meta = native_cache
    rows = [("train", k) for k in range(len(meta["splits"]["train"]["ids"]))]
    rows += [("test", k) for k in range(len(meta["splits"]["test"]["ids"]))]
    data = PatchRows(root / "cache", rows, (48, 56), foreground=0.0, per_image=3)
    assert len(data) == 3 * len(rows)
    torch.manual_seed(0)
    for i in range(len(data)):
        image, mask = data[i]
        assert image.shape == (3, 48, 56) and mask.shape == (48, 56)
        assert image.dtype == torch.float32 and 0 <= float(image.min()) <= float(image.max()) <= 1
        assert set(mask.unique().tolist()) <= {0, 1, IGNORE_INDEX}
    # The 33x47 image is smaller than the patch in both sides: padding is ignored.
    small = meta["splits"]["train"]["ids"] + meta["splits"]["test"]["ids"]
    k = small.index("p1")
    _, mask = data[k]
    assert int((mask != IGNORE_INDEX).sum()) == 33 * 47


def test_foreground_share_centres_patches_on_objects(native_cache):
    root, _, meta = native_cache
    rows = [("train", 0), ("train", 1)]
    hits = {}
    for share in (0.0, 1.0):
        data = PatchRows(root / "cache", rows, (16, 16), foreground=share, per_image=40)
        torch.manual_seed(1)
        hits[share] = np.mean([bool((data[i][1] == 1).any()) for i in range(len(data))])
    assert hits[1.0] == 1.0  # every patch holds the object
    assert hits[0.0] < 0.6  # uniform placement mostly misses a 4x3 object


def test_crop_padded_places_the_window():
    image = np.arange(5 * 4 * 1, dtype=np.uint8).reshape(5, 4, 1)
    mask = np.ones((5, 4), np.uint8)
    img, msk = crop_padded(image, mask, -1, 2, (3, 3))
    assert img[1:, :2, 0].tolist() == image[0:2, 2:4, 0].tolist()
    assert (msk[0] == IGNORE_INDEX).all() and (msk[:, 2] == IGNORE_INDEX).all()
    assert (msk[1:, :2] == 1).all()


def test_elastic_deformation_moves_pixels_and_keeps_labels():
    transform = build(AugmentSettings(flip=False, elastic=200.0, elastic_sigma=4.0,
                                      elastic_p=1.0), (32, 32))
    torch.manual_seed(0)
    yy, xx = torch.meshgrid(torch.arange(32), torch.arange(32), indexing="ij")
    image = ((xx // 4) % 2).float()[None].repeat(3, 1, 1)  # stripes
    mask = ((xx // 4) % 2).long()
    from unet.train.augment import apply

    out_img, out_mask = apply(transform, image, mask)
    assert out_img.shape == image.shape and out_mask.shape == mask.shape
    assert not torch.equal(out_mask, mask)  # the stripes bent
    assert set(out_mask.unique().tolist()) <= {0, 1, IGNORE_INDEX}  # nearest: no new labels


def test_foreground_locations_sample_each_class_evenly_in_chunks():
    from unet.train.patches import MAX_LOCATIONS, foreground_locations

    mask = np.zeros((300, 400), np.uint8)
    mask[:, :200] = 1  # 60,000 pixels: sampled down
    mask[10, 390] = 2  # one pixel: kept
    mask[20, 395] = IGNORE_INDEX  # never a centre
    one, two = foreground_locations(mask, seed=0, chunk=7_000)  # chunks cut rows anywhere
    assert two.tolist() == [10 * 400 + 390]
    assert 0.9 * MAX_LOCATIONS < len(one) < 1.1 * MAX_LOCATIONS
    assert (mask.reshape(-1)[one] == 1).all() and (np.diff(one) > 0).all()
    rows = one // 400
    assert rows.min() < 30 and rows.max() > 270  # spread over the whole mask, not its top
    again = foreground_locations(mask, seed=0, chunk=7_000)
    assert all(np.array_equal(a, b) for a, b in zip(again, (one, two), strict=True))


def test_foreground_locations_of_a_large_mask_need_no_wide_copies():
    # np.bincount widened the whole mask to int64 first: 8 bytes a pixel (512 MB for a
    # 8192x8192 mask, in each loader worker) before any chunk was read.
    import tracemalloc

    mask = np.zeros((4096, 4096), np.uint8)
    mask[100:300, 200:700], mask[4000:, :50] = 1, 2
    tracemalloc.start()
    found = foreground_locations(mask, seed=0)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert 9_000 < len(found[0]) < 11_000  # a sample of about MAX_LOCATIONS
    assert len(found[1]) == 96 * 50  # fewer than MAX_LOCATIONS: all of them
    assert peak < 0.75 * mask.size, f"{peak / mask.size:.2f} bytes a pixel"  # was 8


def test_without_a_background_class_0_is_a_foreground_class_too(native_cache):
    # masks.background: false (Cityscapes: every class scored): foreground oversampling never
    # centred a patch on class 0, so a small class-0 object was as rare as uniform draws make it.
    from unet.train.settings import TrainSettings
    from unet.train.train import _datasets

    root, _, meta = native_cache
    mask = np.ones((300, 400), np.uint8)
    mask[5:8, 7:9] = 0  # a small object of class 0 among class 1
    zero, one = foreground_locations(mask, seed=0, first_class=0)
    assert sorted(zero.tolist()) == [y * 400 + x for y in range(5, 8) for x in range(7, 9)]
    assert (mask.reshape(-1)[one] == 1).all()
    assert len(foreground_locations(mask, seed=0)) == 1  # with a background: class 1 only
    settings = TrainSettings(patch={"size": [16, 16]})
    train, _ = _datasets(root / "cache", {**meta, "background": False}, settings, None)
    assert len(train.locations(("train", 0), train._open("train")[1][0])) == 2  # classes 0, 1
    train, _ = _datasets(root / "cache", meta, settings, None)
    assert len(train.locations(("train", 0), train._open("train")[1][0])) == 1  # class 1 only


def test_every_epochs_workers_share_the_foreground_pixels_found_once(native_cache, monkeypatch):
    # Each epoch starts new DataLoader workers: the foreground pixels a worker found (a scan
    # of the whole mask) were lost with it, and found again by every worker, every epoch.
    from types import SimpleNamespace

    import torch

    from unet.train import loop, patches
    from unet.train.settings import TrainSettings
    from unet.train.train import _datasets

    scan = patches.foreground_locations

    def outside_workers(*args, **kw):
        assert torch.utils.data.get_worker_info() is None, "a worker scanned a mask again"
        return scan(*args, **kw)

    monkeypatch.setattr(patches, "foreground_locations", outside_workers)
    root, _, meta = native_cache
    settings = TrainSettings(patch={"size": [16, 16], "foreground": 1.0}, num_workers=2,
                             batch_size=2)
    train, _ = _datasets(root / "cache", meta, settings, None)
    run = SimpleNamespace(settings=settings, device=torch.device("cpu"), train_set=train)
    for epoch in (1, 2):
        assert len(list(loop.epoch_loader(run, epoch))) == len(train) // 2


def _edge_objects(split: str) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """(images, masks) of a cached split: one 100x120 image, a 3x3 object of class 1 in a
    corner and one pixel of class 2 on the top edge, ignore elsewhere in the top half."""
    image, mask = np.full((100, 120, 3), 128, np.uint8), np.zeros((100, 120), np.uint8)
    mask[:50], mask[97:, :3], mask[0, 60] = IGNORE_INDEX, 1, 2
    return [image], [mask]


@pytest.mark.parametrize("settings", [
    AugmentSettings(flip=True, scale=(0.3, 1.0)),
    AugmentSettings(flip=False, elastic=400, elastic_sigma=2, elastic_p=1.0),
])
def test_foreground_patches_keep_their_foreground_after_augmentation(settings):
    # The patch centred on an object at the image's edge has it at its own edge, and the zoom
    # (a random crop of 30-100 % of the patch) or the elastic fill cut it away: with
    # foreground 1.0, 68 % (zoomed) and 48 % (deformed) of these patches held no foreground,
    # 87 % not the rare class.
    data = PatchRows("unused", [("train", 0)], (32, 32), foreground=1.0, per_image=100,
                     transform=build(settings, (32, 32)))
    data._open, data.epoch_seed = _edge_objects, 0
    masks = [data[i][1] for i in range(len(data))]
    assert np.mean([bool(((m == 1) | (m == 2)).any()) for m in masks]) > 0.97
    assert np.mean([bool((m == 2).any()) for m in masks]) > 0.4  # the rare class is drawn
    assert all(set(m.unique().tolist()) <= {0, 1, 2, IGNORE_INDEX} for m in masks)
