"""How overlays tell ignored pixels from the classes: their colour, and outlined legend swatches."""

from __future__ import annotations

import numpy as np
from matplotlib.patches import Patch

OVERLAY_ALPHA = 0.45  # each class's colour over the image
IGNORED_COLOUR, IGNORED_ALPHA = (0.85, 0.85, 0.85), 0.7  # pixels the loss and metrics skip
# Where a class looks like the light grey over the image (a white one: ISPRS's impervious
# surfaces), the first of these clear of every class by CLEAR, else the one clearest: near-black
# reads as void as the grey did; magenta where a class is near-black too.
REPLACEMENTS = ((0.1, 0.1, 0.1), (1.0, 0.0, 1.0), (0.0, 0.55, 0.55))
# Separations (RGB in [0, 1], at the closest grey): white 0.009 and 90 % grey 0.004 read as the
# light grey; the closest default colour, tab20's lavender, is 0.046 and keeps it.
AMBIGUOUS, CLEAR = 0.04, 0.25
SWATCH_EDGE, SWATCH_LINE = (0.25, 0.25, 0.25), 0.8  # an outline a white swatch shows on white
_GREYS = np.linspace(0.0, 1.0, 21)[:, None, None]  # the image's grey levels a colour lies over


def separation(ignored: tuple, colours: np.ndarray) -> np.ndarray:
    """Per class colour (N, 3): how far apart (RGB distance) it at OVERLAY_ALPHA and `ignored`
    at IGNORED_ALPHA look over the grey image where they look most alike."""
    painted = OVERLAY_ALPHA * np.asarray(colours, np.float64)[None] + (1 - OVERLAY_ALPHA) * _GREYS
    void = IGNORED_ALPHA * np.asarray(ignored, np.float64) + (1 - IGNORED_ALPHA) * _GREYS
    return np.linalg.norm(painted - void, axis=-1).min(axis=0)


def ignored_colour(colours: np.ndarray, first: int) -> tuple:
    """The colour ignored pixels are drawn in beside `colours` (classes `first` and up painted):
    IGNORED_COLOUR unless a class looks like it, else a REPLACEMENTS colour no class looks like."""
    painted = np.asarray(colours)[first:]
    if not len(painted) or separation(IGNORED_COLOUR, painted).min() >= AMBIGUOUS:
        return IGNORED_COLOUR
    apart = [separation(c, painted).min() for c in REPLACEMENTS]
    clear = [c for c, d in zip(REPLACEMENTS, apart, strict=True) if d >= CLEAR]
    return clear[0] if clear else REPLACEMENTS[int(np.argmax(apart))]


def swatch(colour, alpha: float, label: str) -> Patch:
    """A legend entry's patch in `colour`, thinly outlined: a white class's showed nothing."""
    return Patch(facecolor=(*colour, alpha), edgecolor=SWATCH_EDGE, linewidth=SWATCH_LINE,
                 label=label)
