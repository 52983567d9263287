"""An RGBA PNG's no-data (its transparent ground) is taken from the decode that reads its
pixels, before the conversion to RGB drops the alpha: before, predict, the CRF and preprocess
decoded it a second time for its alpha alone (88 ms of a 1918x1280 orthomosaic tile)."""

from __future__ import annotations

import logging

import numpy as np
from PIL import Image

from tests.test_alpha_png_nodata import H, W, _export, _outside


def _png(folder, name: str = "field.png", **save):
    folder.mkdir(exist_ok=True)
    _export(folder / name, **save)
    return folder / name


def test_unet_predict_decodes_an_rgba_png_once(tmp_path, cli_model, pil_decodes, caplog):
    from unet.infer.predict import PredictSettings
    from unet.infer.predict_folder import predict_files

    png = _png(tmp_path / "in")
    pil_decodes.clear()
    with caplog.at_level(logging.WARNING):  # the model has no masks.ignore: a warning
        predict_files([cli_model], [png], tmp_path / "out", PredictSettings(device="cpu"))
    assert pil_decodes.count(str(png)) == 1  # before: again for its sidecar's no-data
    assert [r for r in caplog.records if "no-data pixels keep" in r.getMessage()]


def test_the_crf_decodes_an_rgba_png_once_for_its_colours_and_its_no_data(tmp_path,
                                                                         pil_decodes):
    from unet.common.imageio import read_image
    from unet.common.nodata import image_and_nodata

    for name, save in (("field.png", {}), ("grey.png", {"mode": "LA"}),
                       ("field.webp", {"lossless": True})):
        path = _png(tmp_path, name, **save)
        pil_decodes.clear()
        img, void = image_and_nodata(path)
        assert len(pil_decodes) == 1, name  # before: 2, the second for its alpha
        assert (img == read_image(path)).all() and (void == _outside()).all()


def test_a_palette_or_turned_pngs_no_data_from_its_one_decode_is_as_before(tmp_path,
                                                                          pil_decodes):
    from unet.common.imageio import read_image
    from unet.common.nodata import alpha_nodata, image_and_nodata

    im = Image.fromarray(np.where(_outside(), 0, 1).astype(np.uint8), "P")
    im.putpalette([255, 255, 255, 30, 120, 40])
    im.save(tmp_path / "tile.png", transparency=0)  # index 0 clear: the outside
    exif = Image.Exif()
    exif[0x0112] = 6  # shown turned 90 degrees clockwise
    turned = _png(tmp_path, "turned.png", exif=exif)
    for path in (tmp_path / "tile.png", turned):
        pil_decodes.clear()
        img, void = image_and_nodata(path)
        assert len(pil_decodes) == 1, path
        assert (img == read_image(path)).all() and (void == alpha_nodata(path)).all()


def test_preprocess_decodes_an_rgba_png_once_for_its_pixels_and_its_fill(tmp_path,
                                                                        pil_decodes):
    from tests.test_value_spaces import _preprocess, _write_split
    from unet.cache.settings import PreprocessSettings

    pairs = []
    for i in range(8):
        _png(tmp_path, f"s{i}.png")
        label = np.zeros((H, W), np.uint8)
        label[10:20, 12:24] = 1  # a field inside the flight
        Image.fromarray(label).save(tmp_path / f"m{i}.png")
        pairs.append({"id": f"s{i}", "image": str(tmp_path / f"s{i}.png"),
                      "mask": str(tmp_path / f"m{i}.png"), "size": [W, H]})
    _write_split(tmp_path, pairs)
    pil_decodes.clear()
    _preprocess(tmp_path, PreprocessSettings(width=W, height=H, mask_values=(0, 1),
                                             mask_ignore=255))
    # the last: the first colour image is decoded once more, to tell the data's channels
    assert pil_decodes.count(pairs[-1]["image"]) == 1  # before: again for its fill
    cached = np.load(tmp_path / "cache" / "train_masks.npy", mmap_mode="r")[0]
    assert (cached[_outside()] == 255).all() and set(np.unique(cached[~_outside()])) == {0, 1}


def test_a_sixteen_bit_pngs_alpha_is_still_read_where_its_decode_drops_it(tmp_path):
    # 16-bit colour or grey with alpha is decoded by imagecodecs, its alpha left out there
    import imagecodecs

    from unet.common.nodata import alpha_nodata, image_and_nodata

    for name, bands in (("rgba16.png", 4), ("la16.png", 2)):
        arr = np.full((H, W, bands), 40000, np.uint16)
        arr[..., -1] = np.where(_outside(), 0, 65535)
        (tmp_path / name).write_bytes(imagecodecs.png_encode(arr))
        void = image_and_nodata(tmp_path / name)[1]
        assert void is not None and (void == _outside()).all(), name
        assert (void == alpha_nodata(tmp_path / name)).all(), name
