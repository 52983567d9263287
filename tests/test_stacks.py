"""Multi-page files (TIFF stacks such as ISBI 2012's train-volume.tif): refused by name, never
read as their first page alone, and split into one file per page by `unet unstack`."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from unet.cli import main
from unet.common.imageio import ImageReadError, image_size, read_image
from unet.common.maskio import read_mask
from unet.dataset.unstack import unstack


def _stack(path, pages: list[np.ndarray]) -> None:
    first, *rest = [Image.fromarray(p) for p in pages]
    first.save(path, save_all=True, append_images=rest)


def _pages(n: int, dtype=np.uint8) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.integers(0, 4000 if dtype == np.uint16 else 255, (6, 9)).astype(dtype)
            for _ in range(n)]


def test_a_stack_is_refused_naming_the_file_and_the_fix(tmp_path):
    _stack(tmp_path / "train-volume.tif", _pages(3))
    for read in (read_image, image_size, read_mask):
        with pytest.raises(ImageReadError, match=r"train-volume\.tif holds 3 pages.*unet unstack"):
            read(tmp_path / "train-volume.tif")


def test_unstack_writes_one_file_per_page_with_its_values(tmp_path):
    pages = _pages(12, np.uint16)
    _stack(tmp_path / "labels.tif", pages)
    written = unstack(tmp_path / "labels.tif", tmp_path / "masks")
    assert [p.name for p in written] == [f"{k:02d}.png" for k in range(12)]
    for page, path in zip(pages, written, strict=True):
        assert np.array_equal(np.asarray(Image.open(path)), page)
    assert read_mask(written[3]).tolist() == pages[3].tolist()


def test_unstack_never_overwrites(tmp_path):
    _stack(tmp_path / "v.tif", _pages(2))
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "1.png").write_bytes(b"keep")
    with pytest.raises(FileExistsError, match=r"1\.png"):
        unstack(tmp_path / "v.tif", tmp_path / "out")
    assert (tmp_path / "out" / "1.png").read_bytes() == b"keep"
    assert not (tmp_path / "out" / "0.png").exists()


def test_unstack_command(tmp_path, capsys):
    _stack(tmp_path / "v.tif", _pages(3))
    assert main(["unstack", str(tmp_path / "v.tif"), str(tmp_path / "images")]) == 0
    assert "3 pages" in capsys.readouterr().out
    assert sorted(p.name for p in (tmp_path / "images").iterdir()) == ["0.png", "1.png", "2.png"]
    assert main(["unstack", str(tmp_path / "missing.tif"), str(tmp_path / "x")]) == 2


def test_unstack_command_refuses_to_overwrite_in_one_line(tmp_path, capsys):
    _stack(tmp_path / "v.tif", _pages(2))
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "0.png").write_bytes(b"keep")
    assert main(["unstack", str(tmp_path / "v.tif"), str(tmp_path / "images")]) == 2
    assert "0.png exists" in capsys.readouterr().err


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")  # PIL on the cut file
def test_a_damaged_stack_leaves_no_pages_behind(tmp_path):
    # Fewer pages would look like a whole, shorter stack: all pages are written, or none.
    rng = np.random.default_rng(1)
    _stack(tmp_path / "v.tif", [rng.integers(0, 255, (64, 64), np.uint8) for _ in range(4)])
    data = (tmp_path / "v.tif").read_bytes()
    # Pages 0-2 whole, page 3 cut: the damage shows only at the last page.
    (tmp_path / "v.tif").write_bytes(data[: int(len(data) * 0.85)])
    with pytest.raises(ImageReadError, match=r"v\.tif"):
        unstack(tmp_path / "v.tif", tmp_path / "out")
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


@pytest.mark.parametrize(("dtype", "shape"), [(np.float16, (6, 5)), (np.uint16, (6, 5, 3))])
def test_unstack_a_stack_pil_cannot_read(tmp_path, dtype, shape):
    # float16 pages (PIL cannot open them) and 16-bit colour (PIL cuts to 8 bits): tifffile
    # splits them, each page a TIFF with its values, which the pipeline then reads.
    import tifffile

    rng = np.random.default_rng(0)
    pages = [(rng.random(shape) * 4000).astype(dtype) for _ in range(3)]
    for page in pages:
        tifffile.imwrite(tmp_path / "s.tif", page, append=True,
                         photometric="rgb" if len(shape) == 3 else "minisblack")
    with pytest.raises(ImageReadError, match=r"s\.tif holds 3 pages.*unet unstack"):
        read_image(tmp_path / "s.tif")
    written = unstack(tmp_path / "s.tif", tmp_path / "out")
    assert [p.name for p in written] == ["0.tif", "1.tif", "2.tif"]
    for page, path in zip(pages, written, strict=True):
        assert np.array_equal(tifffile.imread(path), page)
        assert read_image(path).shape[:2] == shape[:2]


@pytest.mark.parametrize("planar", [False, True])  # planar: only tifffile reads it
def test_a_pyramid_is_named_as_one_not_as_a_stack(tmp_path, planar):
    # A whole-slide image (SVS-like) holds its levels as pages of falling sizes: called "a
    # stack" to be split into slices, its levels would have become images of their own.
    import tifffile

    from unet.common.decoders import wide_header

    data = np.random.default_rng(0).integers(0, 255, (3, 64, 96) if planar else (64, 96, 3),
                                             np.uint8)
    path = tmp_path / "slide.tif"
    with tifffile.TiffWriter(path) as tif:
        for step in (1, 4, 16):
            level = data[:, ::step, ::step] if planar else data[::step, ::step]
            tif.write(level, photometric="rgb", planarconfig="separate" if planar else None)
    hint = r"slide\.tif holds 3 pages of different sizes \(96x64, 24x16, 6x4\).*pyramid.*page 0"
    for read in (read_image, image_size, wide_header):
        with pytest.raises(ValueError, match=hint):  # ImageReadError; wide_header: Unusable
            read(path)


def test_unstack_of_a_palette_gif_keeps_every_pages_indices(tmp_path):
    """An animated palette GIF (a stack of masks): Pillow turns the frames after the first to
    RGB by default, so page 0 was written as indices and pages 1.. as colours."""
    palette = [0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255] + [0] * 756
    pages = [np.full((6, 9), k % 3, np.uint8) for k in range(3)]
    for k, page in enumerate(pages):
        page[k, :] = 3 - k % 3  # each page its own indices
    images = [Image.fromarray(p, "P") for p in pages]
    for im in images:
        im.putpalette(palette)
    # optimize=False: Pillow would otherwise cut each colour table to the colours used
    images[0].save(tmp_path / "masks.gif", save_all=True, append_images=images[1:], optimize=False)
    written = unstack(tmp_path / "masks.gif", tmp_path / "out")
    for page, path in zip(pages, written, strict=True):
        with Image.open(path) as im:
            assert im.mode == "P", path.name
            assert np.array_equal(np.asarray(im), page), path.name
            assert im.getpalette()[:12] == palette[:12], path.name


def test_a_gif_page_of_colours_no_palette_holds_is_refused(tmp_path):
    first, second = Image.new("P", (4, 3), 1), Image.new("P", (4, 3), 1)
    first.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    second.putpalette([0, 0, 0, 0, 9, 0] + [0] * 762)
    first.save(tmp_path / "s.gif", save_all=True, append_images=[second])
    with pytest.raises(ImageReadError, match=r"page 1 of .*s\.gif holds colour #000900"):
        unstack(tmp_path / "s.gif", tmp_path / "out")
    assert not list((tmp_path / "out").iterdir())


def test_a_pyramid_whose_first_page_is_small_names_its_full_resolution_page(tmp_path):
    # Some slide writers put a thumbnail (or a reduced level) first: "page 0 is the full
    # resolution" sent the user to unstack and train on the thumbnail.
    import tifffile

    data = np.random.default_rng(0).integers(0, 255, (64, 96, 3), np.uint8)
    path = tmp_path / "slide.tif"
    with tifffile.TiffWriter(path) as tif:
        for step in (4, 1, 16):
            tif.write(data[::step, ::step], photometric="rgb")
    with pytest.raises(ValueError, match=r"page 1 \(96x64\) is the full resolution") as err:
        read_image(path)
    assert "page 0 is" not in str(err.value)


def test_unstack_of_a_folder_says_it_is_a_folder(tmp_path, capsys):
    # A folder of stacks (one volume per file) was refused as "no such file", though it exists.
    (tmp_path / "volumes").mkdir()
    _stack(tmp_path / "volumes" / "a.tif", _pages(2))
    assert main(["unstack", str(tmp_path / "volumes"), str(tmp_path / "images")]) == 2
    err = capsys.readouterr().err
    assert "no such file" not in err
    assert "volumes is a folder" in err and "once per stack" in err
    assert not (tmp_path / "images").exists()
