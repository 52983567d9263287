"""CSVs of run-length encodings as data sets and tools write them: SIIM-ACR Pneumothorax's
' -1' for an image without an object (after ', ' in the header too), pandas' 'nan', a
tab-separated file, and encodings whose starts go back (not an encoding this reader knows)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from unet.dataset.download import write_manifest
from unet.dataset.layout import DataLayoutError, Layout

H, W = 6, 8
RLE = {"csv": "train.csv", "id_column": "ImageId", "rle_column": "EncodedPixels",
       "class_column": None, "order": "columns", "absent": "unpaired"}
SHIP = "3 2 20 4"  # column order: pixels 2-3 of column 0, 19-22 (columns 3 and 2)


def _data(tmp_path, text: str, name: str = "train.csv"):
    (tmp_path / "train").mkdir()
    for n in ("a", "b", "c"):
        Image.fromarray(np.full((H, W, 3), 90, np.uint8)).save(tmp_path / "train" / f"{n}.png")
    (tmp_path / name).write_text(text)
    return Layout(images="train", rle=tuple(sorted({**RLE, "csv": name}.items())))


def _masks(tmp_path, layout):
    manifest = write_manifest(tmp_path / "out" / "manifest.json", "local", tmp_path, layout)
    return {p["id"]: np.asarray(Image.open(p["mask"])) for p in manifest["pairs"]}


def _ship():
    flat = np.zeros(W * H, np.uint8)
    flat[2:4], flat[19:23] = 255, 255
    return flat.reshape(W, H).T


def test_siim_minus_one_and_pandas_nan_are_images_without_objects(tmp_path):
    # SIIM-ACR's train-rle.csv: 'ImageId, EncodedPixels' and ' -1' for no pneumothorax. The
    # header's space hid the column ("no column 'EncodedPixels'"), and -1 and nan were refused
    # as unusable encodings.
    layout = _data(tmp_path, f"ImageId, EncodedPixels\na, -1\nb, {SHIP}\nc,nan\n")
    masks = _masks(tmp_path, layout)
    assert not masks["a"].any() and not masks["c"].any()
    assert np.array_equal(masks["b"], _ship())


def test_a_nan_class_beside_no_encoding_is_no_object(tmp_path):
    (tmp_path / "train").mkdir()
    layout = Layout(images="train", rle=tuple(sorted({**RLE, "class_column": "ClassId"}.items())))
    for n in ("a", "b", "c"):
        Image.fromarray(np.full((H, W, 3), 90, np.uint8)).save(tmp_path / "train" / f"{n}.png")
    (tmp_path / "train.csv").write_text(
        f"ImageId,ClassId,EncodedPixels\na,nan,nan\nb,2.0,{SHIP}\nc,,\n")
    masks = _masks(tmp_path, layout)
    assert not masks["a"].any() and not masks["c"].any()
    assert np.array_equal(masks["b"], np.where(_ship() > 0, 2, 0))


@pytest.mark.parametrize("name", ["train.tsv", "train.csv"])
def test_a_tab_separated_file_is_read(tmp_path, name):
    # Read with commas, its header was one column 'ImageId\tEncodedPixels', named as missing.
    layout = _data(tmp_path, f"ImageId\tEncodedPixels\na\t\nb\t{SHIP}\nc\t-1\n", name)
    masks = _masks(tmp_path, layout)
    assert np.array_equal(masks["b"], _ship()) and not masks["a"].any()


def test_a_header_without_the_columns_names_what_was_read(tmp_path):
    layout = _data(tmp_path, f"Id\tPixels\na\t\nb\t{SHIP}\nc\t\n")
    with pytest.raises(DataLayoutError, match=r"no column 'ImageId'.*with tabs 'Id', 'Pixels'"):
        _masks(tmp_path, layout)



def test_starts_that_go_back_are_refused_by_name(tmp_path):
    # SIIM-ACR's encodings count each start from the end of the run before (its
    # mask_functions.py): read as Kaggle's usual absolute starts they overlap and go back,
    # and decoded silently into a wrong mask.
    layout = _data(tmp_path, "ImageId,EncodedPixels\na,-1\nb,20 2 3 4\nc,-1\n")
    with pytest.raises(DataLayoutError, match=r"b\.png.*start 3 .*after a run ending at 21"):
        _masks(tmp_path, layout)


def test_relative_starts_as_siim_writes_them(tmp_path):
    # rle.starts: relative reads SIIM-ACR's train-rle.csv as its mask_functions.rle2mask does:
    # each start counted (from 0) from the end of the run before.
    (tmp_path / "train").mkdir()
    for n in ("a", "b"):
        Image.fromarray(np.full((H, W, 3), 90, np.uint8)).save(tmp_path / "train" / f"{n}.png")
    (tmp_path / "train.csv").write_text("ImageId, EncodedPixels\na, -1\nb, 2 2 15 4\n")
    layout = Layout(images="train", rle=tuple(sorted({**RLE, "starts": "relative"}.items())))
    masks = _masks(tmp_path, layout)
    assert np.array_equal(masks["b"], _ship()) and not masks["a"].any()


def test_overlapping_runs_name_every_row_and_the_encoding_to_set(tmp_path):
    """Runs of one Kaggle encoding never overlap: '1 10 5 3' (pixels 1-10, then 5-7) means
    the CSV encodes otherwise (starts from the end of the run before, or start/end pairs),
    yet it was drawn as the union, without a word: a wrong mask."""
    layout = _data(tmp_path, "ImageId,EncodedPixels\na.png,1 10 5 3\nb.png,1 2 3 2\n"
                             "a.png,20 2\nc.png,1 4 3 2 10 2\nc.png,30 8 33 2\n")
    with pytest.raises(DataLayoutError) as err:
        _masks(tmp_path, layout)
    text = str(err.value)
    assert "train.csv line 2: the encoding of a.png is unusable (run 2 (start 5) begins " \
           "inside run 1 (pixels 1..10))" in text
    assert "2 encodings of c.png are unusable" in text and "line 5:" in text and "line 6:" in text
    assert "b.png" not in text  # touching runs (1-2, 3-4) are fine
    assert "rle.starts: relative" in text and "'start end'" in text
    assert "a.png,20 2" not in text and "line 4" not in text


def test_a_row_is_named_by_its_line_in_the_file_past_blank_and_quoted_lines(tmp_path):
    """The line an error names is the file's: rows were counted, so a blank line (a CSV edited
    by hand, or saved with doubled line ends) or a quoted cell over two lines put every later
    row's line one off, and the user was sent to the wrong row."""
    layout = _data(tmp_path, 'ImageId,EncodedPixels,Note\n\nb.png,1 2,"two\nlines"\n'
                             "a.png,1 10 5 3,\nc.png,,\n")
    with pytest.raises(DataLayoutError, match=r"train\.csv line 5: the encoding of a\.png"):
        _masks(tmp_path, layout)


def test_a_byte_not_utf8_in_a_csv_with_cr_line_ends_is_named_at_its_line(tmp_path):
    """Excel for Mac's 'CSV (Macintosh)' ends lines with a lone CR and writes Mac Roman: the
    line was counted by LF bytes only, so every such byte was said to be on line 1."""
    layout = _data(tmp_path, "")
    (tmp_path / "train.csv").write_bytes("ImageId,EncodedPixels\ra.png,1 2\rb.png,\r"
                                         "c\xe9.png,\r".encode("mac_roman"))
    with pytest.raises(DataLayoutError, match=r"train\.csv is not UTF-8 \(byte 0x8e on line 4\)"):
        _masks(tmp_path, layout)
