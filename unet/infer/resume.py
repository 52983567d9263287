"""What made the masks in a folder of new images' masks, so a rerun predicts only what is missing
or stale, and never puts two models' masks in one folder.

The record is `.unet-predict.jsonl` in the folder: a first line naming the model files (by
digest) and the settings that change a mask, then a line for each mask as it is written, with
its image's path and (size, mtime, ctime). An image whose line matches it still, and whose mask
is there, is skipped; a changed image (even an older-dated copy: cp -p keeps the mtime, not the
ctime), a missing mask or a line lost to a crash has it predicted again. Device, batch size and
threads are not recorded: they change a mask only where two classes all but tie (batches.py),
and a smaller batch after running out of GPU memory must resume the run, not refuse it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path, PurePosixPath

from unet.common.fileio import atomic_path, temp_beside
from unet.common.georef import SIDECAR
from unet.infer.out_checks import mask_names

log = logging.getLogger(__name__)

RECORD = ".unet-predict.jsonl"  # hidden: neither an image to list_images nor a *.png mask
VERSION = 1


def written_names(masks: list[str]) -> list[str]:
    """The names unet predict writes into its folder for the `masks` (out_checks.mask_names):
    each mask and its georeferencing sidecar, and the record."""
    return [RECORD, *(f"{m}{x}" for m in masks for x in ("", SIDECAR))]


def _stat(path: str | os.PathLike, inode: bool = False) -> list[int]:
    """What tells a file changed: its size, mtime and ctime (no copy tool can set the ctime),
    and for a model its inode: FAT and SMB times step by 1 or 2 s, and a model.pt renamed over
    within the step by the same network's weights has the same size and times."""
    st = os.stat(path)
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, *[st.st_ino] * inode]


def model_stat(path: str | os.PathLike) -> list[int]:
    """A model file's stat as the record holds it: a caller that reads the model before the
    record hashes it (unet predict --rle, its classes) gives it to predict_files to compare."""
    return _stat(path, inode=True)


def _model(path: str | os.PathLike, known: list) -> dict:
    """A model file's path, stat and sha256; the digest an earlier record holds for the same
    path and stat is taken as is (hashing a 500 MB model.pt every rerun costs a second)."""
    path = os.path.abspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: no such model file; give a model.pt that train_unet "
                                "wrote")
    now = {"path": path, "stat": _stat(path, inode=True)}
    for old in known:
        if isinstance(old, dict) and {k: old.get(k) for k in now} == now and old.get("sha256"):
            return {**now, "sha256": old["sha256"]}
    with open(path, "rb") as f:
        return {**now, "sha256": hashlib.file_digest(f, "sha256").hexdigest()}


def mask_settings(settings, roi: str | None) -> dict:
    """The predict settings (PredictSettings) that change a mask, and the regions of interest's
    template `roi` (absolute: a rerun from another folder names the same files)."""
    return {"tta": settings.tta, "overlap": settings.overlap, "amp": settings.amp,
            "amp_cpu": settings.amp_cpu, "roi": roi and os.path.abspath(roi),
            # only where set: the records of runs before --rescale still match
            **({"rescale": settings.rescale} if settings.rescale != 1 else {})}


def _read(path: Path) -> tuple[dict | None, dict[str, dict]]:
    """A record's first line and its last line for each mask (None and none where there is no
    record); a line cut off by a crash (only the last can be) is left out: that mask is
    predicted again. A folder of its name, or a file this user may not read, is refused."""
    try:
        lines = path.read_bytes().splitlines()
    except FileNotFoundError:
        return None, {}
    except IsADirectoryError:
        raise FileExistsError(
            f"{path} is a folder, where unet predict keeps its record of what made each mask "
            "there: remove it (or move it away), or write to another folder (-o)") from None
    except PermissionError:
        raise PermissionError(
            f"{path}: this user may not read it (unet predict's record of what made each mask "
            "there, another user's?): make it readable (chmod a+r), or write to another folder "
            "(-o)") from None
    parsed = []
    for line in lines:
        try:
            parsed.append(json.loads(line))
        except ValueError:
            continue
    if not parsed or not isinstance(parsed[0], dict) or "models" not in parsed[0]:
        return None, {}
    entries = {e["mask"]: e for e in parsed[1:] if isinstance(e, dict) and "mask" in e}
    return parsed[0], entries


def _made_by(header: dict) -> tuple:
    """What a record's masks depend on: its version, the models' digests and the settings."""
    models = header.get("models")
    digests = [m.get("sha256") for m in models] if isinstance(models, list) else models
    return header.get("version"), digests, header.get("settings")


