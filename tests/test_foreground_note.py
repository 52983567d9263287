"""The warning that class 1 covers most of the training pixels: its fix keeps the classes'
further (merged) values, as listed."""

from unet.cache.foreground import foreground_note
from unet.common.labels import MaskMapping


def test_the_swapped_list_keeps_a_class_of_several_values():
    mapping = MaskMapping((0, 1), merged=((2, 1),))  # masks.values: [0, [1, 2]]
    note = foreground_note(mapping, [0.3, 0.7])
    assert note is not None and note.endswith("masks.values: [[1, 2], 0]")
    assert foreground_note(MaskMapping((0, 255)), [0.3, 0.7]).endswith("masks.values: [255, 0]")
    assert foreground_note(MaskMapping((0, 255)), [0.7, 0.3]) is None


def test_a_later_class_covering_most_pixels_is_named_with_the_list_that_makes_it_class_0():
    # REFUGE's disc/cup masks: 0 cup, 128 rim, 255 background; detected values sort them
    # [0, 128, 255], so the cup (1 %) became the background and the background a scored class
    note = foreground_note(MaskMapping((0, 128, 255)), [0.01, 0.03, 0.96])
    assert note is not None and "class 2 (value 255) covers 96 %" in note
    assert "class 0 (value 0) 1 %" in note and note.endswith("masks.values: [255, 128, 0]")
    merged = MaskMapping((0, 128, 255), merged=((254, 2),))  # masks.values: [0, 128, [255, 254]]
    fix = "masks.values: [[255, 254], 128, 0]"
    assert foreground_note(merged, [0.01, 0.03, 0.96]).endswith(fix)
    assert foreground_note(MaskMapping((255, 128, 0)), [0.96, 0.03, 0.01]) is None
    assert foreground_note(MaskMapping((0, 1, 2)), [0.4, 0.35, 0.25]) is None  # none has most
