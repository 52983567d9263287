"""Seeded train/val/test split of a manifest's ids, written to a split JSON.

With `folds` = k >= 2, the ids outside the test split are dealt into k folds for
cross-validation: fold i is the validation set of model i, trained on the other folds. The
split's `val` is then fold 0 and `train` the rest, so the cache and single-model steps read
it as an ordinary split, and `folds` lists every fold's ids.
"""

from __future__ import annotations

import fnmatch
import logging
import os
import re
from pathlib import Path
from unicodedata import normalize

from unet.common.fileio import read_json, write_json
from unet.dataset.split_checks import PARTS, empty_grouped, empty_ungrouped, named_empty
from unet.dataset.split_groups import group_hint, group_members
from unet.dataset.split_ids import ID_KEYS, SplitError, ids_of_file_names, read_id_list
from unet.dataset.split_order import dealt_by_size, dealt_in_blocks, ordered
from unet.dataset.split_strata import strata_counts, strata_of
from unet.dataset.split_stratified import (
    dealt_stratified,
    take_units,
    taken_stratified,
    unit_strata,
)

log = logging.getLogger(__name__)

SPLITS = PARTS  # ("train", "val", "test")


def groups_of(pairs: list[dict], group_by: str | None) -> dict[str, str] | None:
    """Each id's group (split.group_by): the folder its image lies in ('folder': one per
    patient under `recursive`), or what the regular expression matches at the start of the id
    (its first parenthesised group if it has one). None: every image is its own group."""
    if not group_by:
        return None
    if group_by == "folder":
        return {p["id"]: str(Path(p["image"]).parent) for p in pairs}
    try:
        pattern = re.compile(group_by)
    except re.error as err:
        msg = f"split.group_by {group_by!r} is not a regular expression: {err}"
        raise SplitError(msg) from None
    groups = {}
    for p in pairs:
        found = pattern.match(p["id"])
        key = found and found.group(1 if pattern.groups else 0)
        if not key:
            raise SplitError(
                f"split.group_by {group_by!r} does not match the id {p['id']!r}: every id must "
                "start with its group (e.g. ^TCGA_[A-Z]+_\\d+ for LGG's patients); fix the "
                "expression, or use folder"
            )
        groups[p["id"]] = key
    return groups


def _units(ids: list[str], groups: dict[str, str] | None) -> list[list[str]]:
    """The indivisible parts of `ids`, sorted: one per group, or one per id."""
    if groups is None:
        return [[i] for i in ids]
    members: dict[str, list[str]] = {}
    for i in ids:
        members.setdefault(groups[i], []).append(i)
    return [members[g] for g in sorted(members)]



def _taken(
    queue: list[list[str]], n: int, fixed: dict[str, list[str]], fractions: dict[str, float],
    folds: int, strata: dict[str, str] | None,
) -> tuple[dict[str, list[str]], list[list[str]], dict | None]:
    """The test and val parts (named outright, or their fractions of the `n` ids taken from the
    queue's units, stratum by stratum with `strata`), the units left, and each unit's stratum
    (None: unstratified). With folds, val stays empty: the folds deal it."""
    wanted = {p: fractions[p] for p in fixed if not fixed[p] and not (p == "val" and folds)}
    if strata is None:
        taken = {}
        for part, fraction in wanted.items():
            taken[part], queue = take_units(queue, int(round(fraction * n)))
        return {**fixed, **taken}, queue, None
    rest = [f"fold {k}" for k in range(folds)] if folds else ["train"]
    label = unit_strata(queue, strata, [*wanted, *rest])
    pool = sum(len(u) for u in queue)  # the fractions are of all n ids, some named outright
    taken, queue = taken_stratified(queue, label, wanted, n / max(pool, 1), len(rest))
    return {**fixed, **taken}, queue, label


def _check_groups(
    groups: dict[str, str], ids: list[str], chosen_ids: list[str], by: str, key: str
) -> None:
    names = {groups[i] for i in ids}
    if len(names) < 2:
        raise SplitError(
            f"split.group_by: {by} puts all {len(ids)} images in one group ({next(iter(names))}"
            "); with folder, each group is a subfolder of the images (dataset.local.recursive: "
            "true, one folder per patient)"
        )
    chosen, members = set(chosen_ids), {}
    for i in ids:  # each group's ids once: not a pass over every id per named group
        members.setdefault(groups[i], []).append(i)
    for g in sorted({groups[i] for i in chosen}):
        left = sorted(i for i in members[g] if i not in chosen)
        if left:
            raise SplitError(
                f"{key} holds only part of group {g} ({left[:3]} are not in it): "
                "name the whole group, or none of it, so that no group is trained and tested on"
            )