def _differs(old: dict, new: dict) -> str:
    """How the run that made a folder's masks differs from this one, in words."""
    if (version := old.get("version")) != VERSION:  # its models need not be others
        newer = isinstance(version, int) and version > VERSION
        return (f"{'a newer' if newer else 'another'} version of unet (its record is version "
                f"{version}, this one's {VERSION}; run that version there)")
    if _made_by(old)[:2] != _made_by(new)[:2]:
        paths = ", ".join(str(m.get("path")) for m in old.get("models") or [] if
                          isinstance(m, dict))
        return f"another model ({paths or 'unknown'}, of other weights than these)"
    then, now = old.get("settings") or {}, new["settings"]
    return ", ".join(f"{k} {then.get(k)!r} then, {now[k]!r} now" for k in now
                     if then.get(k) != now[k])


def _image_of(entry: dict | None) -> dict | None:
    """A mask's line less what is known only once the mask is written."""
    return entry and {k: v for k, v in entry.items() if k not in ("written", "nodata")}


def _written_as(out_dir: Path, name: str, entry: dict) -> bool:
    """Whether the file `name` is the mask the line says a run wrote: a plain name, of the
    size and mtime then (a user's own file put in its place since is not; a line of before
    masks' sizes were recorded is taken as it is)."""
    parts = PurePosixPath(name).parts  # a nested folder's masks mirror its subfolders
    if not parts or parts[0] == "/" or ".." in parts or not name.endswith(".png"):
        return False  # not a name a mask is written under: never removed
    return "written" not in entry or _stat(out_dir / name)[:2] == entry["written"]


