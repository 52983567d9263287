"""Figures for the report: best/worst overlays (training curves and per-class scores: charts)."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on cluster nodes or CI
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import ListedColormap, to_rgb  # noqa: E402
from PIL import Image  # noqa: E402

from unet.common.fileio import atomic_path  # noqa: E402
from unet.common.labels import IGNORE_INDEX, MaskMapping, colour_of, own_name  # noqa: E402
from unet.common.roi import within_roi  # noqa: E402
from unet.evaluate.void import without_nodata  # noqa: E402
from unet.report.band_names import shown_image  # noqa: E402
from unet.report.best_worst import best_and_worst  # noqa: E402
from unet.report.ignored import IGNORED_ALPHA, IGNORED_COLOUR, OVERLAY_ALPHA, ignored_colour, swatch  # noqa: E402

# Class 1 red, then the other tab10 colours; class 0 (background) and ignored pixels unpainted.
# No greys: ignored pixels are drawn light grey, and a grey class read as void beside them.
CLASS_COLOURS = ListedColormap(["#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd",
                                "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#393b79"])
# tab20 with its two greys (#7f7f7f, #c7c7c7) swapped for tab20b's indigo and gold
TWENTY_COLOURS = [c for i, c in enumerate(matplotlib.colormaps["tab20"].colors)
                  if i not in (14, 15)]
TWENTY_COLOURS[14:14] = [to_rgb("#393b79"), to_rgb("#e7ba52")]
UNPAINTED_LINE = (0.3, 0.3, 0.3)  # a curve of a class overlays leave unpainted (background)


SAVE_DPI = 110  # the PNGs' resolution: a 3.6 in panel is about 396 px wide


def save_figure(fig: plt.Figure, path: str | os.PathLike) -> None:
    """Write a figure as PNG atomically and free it."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=SAVE_DPI, bbox_inches="tight", format="png")
    plt.close(fig)


def class_colours(mapping: MaskMapping) -> np.ndarray:
    """(classes, 3) RGB in [0, 1] that overlays paint each class in (class 0's is unused): the
    data's own colours where its masks are colour-coded (colour masks, or a palette that is not
    all grey), else tab10's, tab20's beyond 10 classes, and spaced turbo colours beyond 20."""
    own = _own_colours(mapping)
    if own is not None:
        return own
    first = mapping.scored_from  # class 0 is painted only when it is no background
    k = mapping.num_classes - first
    if k <= CLASS_COLOURS.N:
        picked = [to_rgb(c) for c in CLASS_COLOURS.colors[:k]]
    elif k <= 20:
        picked = TWENTY_COLOURS[:k]
    else:
        picked = matplotlib.colormaps["turbo"](np.linspace(0.05, 0.95, k))[:, :3]
    return np.vstack([np.zeros((first, 3)), np.asarray(picked, np.float64)])


def curve_colours(mapping: MaskMapping) -> list[tuple]:
    """A line colour per class for the training curves: the overlays' (one colour per class
    across the report), dark grey for an unpainted background class or a near-white colour."""
    colours = class_colours(mapping)
    return [UNPAINTED_LINE if c < mapping.scored_from or min(rgb) > 0.9 else tuple(rgb)
            for c, rgb in enumerate(colours)]


def _own_colours(mapping: MaskMapping) -> np.ndarray | None:
    """Each class's colour in the masks themselves, when they are distinct and not all grey."""
    if mapping.rgb:
        rgb = [colour_of(v) for v in mapping.values]
    elif mapping.palette and max(mapping.values) < len(mapping.palette) // 3:
        rgb = [mapping.palette[3 * v : 3 * v + 3] for v in mapping.values]
    else:
        return None
    colours = np.asarray(rgb, np.float64) / 255
    fore = colours[mapping.scored_from :]
    grey = np.ptp(fore, axis=1).max() == 0
    return None if grey or len(np.unique(fore, axis=0)) < len(fore) else colours


