"""Palette masks: the colours of the class values agree across files (or the masks are
refused), and palettes are read from the header alone."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from tests.test_value_spaces import H, W, _disc, _preprocess
from unet.cache.settings import PreprocessSettings
from unet.common.fileio import write_json
from unet.common.labels import MaskMapping, MaskValueError


def _palette_pairs(tmp_path, palettes) -> list[dict]:
    """Palette PNG masks of a disc, mask i with palettes[i]: index 1 on the disc."""
    pairs = []
    for i, palette in enumerate(palettes):
        disc = _disc(i) > 0.5
        img, msk = tmp_path / f"img{i}.png", tmp_path / f"msk{i}.png"
        Image.fromarray((60 + 150 * disc).astype(np.uint8)).save(img)
        index = disc.astype(np.uint8) if palette[:3] == [0, 0, 0] else (~disc).astype(np.uint8)
        mask = Image.fromarray(index)
        mask.putpalette(palette)
        mask.save(msk)
        pairs.append({"id": f"p{i}", "image": str(img), "mask": str(msk), "size": [W, H]})
    ids = [p["id"] for p in pairs]
    write_json(tmp_path / "manifest.json", {"pairs": pairs})
    write_json(tmp_path / "split.json", {"train": ids[:2], "val": ids[2:3], "test": ids[3:]})
    return pairs


def test_palette_masks_whose_indices_mean_other_colours_are_refused(tmp_path):
    """A tool that builds each file's palette (PIL's adaptive quantising) can put white at
    index 0 in one mask and black in another: read as indices, the classes swap silently."""
    black_first, white_first = [0, 0, 0, 255, 255, 255], [255, 255, 255, 0, 0, 0]
    _palette_pairs(tmp_path, [black_first, black_first, white_first, black_first])
    with pytest.raises(MaskValueError) as err:
        _preprocess(tmp_path, PreprocessSettings(width=W, height=H))
    message = str(err.value)
    assert "msk2.png" in message and "msk0.png" in message
    assert "(255, 255, 255)" in message and "masks.colors: [[0, 0, 0], [255, 255, 255]]" in message
    # Read by colour, as the error advises, the classes agree in every file.
    meta = _preprocess(tmp_path, PreprocessSettings(width=W, height=H, mask_rgb=True,
                                                    mask_values=(0, 0xFFFFFF)))
    assert meta["class_values"] == [0, 0xFFFFFF]


def test_palettes_that_differ_only_where_no_class_lies_are_accepted(tmp_path):
    palette = [0, 0, 0, 255, 255, 255]
    _palette_pairs(tmp_path, [palette + [9, 9, 9], palette + [200, 0, 0], palette, palette])
    meta = _preprocess(tmp_path, PreprocessSettings(width=W, height=H))
    assert meta["class_values"] == [0, 1] and meta["mask_palette"][:6] == palette


@pytest.mark.parametrize("suffix", [".png", ".gif"])
def test_palette_read_from_the_header_alone(tmp_path, monkeypatch, suffix):
    """check_palettes reads every mask's palette: PIL's getpalette decodes the whole file
    (26 s for Carvana's 5,088 GIF masks), the colour table is in the header."""
    from PIL import ImageFile

    from unet.common.maskio import mask_palette

    mask = Image.fromarray(np.eye(8, dtype=np.uint8), mode="P")
    mask.putpalette([10, 20, 30, 200, 0, 0])
    mask.save(tmp_path / f"m{suffix}")
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: pytest.fail("decoded"))
    assert mask_palette(tmp_path / f"m{suffix}")[:6] == (10, 20, 30, 200, 0, 0)


def test_the_suggested_colours_are_the_ones_the_masks_show(tmp_path):
    """ISIC's 0/255 grey masks beside one re-saved as palette indices 0/1 (black/white): the
    hint listed value 1 as (1, 1, 1), a colour no mask shows, and following it trained a
    phantom third class."""
    palette = [0, 0, 0, 255, 255, 255]
    pairs = _palette_pairs(tmp_path, [palette] * 4)
    for p in pairs[:3]:  # grey 0/255 files, the last keeps its palette
        Image.fromarray(np.asarray(Image.open(p["mask"])) * 255).save(p["mask"])
    with pytest.raises(MaskValueError, match=r"masks.colors: \[\[0, 0, 0\], \[255, 255, 255\]\]"):
        _preprocess(tmp_path, PreprocessSettings(width=W, height=H))


