"""Whether a data set's or model's input channels are bands of their own (an ImageJ/OME
hyperstack's DAPI, GFP and mCherry; band_files' SAR VV, VH and ratio) or grey or red, green
and blue: three channels alone do not tell, so meta.json and model.pt record it."""

from __future__ import annotations


def channels_are_bands(record: dict) -> bool:
    """True for a cache's meta.json or a model file whose channels are bands: 2 or more than 3
    always; 3 where `bands` is recorded (older files, and colour ones, lack it: colour)."""
    return record["in_channels"] not in (1, 3) or bool(record.get("bands"))