def _painted(layer: np.ma.MaskedArray, colours: np.ndarray,
             ignored: tuple = IGNORED_COLOUR) -> np.ndarray:
    """(H, W, 4) RGBA: each class's colour at OVERLAY_ALPHA, ignored pixels (masks.ignore,
    masks.unlisted) in `ignored` (ignored_colour), the rest clear."""
    rgba = np.zeros((*layer.shape, 4), np.float32)
    rgba[..., :3] = colours[layer.filled(0)]
    rgba[..., 3] = np.where(np.ma.getmaskarray(layer), 0, OVERLAY_ALPHA)
    rgba[np.asarray(layer.data) == IGNORE_INDEX] = (*ignored, IGNORED_ALPHA)
    return rgba


# Classes a legend names whether the panels show them or not; beyond, it names those shown
# (ADE20K's 150 filled 26 rows under three images holding a dozen).
LEGEND_ALL = 20


def class_label(c: int, name: str | None, value: str | None = None) -> str:
    """'class 2 cat (8)': a class, its name and its mask value (as the config writes it), as
    every legend of the report names it; the name left out where none or only a number."""
    shown = f" ({value})" if value is not None else ""
    name = own_name(name, c, *(() if value is None else (value,)))
    return f"class {c} {name}{shown}" if name else f"class {c}{shown}"


def _legend(
    fig: plt.Figure, mapping: MaskMapping, colours: np.ndarray, names: list | None,
    ignored: tuple, roi: bool = False, shown: set[int] | None = None,
) -> None:
    """Each painted class (with more than LEGEND_ALL, each in `shown`, the class indices the
    panels hold), its name and value as the config writes it, below the panels; the ignored
    pixels' colour (`ignored`: the panels' ignored_colour) where any (`roi`: regions of
    interest or to ignore)."""
    names = names or [None] * mapping.num_classes
    few = mapping.num_classes - mapping.scored_from <= LEGEND_ALL or shown is None
    handles = [
        swatch(colours[c], OVERLAY_ALPHA + 0.2, class_label(c, names[c], label))
        for c, label in enumerate(mapping.labels())
        if c >= mapping.scored_from and (few or c in shown)
    ]
    if mapping.ignore is not None or mapping.skip_unlisted or roi:
        handles.append(swatch(ignored, IGNORED_ALPHA, "ignored (not scored)"))
    if not handles:  # beyond LEGEND_ALL, panels all background: nothing to name (0 columns failed)
        return
    # Under the last row: placed below the figure's own bottom margin (a share of its height),
    # it sat a row's height under four rows of images.
    fig.legend(handles=handles, loc="outside lower center", ncol=min(len(handles), 6),
               fontsize="small")


def class_layer(mask_path: str | os.PathLike, mapping: MaskMapping,
                roi: str | os.PathLike | None = None,
                scene: str | os.PathLike | None = None,
                regions: str | os.PathLike | None = None) -> np.ma.MaskedArray:
    """A mask file as class indices (H, W), background (class 0, unless masks.background is
    false) and ignored pixels masked out: what an overlay paints, whatever values (grey,
    colour, thresholded) the file holds; ignored outside `roi`, inside the region to ignore
    `regions` (ignore_regions) and on `scene`'s no-data."""
    index = within_roi(mapping.read_index(mask_path), roi, mask_path, regions)
    index = without_nodata(index, scene, mapping.ignore)  # as evaluation scores it
    return np.ma.masked_where((index < mapping.scored_from) | (index >= mapping.num_classes), index)


# A panel is drawn about 400 px wide: larger images and masks are shrunk to this side first
# (matplotlib copies what it draws into float RGBA: 4 rows at 4096x4096 took 4.3 GB and 61 s).
DISPLAY_SIDE = 1024