def test_a_grey_mask_among_palette_masks_is_told_to_take_the_palette(tmp_path):
    """VOC masks hold class indices with VOC's palette; one re-saved as grey keeps indices 7
    and 12 but shows them as (7, 7, 7): reading every mask by colour, as the hint said, then
    failed on that file. The fix is to give it the palette."""
    palette = [0, 0, 0, 128, 0, 0, 0, 128, 0]
    pairs = _palette_pairs(tmp_path, [palette] * 4)
    Image.fromarray(np.asarray(Image.open(pairs[2]["mask"]))).save(pairs[2]["mask"])  # grey
    with pytest.raises(MaskValueError) as err:
        _preprocess(tmp_path, PreprocessSettings(width=W, height=H))
    message = str(err.value)
    assert "msk2.png has no palette" in message and "masks.colors" not in message


def test_threshold_reads_palette_masks_by_brightness(tmp_path):
    """DRIVE's and Carvana's GIF masks hold palette indices 0/1 shown black/white. With
    masks.threshold the README promises brightness; before, the threshold compared the
    indices (1 < 127), so every mask read as background and the scores looked perfect."""
    palette = [0, 0, 0, 255, 255, 255]
    disc = _disc(0) > 0.5
    mask = Image.fromarray(disc.astype(np.uint8))
    mask.putpalette(palette)
    mask.save(tmp_path / "m.gif")
    mapping = MaskMapping((0, 255), threshold=127)
    assert np.array_equal(mapping.read_index(tmp_path / "m.gif"), disc.astype(np.uint8))


def test_a_short_palette_keeps_every_written_value(tmp_path):
    """A palette of 2 colours made PIL write a 1-bit PNG: predicted classes 2, 3 and 4 came
    back as 1, and the metrics scored them so."""
    mapping = MaskMapping((0, 1, 2, 3, 4), palette=(0, 0, 0, 128, 0, 0))
    mapping.write(tmp_path / "m.png", np.array([[0, 1, 2, 3, 4]], np.uint8))
    assert np.asarray(Image.open(tmp_path / "m.png")).tolist() == [[0, 1, 2, 3, 4]]


def test_the_written_palette_shows_every_class_in_its_colour(tmp_path):
    """Palettes cut to the indices each file holds (optimised PNGs, GIFs): the first mask
    held classes 0 and 1 only, and its 2-colour palette was the one every prediction got."""
    pairs = _palette_pairs(tmp_path, [[0, 0, 0, 128, 0, 0]] * 4)
    full = [0, 0, 0, 128, 0, 0, 0, 128, 0]
    for p in pairs[1:]:
        index = np.asarray(Image.open(p["mask"])).copy()
        index[:, :3] = 2
        mask = Image.fromarray(index, mode="P")
        mask.putpalette(full)
        mask.save(p["mask"])
    meta = _preprocess(tmp_path, PreprocessSettings(width=W, height=H))
    assert meta["class_values"] == [0, 1, 2] and meta["mask_palette"][:9] == full


def test_gif_filler_entries_are_not_taken_for_class_colours(tmp_path):
    """PIL saves a GIF's colour table cut to a power of two and filled with black: a mask
    holding classes 0 and 1 showed index 2 as black where the others show it green, and the
    masks were refused as clashing, though no class 2 pixel lies in that file."""
    pairs = _palette_pairs(tmp_path, [[0, 0, 0, 128, 0, 0]] * 4)
    full = [0, 0, 0, 128, 0, 0, 0, 128, 0, 128, 128, 0, 0, 0, 128] + [7, 7, 7] * 251
    for n, p in enumerate(pairs):
        index = np.asarray(Image.open(p["mask"])).copy()
        if n:
            index[:, :3], index[:2, :] = 2, 3  # every index used: PIL keeps them
        mask = Image.fromarray(index, mode="P")
        mask.putpalette(full)
        gif = p["mask"].replace(".png", ".gif")
        mask.save(gif)
        p["mask"] = gif
    write_json(tmp_path / "manifest.json", {"pairs": pairs})
    assert Image.open(pairs[0]["mask"]).getpalette()[6:9] == [0, 0, 0]  # PIL's filler
    meta = _preprocess(tmp_path, PreprocessSettings(width=W, height=H))
    assert meta["class_values"] == [0, 1, 2, 3]
    assert meta["mask_palette"][:12] == full[:12]


def test_an_ignore_colour_for_palette_masks_names_its_index(tmp_path):
    """VOC's void border shows as (224, 224, 192): masks.ignore given as that colour was
    refused as 'a colour, but the masks hold grey levels', with no word of the index 255."""
    from unet.cache.mapping import ignore_value

    palette = [0, 0, 0, 128, 0, 0] + [0, 0, 0] * 253 + [224, 224, 192]
    _palette_pairs(tmp_path, [palette] * 4)
    with pytest.raises(MaskValueError, match=r"index 255.*masks\.ignore: 255"):
        ignore_value((224, 224, 192), False, str(tmp_path / "msk0.png"))


