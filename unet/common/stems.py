"""File stems as ids: a file's name less its extension, OME-TIFF's double one counted whole."""

from __future__ import annotations

from pathlib import PurePath

# Bio-Formats, QuPath and Fiji export OME-TIFF as x.ome.tif: image x, whose mask is x.tif or
# x.ome.tif and whose prediction is x.png (as .nii.gz is one extension of a volume's case)
_DOUBLE = (".ome.tif", ".ome.tiff")


def file_stem(path: PurePath) -> str:
    """`path`'s name less its extension: 'x' for x.png, x.ome.tif and x.OME.TIFF."""
    name = path.name
    for ext in _DOUBLE:
        if name.lower().endswith(ext) and len(name) > len(ext):
            return name[: -len(ext)]
    return path.stem


def extension(path: PurePath) -> str:
    """`path`'s extension as file_stem counts it: '.ome.tif' for x.ome.tif, '.png' for x.png."""
    return path.name[len(file_stem(path)):]


def without_extension(path: PurePath) -> PurePath:
    """`path` less its file's extension (s1/x for s1/x.ome.tif), its folders kept."""
    return path.with_name(file_stem(path))
