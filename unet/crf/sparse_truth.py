"""Whether the validation ground truth is sparse (scribbles): then it cannot judge boundaries."""

from __future__ import annotations

# Under this share of the validation pixels labelled, the masks are taken for scribbles: they
# lie inside objects, far from the edges where a CRF or a cut changes anything, so the
# post-processing choice and the CRF tuning score what the network already gets right.
SPARSE_SHARE = 0.5


def labelled_share(meta: dict, split: str = "val") -> float | None:
    """The share of `split`'s cached mask pixels that a label can reach (inside their regions
    of interest, off their no-data fill: meta.json's outside_px) that hold a class, from
    meta.json's class counts and sizes (no mask is read); None where the masks cannot hold
    unlabelled pixels (no masks.ignore, no masks.unlisted: ignore), the split is empty, or an
    older meta.json lacks its counts."""
    if meta.get("ignore_value") is None and not meta.get("skip_unlisted"):
        return None
    entry = meta["splits"][split]
    if "class_counts" not in entry or not entry["ids"]:
        return None
    if meta.get("size"):  # one cached size (mode: resize)
        w, h = meta["size"]
        pixels = w * h * len(entry["ids"])
    else:  # native: each image its own (h, w)
        pixels = sum(h * w for h, w in entry.get("shapes", []))
    pixels -= entry.get("outside_px", 0)  # a DRIVE mask labelling its whole field: 100 %
    return sum(entry["class_counts"]) / pixels if pixels else None


def sparse_note(meta: dict, split: str = "val") -> str | None:
    """A sentence saying that `split`'s masks label too few pixels to judge boundaries, and
    the fix; None where they label SPARSE_SHARE of them or more."""
    share = labelled_share(meta, split)
    if share is None or share >= SPARSE_SHARE:
        return None
    return (
        f"the {split} masks label {share:.1%} of their pixels (under {SPARSE_SHARE:.0%}: "
        "sparse labels such as scribbles, which lie inside objects, far from their edges), so "
        "the choice of post-processing and the CRF tuning cannot see what happens at object "
        "boundaries, where a CRF helps or harms: label a few validation images fully and name "
        "them in split.val_ids, or choose by hand (postprocess.candidates, and the crf keys "
        "with crf.tune.enabled: false)"
    )