@pytest.mark.parametrize("palette", [False, True])
def test_each_mask_header_is_opened_once(tmp_path, monkeypatch, palette):
    # choose_mapping opened every mask's header twice, once for its bit depth and once more
    # for its palette: a second pass over every file of a large data set.
    import PIL.Image

    from unet.cache.mapping import choose_mapping

    masks = []
    for i in range(3):
        im = Image.fromarray(np.where(np.arange(12).reshape(3, 4) > i, 1, 0).astype(np.uint8))
        if palette:
            im = im.convert("P")
            im.putpalette([0, 0, 0, 255, 255, 255])
        masks.append(str(tmp_path / f"m{i}.png"))
        im.save(masks[-1])
    opened, real = [], PIL.Image.open
    monkeypatch.setattr(PIL.Image, "open", lambda fp, *a, **k: opened.append(str(fp)) or real(
        fp, *a, **k))
    mapping = choose_mapping([{"mask": m} for m in masks], PreprocessSettings(), 1)
    assert mapping.values == (0, 1) and (mapping.palette is not None) == palette
    # one header read and one decode (the values scan) a mask
    assert sorted(opened) == sorted(masks * 2)


def test_written_masks_keep_the_palettes_transparency(tmp_path):
    """Palette masks whose background index is transparent (a tRNS chunk; PIL's
    info['transparency']), drawn to lie over their photos: the masks written back in the
    data's own values kept the palette but lost the transparency, so they hid the photo."""
    from unet.common.labels import mapping_from_meta
    from unet.model.checkpoint import DATA_KEYS

    palette = [0, 0, 0, 255, 0, 0]
    pairs = _palette_pairs(tmp_path, [palette] * 4)
    for i, p in enumerate(pairs):  # index 0 see-through; the last with alpha bytes (128)
        im = Image.open(p["mask"])
        im.save(p["mask"], transparency=0 if i else bytes([128, 255]))
    meta = _preprocess(tmp_path, PreprocessSettings(width=W, height=H))
    assert meta["mask_alpha"] == [128, 255] and "mask_alpha" in DATA_KEYS
    mapping = mapping_from_meta(meta)
    mapping.write(tmp_path / "out.png", np.array([[0, 1]], np.uint8))
    written = Image.open(tmp_path / "out.png")
    assert written.mode == "P" and written.info["transparency"][:2] == b"\x80\xff"
    assert np.array(written.convert("RGBA"))[0, :, 3].tolist() == [128, 255]
    opaque = mapping_from_meta({**meta, "mask_alpha": None})  # older caches and checkpoints
    opaque.write(tmp_path / "plain.png", np.array([[0, 1]], np.uint8))
    assert "transparency" not in Image.open(tmp_path / "plain.png").info


def test_merged_mask_parts_keep_the_palettes_transparency(tmp_path):
    """Several masks of one image (mask_parts) are united into one palette PNG for the
    manifest: it kept their palette but dropped its transparency."""
    from unet.dataset.merge import merge_masks

    paths = []
    for k in (1, 2):
        index = np.zeros((4, 6), np.uint8)
        index[k] = k
        im = Image.fromarray(index, mode="P")
        im.putpalette([0, 0, 0, 200, 30, 30, 30, 200, 30])
        paths.append(tmp_path / f"m{k}.png")
        im.save(paths[-1], transparency=0)
    merge_masks(paths, tmp_path / "out.png")
    out = Image.open(tmp_path / "out.png")
    assert np.array(out.convert("RGBA"))[:3, 0, 3].tolist() == [0, 255, 255]


def test_every_mask_of_each_palette_is_named_grouped_by_palette(tmp_path):
    """A data set exported by two tools has many masks of each palette: the error named only
    the first clashing pair, and each fix and rerun found the next mask."""
    black_first, white_first = [0, 0, 0, 255, 255, 255], [255, 255, 255, 0, 0, 0]
    _palette_pairs(tmp_path, [black_first, white_first] * 3)
    with pytest.raises(MaskValueError) as err:
        _preprocess(tmp_path, PreprocessSettings(width=W, height=H))
    lines = str(err.value).splitlines()
    groups = {}
    for n, line in enumerate(lines):
        if line.strip().startswith("3 mask(s) show"):
            groups[line.strip()] = {x.strip().rsplit("/", 1)[-1] for x in lines[n + 1 : n + 4]}
    assert groups == {
        "3 mask(s) show value 0 as (0, 0, 0), value 1 as (255, 255, 255):":
            {"msk0.png", "msk2.png", "msk4.png"},
        "3 mask(s) show value 0 as (255, 255, 255), value 1 as (0, 0, 0):":
            {"msk1.png", "msk3.png", "msk5.png"}}, lines
    assert "masks.colors: [[0, 0, 0], [255, 255, 255]]" in lines[-1]