def _step(shape: tuple[int, ...]) -> int:
    """The integer factor that brings the longer side to DISPLAY_SIDE or below."""
    return max(1, -(-max(shape[:2]) // DISPLAY_SIDE))


def _block(ax: plt.Axes, shape: tuple[int, ...]) -> int:
    """The side of the mask's blocks that one pixel of the saved panel shows: as many blocks
    as the panel has pixels or fewer, since matplotlib's nearest resampling to fewer pixels
    drops rows a thin crack lay on. The panel as laid out (titles and pads take a 3.6 in
    panel's 396 px to 387), less 2 px for the legend's room added later."""
    ax.apply_aspect()  # the image's box inside the axes, (w, h) in pixels as saved
    box = ax.get_window_extent()
    w, h = (max(1, int(v * SAVE_DPI / ax.figure.dpi) - 2) for v in (box.width, box.height))
    return max(1, -(-shape[0] // h), -(-shape[1] // w))


def _shrunk(layer: np.ma.MaskedArray, step: int) -> np.ma.MaskedArray:
    """`layer` reduced `step` times a side: a block holding a class shows it (the highest
    index where several meet), so a defect of one pixel stays in view; else the block's first
    pixel, as before (ignored, or clear)."""
    if step == 1:
        return layer
    # uint8 codes, 0 = no class, c + 1 = class c (classes < IGNORE_INDEX), maximised over whole
    # blocks by reshaping and over the ragged last ones alone: int16 with a padded copy took
    # 0.14 s and 288 MB at their peak for an 8000x6000 mask, this 0.04 s and 53 MB
    code = layer.data.astype(np.uint8) + np.uint8(1)
    np.putmask(code, np.ma.getmaskarray(layer), 0)
    (h, w), (fh, fw) = code.shape, (code.shape[0] // step, code.shape[1] // step)
    rows = np.empty((-(-h // step), w), np.uint8)  # (blocks down, W)
    rows[:fh] = code[: fh * step].reshape(fh, step, w).max(axis=1)
    if fh < len(rows):
        rows[-1] = code[fh * step :].max(axis=0)
    top = np.empty((len(rows), -(-w // step)), np.uint8)  # (blocks down, blocks across)
    top[:, :fw] = rows[:, : fw * step].reshape(len(rows), fw, step).max(axis=2)
    if fw < top.shape[1]:
        top[:, -1] = rows[:, fw * step :].max(axis=1)
    base = layer[::step, ::step]
    return np.ma.MaskedArray(np.where(top > 0, top.astype(np.int16) - 1, base.data),
                             mask=(top == 0) & np.ma.getmaskarray(base))


def _display_image(path: str | os.PathLike, span: tuple | None = None,
                   bands: list[int] | None = None) -> np.ndarray:
    """The image for a panel: (H, W) grey or (H, W, 3), box-averaged down by _step; wide
    values scaled by `span`, the data set's intensity range, as the model saw them; a
    multi-band image's red, green and blue, or report.bands (`bands`, 1-based)."""
    image = shown_image(path, span, bands)
    image = image[..., 0] if image.shape[-1] == 1 else image
    step = _step(image.shape)
    return np.asarray(Image.fromarray(image).reduce(step)) if step > 1 else image


def plot_overlays(
    rows: list[dict], out_png: str | os.PathLike, mapping: MaskMapping, names: list | None = None
) -> None:
    """One row per image: image | ground truth | each method's mask, drawn over the image.

    Each row: {"id", "image": path, "panels": [(title, mask path), ...]}, and "roi" (a path)
    where the image has a region of interest, outside which is shown as ignored, and
    "ignore_regions" (a path), shown as ignored on the ground truth; "bands"
    (report.bands) where set. Foreground classes
    are painted, each in its own colour (class_colours, named in a legend); the class comes
    from the mapping, not the grey level.
    """
    colours, shown = class_colours(mapping), set()
    ignored = ignored_colour(colours, mapping.scored_from)  # apart from every class's colour
    ncols = 1 + max(len(r["panels"]) for r in rows)
    images = [_display_image(row["image"], row.get("span"), row.get("bands")) for row in rows]
    # Each row as tall as its image at a 3.6 in panel width, plus its title (2.8 in for 3:2):
    # a fixed height left wide scenes' strips 2.2 in apart; a tall image is capped at 7.2 in.
    heights = [3.6 * min(2.0, im.shape[0] / im.shape[1]) + 0.4 for im in images]
    fig, axes = plt.subplots(
        len(rows), ncols, figsize=(3.6 * ncols, sum(heights)), squeeze=False,
        layout="constrained", gridspec_kw={"height_ratios": heights},
    )
    for ax_row, row, image in zip(axes, rows, images, strict=True):
        for ax, title in zip(ax_row, [row["id"], *(t for t, _ in row["panels"])], strict=False):
            ax.imshow(image, cmap="gray", vmin=0, vmax=255)  # as is: no stretch per image
            ax.set_title(title, fontsize=9, parse_math=False)  # an id may hold $: a name, not TeX
            ax.axis("off")
    fig.get_layout_engine().execute(fig)  # where each panel lies: masks are shrunk to its size
    for ax_row, row in zip(axes, rows, strict=True):
        for k, (ax, (_, mask_path)) in enumerate(zip(ax_row[1:], row["panels"], strict=False)):
            if not mask_path:
                continue
            # the ground truth's fill and regions to ignore: marked as scored (the masks keep
            # what the model said in the regions: shown as they are)
            scene, regions = (None, None) if k else (row["image"], row.get("ignore_regions"))
            layer = class_layer(mask_path, mapping, row.get("roi"), scene, regions)
            step, size = _step(layer.shape), _block(ax, layer.shape)
            layer = _shrunk(layer, size)
            shown.update(np.unique(layer.compressed()).tolist())
            # the image's pixel units: a shrunk layer spans size / step of its pixels
            (h, w), scale, limits = layer.shape, size / step, (ax.get_xlim(), ax.get_ylim())
            ax.imshow(_painted(layer, colours, ignored), interpolation="nearest",
                      extent=(-0.5, w * scale - 0.5, h * scale - 0.5, -0.5))
            ax.set_xlim(*limits[0]), ax.set_ylim(*limits[1])
    regions = any(r.get("roi") or r.get("ignore_regions") for r in rows)
    _legend(fig, mapping, colours, names, ignored, regions, shown)
    # the legend's own room, else it came out of rows as tall as their images: one row of
    # wide scenes drew 2.4 in wide, not 3.6, and a 14-class legend collapsed them
    if fig.legends:  # none where no class is named
        legend = fig.legends[0].get_window_extent(fig.canvas.get_renderer())
        fig.set_figheight(sum(heights) + legend.height / fig.dpi + 0.1)
    save_figure(fig, out_png)


def write_overlays(
    per_image_csv: str | os.PathLike,
    manifest: dict,
    dirs: dict[str, Path],
    out_png: str | os.PathLike,
    mapping: MaskMapping,
    n: int = 2,
    names: list | None = None,
    span: tuple | None = None,
    labels: dict[str, str] | None = None,
    bands: list[int] | None = None,
) -> None:
    """Overlays of the best and worst test images: ground truth, then each method in `dirs`
    (titled by `labels`, e.g. 'final (crf)', else its name); wide images scaled by `span`
    (meta.json's intensity_range); `bands`: report.bands, the bands shown (1-based)."""
    labels = labels or {}
    by_id = {p["id"]: p for p in manifest["pairs"]}
    rows = []
    for i, scores in best_and_worst(per_image_csv, n, mapping.scored_from):
        panels = [("ground truth", by_id[i]["mask"])]
        panels += [
            (f"{labels.get(m, m)}: Dice {scores[m]:.3f}", str(Path(d) / f"{i}.png"))
            for m, d in dirs.items()
        ]
        rows.append({"id": i, "image": by_id[i]["image"], "panels": panels,
                     "roi": by_id[i].get("roi"), "ignore_regions": by_id[i].get("ignore_regions"),
                     "span": span, "bands": bands})
    plot_overlays(rows, out_png, mapping, names)
