"""The warning that a class other than 0 (the background that scores, overlays and the final
mask leave out) covers most of the training pixels (detected or listed masks.values)."""

from __future__ import annotations

from unet.common.labels import MaskMapping


def foreground_note(mapping: MaskMapping, fractions: list[float]) -> str | None:
    """A warning when the values, detected or listed, made a class k >= 1 (a class the scores,
    overlays and the final choice call foreground) cover most of the pixels: 0 may be the
    objects (EM membranes), or, with more classes, sorted values made an object class 0
    (REFUGE's cup 0, rim 128, background 255). The list that swaps classes 0 and k keeps each
    class's further (merged) values."""
    if mapping.rgb or not mapping.background or mapping.num_classes < 2:
        return None  # (masks.background: false scores every class alike)
    k = max(range(1, mapping.num_classes), key=lambda c: fractions[c])
    if fractions[k] <= 0.5:
        return None
    entry = [[v, *(m for m, c in mapping.merged if c == i)] for i, v in enumerate(mapping.values)]
    entry[0], entry[k] = entry[k], entry[0]
    swapped = ", ".join(str(e[0]) if len(e) == 1 else f"[{', '.join(map(str, e))}]"
                        for e in entry)
    v0, vk = mapping.values[0], mapping.values[k]
    role = "as the foreground" if mapping.num_classes == 2 else (
        "as a foreground class and class 0 as the background")
    return (
        f"class {k} (value {vk}) covers {100 * fractions[k]:.0f} % of the training pixels and "
        f"class 0 (value {v0}) {100 * fractions[0]:.0f} %; scores, overlays and the final-mask "
        f"choice treat class {k} {role}. If value {v0} marks your objects, set "
        f"masks.values: [{swapped}]"
    )