def _named_ids(ids: list[str], names: list[str | int], key: str = "split.test_ids",
               groups: dict[str, str] | None = None) -> list[str]:
    """The ids `key` (split.test_ids, val_ids, exclude_ids) names: each entry an id, a group's
    name under split.group_by (DAVIS's ImageSets list sequences: horsejump, not its frames'
    ids), or a pattern with * ? or [ ] (02_* for a sequence's frames under
    dataset.local.images: '{group}'); one that names none is refused. An entry equal to an id
    names that id alone, so that img[1] is the id img[1], not the pattern that matches img1."""
    named: dict[str, None] = {}  # in order, once each
    known = {normalize("NFC", i): i for i in ids}  # typed café names a decomposed (macOS) one
    members = group_members(ids, groups)
    for entry in names:
        name = normalize("NFC", str(entry))  # YAML reads unquoted stems as numbers: [24, 25]
        if name in known:
            found = [known[name]]
        elif name in members:
            found = members[name]
        else:
            wild = any(c in name for c in "*?[")
            found = [known[i] for i in fnmatch.filter(known, name)] if wild else []
        if not found:
            hint = group_hint(ids, name, groups is not None, key)
            raise SplitError(f"{key} entry {_shown(entry)} names no id in the data set (ids "
                             f"look like {ids[:3]}){hint}")
        named.update(dict.fromkeys(found))
    return list(named)


def _shown(entry: str | int | float) -> str:
    """An ids entry as an error shows it; a number with a word on what YAML did to it."""
    if isinstance(entry, str | bool):
        return repr(entry)
    return (f"{entry} (YAML read it as a number: an unquoted 1_1 reads 11, 0203 reads 131 "
            "and 02_013 reads 1035; quote the ids, e.g. test_ids: ['1_1', '0203'])")


def make_split(
    ids: list[str], seed: int, val_fraction: float, test_fraction: float,
    test_ids: list[str | int] | None = None,
    folds: int = 0,
    groups: dict[str, str] | None = None,
    group_by: str = "folder",
    val_ids: list[str | int] | None = None,
    exclude_ids: list[str | int] | None = None,
    order: str = "shuffle",
    strata: dict[str, str] | None = None,
) -> dict[str, list]:
    """Split `ids` reproducibly: same ids, seed, fractions and folds give the same split.
    `groups` (id -> group, groups_of): a group's ids always land in one part (and one fold);
    `group_by` names the setting in errors. `test_ids` and `val_ids` fix those parts (a data
    set's own), `exclude_ids` leaves ids out of every part. `order` (split_order.ordered):
    hash keeps each id's part when others are added or removed, shuffle does not. `strata`
    (id -> stratum, split_strata.strata_of): each stratum split by the fractions on its own."""
    if folds == 1 or folds < 0:
        raise SplitError(f"split.folds={folds}: use 0 for one train/val split, or k >= 2 folds")
    ids = _kept(sorted(ids), exclude_ids, groups)  # sorted: order of discovery must not matter
    fixed_test = _named_ids(ids, test_ids or [], groups=groups)
    fixed_val = _fixed_val(ids, val_ids, fixed_test, folds, groups)
    if groups is not None:
        _check_groups(groups, ids, fixed_test, group_by, "split.test_ids")
        _check_groups(groups, ids, fixed_val, group_by, "split.val_ids")
    fixed = {*fixed_test, *fixed_val}  # once: built in the comprehension, it was once per id
    units = _units([i for i in ids if i not in fixed], groups)
    queue = ordered(units, seed, order, groups)
    named = {"test": len(fixed_test), "val": len(fixed_val)}  # for why a part is empty
    taken, queue, label = _taken(queue, len(ids), {"test": fixed_test, "val": fixed_val},
                                 {"test": test_fraction, "val": val_fraction}, folds, strata)
    test = taken["test"]
    if folds:
        pool = [i for unit in queue for i in unit]
        if len(pool) < 2 * folds or len(queue) < folds:
            grouped = f" in {folds} groups" if groups is not None else ""
            found = f" in {len(queue)} groups" if groups is not None else ""
            raise SplitError(
                f"split.folds={folds} needs at least {2 * folds} images outside the test split "
                f"(two per fold){grouped}; there are {len(pool)}{found}: lower split.folds or "
                "add images"
            )
        parts = ((label and dealt_stratified(queue, label, folds))
                 or (order == "hash" and dealt_in_blocks(queue, folds))
                 or dealt_by_size(queue, folds))
        train = [i for part in parts[1:] for i in part]
        split = {"train": sorted(train), "val": parts[0], "test": sorted(test), "folds": parts}
        return _checked(split, val_fraction, test_fraction, groups, group_by, named)
    train = [i for unit in queue for i in unit]
    split = {"train": sorted(train), "val": sorted(taken["val"]), "test": sorted(test)}
    return _checked(split, val_fraction, test_fraction, groups, group_by, named)


