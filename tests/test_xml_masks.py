"""Masks as polygon annotations in XML (Aperio ImageScope's, ASAP's), one file per image, drawn
into palette PNGs of class numbers when the manifest is written."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from PIL import Image

from unet.dataset.download import write_manifest
from unet.dataset.layout import DataLayoutError, Layout, data_files, layout_from
from unet.dataset.layout_kinds import layout_modules

H, W = 20, 30


def _vertices(points):
    return "".join(f'<Vertex X="{x}" Y="{y}" Z="0"/>' for x, y in points)


def _box(x0, y0, x1, y1):
    return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]


def _region(points, rid=1, kind=0, negative=False, vertices=None):
    neg = ' NegativeROA="1"' if negative else ' NegativeROA="0"'
    body = vertices if vertices is not None else f"<Vertices>{_vertices(points)}</Vertices>"
    return (f'<Region Id="{rid}" Type="{kind}" Zoom="1" Selected="0" ImageLocation="" '
            f'ImageFocus="-1" Length="40" Area="100" Text=""{neg} Analyze="1" '
            f'DisplayId="{rid}"><Attributes/>{body}</Region>')


def _layer(regions, aid=1, name="", attrs=""):
    """An ImageScope Annotation (layer) as MoNuSeg's files hold it."""
    return (f'<Annotation Id="{aid}" Name="{name}" ReadOnly="0" NameReadOnly="0" '
            f'LineColorReadOnly="0" Incremental="0" Type="4" LineColor="65280" Visible="1" '
            f'Selected="1" MarkupImagePath="" MacroName=""><Attributes>{attrs}</Attributes>'
            f'<Regions><RegionAttributeHeaders/>{"".join(regions)}</Regions><Plots/>'
            '</Annotation>')


def _aperio(layers):
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<Annotations MicronsPerPixel="0.252">'
            f"{''.join(layers)}</Annotations>")


def _asap(polygons):
    """An ASAP file of (group, points, type) as CAMELYON16's."""
    anns = "".join(
        f'<Annotation Name="Annotation {n}" Type="{kind}" PartOfGroup="{group}" '
        f'Color="#F4FA58"><Coordinates>'
        + "".join(f'<Coordinate Order="{k}" X="{x}" Y="{y}" />' for k, (x, y) in enumerate(pts))
        + "</Coordinates></Annotation>" for n, (group, pts, kind) in enumerate(polygons))
    groups = "".join(f'<Group Name="{g}" PartOfGroup="None" Color="#64FE2E"><Attributes />'
                     "</Group>" for g in sorted({p[0] for p in polygons}))
    return (f'<?xml version="1.0"?><ASAP_Annotations><Annotations>{anns}</Annotations>'
            f"<AnnotationGroups>{groups}</AnnotationGroups></ASAP_Annotations>")


def _save(root, stem, text, img=True, size=(W, H)):
    (root / "imgs").mkdir(parents=True, exist_ok=True)
    (root / "ann").mkdir(parents=True, exist_ok=True)
    if img:
        Image.fromarray(np.zeros((size[1], size[0], 3), np.uint8)).save(
            root / "imgs" / f"{stem}.tif")
    (root / "ann" / f"{stem}.xml").write_text(text)


def _layout(**kw):
    table = {"file": "ann/{id}.xml", **kw.pop("xml", {})}
    return Layout(images="imgs", xml=tuple(sorted(table.items())), **kw)


def _masks(tmp_path, layout=None, ignore=None):
    manifest = write_manifest(tmp_path / "out" / "manifest.json", "local", tmp_path,
                              layout or _layout(), ignore=ignore)
    return manifest, {p["id"]: np.asarray(Image.open(p["mask"])) for p in manifest["pairs"]}


def _iou(a, b):
    return (a & b).sum() / (a | b).sum()