class Record:
    """The record of an output folder: which images' masks are up to date, and a line added for
    each mask as it is written."""

    def __init__(self, out_dir: str | os.PathLike, model_paths: list, settings: dict,
                 overwrite: bool = False) -> None:
        self.out_dir, self.path = Path(out_dir), Path(out_dir) / RECORD
        old, entries = _read(self.path)
        known = old.get("models") if old and isinstance(old.get("models"), list) else []
        self.header = {"version": VERSION, "models": [_model(p, known) for p in model_paths],
                       "settings": settings}
        self.entries = {m: e for m, e in entries.items() if (self.out_dir / m).is_file()}
        self.overwrite, self._old, self._fd, self._now = overwrite, old, None, {}
        self.replacing = old is not None and bool(self.entries) and _made_by(old) != _made_by(
            self.header)  # masks of another model or settings
        if self.replacing and not overwrite:
            raise FileExistsError(
                f"{self.out_dir} holds {len(self.entries)} masks made by "
                f"{_differs(old, self.header)} ({RECORD} there says so): predicting into it "
                "would mix two runs' masks. Write to another folder (-o), or give --overwrite "
                "to remove those masks and predict these images again")

    def same_models(self) -> None:
        """Refuse when a model file changed since it was hashed (a training run replaced it):
        the weights loaded may be the new ones, and their masks would go under the old digest."""
        for m in self.header["models"]:
            if not os.path.isfile(m["path"]) or _stat(m["path"], inode=True) != m["stat"]:
                raise RuntimeError(
                    f"{m['path']} changed while this run loaded it (a training run writing "
                    "it?): the masks could not be told apart from the earlier file's; nothing "
                    "was written, run again once the model file is finished")

    def read_as(self, stat: list[int]) -> None:
        """Refuse where the first model file is not the one a caller read before (model_stat):
        --rle reads its classes, and a model.pt renamed over in between (a training run
        finishing) had its masks made in the new file's classes, and encoded in the old's."""
        path = self.header["models"][0]["path"]
        if self.header["models"][0]["stat"] != stat:
            raise RuntimeError(
                f"{path} changed between the reading of its classes (--rle) and this run's "
                "(a training run writing it?): its masks would be encoded in another model's "
                "classes; nothing was written, run again once the model file is finished")

    def check_appendable(self) -> None:
        """Refuse, before any work, a record this run would add its lines to but may not write
        (another user's run into a shared folder): the first mask was written, and its line
        then ended the run in a bare 'Permission denied'. One replaced needs only the folder."""
        if self._old != self.header or self.replacing:
            return
        try:
            os.close(os.open(self.path, os.O_WRONLY | os.O_APPEND))  # nothing written
        except PermissionError:
            raise PermissionError(
                f"{self.path}: this user may not write it (unet predict's record of what made "
                "each mask there, another user's?): make it writable (chmod u+w, or ask its "
                "owner), or write to another folder (-o)") from None

    def todo(self, files: list[Path], rois: list[Path | None],
             masks: dict[Path, str] | None = None) -> list[int]:
        """Indices of the files whose masks (`masks`, mask_names'; <stem>.png) are missing or
        stale (all of them to overwrite)."""
        masks, stale = masks or mask_names(files), []
        for k, (path, roi) in enumerate(zip(files, rois, strict=True)):
            now = {"mask": masks[path], "image": os.path.abspath(path),
                   "stat": _stat(path), "roi": roi and _stat(roi)}
            self._now[path] = now
            if self.overwrite or self.replacing or _image_of(self.entries.get(now["mask"])) != now:
                stale.append(k)
        return stale

    def begin(self) -> None:
        """Before the first mask: with --overwrite, another run's masks go, and its record."""
        if self.replacing:
            theirs = [m for m, e in self.entries.items() if _written_as(self.out_dir, m, e)]
            for name in theirs:  # and its georeferencing, else left beside no mask
                (self.out_dir / name).unlink(missing_ok=True)
                (self.out_dir / f"{name}{SIDECAR}").unlink(missing_ok=True)
            log.warning("%s: the %d masks of %s removed (--overwrite)", self.out_dir,
                        len(theirs), _differs(self._old, self.header))
            if kept := sorted(set(self.entries) - set(theirs)):
                log.warning("%s: %s kept: changed since that run wrote them (your own files?)",
                            self.out_dir, ", ".join(kept[:20]) + (", ..." if kept[20:] else ""))
            self.entries = {}
            self._open()

    def _open(self) -> None:
        """Open the record to add lines. One with this very header is added to as it is: runs
        sharing the folder at once (an array job's parts) each rewrote it, and the lines the
        others had written went to a file no longer there. Else it is written whole first (the
        header, and the lines of these models' masks still there), and made only where none is:
        another run may have made it meanwhile, and is then read again."""
        while True:
            now, entries = _read(self.path)
            if now == self.header and not self.replacing:
                self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
                if not self.path.read_bytes().endswith(b"\n"):
                    os.write(self._fd, b"\n")  # a line a crash cut off ends there, not in ours
                return
            live = {m: e for m, e in entries.items() if (self.out_dir / m).is_file()}
            same = now is not None and _made_by(now) == _made_by(self.header)
            if live and not same and not self.replacing:  # another run's, begun meanwhile
                raise FileExistsError(
                    f"{self.out_dir}: a run of {_differs(now, self.header)} has written "
                    f"{len(live)} masks into it since this one began ({RECORD} there says so): "
                    "this run stops rather than mix two runs' masks; write to another folder")
            # the same weights (the model moved, or its file was touched): their lines kept
            kept = live if same and not self.replacing else self.entries
            text = "".join(json.dumps(e) + "\n" for e in [self.header, *kept.values()])
            if now is not None or self.path.exists():  # another run's, or unreadable: replaced
                with atomic_path(self.path) as tmp:
                    tmp.write_text(text)
                break
            if self._create(text):
                break
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)

    def _create(self, text: str) -> bool:
        """Write a new record whole; False where another run made one first."""
        tmp = temp_beside(self.path)
        try:
            tmp.write_text(text)
            os.link(tmp, self.path)  # whole at once, and only where none is yet
            return True
        except FileExistsError:
            return False
        except OSError:  # a file system without hard links (FAT, some network shares)
            os.replace(tmp, self.path)
            return True
        finally:
            tmp.unlink(missing_ok=True)

    def done(self, path: Path) -> None:
        """A line for `path`'s mask, just written whole: one write, so a crash cuts off at most
        that line. The record is written with the first mask, not before: a run that writes
        none leaves the folder as it was."""
        if self._fd is None:
            try:
                self._open()
            except FileExistsError:
                mask = self.out_dir / self._now[path]["mask"]  # this run's, and its sidecar
                mask.unlink(missing_ok=True)
                Path(f"{mask}{SIDECAR}").unlink(missing_ok=True)
                raise
        mask = self.out_dir / self._now[path]["mask"]
        # what --overwrite may remove; its scene's no-data marked (write_georef ran before)
        line = {**self._now[path], "written": _stat(mask)[:2], "nodata": 1}
        os.write(self._fd, (json.dumps(line) + "\n").encode())

    def checked(self, path: Path) -> bool:
        """Whether `path`'s mask line says its no-data was marked: a mask written before
        (2026-12-06) kept the classes on its scene's fill, its sidecar declaring none."""
        return "nodata" in (self.entries.get(self._now[path]["mask"]) or {})

    def close(self) -> None:
        """Close the record (each line is written already)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
