"""Stratified parts (split.stratify_by): each stratum (organ, scanner, class) split by the
fractions on its own, so that a rare one lands in every part, as scikit-learn's stratified
splits do. Units are whole groups under split.group_by (StratifiedGroupKFold's rule: a group
never splits; a group takes its most common stratum), so strata balance as far as groups allow.
A stratum with fewer units than the parts it would fill is split with the other small ones,
as one stratum, and named in a warning."""

from __future__ import annotations

import logging
import math
from collections import Counter

log = logging.getLogger(__name__)

POOL = "\0small strata"  # the small strata, split as one; no id's stratum can spell it


def unit_strata(units: list[list[str]], strata: dict[str, str], parts: list[str]) -> dict:
    """Each unit's stratum (keyed by its first id): its ids' most common one (the first name of
    equals), or POOL for a stratum with fewer units than `parts` (warned, naming it)."""
    label = {}
    mixed = 0
    for unit in units:
        count = Counter(strata[i] for i in unit)
        top = max(count.values())
        label[unit[0]] = min(s for s, n in count.items() if n == top)
        mixed += len(count) > 1
    if mixed:
        log.info("split.stratify_by: %d groups hold several strata; each counts as its most "
                 "common", mixed)
    sizes = Counter(label.values())
    small = sorted(s for s, n in sizes.items() if n < len(parts))
    if small:
        shown = ", ".join(f"{s!r} ({sizes[s]})" for s in small[:10])
        more = f" and {len(small) - 10} more" if len(small) > 10 else ""
        log.warning("split.stratify_by: %d strata have fewer %s than the %d parts (%s) need, "
                    "one each: %s%s; they are split together as one stratum, so each may miss "
                    "a part: add images of them, or stratify more coarsely", len(small),
                    "groups" if any(len(u) > 1 for u in units) else "images", len(parts),
                    ", ".join(parts), shown, more)
    return {k: POOL if s in small else s for k, s in label.items()}


def by_stratum(units: list[list[str]], label: dict) -> dict[str, list[list[str]]]:
    """`units` per stratum, each in the given (seeded) order; strata by name."""
    out: dict[str, list[list[str]]] = {}
    for unit in units:
        out.setdefault(label[unit[0]], []).append(unit)
    return {s: out[s] for s in sorted(out)}


def take_units(units: list[list[str]], target: int) -> tuple[list[str], list[list[str]]]:
    """Whole units, in order, while each brings the count nearer `target`; the rest."""
    taken, rest = [], []
    for unit in units:
        if abs(len(taken) + len(unit) - target) < abs(len(taken) - target):
            taken += unit
        else:
            rest.append(unit)
    return taken, rest


def taken_stratified(units: list[list[str]], label: dict, fractions: dict[str, float],
                     scale: float, after: int) -> tuple[dict[str, list[str]], list[list[str]]]:
    """Parts named in `fractions` (test, then val), each taking its fraction of every stratum
    (of the stratum's images times `scale`: the fractions are of every id, some named
    outright); then one unit of each stratum still without one that has a unit for this part,
    the parts after it and the `after` parts the rest fills (train, or the folds), largest
    share first, while the part is below its fraction of all ids; the units left."""
    strata = by_stratum(units, label)
    share = {s: sum(len(u) for u in members) * scale for s, members in strata.items()}
    parts: dict[str, list[str]] = {p: [] for p in fractions}
    given = dict.fromkeys(strata, 0)  # each stratum's images in the parts taken so far
    for k, (part, fraction) in enumerate(fractions.items()):
        need = len(fractions) - k + after  # this part, those after it, and the rest
        short = []  # strata with a unit for every part left, none taken by the fraction
        quota = _apportioned({s: fraction * share[s] for s in strata}, given)
        for s, members in strata.items():
            taken, strata[s] = take_units(members, quota[s])
            parts[part] += taken
            given[s] += len(taken)
            if not taken and len(members) >= need:
                short.append(s)
        # one unit each only up to the part's size: 30 strata of 4 at 0.1 took 30 images each
        # for val and test, not the 12 asked
        target = round(fraction * sum(share.values()))
        missed = []
        short.sort(key=lambda s: -share[s])  # stable: equal shares by name
        for s in short:
            if len(parts[part]) < target:
                parts[part] += strata[s][0]
                given[s] += len(strata[s][0])
                strata[s] = strata[s][1:]
            else:
                missed.append(s)
        _warn_missed(missed, part)
    return parts, [u for members in strata.values() for u in members]


def _apportioned(exact: dict[str, float], given: dict[str, int]) -> dict[str, int]:
    """Whole counts for the strata's exact shares of a part that add up to the part's rounded
    total: first to strata that would have none (the small ones pooled aside), then by
    largest remainder, of equal ones to those `given` fewest images by the parts before, then
    by name (each rounded on its own, 30 strata of 4 images at 0.2 took 1 each, 30 images, not
    the 24 asked; equal ones by name alone left the same 6 out of val and test)."""
    counts = {s: math.floor(q) for s, q in exact.items()}
    extra = round(sum(exact.values())) - sum(counts.values())
    order = sorted(exact, key=lambda s: (counts[s] > 0 or not exact[s] or s == POOL,
                                         counts[s] - exact[s], given[s]))
    for s in order[:max(extra, 0)]:
        counts[s] += 1
    return counts


def _warn_missed(missed: list[str], part: str) -> None:
    """Name the strata left out of `part` because its fraction had no room for them."""
    if missed:
        shown = ", ".join("the small ones" if s == POOL else repr(s) for s in missed[:10])
        shown += " ..." if len(missed) > 10 else ""
        log.warning("split.stratify_by: %d strata have no image in %s, whose fraction is too "
                    "small for one of each: %s; raise split.%s_fraction, or stratify more "
                    "coarsely", len(missed), part, shown, part)


def dealt_stratified(units: list[list[str]], label: dict, folds: int) -> list[list[str]]:
    """Units into `folds` folds, stratum by stratum: the largest unit first, each into the fold
    with the fewest images of its stratum (then the fewest images, then the first)."""
    parts: list[list[str]] = [[] for _ in range(folds)]
    for members in by_stratum(units, label).values():
        here = [0] * folds
        for unit in sorted(members, key=len, reverse=True):  # stable: ties keep seeded order
            k = min(range(folds), key=lambda f: (here[f], len(parts[f]), f))
            parts[k] += unit
            here[k] += len(unit)
    return [sorted(p) for p in parts]
