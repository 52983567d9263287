"""Mask values to class indices and back."""

import numpy as np
import pytest

from unet.cache.values import mapping_from_values
from unet.common.labels import MaskMapping, MaskValueError


def test_round_trip_keeps_the_data_values():
    m = MaskMapping((0, 85, 170, 255))
    raw = np.array([[0, 85], [170, 255]], np.uint8)
    idx = m.to_index(raw)
    assert idx.tolist() == [[0, 1], [2, 3]]
    assert np.array_equal(m.to_values(idx), raw)


def test_unknown_value_names_source_and_value():
    with pytest.raises(MaskValueError, match=r"mask a\.png holds values \[7\].*masks.values"):
        MaskMapping((0, 255)).to_index(np.array([[0, 7]], np.uint8), source="mask a.png")


def test_detected_values_sorted():
    assert mapping_from_values({255, 0}, None, None, 16).values == (0, 255)


def test_explicit_values_win():
    assert mapping_from_values({0, 1, 2}, [0, 2, 1], None, 16).values == (0, 2, 1)


def test_too_many_values_suggests_threshold():
    with pytest.raises(MaskValueError, match="masks.threshold"):
        mapping_from_values(set(range(40)), None, None, 16)


def test_single_value_is_refused():
    with pytest.raises(MaskValueError, match="single value"):
        mapping_from_values({0}, None, None, 16)


def test_threshold_binarises_into_the_data_values():
    # Issue 11: a thresholded mapping once wrote 0/1; it writes the data's 0/255 (or 65535).
    mapping = mapping_from_values(set(range(200)), None, 127, 16)
    assert mapping.values == (0, 255) and mapping.threshold == 127
    assert mapping.to_index(np.array([0, 127, 128, 255])).tolist() == [0, 0, 1, 1]
    assert mapping_from_values(set(), None, 30000, 16, top=65535).values == (0, 65535)


def test_threshold_keeps_ignore_apart():
    mapping = MaskMapping((0, 255), ignore=200, threshold=127)
    assert mapping.to_index(np.array([0, 150, 200, 255])).tolist() == [0, 1, 255, 1]


def test_16_bit_values():
    m = MaskMapping((0, 1000))
    assert m.to_values(np.array([0, 1])).dtype == np.uint16
    assert m.to_index(np.array([1000, 0], np.uint16)).tolist() == [1, 0]


def _reference_index(mapping: MaskMapping, raw: np.ndarray) -> np.ndarray:
    """Class indices the slow, obvious way: one comparison per value."""
    raw = raw.astype(np.int64)
    ignored = raw == mapping.ignore
    if mapping.threshold is not None:
        hi, lo = max(mapping.values), min(mapping.values)
        raw = np.where(raw > mapping.threshold, hi, lo)
    out = np.full(raw.shape, 254, np.uint8)
    for i, v in enumerate(mapping.values):
        out[raw == v] = i
    out[ignored] = 255
    return out


MAPPINGS = {
    "grey 8-bit": (MaskMapping((255, 0, 128)), np.uint8, (0, 128, 255)),
    "ignore": (MaskMapping((0, 1, 2), ignore=3), np.uint8, (0, 1, 2, 3)),
    "threshold": (MaskMapping((0, 255), ignore=200, threshold=127), np.uint8, tuple(range(256))),
    "16-bit": (MaskMapping((0, 1000, 65535)), np.uint16, (0, 1000, 65535)),
    "16-bit read as int64": (MaskMapping((0, 1000, 65535)), np.int64, (0, 1000, 65535)),
    "packed colours": (MaskMapping((0, 0x800000, 0x00FF00), rgb=True), np.uint32,
                       (0, 0x800000, 0x00FF00)),
    "bool": (MaskMapping((0, 1)), np.bool_, (0, 1)),
}


@pytest.mark.parametrize("name", MAPPINGS)
def test_indices_equal_the_obvious_mapping(name):
    mapping, dtype, present = MAPPINGS[name]
    rng = np.random.default_rng(0)
    raw = np.asarray(present)[rng.integers(0, len(present), (37, 53))].astype(dtype)
    assert np.array_equal(mapping.to_index(raw), _reference_index(mapping, raw))


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int64, np.uint32, np.int32])
def test_unknown_values_are_named_wherever_they_lie(dtype, monkeypatch):
    monkeypatch.setattr("unet.common.labels._CHUNK", 64, raising=False)  # several chunks
    raw = np.zeros((40, 50), dtype)
    raw[0, 1], raw[39, 49], raw[20, 7] = 7, 9, 255
    with pytest.raises(MaskValueError, match=r"holds values \[7, 9\]"):
        MaskMapping((0, 255)).to_index(raw, source="mask a.png")
    if np.dtype(dtype).kind == "i":
        raw[3, 3] = -5
        with pytest.raises(MaskValueError, match=r"holds values \[-5, 7, 9\]"):
            MaskMapping((0, 255)).to_index(raw)


def test_mapping_a_large_mask_needs_no_wide_copies():
    # The values went through int64 searches: 26 bytes a pixel, 1.7 GB for a 8192x8192 mask
    # (in every preprocessing worker, and in evaluation); now about 1 byte a pixel.
    import tracemalloc

    raw = np.zeros((4096, 4096), np.uint8)
    raw[100:900, 200:1500] = 255
    for mapping, values in ((MaskMapping((0, 255)), raw),
                            (MaskMapping((0, 65535)), raw.astype(np.uint16) * 257),
                            (MaskMapping((0, 255), threshold=100), raw)):
        tracemalloc.start()
        idx = mapping.to_index(values)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert idx.dtype == np.uint8 and int(idx.sum()) == 800 * 1300
        assert peak < 1.5 * raw.size, f"{peak / raw.size:.1f} bytes a pixel"