def _kept(ids: list[str], exclude_ids: list[str | int] | None,
          groups: dict[str, str] | None = None) -> list[str]:
    """`ids` without those split.exclude_ids names."""
    gone = set(_named_ids(ids, exclude_ids or [], "split.exclude_ids", groups))
    kept = [i for i in ids if i not in gone]
    if not kept:
        raise SplitError(f"split.exclude_ids leaves no image of the {len(ids)}; name fewer")
    return kept


def _fixed_val(
    ids: list[str], val_ids: list[str | int] | None, fixed_test: list[str], folds: int,
    groups: dict[str, str] | None = None,
) -> list[str]:
    """The ids split.val_ids names, refused with folds (which deal the validation sets) or
    where split.test_ids names them too."""
    fixed = _named_ids(ids, val_ids or [], "split.val_ids", groups)
    if fixed and folds:
        raise SplitError(
            f"split.val_ids fixes one validation set, and split.folds={folds} deals {folds} of "
            "them from the images outside the test split: use one of the two"
        )
    both = sorted(set(fixed) & set(fixed_test))
    if both:
        raise SplitError(
            f"{both[0]} is named by both split.test_ids and split.val_ids ({len(both)} ids in "
            "all); an image is validated on or tested on, not both"
        )
    return fixed


def split_dataset(
    manifest_path: str | os.PathLike, out_path: str | os.PathLike, settings: dict,
    metadata: str | os.PathLike | None = None,
) -> dict:
    """Split the manifest's ids with the config's `split` section; write and return the split
    (its seed recorded beside the ids). `metadata`: split.metadata's CSV, resolved."""
    manifest = read_json(manifest_path)
    group_by, order = settings.get("group_by"), settings.get("order", "shuffle")
    groups = groups_of(manifest["pairs"], group_by)
    if order == "hash" and group_by == "folder":  # hashed by name: a moved folder keeps it
        groups = {i: os.path.relpath(g, manifest["root"]) for i, g in groups.items()}
    ids = [pair["id"] for pair in manifest["pairs"]]
    lists = {k: read_id_list(settings.get(k), f"split.{k}") for k in ID_KEYS}
    lists = ids_of_file_names(lists, manifest["pairs"])  # a list of file names, as given
    # strata of the ids kept: an excluded image needs no row in the metadata table
    kept = _kept(sorted(ids), lists["exclude_ids"], groups) if settings.get("stratify_by") else []
    strata = strata_of(kept, settings.get("stratify_by"), settings.get("metadata"), metadata)
    split = make_split(
        ids,
        seed=settings["seed"],
        order=order,
        # absent where the part is named outright (or dealt by folds): unused there
        val_fraction=settings.get("val_fraction", 0.0),
        test_fraction=settings.get("test_fraction", 0.0),
        folds=settings["folds"],
        groups=groups,
        group_by=group_by or "",
        strata=strata,
        **lists,
    )
    record = {"seed": settings["seed"], **split}
    if strata is not None:  # each stratum's images per part
        record["strata"] = strata_counts(split, strata)
        log.info("strata (%s) per part: %s", settings["stratify_by"], record["strata"])
    if groups is not None:  # how many whole groups each part holds
        record["groups"] = {k: len({groups[i] for i in split[k]}) for k in SPLITS}
        log.info("groups (%s) per part: %s", group_by, record["groups"])
    write_json(out_path, record)
    log.info("split %s", {k: len(v) for k, v in split.items()})
    return split


def _checked(split: dict, val: float, test: float, groups: dict | None, by: str,
             named: dict[str, int]) -> dict:
    fractions = {"val": val, "test": test}
    fixed = {i for part in named if named[part] for i in split[part]}
    left = [i for part in PARTS for i in split[part] if i not in fixed]
    units = len(left) if groups is None else len({groups[i] for i in left})
    for name in SPLITS:
        if split[name]:
            continue
        if why := named_empty(split, name, named, units):  # the named ids, not the fractions
            raise SplitError(why)
        if groups is not None:
            raise SplitError(empty_grouped(split, name, groups, by, fractions))
        raise SplitError(empty_ungrouped(split, name, fractions))
    return split
