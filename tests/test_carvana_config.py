"""config/carvana.yaml as a user runs it: Carvana's 16 views of a car stay in one part."""

from __future__ import annotations

import yaml

from tests.conftest import REPO
from unet.dataset.split import groups_of, make_split


def test_carvana_s_views_of_one_car_never_straddle_parts():
    # The ready config split by image: views of one car landed in train and test, so the test
    # Dice scored cars the model had trained on (4 of 6 cars of a 24-image replica straddled)
    split = yaml.safe_load((REPO / "config/carvana.yaml").read_text())["split"]
    cars = [f"{k * 7919:012x}" for k in range(1, 41)]  # Carvana's ids: <car>_<view 01-16>
    pairs = [{"id": f"{car}_{view:02d}", "image": f"train/{car}_{view:02d}.jpg"}
             for car in cars for view in range(1, 17)]
    groups = groups_of(pairs, split.get("group_by"))
    parts = make_split([p["id"] for p in pairs], split["seed"], split["val_fraction"],
                       split["test_fraction"], groups=groups, group_by=split.get("group_by"))
    where = {}
    for part in ("train", "val", "test"):
        for i in parts[part]:
            where.setdefault(i.rsplit("_", 1)[0], set()).add(part)
    assert len(where) == len(cars) and len(parts["test"]) > 0
    straddling = sorted(car for car, found in where.items() if len(found) > 1)
    assert not straddling, f"cars in more than one part: {straddling}"
