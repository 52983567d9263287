"""Pixel-count metrics: confusion matrices and the scores they give, with empty masks defined."""

from __future__ import annotations

import numpy as np

# Copied verbatim into the summary JSON, so a reader knows what a 1.0 on an empty class means.
EMPTY_MASK_CONVENTION: str = (
    "A ratio whose denominator is zero counts as 1.0 (nothing there to get wrong): a class absent "
    "from both target and prediction scores dice = iou = precision = recall = 1; predicted but "
    "absent from the target, dice = iou = precision = 0 and recall = 1; present in the target but "
    "not predicted, dice = iou = recall = 0 and precision = 1. HD95 is 0 when both masks are empty "
    "and inf when exactly one is (kept as inf in per_image.csv); means over images count such an "
    "inf as the image diagonal sqrt(H^2 + W^2) px, the largest distance the image holds (see "
    "hd95_penalty and the hd95_penalised counts). Boundary F1 is 1 and 0 in those cases. The "
    "means over classes from summed counts (foreground_dice_global, training's val_dice, CRF "
    "tuning, the final-mask choice) leave out a class that neither target nor prediction holds "
    "anywhere in the set, as mIoU does."
)


def mean_or_none(values: np.ndarray) -> float | None:
    """Mean over images or cases (None without any). Every value counts: HD95's infs are
    replaced by the penalty before this, as dropping them would reward missing an object."""
    return float(values.mean()) if len(values) else None


def _check_labels(name: str, labels: np.ndarray, num_classes: int) -> None:
    """Raise if `labels` holds a value outside 0..num_classes-1 (bincount would miscount it)."""
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(
            f"{name} holds values {int(labels.min())}..{int(labels.max())}, outside "
            f"0..{num_classes - 1}: map mask values to class indices first"
        )


CHUNK = 1 << 18  # pixels a confusion matrix counts at a time (int64 temporaries: 6 MB)


def confusion_matrix(
    pred: np.ndarray, target: np.ndarray, num_classes: int, ignore_index: int | None = None
) -> np.ndarray:
    """(C, C) int64 pixel counts, rows = target class, cols = predicted class."""
    pred = np.asarray(pred)
    target = np.asarray(target)
    if pred.shape != target.shape:
        raise ValueError(f"pred shape {pred.shape} differs from target shape {target.shape}")
    if num_classes < 1:
        raise ValueError(f"num_classes must be >= 1, got {num_classes}")
    pred, target = pred.ravel(), target.ravel()
    counts = np.zeros(num_classes * num_classes, np.int64)
    # A bincount over the flat pair index target*C + pred, a chunk of pixels at a time: its
    # int64 temporaries stay 6 MB whatever the image (they were 24 bytes a pixel).
    for start in range(0, pred.size, CHUNK):
        p = pred[start : start + CHUNK].astype(np.int64)
        t = target[start : start + CHUNK].astype(np.int64)
        if ignore_index is not None:
            keep = t != ignore_index
            p, t = p[keep], t[keep]
        _check_labels("target", t, num_classes)
        _check_labels("pred", p, num_classes)
        counts += np.bincount(t * num_classes + p, minlength=num_classes * num_classes)
    return counts.reshape(num_classes, num_classes)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den as float64, with 0/0 = 1.0 as EMPTY_MASK_CONVENTION says."""
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    out = np.ones(np.broadcast(num, den).shape, dtype=np.float64)
    np.divide(num, den, out=out, where=den > 0)
    return out


def foreground_dice(cm: np.ndarray, first: int = 1) -> float:
    """Mean Dice of classes `first` and up from a (C, C) confusion matrix: the foreground
    classes (first 1), or every class (first 0) when class 0 is no background. A class that
    neither the target nor the prediction holds (0/0) is left out, as mIoU leaves it out: its
    1.0 would reward a model for never predicting the classes a small split lacks. 1.0 when
    no such class is held anywhere (nothing there to get wrong)."""
    return _held_mean(cm, first, "dice")


def foreground_iou(cm: np.ndarray, first: int = 1) -> float:
    """Mean IoU of classes `first` and up, left out and defaulted as foreground_dice: the mIoU
    that Cityscapes, ADE20K and VOC report (with classes 0 and up, masks.background: false)."""
    return _held_mean(cm, first, "iou")


def class_dice(cm: np.ndarray) -> list[float]:
    """Each class's Dice from a (C, C) confusion matrix, NaN for a class that neither the
    target nor the prediction holds: training's per-class validation Dice (history.csv), where
    the convention's 1.0 would read as a perfect score and lift means over folds."""
    cm = np.asarray(cm, dtype=np.int64)
    held = (cm.sum(axis=0) + cm.sum(axis=1)) > 0
    dice = scores_from_confusion(cm)["dice"]
    return [float(d) if h else float("nan") for d, h in zip(dice, held, strict=True)]


def _held_mean(cm: np.ndarray, first: int, key: str) -> float:
    """Mean of a per-class score over classes `first` and up that the target or prediction
    holds; 1.0 when none is held."""
    cm = np.asarray(cm, dtype=np.int64)
    held = (cm.sum(axis=0) + cm.sum(axis=1))[first:] > 0
    score = scores_from_confusion(cm)[key][first:]
    return float(score[held].mean()) if held.any() else 1.0


def scores_from_confusion(cm: np.ndarray) -> dict[str, np.ndarray]:
    """Per-class dice, iou, precision, recall (C,) and scalar pixel accuracy from a (C, C) matrix.

    Confusion matrices add, so the sum of per-image matrices gives scores over a whole set.
    """
    cm = np.asarray(cm, dtype=np.int64)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"confusion matrix must be square (C, C), got shape {cm.shape}")
    tp = np.diag(cm)
    fp = cm.sum(axis=0) - tp  # predicted c, target another class
    fn = cm.sum(axis=1) - tp  # target c, predicted another class
    return {
        "dice": _ratio(2 * tp, 2 * tp + fp + fn),
        "iou": _ratio(tp, tp + fp + fn),
        "precision": _ratio(tp, tp + fp),
        "recall": _ratio(tp, tp + fn),
        "accuracy": _ratio(tp.sum(), cm.sum()),  # 0-d array
    }
