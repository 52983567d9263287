"""The README's YAML examples are configs a user can paste: each parses and passes the schema
(a bare {id} in a YAML list once made one unreadable)."""

from __future__ import annotations

import re

import jsonschema
import pytest
import yaml

from tests.conftest import REPO
from unet.config.names import name_dataset

BLOCKS = re.findall(r"```yaml\n(.*?)```", (REPO / "README.md").read_text(), re.S)
SCHEMA = yaml.safe_load((REPO / "config/schema.yaml").read_text())


def test_the_readme_has_examples():
    assert len(BLOCKS) >= 10


@pytest.mark.parametrize("block", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_each_example_is_a_valid_config(block):
    config = yaml.safe_load(block)
    assert isinstance(config, dict) and config
    jsonschema.validate(config, SCHEMA, cls=jsonschema.Draft202012Validator)


@pytest.mark.parametrize("block", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_each_example_passes_the_checks_the_workflow_runs(block, tmp_path):
    """The schema alone takes any mapping as an experiment's train (or model, predict, crf)
    and checks no setting against another: each example, over the default config, also
    passes what the Snakefile and rules/common.smk run (its data folder made up)."""
    from snakemake.utils import update_config, validate

    from unet.config.experiments import check_config, normalise_config
    from unet.config.schema import check_experiment_schemas, check_schema, coerce_numbers

    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    update_config(config, yaml.safe_load(block))
    if config["dataset"]["local"].get("path"):
        config["dataset"]["local"]["path"] = str(tmp_path)
    coerce_numbers(config, SCHEMA)
    check_schema(config, SCHEMA)
    validate(config, str(REPO / "config/schema.yaml"))
    name_dataset(config)
    check_experiment_schemas(config, SCHEMA)
    normalise_config(config)
    check_config(config)


def _schema_keys(node: dict, prefix: str = "") -> set[str]:
    """Every dotted key the schema accepts (layouts through their $ref)."""
    keys = set()
    parts = node.get("allOf", []) + node.get("anyOf", []) + node.get("oneOf", [])
    if "$ref" in node:
        parts.append(SCHEMA["$defs"][node["$ref"].rsplit("/", 1)[-1]])
    for part in parts:
        keys |= _schema_keys(part, prefix)
    for name, sub in node.get("properties", {}).items():
        keys.add(prefix + name)
        keys |= _schema_keys(sub, prefix + name + ".")
    return keys


SCHEMA_KEYS = _schema_keys(SCHEMA)
# `a.b.c` or `a.b.c: value` in backticks, whose first part is a top-level config section
# (file names such as `experiments.tsv` and `split.json` left out)
NAMED_KEYS = sorted({
    key for key in re.findall(r"`([a-z_0-9]+(?:\.[a-z_0-9]+)+)(?:: [^`]*)?`",
                              (REPO / "README.md").read_text())
    if key.split(".")[0] in SCHEMA["properties"]
    and key.rsplit(".", 1)[-1] not in ("tsv", "json", "pt", "csv", "png", "yaml", "py", "smk",
                                       "safetensors")
})


def test_the_readme_names_config_keys():
    assert len(NAMED_KEYS) >= 50


@pytest.mark.parametrize("key", NAMED_KEYS)
def test_each_config_key_the_readme_names_is_in_the_schema(key):
    assert key in SCHEMA_KEYS, f"README names `{key}`, which config/schema.yaml lacks"


# `a.b: value` in backticks: the value is one the key takes (`split.folds: k` is a placeholder)
NAMED_SETTINGS = sorted({
    (key, value) for key, value in re.findall(r"`([a-z_0-9]+(?:\.[a-z_0-9]+)+): ([^`]*)`",
                                              (REPO / "README.md").read_text())
    if key.split(".")[0] in SCHEMA["properties"] and value != "k"
})


@pytest.mark.parametrize("key,value", NAMED_SETTINGS)
def test_each_setting_the_readme_names_is_valid(key, value):
    config = yaml.safe_load(value)
    for part in reversed(key.split(".")):
        config = {part: config}
    jsonschema.validate(config, SCHEMA, cls=jsonschema.Draft202012Validator)


def test_the_layout_names_every_package_folder_and_top_level_module():
    layout = re.search(r"## Layout\n(.*?)\n## |\Z", (REPO / "README.md").read_text() + "\n## ",
                       re.S).group(1)
    tree = re.search(r"```\nunet/\n(.*?)```", layout, re.S).group(1)
    named = set(re.findall(r"^  ([a-z_]+/|[a-z_]+\.py)", tree, re.M))
    named |= set(re.findall(r"\b([a-z_]+\.py)\b", tree))
    package = REPO / "unet"
    wanted = {p.name + "/" for p in package.iterdir() if (p / "__init__.py").exists()}
    wanted |= {p.name for p in package.glob("*.py") if p.name != "__init__.py"}
    assert wanted <= named, f"README's Layout lacks {sorted(wanted - named)}"


def test_each_project_file_the_readme_names_exists():
    text = (REPO / "README.md").read_text()
    named = set(re.findall(r"\b((?:unet|tests|config|profiles|benchmarks|rules|scripts)/"
                           r"[A-Za-z0-9_./-]+\.(?:py|yaml|smk|sh|md))", text))
    named |= {"benchmarks/" + name for name in re.findall(r"`(bench_[a-z_]+\.py)`", text)}
    assert len(named) >= 20
    assert not sorted(p for p in named if not (REPO / p).exists())


def test_each_option_of_the_unet_command_section_exists():
    from unet.cli import parser

    section = (REPO / "README.md").read_text().split("### The `unet` command", 1)[1]
    section = section.split("\n## ", 1)[0].split("\n### ", 1)[0]
    named = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", section))
    top = parser()
    subs = next(a for a in top._actions if a.choices and "predict" in a.choices).choices
    options = {o for p in [top, *subs.values()] for a in p._actions for o in a.option_strings}
    assert {"--tta", "--rle", "--onnx"} <= named
    assert named <= options, f"README names unet options that do not exist: {named - options}"


def test_the_drive_roi_example_names_drive_s_region_files():
    # `--roi "test/mask/{id}_test_mask.gif"`: {id} is the file stem, 01_test for DRIVE's
    # test/images/01_test.tif, so it named 01_test_test_mask.gif and unet predict refused.
    text = (REPO / "README.md").read_text()
    templates = re.findall(r'--roi "([^"]*test[^"]*)"', text)
    assert templates
    for template in templates:
        assert template.format(id="01_test").endswith("/01_test_mask.gif")


def _anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation but '-' and '_' dropped, each
    space a '-' ("The `unet` command" is #the-unet-command)."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(text: str) -> list[str]:
    """The anchors of `text`'s headings in order: a repeated one takes -1, -2, ... as GitHub
    numbers it, so a link to the second "Examples" is #examples-1."""
    anchors, seen = [], {}
    for heading in _headings(text):
        base = anchor = _anchor(heading)
        while anchor in seen:
            seen[base] += 1
            anchor = f"{base}-{seen[base]}"
        seen[anchor] = 0
        anchors.append(anchor)
    return anchors


def _broken_links(text: str) -> list[str]:
    """The `](#...)` links of `text` that reach no heading's anchor."""
    anchors = set(_anchors(text))
    return sorted(set(re.findall(r"\]\(#([^)]*)\)", text)) - anchors)


def _headings(text: str) -> list[str]:
    """The Markdown headings of `text`: `# ...` lines outside fenced code blocks, where a
    shell or YAML comment starts with # too."""
    prose = re.sub(r"^```.*?^```", "", text, flags=re.M | re.S)
    return re.findall(r"^#+ (.*)$", prose, re.M)


def test_each_link_within_the_readme_reaches_a_heading():
    broken = _broken_links((REPO / "README.md").read_text())
    assert not broken, f"README links to no heading: {broken}"


def test_a_link_to_a_repeated_heading_takes_its_number():
    # GitHub names the second "Examples" #examples-1: a link to it is good, one to -2 broken
    text = "## Examples\n### Examples\n## The `unet` command\n[a](#examples-1) [b](#examples-2)"
    assert _anchors(text) == ["examples", "examples-1", "the-unet-command"]
    assert _broken_links(text) == ["examples-2"]
    assert _broken_links("## Masks: 16-bit & float\n[a](#masks-16-bit--float)") == []


def test_a_comment_in_a_code_block_is_no_heading():
    # a link to "# set the data folder" in a YAML block passed as a link to a heading
    text = "## Run\n\n```yaml\n# set the data folder\ndataset: {}\n```\n### Data\n"
    assert _headings(text) == ["Run", "Data"]


def test_the_sections_a_newcomer_needs_are_linked_before_the_first_section():
    # 1,600 lines: install, run, own data and new images must be found from the top
    top = (REPO / "README.md").read_text().split("\n## ", 1)[0]
    for anchor in ("set-up-and-run", "your-own-images", "predicting-new-images",
                   "the-unet-command", "ready-configs"):
        assert f"](#{anchor})" in top, f"README's contents lack #{anchor}"


def test_the_contents_link_each_topic_of_your_own_images():
    # "Your own images" ran 770 lines under one heading: COCO, RLE, GeoTIFF, 16-bit, no-data
    # and the checks could be found only by scrolling
    text = (REPO / "README.md").read_text()
    top, anchors = text.split("\n## ", 1)[0], _anchors(text)
    for anchor in ("which-keys-describe-your-data", "run-length-encodings-in-a-csv-kaggle",
                   "coco-annotations-coco-livecell-roboflow", "labelme-annotations",
                   "multi-band-images-and-geotiffs", "no-data-pixels-of-a-scene",
                   "regions-of-interest-roi", "checks-and-errors"):
        assert anchor in anchors, f"README has no heading #{anchor}"
        assert f"](#{anchor})" in top, f"README's contents lack #{anchor}"


def test_the_contents_link_the_newer_topics():
    # DICOM, touching objects, Sentinel-2 .jp2 bands, `**` patterns and a first quick run sat
    # in paragraphs no heading or contents entry reached
    text = (REPO / "README.md").read_text()
    top, anchors = text.split("\n## ", 1)[0], _anchors(text)
    for anchor in ("try-it-on-your-data-in-five-minutes", "dicom-and-other-medical-images",
                   "instance-labels-touching-objects-kept-apart",
                   "one-file-per-band-band_files-sentinel-2-jp2",
                   "unet-predict-patterns-reruns-folds-batches-exit-codes",
                   "regions-of-interest-kaggle-csvs-and-onnx-export",
                   # masks.tolerance, unet stack and georeferenced masks came in later still
                   "colour-masks-near-not-equal-to-their-colours-maskstolerance",
                   "new-multi-band-images-unet-stack", "geotiff-scenes-georeferenced-masks",
                   "values-of-the-masks-written-class-names"):
        assert anchor in anchors, f"README has no heading #{anchor}"
        assert f"](#{anchor})" in top, f"README's contents lack #{anchor}"


def test_no_schema_description_says_to_add_an_extension_that_is_refused():
    # qupath.json's said 'add .svs or .ndpi to image_extensions': .ndpi is refused by name
    from unet.common.slides import UNREAD

    text = (REPO / "config/schema.yaml").read_text()
    for advice in re.findall(r"[Aa]dd ([^;)]*?) to image_extensions", text):
        assert not set(re.findall(r"\.\w+", advice)) & set(UNREAD), advice


# "Left unset (null) it is not computed" closes the paragraph of an opt-in evaluate key: the
# words must be that key's default (pr_curve's section once took relaxed_slack's null sentence)
LEFT_AS = {"unset (null)": None, "at false": False}


def test_each_left_at_its_default_sentence_names_its_keys_default():
    said = 0
    for para in (REPO / "README.md").read_text().split("\n\n"):
        if not (left := re.search(r"Left (unset \(null\)|at false) it is not computed", para)):
            continue
        key = re.findall(r"`evaluate: \{(\w+):", para)[-1]  # the paragraph's own key
        default = SCHEMA["properties"]["evaluate"]["properties"][key]["default"]
        assert default == LEFT_AS[left.group(1)] and type(default) is type(
            LEFT_AS[left.group(1)]), f"README: evaluate.{key} (default {default}) '{left[0]}'"
        said += 1
    assert said >= 3
