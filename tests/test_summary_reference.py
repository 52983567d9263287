"""summary.json, per_image.csv and per_case.csv of evaluate_masks against references computed here
from the masks with plain numpy (tests.test_metrics_reference): pooled and per-image scores of 3
classes with ignored pixels, empty images, mean_positive, the HD95 penalty, per-case pooling with
split.group_by (slices stacked in numeric id order) and an evaluate.regions region."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.test_metrics_reference import IGN, _blobs, ref_pixel_scores, ref_volume
from unet.evaluate.evaluate import evaluate_masks

C, TOL = 3, 1.5
# case0's slices sort as 2, 9, 10 read as numbers (9 before 10): a stacking order the text sort
# would get wrong
IDS = ["c0_10", "c0_9", "c0_2", "c1_0", "c1_1", "c1_2", "c2_0", "c2_1"]


def _data(seed: int, ignore: bool) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Target and prediction per id: every fourth image empty in both, every fourth with its
    foreground missed, every fourth without class 2; scattered ignored pixels with `ignore`."""
    rng, out = np.random.default_rng(seed), {}
    for k, i in enumerate(IDS):
        t, p = _blobs(rng, (9, 11), C), _blobs(rng, (9, 11), C)
        if k % 4 == 0:
            t[:], p[:] = 0, 0
        if k % 4 == 1:
            p[:] = 0
        if k % 4 == 2:  # class 2 in neither: left out of its mean_per_image, as class 1 is held
            t[t == 2], p[p == 2] = 0, 0
        if ignore:
            t[rng.random(t.shape) < 0.12] = IGN
        out[i] = (t, p)
    return out


def _evaluate(tmp_path: Path, data: dict, ignore: bool) -> dict:
    (tmp_path / "pred").mkdir()
    pairs = []
    for i, (t, p) in data.items():
        Image.fromarray(t).save(tmp_path / f"{i}_gt.png")
        Image.fromarray(p).save(tmp_path / "pred" / f"{i}.png")
        pairs.append({"id": i, "mask": str(tmp_path / f"{i}_gt.png"), "image": f"{i}.png"})
    (tmp_path / "manifest.json").write_text(json.dumps({"pairs": pairs}))
    meta = {"class_values": list(range(C)), "ignore_value": IGN if ignore else None,
            "splits": {"test": {"ids": sorted(data)}}}
    (tmp_path / "meta.json").write_text(json.dumps(meta))
    return evaluate_masks(tmp_path / "manifest.json", tmp_path / "meta.json",
                          {"raw": tmp_path / "pred"}, tmp_path / "per_image.csv",
                          tmp_path / "summary.json", tolerance=TOL, regions={"fg": [1, 2]},
                          group_by=r"^(c\d+)_\d+$", cases_csv=tmp_path / "per_case.csv",
                          voxel_spacing=[1.0, 1.0, 1.0])


def _held(t: np.ndarray, p: np.ndarray, c: int) -> tuple[bool, bool]:
    """Whether the labelled pixels of target and prediction hold class `c`."""
    lab = t != IGN
    return bool((t == c).any()), bool(((p == c) & lab).any())


def _mean(values: list) -> float | None:
    return float(np.mean(values)) if values else None


def _check_classes(m: dict, data: dict, rows: dict) -> None:
    """Each class's global, mean_per_image and mean_positive (the README's counting rule)."""
    t_all = np.concatenate([t.ravel() for t, _ in data.values()])
    p_all = np.concatenate([p.ravel() for _, p in data.values()])
    lab = t_all != IGN
    assert m["pixel_accuracy"] == pytest.approx(np.mean(p_all[lab] == t_all[lab]), abs=1e-12)
    for c in range(C):
        want = ref_pixel_scores(p_all, t_all, c)
        assert m["classes"][str(c)]["global"] == pytest.approx(want, abs=1e-12)
        counted, positive = [], []
        for i, (t, p) in data.items():
            v = ref_pixel_scores(p, t, c)
            hd = float(rows[i, c]["hd95"])
            v["hd95"] = float(np.hypot(*t.shape)) if np.isinf(hd) else hd
            v["boundary_f1"] = float(rows[i, c]["boundary_f1"])
            in_t, in_p = _held(t, p, c)
            any_fg = any(any(_held(t, p, k)) for k in range(1, C))
            if c == 0 or in_t or in_p or not any_fg:
                counted.append(v)
            if in_t:
                positive.append(v)
        for k in v:
            got = m["classes"][str(c)]
            assert got["mean_per_image"][k] == pytest.approx(_mean([x[k] for x in counted]))
            assert got["mean_positive"][k] == pytest.approx(_mean([x[k] for x in positive]))