@pytest.mark.parametrize("shape", [(3,), (5, 7), (37, 53)])
def test_colours_pack_and_unpack(shape):
    from unet.common.maskio import pack_rgb, unpack_rgb

    rgb = np.random.default_rng(1).integers(0, 256, (*shape, 3), np.uint8)
    packed = pack_rgb(rgb)
    assert packed.dtype == np.uint32 and packed.shape == shape
    want = (rgb[..., 0].astype(np.int64) << 16) | (rgb[..., 1].astype(np.int64) << 8) | rgb[..., 2]
    assert np.array_equal(packed, want)
    assert np.array_equal(unpack_rgb(packed), rgb)


def test_packing_a_large_colour_mask_needs_no_wide_copies(monkeypatch):
    # Colour masks (ISPRS Potsdam: 6000x6000) were packed through a uint32 copy of all three
    # channels and unpacked through three: 20 bytes a pixel each way; now the 4-byte result
    # (or 3-byte colours) and a band of rows at a time.
    import tracemalloc

    from unet.common.maskio import pack_rgb, unpack_rgb

    rgb = np.zeros((2048, 2048, 3), np.uint8)
    rgb[100:900, 200:1500] = (255, 0, 128)
    tracemalloc.start()
    packed = pack_rgb(rgb)
    pack_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.reset_peak()
    back = unpack_rgb(packed)
    unpack_peak = tracemalloc.get_traced_memory()[1] - packed.nbytes
    tracemalloc.stop()
    assert np.array_equal(back, rgb)
    # Beyond the result: a few MB of bands (it was 64 MB at this size, 16 bytes a pixel).
    assert pack_peak - packed.nbytes < 8e6, pack_peak / packed.size
    assert unpack_peak - back.nbytes < 8e6, unpack_peak / packed.size


def test_a_value_listed_twice_is_refused():
    # [0, 255, 0] made a third class that no pixel could ever be: trained for nothing and
    # scored 1.0 (absent from both masks) in every mean.
    with pytest.raises(MaskValueError, match=r"masks\.values lists 0 twice \(classes 0 and 2\)"):
        mapping_from_values(set(), [0, 255, 0], None, 16)
    with pytest.raises(MaskValueError, match=r"masks\.colors lists \(0, 0, 0\) twice"):
        mapping_from_values(set(), [0, 0xFF0000, 0], None, 16, rgb=True)


def test_an_ignore_value_that_is_a_class_is_refused():
    # ignore 255 beside values [0, 255]: every foreground pixel was skipped by loss and metrics.
    with pytest.raises(MaskValueError, match=r"masks\.ignore 255 is also class 1's value"):
        mapping_from_values(set(), [0, 255], None, 16, ignore=255)


def test_one_bit_masks_read_as_255_get_the_hint(tmp_path):
    # A 1-bit mask with masks.values [0, 1] was refused for holding 255, with no word that
    # 1-bit files read as 0/255.
    from PIL import Image

    Image.fromarray(np.eye(4, dtype=bool)).save(tmp_path / "m.png")
    with pytest.raises(MaskValueError, match=r"m\.png holds values \[255\].*0/255.*255 in place"):
        MaskMapping((0, 1)).read_index(tmp_path / "m.png")


@pytest.mark.parametrize("explicit", [[0, 255], None])
def test_threshold_with_ignore_equal_to_a_class_value_names_the_clash(explicit):
    """values [0, 255], threshold 127, ignore 255: every class-1 pixel was skipped, and the
    preprocess step then advised about the threshold."""
    with pytest.raises(MaskValueError, match=r"masks\.ignore 255 is also class 1's value"):
        mapping_from_values({0, 255}, explicit, 127, 16, ignore=255)
    with pytest.raises(MaskValueError, match=r"masks\.ignore 0 is also class 0's value"):
        mapping_from_values({0, 255}, explicit, 127, 16, ignore=0)
    assert mapping_from_values({0, 200, 255}, explicit, 127, 16, ignore=200).ignore == 200


def test_voc_void_border_gets_the_ignore_hint_not_the_one_bit_one(tmp_path):
    # VOC's 21 classes without masks.ignore: 255 (the void border) was refused with the advice
    # to list 255 in place of 1 (aeroplane: every border would become one) and to set
    # masks.threshold (which binarises, and is refused with 21 classes).
    from PIL import Image

    Image.fromarray(np.array([[0, 15, 255]], np.uint8)).save(tmp_path / "m.png")
    with pytest.raises(MaskValueError) as err:
        MaskMapping(tuple(range(21))).read_index(tmp_path / "m.png")
    message = str(err.value)
    assert "in place of 1" not in message and "masks.threshold" not in message
    assert "masks.ignore: 255" in message


def test_colour_classes_not_of_0_and_255_get_no_threshold_hint():
    # CamVid's colours with one left out: a threshold would snap every channel to 0 or 255,
    # which no listed colour but black is made of, and is refused then.
    mapping = MaskMapping((0x808080, 0x800000, 0x400080), rgb=True)
    with pytest.raises(MaskValueError) as err:
        mapping.to_index(np.array([[0x808080, 0x804080]], np.uint32))
    assert "masks.threshold" not in str(err.value) and "masks.colors" in str(err.value)
    binary = MaskMapping((0, 255))
    with pytest.raises(MaskValueError, match="masks.threshold"):
        binary.to_index(np.array([[0, 7]], np.uint8))
