"""evaluate.objects' leaf-counting scores of the CVPPP Leaf Segmentation Challenge (Scharr et
al., MVA 2016): Symmetric Best Dice (SBD) and the difference in count (DiC), per image."""

from __future__ import annotations

import numpy as np

SBD_KEYS = ("sbd", "dic", "abs_dic")
# Copied into objects_rule beside the other scores' definitions.
SBD_RULE: str = (
    "sbd the CVPPP Leaf Segmentation Challenge's Symmetric Best Dice (Scharr et al. 2016): "
    "BD(a, b) each object of a's largest Dice with an object of b (0 where none overlaps it) "
    "averaged over a's objects, SBD min(BD(predicted, true), BD(true, predicted)), per image "
    "(null with no true and no predicted object, 0 with only one of them); dic the difference "
    "in count (predicted less true objects) and abs_dic its magnitude |DiC|; unlike the "
    "pooled scores, a set's sbd, dic and abs_dic are the means of the counted images' values, "
    "as the challenge averages over images"
)


def best_dice_sums(t: np.ndarray, p: np.ndarray, inter: np.ndarray, area_t: np.ndarray,
                   area_p: np.ndarray) -> dict:
    """Each true object's largest Dice with a predicted one summed (bd_true_sum), and each
    predicted object's with a true one (bd_pred_sum), of one image's overlapping pairs (t, p)
    of `inter` px; area_t and area_p the labels' areas (index 0 the background's). An object
    overlapping none adds 0, as its Dice with every object is 0."""
    dice = 2 * inter / (area_t[t] + area_p[p])
    best_t = np.zeros(area_t.size)
    best_p = np.zeros(area_p.size)
    np.maximum.at(best_t, t, dice)  # a few pairs per object: no sort needed
    np.maximum.at(best_p, p, dice)
    return {"bd_true_sum": float(best_t[1:].sum()), "bd_pred_sum": float(best_p[1:].sum())}


def image_sbd(n: dict) -> dict:
    """SBD, DiC and |DiC| of one image's counts `n` (match's); SBD null where `n` has no best
    Dice sums (counts made by hand, or before SBD) or neither true nor predicted objects."""
    dic = n["predicted"] - n["true"]
    if n.get("bd_true_sum") is None or not (n["true"] or n["predicted"]):
        sbd = None
    elif not (n["true"] and n["predicted"]):
        sbd = 0.0  # one side empty: every object's best Dice is 0
    else:  # the smaller BD: a merge lowers BD(true, pred), a split BD(pred, true)
        sbd = min(n["bd_true_sum"] / n["true"], n["bd_pred_sum"] / n["predicted"])
    return {"sbd": sbd, "dic": dic, "abs_dic": abs(dic)}


def mean_sbd(counted: list[dict]) -> dict:
    """A set's SBD, DiC and |DiC|: the means over its counted images' (`counted`, each with an
    object) per-image values, as CVPPP averages over images; SBD null where any image lacks
    it (counts made before SBD), all null with no image counted."""
    per = [image_sbd(n) for n in counted]
    if not per:
        return dict.fromkeys(SBD_KEYS)
    sbd = [s["sbd"] for s in per]
    return {"sbd": None if None in sbd else float(np.mean(sbd)),
            "dic": float(np.mean([s["dic"] for s in per])),
            "abs_dic": float(np.mean([s["abs_dic"] for s in per]))}
