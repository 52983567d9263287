"""Resizing never invents labels; the cache round-trips through memory mapping."""

import numpy as np
import pytest
from PIL import Image

from tests.conftest import write_inputs, write_pair
from unet.cache.preprocess import preprocess, resize_image, resize_mask
from unet.cache.reader import load_split
from unet.cache.settings import PreprocessSettings
from unet.common.labels import MaskMapping, MaskValueError


@pytest.mark.parametrize("size", [(37, 23), (200, 130), (64, 64)])
def test_mask_resize_never_invents_values(size):
    rng = np.random.default_rng(0)
    mask = rng.choice(np.array([0, 85, 170, 255], np.uint8), size=(97, 131))
    out = resize_mask(mask, size)
    assert out.shape == (size[1], size[0])
    assert set(np.unique(out)) <= {0, 85, 170, 255}


def test_mask_resize_keeps_16_bit_values():
    mask = np.array([[0, 1000], [40000, 0]], np.uint16).repeat(8, 0).repeat(8, 1)
    assert set(np.unique(resize_mask(mask, (5, 5)))) <= {0, 1000, 40000}


def test_image_resize_channels():
    im = Image.fromarray(np.zeros((40, 60, 3), np.uint8))
    assert resize_image(im, (30, 20), 3).shape == (20, 30, 3)
    assert resize_image(im, (30, 20), 1).shape == (20, 30, 1)


def _write_pairs(root, n, values=(0, 255)):
    """`n` random pairs (p0..), manifest.json and split.json: p0, p1 train, p2 val, p3 test."""
    write_inputs(root, [write_pair(root, i, values=values) for i in range(n)])


def test_cache_is_memory_mapped_with_class_indices(tmp_path):
    _write_pairs(tmp_path, 4)
    meta = preprocess(
        tmp_path / "manifest.json",
        tmp_path / "split.json",
        tmp_path / "cache",
        PreprocessSettings(width=20, height=16),
        processes=2,
    )
    assert meta["class_values"] == [0, 255] and meta["in_channels"] == 3
    images, masks = load_split(tmp_path / "cache", "train")
    assert isinstance(images, np.memmap) and images.shape == (2, 16, 20, 3)
    assert masks.shape == (2, 16, 20) and set(np.unique(masks)) <= {0, 1}
    assert not list((tmp_path / "cache").glob("*.part"))


def test_lossy_masks_refused_with_threshold_hint(tmp_path):
    _write_pairs(tmp_path, 4, values=tuple(range(0, 255, 5)))
    with pytest.raises(MaskValueError, match="masks.threshold"):
        preprocess(
            tmp_path / "manifest.json",
            tmp_path / "split.json",
            tmp_path / "cache",
            PreprocessSettings(width=20, height=16),
        )


def test_unexpected_mask_value_names_file(tmp_path):
    _write_pairs(tmp_path, 4, values=(0, 128, 255))
    with pytest.raises(MaskValueError, match=r"msk\d\.png.*128"):
        preprocess(
            tmp_path / "manifest.json",
            tmp_path / "split.json",
            tmp_path / "cache",
            PreprocessSettings(width=20, height=16, mask_values=(0, 255)),
        )


def test_parallel_cache_equals_serial(tmp_path):
    _write_pairs(tmp_path, 4)
    settings = PreprocessSettings(width=20, height=16)
    for procs in (1, 2):
        preprocess(tmp_path / "manifest.json", tmp_path / "split.json", tmp_path / f"c{procs}",
                   settings, processes=procs)
    for split in ("train", "val", "test"):
        for a, b in zip(load_split(tmp_path / "c1", split), load_split(tmp_path / "c2", split),
                        strict=True):
            assert np.array_equal(a, b)


def test_a_mask_drawn_on_the_stored_pixels_of_a_turned_photo_is_named(tmp_path):
    """A phone photo stored 40x30 with EXIF orientation 6 is shown 30x40; a mask drawn on the
    stored pixels (40x30) was refused as another size, with no word of the orientation."""
    from PIL import Image

    from unet.cache.preprocess import load_pair
    from unet.common.labels import MaskMapping, MaskValueError

    im = Image.new("RGB", (40, 30))
    exif = im.getexif()
    exif[0x0112] = 6
    im.save(tmp_path / "photo.jpg", exif=exif)
    Image.new("L", (40, 30)).save(tmp_path / "photo.png")
    pair = {"id": "photo", "image": str(tmp_path / "photo.jpg"),
            "mask": str(tmp_path / "photo.png"), "size": [30, 40]}
    with pytest.raises(MaskValueError, match=r"EXIF orientation 6.*Orientation=1"):
        load_pair((pair, (16, 16), 3, MaskMapping((0, 255)), None))


