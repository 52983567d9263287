"""Mask values to class indices and back."""

import numpy as np
import pytest

from unet.common.labels import MaskMapping, MaskValueError, mapping_from_values


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
