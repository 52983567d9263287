"""Images a LabelMe JSON holds only as base64 `imageData` (LabelMe keeps it there unless told
not to, and such JSONs are often shared without their image files): written out under
resources/<name>/embedded_images/ when the manifest is written, in their own format, so that
every later step reads them as any image."""

from __future__ import annotations

import base64
import binascii
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PIL import Image

from unet.common.bad_files import kept, raise_all
from unet.common.fileio import atomic_path, make_folder
from unet.common.parallel import parallel_map
from unet.dataset.json_masks import read_tool_json
from unet.dataset.layout import DataLayoutError

# PIL's format -> the extension the bytes are written under: LabelMe writes PNG, or JPEG for
# a .jpg image; older versions kept the file's own bytes (BMP, TIFF)
EXTENSIONS = {"PNG": ".png", "JPEG": ".jpg", "BMP": ".bmp", "TIFF": ".tif"}
FIX = "open the image in LabelMe and save its JSON again, or put the image beside the JSON"
TURNED = (5, 6, 7, 8)  # EXIF orientations that swap width and height


def held_in_json(image: Path, masks: Any) -> bool:
    """True where pairing found no image file and the JSON holds it (its image is the JSON)."""
    return image == masks.json


def _decoded(path: Path) -> tuple[bytes, str]:
    """The JSON's imageData bytes and their extension, refused by name unless they decode to
    a whole image of a format read here and of the size its imageWidth/imageHeight give."""
    data = read_tool_json(path, FIX)  # pairing read it; it may have been saved again since
    try:
        text = data.get("imageData") or ""
        # web tools write a data URL (data:image/png;base64,...); line breaks are skipped
        raw = base64.b64decode(text.split(",", 1)[-1] if text.startswith("data:") else text)
        with Image.open(io.BytesIO(raw)) as im:
            fmt, (w, h), turn = im.format, im.size, im.getexif().get(0x0112, 1)
            im.load()  # a truncated or damaged image fails here, not in training
    except (binascii.Error, AttributeError, TypeError, OSError, SyntaxError, ValueError) as err:
        raise DataLayoutError(f"{path}: its imageData is not a base64 image ({err}); "
                              f"{FIX}") from None
    if fmt not in EXTENSIONS:
        raise DataLayoutError(f"{path}: its imageData is a {fmt} image; images held in a JSON "
                              f"are read as {', '.join(EXTENSIONS)}: {FIX}")
    w, h = (h, w) if turn in TURNED else (w, h)  # as the image readers turn it
    size = (data.get("imageWidth"), data.get("imageHeight"))
    if all(isinstance(v, int) for v in size) and size != (w, h):
        raise DataLayoutError(f"{path}: its imageData is a {w}x{h} image, but its imageWidth x "
                              f"imageHeight say {size[0]}x{size[1]}: the JSON was edited or "
                              f"annotated on another image; {FIX}")
    return raw, EXTENSIONS[fmt]


def _write(job: tuple[Path, Path]) -> Path | Exception:
    """Write one JSON's image as its bytes are (a JPEG is not encoded again) to dest + its
    extension, atomically; unchanged bytes are left as they are. Bad input is returned."""
    json_path, dest = job
    try:
        raw, ext = _decoded(json_path)
    except (DataLayoutError, OSError) as err:
        return kept(err if isinstance(err, DataLayoutError) else DataLayoutError(
            f"{json_path} cannot be read again ({err}); {FIX}"))
    out = dest.with_name(dest.name + ext)
    if not (out.is_file() and out.read_bytes() == raw):  # a rerun leaves its date alone
        make_folder(out.parent)
        with atomic_path(out) as tmp:
            tmp.write_bytes(raw)
    for other in set(EXTENSIONS.values()) - {ext}:  # the JSON held another format before
        dest.with_name(dest.name + other).unlink(missing_ok=True)
    return out


def write_embedded(found: Sequence[tuple[str, Path, Any]], folder: Path, processes: int = 1
                   ) -> tuple[list[tuple[str, Path, Any]], dict[str, Path]]:
    """The pairs with each image held in its JSON written to `folder`/<id>.<ext> and named
    there, and those JSONs by id; every JSON whose imageData is no usable image refused at
    once, by name."""
    jobs = {pid: (masks.json, folder / pid) for pid, image, masks in found
            if held_in_json(image, masks)}
    if not jobs:
        return list(found), {}
    done = dict(zip(jobs, parallel_map(_write, jobs.values(), processes, "write images"),
                    strict=True))
    raise_all([(str(jobs[pid][0]), out) for pid, out in done.items()
               if isinstance(out, Exception)], "LabelMe JSONs' images cannot be written",
              "JSON(s)")
    return ([(pid, done.get(pid, image), masks) for pid, image, masks in found],
            {pid: json_path for pid, (json_path, _) in jobs.items()})
