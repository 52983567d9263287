"""What a power cut leaves of the outputs a rerun trusts: each is on disk before it is renamed."""

from __future__ import annotations

from tests.conftest import write_inputs, write_pair
from unet.cache.preprocess import preprocess
from unet.cache.settings import PreprocessSettings


def _moved(events: list[tuple], target) -> int:
    """The index of the one rename onto `target`."""
    (k,) = [i for i, e in enumerate(events) if e[0] == "replace" and e[2] == str(target)]
    return k


def test_the_cache_is_on_disk_before_meta_json_marks_it_complete(tmp_path, disk_events):
    # The cache's .npy files were filled through memory maps and renamed into place with their
    # pages still in the page cache: after a power cut (ext4's delayed allocation, XFS) they
    # could read as zeros at their full size (their blocks are reserved), meta.json beside
    # them, and Snakemake's rerun trusted them: training on blank images and masks, no error.
    write_inputs(tmp_path, [write_pair(tmp_path, i) for i in range(4)])
    cache = tmp_path / "cache"
    preprocess(tmp_path / "manifest.json", tmp_path / "split.json", cache,
               PreprocessSettings(width=20, height=16), processes=1)
    meta = _moved(disk_events, cache / "meta.json")
    npys = sorted(cache.glob("*.npy"))
    assert len(npys) == 6
    for path in [*npys, cache / "meta.json"]:
        k = _moved(disk_events, path)
        scratch = disk_events[k][1]
        assert ("fsync", scratch) in disk_events[:k], (path.name, disk_events)  # its bytes
        if path.name != "meta.json":  # its rename is on disk before meta.json says complete
            assert ("fsync", str(cache)) in disk_events[k:meta], (path.name, disk_events)
    assert ("fsync", str(cache)) in disk_events[meta:], disk_events  # meta.json's rename


def test_predicted_masks_and_probabilities_are_on_disk_when_the_step_ends(cli_model, tmp_path,
                                                                          disk_events):
    # predict_masks' folder is a directory() output: once the job ended, a rerun trusted every
    # file in it, though after a power cut a mask could read empty and its probabilities as
    # zeros (refine_crf then refined nothing). Each is synced at the end of the step, batched.
    from unet.infer.forward import PredictSettings
    from unet.infer.predict import predict_masks

    out = tmp_path / "pred"
    predict_masks([cli_model], cli_model.parent / "cache", "test", out,
                  PredictSettings(device="cpu"))
    synced = {e[1] for e in disk_events if e[0] == "fsync"}
    files = {str(p) for p in out.rglob("*") if p.is_file()}
    folders = {str(p) for p in out.rglob("*") if p.is_dir()}
    assert any(f.endswith(".png") for f in files) and any(f.endswith(".npy") for f in files)
    assert files <= synced and folders | {str(out)} <= synced, sorted(files - synced)


def _all_synced(out, disk_events) -> None:
    """Every file and folder under `out` (and `out`) was fsynced."""
    synced = {e[1] for e in disk_events if e[0] == "fsync"}
    files = {str(p) for p in out.rglob("*") if p.is_file()}
    assert files and files <= synced, sorted(files - synced)
    assert {str(p) for p in out.rglob("*") if p.is_dir()} | {str(out)} <= synced


def test_crf_masks_are_on_disk_when_the_step_ends(cli_model, tmp_path, disk_events, monkeypatch):
    # refine_crf's folder, a directory() output, was trusted by a rerun however little of it
    # reached the disk before a power cut: evaluate_masks then read empty masks
    import numpy as np
    from PIL import Image

    from unet.crf import refine

    def fake_refine(tasks, processes):  # the CRF itself is not what this test is about
        for task in tasks:
            Image.fromarray(np.zeros((4, 4), np.uint8)).save(task.out_path)

    monkeypatch.setattr(refine, "refine_all", fake_refine)
    root, out = cli_model.parent, tmp_path / "crf"
    refine.refine_crf(root / "manifest.json", root / "cache" / "meta.json", tmp_path / "pred",
                      out, None)
    _all_synced(out, disk_events)


def test_a_folder_of_new_images_masks_is_on_disk_before_the_record_is_trusted(
        cli_model, tmp_path, disk_events):
    # unet predict's rerun skips every image its record lists with the mask present: a mask
    # that a power cut left empty was skipped for good
    import numpy as np
    from PIL import Image

    from unet.infer.forward import PredictSettings
    from unet.infer.predict_folder import predict_folder

    folder, out = tmp_path / "images", tmp_path / "out"
    folder.mkdir()
    for k in range(2):
        Image.fromarray(np.full((40, 60, 3), 60 * k, np.uint8)).save(folder / f"i{k}.png")
    assert predict_folder([cli_model], folder, out, PredictSettings(device="cpu")) == 2
    _all_synced(out, disk_events)


def test_a_folder_of_new_images_syncs_only_what_this_run_wrote(cli_model, tmp_path,
                                                               disk_events):
    # unet predict -o into a folder of earlier results fsynced every file under it, however
    # many and whoever wrote them: 3,000 old masks cost 12-17 s a run, for one new image
    import numpy as np
    from PIL import Image

    from unet.infer.forward import PredictSettings
    from unet.infer.predict_folder import predict_folder

    folder, out = tmp_path / "images", tmp_path / "out"
    folder.mkdir()
    (out / "older").mkdir(parents=True)
    old = [out / "notes.txt", out / "older" / "a.png"]
    for path in old:
        path.write_bytes(b"x")
    Image.fromarray(np.full((40, 60, 3), 60, np.uint8)).save(folder / "i0.png")
    assert predict_folder([cli_model], folder, out, PredictSettings(device="cpu")) == 1
    synced = {e[1] for e in disk_events if e[0] == "fsync"}
    assert str(out / "i0.png") in synced and str(out) in synced, sorted(synced)
    assert not synced & {str(p) for p in old}, sorted(synced)