def test_a_detected_class_one_that_is_mostly_background_is_named(tmp_path, caplog):
    # Detected values are sorted, so 255 is class 1, the class that scores, overlays and the
    # final-mask choice call the foreground. Where 0 marks the objects (EM membranes), they
    # silently scored the background instead.
    import logging

    pairs = []
    for i in range(5):
        mask = np.full((30, 40), 255, np.uint8)
        mask[::4] = 0  # thin dark lines, 8 rows of 30: the objects
        pairs.append(write_pair(tmp_path, i, mask=mask))
    write_inputs(tmp_path, pairs)
    caplog.set_level(logging.WARNING)
    meta = preprocess(tmp_path / "manifest.json", tmp_path / "split.json", tmp_path / "c1",
                      PreprocessSettings(width=40, height=30))
    assert meta["class_fractions"] == pytest.approx([8 / 30, 22 / 30])
    assert "class 1 (value 255) covers 73 % of the training pixels" in caplog.text
    assert "masks.values: [255, 0]" in caplog.text
    caplog.clear()
    preprocess(tmp_path / "manifest.json", tmp_path / "split.json", tmp_path / "c2",
               PreprocessSettings(width=40, height=30, mask_values=(255, 0)))
    assert "covers" not in caplog.text  # listed so that the objects are class 1: no warning
    preprocess(tmp_path / "manifest.json", tmp_path / "split.json", tmp_path / "c4",
               PreprocessSettings(width=40, height=30, mask_values=(0, 255)))
    # listed the other way round: the same words as detected (it was silent)
    assert "class 1 (value 255) covers 73 % of the training pixels" in caplog.text
    assert "masks.values: [255, 0]" in caplog.text
    caplog.clear()
    preprocess(tmp_path / "manifest.json", tmp_path / "split.json", tmp_path / "c3",
               PreprocessSettings(width=40, height=30, mask_background=False))
    assert "covers" not in caplog.text  # both classes scored: no class is the foreground


