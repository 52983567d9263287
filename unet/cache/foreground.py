"""The warning that class 1, which scores, overlays and the final mask call the foreground,
covers most of the training pixels (detected or listed masks.values)."""

from __future__ import annotations

from unet.common.labels import MaskMapping


def foreground_note(mapping: MaskMapping, fractions: list[float]) -> str | None:
    """A warning when the values, detected or listed, made class 1 (the class scores, overlays
    and the final choice call the foreground) the larger one: 0 may be the objects (EM
    membranes). The swapped list keeps each class's further (merged) values."""
    if mapping.rgb or mapping.num_classes != 2 or not mapping.background or fractions[1] <= 0.5:
        return None  # (masks.background: false scores both classes alike)
    v0, v1 = mapping.values
    entry = {k: [v, *(m for m, c in mapping.merged if c == k)] for k, v in enumerate((v0, v1))}
    swapped = ", ".join(str(e[0]) if len(e) == 1 else f"[{', '.join(map(str, e))}]"
                        for e in (entry[1], entry[0]))
    return (
        f"class 1 (value {v1}) covers {100 * fractions[1]:.0f} % of the training pixels and "
        f"class 0 (value {v0}) {100 * fractions[0]:.0f} %; scores, overlays and the final-mask "
        f"choice treat class 1 as the foreground. If value {v0} marks your objects, set "
        f"masks.values: [{swapped}]"
    )
