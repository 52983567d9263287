"""Which validation images CRF tuning and the final-mask choice score (crf.tune.max_images):
the split lists its ids in name order, so the first few are one subject's (one car's views,
one patient's slices) wherever names start with the subject, as a split.group_by split keeps
them; the sample must reach across the split."""

from __future__ import annotations

import numpy as np
from PIL import Image

from unet.common.fileio import read_json, write_json
from unet.common.labels import MaskMapping
from unet.crf.dense import CRFParams
from unet.crf.tune import tune_crf

H = W = 24
MAPPING = MaskMapping((0, 255))


def _grouped_val(root) -> list[str]:
    """Four patients of four slices each; patient p0's slices hold no object, the others do."""
    rng = np.random.default_rng(0)
    ids, pairs = [f"p{p}_s{s}" for p in range(4) for s in range(4)], []
    (root / "val/probs").mkdir(parents=True)
    for i in ids:
        truth = np.zeros((H, W), np.uint8)
        if not i.startswith("p0"):
            truth[6:18, 6:18] = 1
        Image.fromarray(rng.integers(90, 110, (H, W, 3), np.uint8)).save(root / f"{i}.png")
        MAPPING.write(root / f"{i}_gt.png", truth)
        fg = np.where(truth > 0, 0.8, 0.1).astype(np.float32)
        np.save(root / "val/probs" / f"{i}.npy", np.stack([1 - fg, fg]).astype(np.float16))
        pairs.append({"id": i, "image": str(root / f"{i}.png"), "mask": str(root / f"{i}_gt.png"),
                      "size": [W, H]})
    write_json(root / "manifest.json", {"pairs": pairs})
    write_json(root / "meta.json", {"class_values": [0, 255], "num_classes": 2,
                                    "splits": {"val": {"ids": ids}, "test": {"ids": []}}})
    return ids


def test_the_sample_spreads_over_the_sorted_ids():
    from unet.crf.tune import scored_ids

    ids = [f"{k:03d}" for k in range(100)]
    assert scored_ids(ids, 200) == ids
    assert scored_ids(ids, 4) == ["000", "025", "050", "075"]
    assert len(set(scored_ids(ids, 99))) == 99


def test_tuning_scores_every_patient_not_the_first_ones_slices(tmp_path):
    _grouped_val(tmp_path)
    tuning = tune_crf(tmp_path / "manifest.json", tmp_path / "meta.json", tmp_path / "val",
                      tmp_path / "t.json", CRFParams(iterations=1), {"gaussian_compat": [3.0]}, 4)
    # the first four sorted ids are p0's empty slices: tuning could not judge at all
    assert tuning["val_foreground_pixels"] == 3 * 12 * 12
    assert {i[:2] for i in read_json(tmp_path / "t.json")["ids"]} == {"p0", "p1", "p2", "p3"}


def test_the_final_choice_scores_the_images_tuning_scored(tmp_path):
    from unet.postprocess.finalize import score_candidates

    _grouped_val(tmp_path)
    manifest, meta = read_json(tmp_path / "manifest.json"), read_json(tmp_path / "meta.json")
    _, _, foreground, _ = score_candidates(manifest, meta, tmp_path / "val", None,
                                        CRFParams(iterations=1), 4, ("crf",))
    assert foreground == 3 * 12 * 12


def test_the_sample_holds_foreground_when_defect_free_images_fill_the_front():
    from unet.crf.tune import scored_ids

    # MVTec AD style: eight good_* images sort before the two defects
    ids = [f"good_{k:03d}" for k in range(8)] + ["hole_000", "hole_001"]
    empty = ids[:8]
    assert not set(scored_ids(ids, 2)) - set(empty)  # without the list: both defect-free
    picked = scored_ids(ids, 2, empty)
    assert picked == ["good_000", "hole_000"]
    assert len(scored_ids(ids, 5, empty)) == 5 and "hole_001" not in scored_ids(ids, 5, empty)
    assert set(scored_ids(ids, 9, empty)) >= {"hole_000", "hole_001"}


def test_preprocess_records_each_splits_background_only_ids():
    from unet.cache.background_only import record_background_only

    counts = {"a": np.bincount([0, 0, 1], minlength=256), "b": np.bincount([0, 0], minlength=256),
              "c": np.bincount([0, 255], minlength=256)}  # 255: IGNORE_INDEX, not a class
    meta = {"splits": {"val": {"ids": ["a", "b", "c"]}}}
    record_background_only(meta, {i: ("", c) for i, c in counts.items()}, MAPPING)
    assert meta["splits"]["val"]["background_only"] == ["b", "c"]


def test_tuning_and_choice_score_a_defect_when_good_images_sort_first(tmp_path):
    from unet.postprocess.finalize import score_candidates

    ids = _grouped_val(tmp_path)  # p0's four slices are empty, then 12 that hold the object
    meta = read_json(tmp_path / "meta.json")
    meta["splits"]["val"] = {"ids": ids[:5], "background_only": ids[:4]}  # one defect in five
    write_json(tmp_path / "meta.json", meta)
    tuning = tune_crf(tmp_path / "manifest.json", tmp_path / "meta.json", tmp_path / "val",
                      tmp_path / "t.json", CRFParams(iterations=1), {"gaussian_compat": [3.0]}, 2)
    assert tuning["val_foreground_pixels"] == 12 * 12 and ids[4] in tuning["ids"]
    _, _, foreground, _ = score_candidates(read_json(tmp_path / "manifest.json"), meta,
                                        tmp_path / "val", None, CRFParams(iterations=1), 2,
                                        ("crf",))
    assert foreground == 12 * 12