def _check_foreground(m: dict, data: dict, rows: dict) -> None:
    """foreground_dice_global / _mean / _mean_positive and foreground_hd95_mean."""
    t_all = np.concatenate([t.ravel() for t, _ in data.values()])
    p_all = np.concatenate([p.ravel() for _, p in data.values()])
    held = [c for c in range(1, C) if any(_held(t_all, p_all, c))]
    assert m["foreground_dice_global"] == pytest.approx(
        np.mean([ref_pixel_scores(p_all, t_all, c)["dice"] for c in held]) if held else 1.0)
    dice, hd95, positive = [], [], []
    for i, (t, p) in data.items():
        cs = [c for c in range(1, C) if any(_held(t, p, c))]
        dice.append(_mean([ref_pixel_scores(p, t, c)["dice"] for c in cs]) or float(not cs))
        hd = [float(rows[i, c]["hd95"]) for c in cs]
        hd95.append(_mean([np.hypot(*t.shape) if np.isinf(h) else h for h in hd]) or 0.0)
        if any(_held(t, p, c)[0] for c in range(1, C)):
            positive.append(dice[-1])
    assert m["foreground_dice_mean"] == pytest.approx(np.mean(dice))
    assert m["foreground_dice_mean_positive"] == pytest.approx(_mean(positive))
    assert m["foreground_hd95_mean"] == pytest.approx(np.mean(hd95))


def _volumes(data: dict) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each case's target and prediction stacked in numeric slice order."""
    cases: dict[str, list] = {}
    for i in data:
        cases.setdefault(re.match(r"^(c\d+)_\d+$", i).group(1), []).append(i)
    out = {}
    for case, ids in cases.items():
        ids.sort(key=lambda i: int(i.rsplit("_", 1)[1]))
        out[case] = (np.stack([data[i][0] for i in ids]), np.stack([data[i][1] for i in ids]))
    return out


def _check_cases(per_case: dict, data: dict, rows: dict) -> None:
    """Per-case Dice from the case's pooled pixels; its HD95 and boundary F1 over the stacked
    volume (ignored voxels outside the class in both masks), means with the diagonal penalty."""
    for name, classes in [*((str(c), [c]) for c in range(C)), ("fg", [1, 2])]:
        dice, hd, f1, positive = [], [], [], []
        for case, (t, p) in sorted(_volumes(data).items()):
            lab = t != IGN
            tc, pc = np.isin(t, classes), np.isin(p, classes) & lab
            dice.append(ref_pixel_scores(pc.astype(int), np.where(lab, tc, IGN), 1)["dice"])
            positive += dice[-1:] if tc.any() else []
            h, f = ref_volume(pc, tc, TOL)
            row = rows[case, name]
            assert float(row["dice"]) == pytest.approx(dice[-1], rel=1e-8, abs=1e-9)
            assert float(row["hd95"]) == pytest.approx(h, rel=1e-8, abs=1e-9)
            assert float(row["boundary_f1"]) == pytest.approx(f, rel=1e-8, abs=1e-9)
            hd.append(float(np.sqrt(sum(n * n for n in t.shape))) if np.isinf(h) else h)
            f1.append(f)
        part = "classes" if name.isdigit() else "regions"
        mean = per_case["methods"]["raw"][part][name]["mean"]
        got = per_case["methods"]["raw"][part][name]["mean_positive"]["dice"]
        assert got == pytest.approx(_mean(positive))
        assert mean == pytest.approx({"dice": np.mean(dice), "iou": mean["iou"],
                                      "hd95": np.mean(hd), "boundary_f1": np.mean(f1)})


@pytest.mark.parametrize("seed,ignore", [(0, False), (1, True), (2, True)])
def test_the_summary_agrees_with_plain_numpy(tmp_path, seed, ignore):
    data = _data(seed, ignore)
    summary = _evaluate(tmp_path, data, ignore)
    with open(tmp_path / "per_image.csv", newline="") as f:
        rows = {(r["id"], int(r["class"])): r for r in csv.DictReader(f)}
    for (i, c), r in rows.items():
        t, p = data[i]
        hd, f1 = ref_volume((p == c) & (t != IGN), t == c, TOL)
        if not ignore:  # without ignored pixels the 2-D boundary rule is the plain one
            assert float(r["hd95"]) == pytest.approx(hd, rel=1e-8, abs=1e-9)
            assert float(r["boundary_f1"]) == pytest.approx(f1, rel=1e-8, abs=1e-9)
    _check_classes(summary["methods"]["raw"], data, rows)
    _check_foreground(summary["methods"]["raw"], data, rows)
    with open(tmp_path / "per_case.csv", newline="") as f:
        cases = {(r["case"], r["class"]): r for r in csv.DictReader(f)}
    _check_cases(summary["per_case"], data, cases)
