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
