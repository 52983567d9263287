"""The report's overlays showed a multi-band image's first three bands in file order, so a
B,G,R,NIR GeoTIFF (Sentinel-2's or Landsat's order) came out in false colour (water brown).
They now show the bands the file names red, green and blue (GDAL's band descriptions or
colour interpretation), or report.bands."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from matplotlib.axes import Axes

from unet.common.labels import MaskMapping
from unet.report.band_names import GDAL_METADATA, rgb_bands, shown_image
from unet.report.figures import plot_overlays

BGRN = ("Blue", "Green", "Red", "NIR")


def _gdal_xml(names, role: str = "description") -> str:
    items = "".join(f'<Item name="{role.upper()}" sample="{k}" role="{role}">{n}</Item>'
                    for k, n in enumerate(names))
    return f"<GDALMetadata>{items}</GDALMetadata>"


def _write(path, bands: int = 4, names=None, role: str = "description"):
    """(6, 5, bands) uint8, band k filled with 10 * (k + 1): which band is shown is readable."""
    arr = np.stack([np.full((6, 5), 10 * (k + 1), np.uint8) for k in range(bands)], axis=-1)
    extra = [(GDAL_METADATA, "s", 0, _gdal_xml(names, role), True)] if names else []
    tifffile.imwrite(path, arr[..., 0] if bands == 1 else arr, photometric="minisblack",
                     planarconfig=None if bands == 1 else "contig", extratags=extra)
    return path


def _shown(tmp_path, image, bands=None) -> np.ndarray:
    """The image array plot_overlays hands matplotlib for the image panel."""
    mask = tmp_path / "m.png"
    from PIL import Image
    Image.fromarray(np.zeros((6, 5), np.uint8)).save(mask)
    drawn = []
    real = Axes.imshow

    def spy(self, x, *a, **kw):
        drawn.append(np.asarray(x))
        return real(self, x, *a, **kw)

    rows = [{"id": "a", "image": str(image), "panels": [("gt", str(mask))], "bands": bands}]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Axes, "imshow", spy)
        plot_overlays(rows, tmp_path / "o.png", MaskMapping((0, 255)))
    return drawn[0]


def test_a_bgr_nir_geotiff_is_shown_red_green_blue(tmp_path):
    shown = _shown(tmp_path, _write(tmp_path / "s2.tif", names=BGRN))
    assert shown.shape == (6, 5, 3) and shown[0, 0].tolist() == [30, 20, 10]  # R, G, B


def test_colour_interpretation_and_aux_xml_name_the_bands(tmp_path):
    path = _write(tmp_path / "ci.tif", names=BGRN, role="colorinterp")
    assert rgb_bands(path) == [2, 1, 0]
    plain = _write(tmp_path / "aux.tif")
    assert rgb_bands(plain) is None
    bands = "".join(f'<PAMRasterBand band="{k + 1}"><ColorInterp>{n}</ColorInterp>'
                    "</PAMRasterBand>" for k, n in enumerate(("Gray", "Blue", "Green", "Red")))
    (tmp_path / "aux.tif.aux.xml").write_text(f"<PAMDataset>{bands}</PAMDataset>")
    assert rgb_bands(plain) == [3, 2, 1]


def test_red_edge_and_unnamed_bands_keep_the_first_three(tmp_path):
    assert rgb_bands(_write(tmp_path / "e.tif", names=("Blue", "Red Edge", "Red", "NIR"))) \
        is None  # red named once only where 'Red Edge' is no red: green unnamed
    assert _shown(tmp_path, _write(tmp_path / "n.tif"))[0, 0].tolist() == [10, 20, 30]


def test_report_bands_override_the_names(tmp_path):
    path = _write(tmp_path / "s2.tif", names=BGRN)
    assert _shown(tmp_path, path, [4, 3, 2])[0, 0].tolist() == [40, 30, 20]  # false colour
    assert _shown(tmp_path, path, [4])[0, 0].tolist() == 40  # one band: grey
    with pytest.raises(ValueError, match=r"s2\.tif: report\.bands \[5, 3, 2\] names band 5"):
        shown_image(path, bands=[5, 3, 2])


@pytest.mark.parametrize("bands", [1, 2])
def test_one_and_two_band_images_are_unchanged(tmp_path, bands):
    names = ("Red", "NIR")[:bands]
    shown = _shown(tmp_path, _write(tmp_path / "x.tif", bands, names))
    assert shown.shape == (6, 5) and shown[0, 0] == 10  # the first band, grey