def test_monuseg_regions_of_one_unnamed_layer_are_one_class_at_pixel_centres(tmp_path, caplog):
    arrow = _region([(1, 1), (5, 5)], rid=3, kind=3)  # no area: left out
    _save(tmp_path, "TCGA-A7", _aperio([_layer([
        _region(_box(2, 3, 12, 13), rid=1), _region([(15.5, 2.25), (25.5, 2.25), (20.5, 12.25)],
                                                    rid=2), arrow])]))
    caplog.set_level(logging.INFO)
    manifest, masks = _masks(tmp_path)
    a = masks["TCGA-A7"]
    want = np.zeros((H, W), bool)
    want[3:13, 2:12] = True
    assert manifest["class_names"] == {"0": "background", "1": "1"}
    assert _iou(a[:, :14] == 1, want[:, :14]) == 1.0  # the square exactly
    assert (a[:, 14:] == 1).sum() > 0 and a[12:, 14:].max() == 0  # the triangle, above y 12.25
    assert manifest["pairs"][0]["mask_from"].endswith("TCGA-A7.xml")
    assert "1 arrow, ruler or point annotation(s)" in caplog.text
    assert "TCGA-A7.xml (1)" in caplog.text


def test_negative_regions_cut_holes_rectangles_and_ellipses_drawn(tmp_path):
    _save(tmp_path, "a", _aperio([_layer([
        _region(_box(0, 0, 14, 14), rid=1), _region(_box(4, 4, 10, 10), rid=2, negative=True),
        _region([(16, 0), (28, 0), (28, 8), (16, 8)], rid=3, kind=1),
        _region([(16, 10), (28, 20)], rid=4, kind=2)])]))
    a = _masks(tmp_path)[1]["a"]
    assert (a[:14, :14] == 1).sum() == 14 * 14 - 36 and (a[4:10, 4:10] == 0).all()
    assert (a[:8, 16:28] == 1).all()
    yy, xx = np.mgrid[:H, :W] + 0.5
    ellipse = ((xx - 22) / 6) ** 2 + ((yy - 15) / 5) ** 2 < 1
    assert _iou(a[10:, 15:] == 1, ellipse[10:, 15:]) > 0.95 and a[10, 16] == 0  # corner: out


def test_layer_names_or_an_attribute_are_classes_in_numeric_order(tmp_path):
    _save(tmp_path, "a", _aperio([_layer([_region(_box(0, 0, 10, 10))], aid=1, name="Tumor"),
                                  _layer([_region(_box(10, 0, 20, 10))], aid=2, name="Stroma")]))
    manifest, masks = _masks(tmp_path)
    assert manifest["class_names"] == {"0": "background", "1": "Stroma", "2": "Tumor"}
    assert masks["a"][5, 5] == 2 and masks["a"][5, 15] == 1
    attr = '<Attribute Name="class" Id="0" Value="{}"/>'
    _save(tmp_path, "a", _aperio([_layer([_region(_box(0, 0, 10, 10))], 1, attrs=attr.format(10)),
                                  _layer([_region(_box(10, 0, 20, 10))], 2, attrs=attr.format(2))]))
    manifest, masks = _masks(tmp_path, _layout(xml={"attribute": "class"}))
    assert manifest["class_names"] == {"0": "background", "1": "2", "2": "10"}
    assert masks["a"][5, 5] == 2 and masks["a"][5, 15] == 1
    _save(tmp_path, "a", _aperio([_layer([_region(_box(0, 0, 10, 10))], 7, name="x")]))
    with pytest.raises(DataLayoutError, match=r"a\.xml: Annotation Id=7: no <Attribute "
                                              r"Name='class'>"):
        _masks(tmp_path, _layout(xml={"attribute": "class"}))


