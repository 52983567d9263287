"""masks.labelmap: a `name,r,g,b` class table (CamVid's and DeepGlobe's class_dict.csv, the
Semantic Drone Dataset's class_dict_seg.csv) gives colours and names in the file's order."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from unet.config.experiments import ConfigError

DRONE = "name, r, g, b\nunlabeled, 0, 0, 0\npaved-area, 128, 64, 128\ndirt, 130, 76, 0\n"


def _filled(config: dict, folder: Path, name: str, data: bytes) -> dict:
    from unet.config.labelmap import fill_labelmap

    (folder / name).write_bytes(data)
    config["dataset"].update(source="local", local={**config["dataset"]["local"],
                                                    "path": str(folder)})
    config["masks"]["labelmap"] = name
    fill_labelmap(config)
    return config["masks"]


@pytest.mark.parametrize("data", [
    DRONE.encode(),  # the Semantic Drone Dataset's, a space after each comma
    DRONE.replace(", ", ",").encode(),  # CamVid's and DeepGlobe's
    ("\ufeff" + DRONE.replace("\n", "\r\n")).encode(),  # saved again by Excel: BOM, CRLF
    b"r,g,b,name\n0,0,0,unlabeled\n128,64,128,paved-area\n130,76,0,dirt\n",
])
def test_a_class_dict_csv_gives_colours_and_names(config, tmp_path, data):
    masks = _filled(config, tmp_path, "class_dict.csv", data)
    assert masks["colors"] == [[0, 0, 0], [128, 64, 128], [130, 76, 0]]
    assert masks["names"] == ["unlabeled", "paved-area", "dirt"]
    assert masks.get("values") is None


def test_deepglobes_unknown_is_left_out_as_masks_ignore(config, tmp_path):
    # DeepGlobe lists `unknown` (0,0,0) last; its pixels are don't-care, not a class
    text = ("name,r,g,b\nurban_land,0,255,255\nagriculture_land,255,255,0\n"
            "water,0,0,255\nunknown,0,0,0\n")
    config["masks"].update(ignore=[0, 0, 0], background=False)
    masks = _filled(config, tmp_path, "class_dict.csv", text.encode())
    assert masks["names"] == ["urban_land", "agriculture_land", "water"]
    assert masks["colors"] == [[0, 255, 255], [255, 255, 0], [0, 0, 255]]


@pytest.mark.parametrize(("text", "says"), [
    ("name,r,g,b\nsky,128,128,128\nroad,128,64\n", "line 3"),
    ("name,r,g,b\nsky,128,128,128\nroad,128,64,256\n", "line 3"),
    ("name,r,g,b\nsky,128,128,128\n,128,64,128\n", "line 3"),
])
def test_a_malformed_class_dict_row_is_refused_by_file_and_line(config, tmp_path, text, says):
    with pytest.raises(ConfigError, match=re.escape(says)) as err:
        _filled(config, tmp_path, "class_dict.csv", text.encode())
    assert "name,r,g,b" in str(err.value) and str(tmp_path / "class_dict.csv") in str(err.value)


CAMVID = "name,r,g,b\nAnimal,64,128,64\nArchway,192,0,128\nCar,64,0,128\nVoid,0,0,0\n"


def test_a_table_whose_first_class_is_an_object_is_refused_while_class_0_is_background(
        config, tmp_path):
    # CamVid lists its classes by name: Animal, a class with pixels, would be taken for
    # background, left out of the headline Dice and unpainted in the overlays
    config["masks"]["ignore"] = [0, 0, 0]
    with pytest.raises(ConfigError, match=r"'Animal'.*masks.background: false"):
        _filled(config, tmp_path, "class_dict.csv", CAMVID.encode())
    config["masks"]["background"] = False
    assert _filled(config, tmp_path, "class_dict.csv", CAMVID.encode())["names"] == [
        "Animal", "Archway", "Car"]


@pytest.mark.parametrize("first", ["unlabeled,1,2,3", "_background_,9,9,9", "Clutter,0,0,0"])
def test_a_table_whose_first_class_reads_as_background_passes(config, tmp_path, first):
    text = f"name,r,g,b\n{first}\nroad,9,0,9\n"
    assert len(_filled(config, tmp_path, "class_dict.csv", text.encode())["colors"]) == 2


def test_a_class_dict_saved_by_excel_with_semicolons_is_read(config, tmp_path):
    # Excel saves ';'-separated where ',' is the decimal point: the table was taken for a
    # Roboflow _classes.csv and refused at its header, "'name;r;g;b' is not a Roboflow row".
    text = DRONE.replace(", ", ";") + ";;;\n"  # and pads with an empty row
    masks = _filled(config, tmp_path, "class_dict.csv", text.encode())
    assert masks["colors"] == [[0, 0, 0], [128, 64, 128], [130, 76, 0]]
    assert masks["names"] == ["unlabeled", "paved-area", "dirt"]
