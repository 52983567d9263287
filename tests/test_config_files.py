"""Config files whose YAML drops settings without a word: a key given twice in one mapping
(PyYAML, and so Snakemake, keeps the last one)."""

from __future__ import annotations

import pytest

from tests.conftest import REPO, TINY, copy_workflow, snakemake
from unet.config.experiments import ConfigError
from unet.config.files import check_config_files, check_yaml


def test_a_section_given_twice_is_refused_with_both_lines(tmp_path):
    """`train:` twice (a section pasted below the file's own) lost the first one's epochs
    without a word: Snakemake read the file as {train: {lr: 0.1}}."""
    path = tmp_path / "my.yaml"
    path.write_text("train:\n  epochs: 2\npredict: {tta: true}\ntrain:\n  lr: 0.1\n")
    with pytest.raises(ConfigError) as err:
        check_config_files([path])
    assert str(err.value).startswith(f"{path}: train is given twice (lines 1 and 4)"), err.value


def test_a_key_given_twice_in_a_section_names_its_path(tmp_path):
    path = tmp_path / "my.yaml"
    path.write_text("experiments:\n  wide:\n    model: {base_width: 32, base_width: 8}\n")
    with pytest.raises(ConfigError, match=r": experiments\.wide\.model\.base_width is given "
                                          r"twice \(lines 3 and 3\)"):
        check_config_files([path])


def test_files_with_keys_once_pass(tmp_path):
    path = tmp_path / "my.yaml"
    path.write_text("train: {epochs: 2}\nexperiments: {a: {train: {epochs: 3}}, b: null}\n")
    check_config_files([path, REPO / "config/config.yaml", *REPO.glob("config/*.yaml")])


def test_a_config_file_not_saved_as_utf8_is_named_with_its_line(tmp_path):
    """A config edited in a Windows editor saved as ANSI (a comment or path with 'é' in
    cp1252): the check raised a bare UnicodeDecodeError naming neither file nor line."""
    path = tmp_path / "config.yaml"
    path.write_bytes(b"train:\n  epochs: 2\n# donn\xe9es du labo\n")
    with pytest.raises(ConfigError) as err:
        check_yaml(path)
    assert str(err.value).startswith(f"{path}, line 3: "), err.value
    assert "UTF-8" in str(err.value)


def test_a_byte_not_utf8_past_the_first_8_kb_is_named_at_its_own_line(tmp_path):
    """The file is decoded in 8 KB chunks: the error's offset counts from its chunk, so in a
    long, well-commented config (config/config.yaml is 7 KB) the line named was the line at
    that offset from the file's start, far above the byte."""
    path = tmp_path / "config.yaml"
    comments = b"".join(b"# a comment line of some forty bytes, %03d\n" % k for k in range(300))
    path.write_bytes(b"train:\n  epochs: 2\n" + comments + b"# donn\xe9es du labo\n")
    with pytest.raises(ConfigError) as err:
        check_yaml(path)
    assert str(err.value).startswith(f"{path}, line 303: byte 0xe9 "), err.value


@pytest.mark.workflow
def test_the_workflow_refuses_a_key_given_twice(tmp_path):
    wd = copy_workflow(tmp_path)
    (wd / "twice.yaml").write_text("train: {epochs: 2}\ntrain: {lr: 0.1}\n")
    out = snakemake(wd, "-n", "--configfile", str(TINY), "twice.yaml", check=False)
    assert out.returncode != 0
    assert "twice.yaml: train is given twice (lines 1 and 2)" in out.stderr
    assert "Traceback" not in out.stderr


def test_yaml_a_parser_refuses_is_named_with_its_line(tmp_path):
    path = tmp_path / "my.yaml"
    path.write_text("train:\n  epochs: 3\n   lr: 0.1\n")
    with pytest.raises(ConfigError) as err:
        check_yaml(path)
    assert str(err.value).startswith(f"{path}, line 3, column 6: "), err.value
    assert "indent" in str(err.value)


@pytest.mark.workflow
def test_the_workflow_names_the_line_of_its_own_config_file_yaml_refuses(tmp_path):
    """Snakemake said only "Config file is not valid JSON or YAML", naming neither the file
    (config/config.yaml, read by the Snakefile's `configfile:`) nor the line."""
    wd = copy_workflow(tmp_path)
    cfg = wd / "config/config.yaml"
    cfg.write_text(cfg.read_text().replace("train:\n", "train:\n   bad: [1,\n", 1))
    out = snakemake(wd, "-n", check=False)
    assert out.returncode != 0
    assert f"ConfigError: {cfg}, line " in out.stderr, out.stderr
    assert "Traceback" not in out.stderr


def test_a_byte_not_utf8_in_a_file_with_cr_line_ends_is_named_at_its_line(tmp_path):
    """Lines ending in a lone CR (an old Mac editor's) are lines to YAML, but the byte's line
    was counted by LF bytes only: it was always said to be on line 1."""
    path = tmp_path / "config.yaml"
    path.write_bytes(b"train:\r  epochs: 2\r# donn\xe9es du labo\r")
    with pytest.raises(ConfigError) as err:
        check_yaml(path)
    assert str(err.value).startswith(f"{path}, line 3: byte 0xe9 "), err.value
