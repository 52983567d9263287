"""A warning for CT slices in Hounsfield units cached without preprocess.intensity_window:
one range from air to bone leaves soft tissue a few grey levels apart."""

from __future__ import annotations

# Air reads -1000 HU (scanners store -1024, or lower outside the field of view): a range that
# starts this low and spans this widely is a CT's, not a camera's or a microscope's.
AIR = -900.0
WIDE = 1500.0
STEP = 100.0  # HU: liver (60) beside fat (-100), a tumour beside its organ


def unwindowed_ct_note(span: list[float]) -> str | None:
    """A warning when the data set's range `span` (lo, hi) runs from air upwards as CT's does,
    giving the grey levels 100 HU get and the window to set; else None."""
    lo, hi = span
    if lo > AIR or hi - lo < WIDE:
        return None
    levels = STEP * 255 / (hi - lo)
    return (
        f"the training images span {lo:g} to {hi:g}, as CT slices in Hounsfield units do (air "
        f"at -1000): scaled by that one range, {STEP:g} HU (a tumour beside its organ, liver "
        f"beside fat) lie {levels:.1f} of 255 grey levels apart. If these are CT slices, set a "
        "window, which clips each image to it and scales it into 8 bits: "
        "preprocess.intensity_window: [-200, 300] for the abdomen, [-1000, 400] for the lung"
    )
