"""The workflow run from another folder: `snakemake -s path/to/Snakefile`, `--directory`."""

from __future__ import annotations

from tests.conftest import copy_workflow, snakemake


def test_the_default_config_is_found_from_another_folder(tmp_path):
    """`snakemake -s wf/Snakefile` elsewhere (or `-d elsewhere`) stopped with 'Workflow
    defines configfile config/config.yaml but it is not present': the default config was
    looked for in the working directory, not beside the Snakefile."""
    wf = copy_workflow(tmp_path / "wf")
    elsewhere = tmp_path / "my project"
    elsewhere.mkdir()
    for args in (["-s", str(wf / "Snakefile")], ["-d", str(elsewhere)]):
        where = elsewhere if args[0] == "-s" else wf
        proc = snakemake(where, *args, "-n", "--cores", "1", check=False)
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert "results/synthetic/baseline/model.pt" in proc.stdout