def test_asap_groups_joined_and_exclusions_cut_out_wherever_they_stand(tmp_path):
    # CAMELYON16: _0 and _1 tumour, _2 normal tissue inside it, here listed first in the file
    _save(tmp_path, "tumor_001", _asap([("_2", _box(4, 4, 8, 8), "Polygon"),
                                        ("_0", _box(0, 0, 12, 12), "Polygon"),
                                        ("_1", _box(14, 0, 26, 12), "Spline"),
                                        ("_0", [(20, 15)], "Dot")]))
    labels = {"_0": "tumor", "_1": "tumor", "_2": "background"}
    manifest, masks = _masks(tmp_path, _layout(xml={"labels": labels}))
    a = masks["tumor_001"]
    assert manifest["class_names"] == {"0": "background", "1": "tumor"}
    want = np.zeros((H, W), bool)
    want[:12, :12] = want[:12, 14:26] = True
    want[4:8, 4:8] = False
    assert _iou(a == 1, want) == 1.0
    _, masks = _masks(tmp_path, _layout(xml={"labels": {**labels, "_2": "ignore"}}), ignore=255)
    assert (masks["tumor_001"][4:8, 4:8] == 255).all()
    with pytest.raises(DataLayoutError, match="set masks.ignore"):
        _masks(tmp_path, _layout(xml={"labels": {**labels, "_2": "ignore"}}))
    manifest, masks = _masks(tmp_path)  # unmapped: each group a class, in the file's order
    assert manifest["class_names"] == {"0": "background", "1": "_0", "2": "_1", "3": "_2"}
    assert masks["tumor_001"][5, 5] == 1 and masks["tumor_001"][5, 20] == 2


@pytest.mark.parametrize(("text", "match"), [
    (_aperio([_layer([_region([], rid=4, vertices="")], aid=2)]),
     r"a\.xml: Annotation Id=2 Region Id=4: no <Vertices>"),
    (_aperio([_layer([_region([(0, 0), ("1,5", 0), (1, 1)], rid=3)])]),
     r"a\.xml: Annotation Id=1 Region Id=3: Vertex X='1,5' is not a number"),
    (_asap([("_0", [(0, 0), (5, "nan"), (5, 5)], "Polygon")]),
     r"a\.xml: Annotation Name='Annotation 0': Coordinate Y='nan' is not a number"),
    ("<Annotations><Annotation", r"a\.xml is not well-formed XML"),
    ("<svg/>", r"a\.xml is <svg>, neither Aperio ImageScope's"),
])
def test_bad_files_refused_by_file_and_element(tmp_path, text, match):
    _save(tmp_path, "a", text)
    with pytest.raises(DataLayoutError, match=match):
        _masks(tmp_path)


def test_an_xml_without_its_image_is_refused_or_skipped(tmp_path):
    _save(tmp_path, "a", _aperio([_layer([_region(_box(0, 0, 5, 5))])]))
    _save(tmp_path, "b", _aperio([_layer([_region(_box(0, 0, 5, 5))])]), img=False)
    with pytest.raises(DataLayoutError, match=r"XML annotations \(ann/\{id\}\.xml\) without an "
                                              r"image of their id.*b\.xml"):
        _masks(tmp_path)
    assert list(_masks(tmp_path, _layout(allow_unpaired=True))[1]) == ["a"]


def test_config_section_code_inputs_and_tracked_files(tmp_path):
    _save(tmp_path, "a", _aperio([_layer([_region(_box(0, 0, 5, 5))])]))
    layout = layout_from({"images": "imgs", "xml": {"file": "ann/{id}.xml", "attribute": "",
                                                    "labels": {}}}, "local")
    assert dict(layout.xml)["file"] == "ann/{id}.xml"
    assert {"dataset.xml_masks", "dataset.json_masks"} <= set(layout_modules(layout))
    assert tmp_path / "ann" / "a.xml" in data_files(tmp_path, layout)
    assert layout_from({"xml": {"file": ""}}, "local").xml is None
    with pytest.raises(DataLayoutError, match="qupath.json and xml.file both set"):
        layout_from({"xml": {"file": "{id}.xml"}, "qupath": {"json": "{id}.geojson"}}, "local")