def _cells(i: int, count: int, shift: int = 0) -> np.ndarray:
    """A 30x40 16-bit label map: `count` separate blobs numbered 1..count (+ shift) on 0."""
    mask = np.zeros((30, 40), np.uint16)
    for k in range(count):
        r, c = 2 + 9 * (k // 4), 2 + 9 * (k % 4) + i % 2
        mask[r : r + 6, c : c + 6] = k + 1 + shift
    return mask


def test_instance_labels_detected_as_classes_are_named(tmp_path, caplog):
    # The Cell Tracking Challenge's man_seg masks number each cell 1, 2, 3, ...: with 16 values
    # or fewer they were detected as that many classes and trained silently, one class per
    # object number. The fix is masks.threshold: 0; the preprocess log must say so.
    import logging

    write_inputs(tmp_path, [write_pair(tmp_path, i, mask=_cells(i, 3 + i)) for i in range(5)])
    caplog.set_level(logging.WARNING)
    meta = preprocess(tmp_path / "manifest.json", tmp_path / "split.json", tmp_path / "c1",
                      PreprocessSettings(width=40, height=30))
    assert meta["num_classes"] == 8  # values 0..7 detected: the warning does not refuse
    assert "instance labels" in caplog.text and "masks.threshold: 0" in caplog.text
    assert "masks.values: [0, 1, 2, 3, 4, 5, 6, 7]" in caplog.text  # to keep them as classes
    caplog.clear()
    preprocess(tmp_path / "manifest.json", tmp_path / "split.json", tmp_path / "c2",
               PreprocessSettings(width=40, height=30, mask_threshold=0))
    assert "instance" not in caplog.text


def test_classes_drawn_as_several_regions_are_not_called_instances(tmp_path, caplog):
    import logging

    pairs = []
    for i in range(5):  # three classes, each in two separate blobs of every mask
        mask = _cells(i, 6).astype(np.uint8)
        pairs.append(write_pair(tmp_path, i, mask=np.where(mask > 3, mask - 3, mask) * 60))
    write_inputs(tmp_path, pairs)
    caplog.set_level(logging.WARNING)
    meta = preprocess(tmp_path / "manifest.json", tmp_path / "split.json", tmp_path / "c",
                      PreprocessSettings(width=40, height=30))
    assert meta["class_values"] == [0, 60, 120, 180] and "instance" not in caplog.text


def test_numbered_objects_needs_one_region_each_and_no_gap():
    from unet.cache.instance_labels import _numbered_objects

    index = np.zeros((20, 20), np.uint8)
    index[1:4, 1:4], index[6:9, 6:9], index[12:15, 1:4] = 1, 2, 3
    assert _numbered_objects(index) == 3
    index[17:19, 17:19] = 255  # ignored pixels are no object
    assert _numbered_objects(index) == 3
    index[index == 2] = 0  # classes 1 and 3 without 2: not numbered objects
    assert _numbered_objects(index) is None
    index[6:9, 6:9], index[16:18, 10:12] = 2, 2  # class 2 in two regions
    assert _numbered_objects(index) is None


def test_new_jpegs_reach_the_model_as_the_cached_ones_did(tmp_path):
    """A JPEG far larger than the model's input is decoded at a DCT scale for the cache
    (draft); predict_folder and unet predict decoded it whole, so the same file got other
    inputs (up to 26 grey levels apart) and another mask than the test split gave it."""
    from unet.cache.preprocess import load_pair
    from unet.infer.predict_folder import _model_input

    rng = np.random.default_rng(5)
    yy, xx = np.mgrid[:160, :200]
    rgb = np.stack([xx % 37 * 6, yy % 23 * 10, (xx + yy) % 51 * 5], -1)
    rgb = rgb + rng.integers(0, 40, (160, 200, 3))
    Image.fromarray(rgb.clip(0, 255).astype(np.uint8)).save(tmp_path / "a.jpg", quality=90)
    Image.fromarray(np.zeros((160, 200), np.uint8)).save(tmp_path / "a.png")
    pair = {"image": str(tmp_path / "a.jpg"), "mask": str(tmp_path / "a.png"), "size": [200, 160]}
    cached, _ = load_pair((pair, (48, 40), 3, MaskMapping((0, 255)), None))
    new, full = _model_input(tmp_path / "a.jpg", {"size": [48, 40], "mode": "resize"}, 3)
    assert full == (200, 160) and np.array_equal(new, cached)


def test_a_full_disk_is_a_clear_error_before_decoding(tmp_path, monkeypatch):
    # The cache files were sparse: a full disk killed the process with SIGBUS (one thread) or
    # a pool worker (several) at the first write of a page, with no message.
    import errno
    import os

    _write_pairs(tmp_path, 4)
    calls = []

    def full(fd, offset, length):
        calls.append(length)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "posix_fallocate", full)
    with pytest.raises(OSError, match=r"train_images\.npy: its disk is full"):
        preprocess(tmp_path / "manifest.json", tmp_path / "split.json", tmp_path / "cache",
                   PreprocessSettings(width=20, height=16))
    assert calls and not list(tmp_path.glob(".cache*")) and not list(tmp_path.glob("cache/*"))


@pytest.mark.parametrize(("mode", "channels"), [("RGB", 3), ("L", 1), ("L", 3), ("RGBA", 3)])
def test_an_image_at_its_own_size_and_mode_is_not_copied_by_pil(monkeypatch, mode, channels):
    """Native size: an RGB image for a 3-channel model (an L one for 1) goes to numpy as
    decoded; PIL's convert to the mode it has is a whole copy (268 MB at 8192x8192 RGB)."""
    rgb = np.random.default_rng(0).integers(0, 256, (20, 30, 3), dtype=np.uint8)
    im = Image.fromarray(rgb).convert(mode)
    converted = []
    real = Image.Image.convert

    def spy(self, *args, **kwargs):
        converted.append((self.mode, args))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Image.Image, "convert", spy)
    out = resize_image(im, (30, 20), channels)
    want = np.asarray(real(im, "L" if channels == 1 else "RGB"))
    np.testing.assert_array_equal(out.reshape(want.shape), want)
    assert [m for m, args in converted if args and args[0] == m] == []