def test_four_monuseg_tiles_run_through_preprocess_their_masks_the_squares(tmp_path):
    from tests.test_value_spaces import _write_split
    from unet.cache.preprocess import preprocess
    from unet.cache.settings import settings_from_config

    boxes = {f"TCGA-{i}": (2 + i, 3, 14 + i, 15 + i) for i in range(4)}
    for stem, box in boxes.items():
        _save(tmp_path, stem, _aperio([_layer([_region(_box(*box))])]), size=(32, 32))
    manifest = write_manifest(tmp_path / "manifest.json", "local", tmp_path, _layout())
    manifest["pairs"] += manifest["pairs"][:2]  # _write_split's 4 train, 2 validation
    _write_split(tmp_path, manifest["pairs"])
    settings = settings_from_config({"width": 32, "height": 32},
                                    {"values": None, "threshold": None, "ignore": None})
    meta = preprocess(tmp_path / "manifest.json", tmp_path / "split.json", tmp_path / "cache",
                      settings)
    assert meta["class_values"] == [0, 1] and meta["num_classes"] == 2
    cached = np.load(tmp_path / "cache" / "train_masks.npy")
    for n, (x0, y0, x1, y1) in enumerate(boxes.values()):
        want = np.zeros((32, 32), bool)
        want[y0:y1, x0:x1] = True
        assert _iou(cached[n] == 1, want) == 1.0


@pytest.mark.parametrize(("local", "match"), [
    ({"xml": {"file": "ann/a.xml"}}, r"dataset\.local\.xml\.file 'ann/a\.xml' has no \{id\}"),
    ({"images": "{group}", "xml": {"file": "{group}/{id}.xml"}}, r"xml with \{group\} folders"),
])
def test_an_xml_file_without_id_or_with_groups_is_refused_before_any_job(tmp_path, monkeypatch,
                                                                          local, match):
    from tests.test_config_checks import _default_config
    from unet.config.experiments import ConfigError, check_config

    monkeypatch.chdir(tmp_path)
    config = _default_config()
    config["dataset"].update(source="local", name="monuseg")
    config["dataset"]["local"].update(path=str(tmp_path), **local)
    with pytest.raises(ConfigError, match=match):
        check_config(config)
    config["dataset"]["local"].update(images=".", xml={
        "file": "ann/{id}.xml", "attribute": "", "labels": {"_2": "background"}})
    check_config(config)
    config["masks"]["separate"] = True  # each region's id is drawn too (test_separate_drawn)
    check_config(config)


def test_macos_appledouble_files_beside_the_xmls_are_passed_over(tmp_path):
    # a folder copied from a Mac onto a shared drive holds ._a.xml (binary resource forks),
    # which the images' listing leaves out; read as an annotation it was refused as not XML
    _save(tmp_path, "a", _aperio([_layer([_region(_box(0, 0, 5, 5))])]))
    (tmp_path / "ann" / "._a.xml").write_bytes(b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X")
    assert list(_masks(tmp_path)[1]) == ["a"]


def test_monusac_layers_are_named_by_their_attribute(tmp_path):
    """MoNuSAC's layers have no Name: the nucleus type is their one Attribute's Name (Value
    empty), and their Ids are numbered per file, so Id 1 was epithelial in one file and
    lymphocyte in the next, read as one class; ImageScope's default Description is no type."""
    epi, lym = (f'<Attribute Name="{t}" Id="0" Value=""/>' for t in ("Epithelial", "Lymphocyte"))
    _save(tmp_path, "a", _aperio([_layer([_region(_box(0, 0, 10, 10))], 1, attrs=epi),
                                  _layer([_region(_box(10, 0, 20, 10))], 2, attrs=lym)]))
    _save(tmp_path, "b", _aperio([_layer([_region(_box(0, 0, 10, 10))], 1, attrs=lym),
                                  _layer([_region(_box(10, 0, 20, 10))], 2, attrs=epi)]))
    manifest, masks = _masks(tmp_path)
    assert manifest["class_names"] == {"0": "background", "1": "Epithelial", "2": "Lymphocyte"}
    assert masks["a"][5, 5] == 1 and masks["a"][5, 15] == 2
    assert masks["b"][5, 5] == 2 and masks["b"][5, 15] == 1
    desc = '<Attribute Name="Description" Id="0" Value=""/>'  # MoNuSeg's: the layer's Id
    _save(tmp_path, "b", _aperio([_layer([_region(_box(0, 0, 10, 10))], 1, attrs=desc)]))
    (tmp_path / "ann" / "a.xml").unlink()
    manifest, masks = _masks(tmp_path)
    assert manifest["class_names"] == {"0": "background", "1": "1"}
