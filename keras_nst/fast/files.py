"""Which files `stylize` reads, and where each result goes.

Inputs are files, folders (searched recursively) and glob patterns. A
file's result is named after it; a folder's (or a pattern's) keep their
paths below it. Where two results would still share a name, they keep
their paths below the inputs' common folder, so `a/x.jpg` and `b/x.jpg`
become `OUT/a/x.png` and `OUT/b/x.png`: no two results are one file.
Nothing here imports Keras or reads an image.
"""

import dataclasses
import glob
import os
from collections.abc import Sequence

from keras_nst.image_io import IMAGE_EXTENSIONS

__all__ = ["StylizeItem", "VIDEO_TYPES", "plan_outputs"]

VIDEO_TYPES = (".mp4", ".webm", ".gif")
"""The video files `stylize` takes (and writes, as the same type)."""

_GLOB_CHARACTERS = frozenset("*?[")


@dataclasses.dataclass(frozen=True)
class StylizeItem:
    """One input of a `stylize` run and its result's path.

    Attributes:
        source: the input file.
        output: where its result goes: a `.png` for an image, the same
            type for a video.
        is_video: whether it is a video.
    """

    source: str
    output: str
    is_video: bool


def _is_video(path: str) -> bool:
    return os.path.splitext(path)[1].lower() in VIDEO_TYPES


def _wanted(path: str) -> bool:
    return path.lower().endswith(IMAGE_EXTENSIONS + VIDEO_TYPES)


def _expand(argument: str) -> list[tuple[str, str]]:
    """(file, the folder its relative path starts from) for one argument."""
    if os.path.isdir(argument):
        found = sorted(
            os.path.join(root, name)
            for root, folders, names in os.walk(argument)
            for name in names
            if _wanted(name) and not name.startswith(".")
        )
        if not found:
            raise ValueError(f"No images or videos under '{argument}'.")
        return [(path, argument) for path in found]
    if os.path.exists(argument) or not _GLOB_CHARACTERS & set(argument):
        # A missing file is read, and reported, with the others.
        return [(argument, os.path.dirname(argument))]
    matches = sorted(
        path
        for path in glob.glob(argument, recursive=True)
        if os.path.isfile(path) and _wanted(path)
    )
    if not matches:
        raise ValueError(f"No images or videos match '{argument}'.")
    # The folder above the first wildcard: paths below it are kept.
    first = min(i for i, c in enumerate(argument) if c in _GLOB_CHARACTERS)
    fixed = argument[:first]
    return [(path, os.path.dirname(fixed)) for path in matches]


def plan_outputs(
    inputs: Sequence[str | os.PathLike], output_dir: str | os.PathLike
) -> list[StylizeItem]:
    """Lists the files to stylise and the path of each result.

    A file's result is named after it; a folder stands for the images and
    videos under it, whose results keep their paths below it, as a glob
    pattern's keep theirs below the folder before its first wildcard.
    Results that would share a name keep their paths below the folder all
    the inputs share. An image's result is a `.png`; if two inputs would
    still give one name (`x.jpg` and `x.png`), both keep their extension
    in it (`x_jpg.png`, `x_png.png`). A file listed twice is stylised
    once.

    Args:
        inputs: files, folders and glob patterns (`photos/**/*.jpg`).
        output_dir: the folder the results go under.

    Returns:
        The items, in the order given (a folder's files sorted).

    Raises:
        ValueError: a folder or pattern with no images or videos.
    """
    found: list[tuple[str, str]] = []
    seen = set()
    for argument in inputs:
        for path, base in _expand(os.fspath(argument)):
            key = os.path.realpath(path)
            if key not in seen:
                seen.add(key)
                found.append((path, base))
    if not found:
        return []
    # Each path below its own folder; where two would clash, below the
    # folder all the inputs share.
    relative = [
        os.path.relpath(os.path.abspath(path), os.path.abspath(base or "."))
        for path, base in found
    ]
    common = os.path.commonpath(
        [os.path.abspath(base or ".") for _, base in found]
    )
    stems = [os.path.splitext(path)[0] for path in relative]
    relative = [
        os.path.relpath(os.path.abspath(path), common)
        if stems.count(stem) > 1
        else own
        for (path, _), own, stem in zip(found, relative, stems, strict=True)
    ]
    names = [_result_name(path) for path in relative]
    clashing = {name for name in names if names.count(name) > 1}
    names = [
        _result_name(path, keep_type=name in clashing)
        for path, name in zip(relative, names, strict=True)
    ]
    if len(set(names)) < len(names):
        clash = next(name for name in names if names.count(name) > 1)
        raise ValueError(
            f"Two inputs would give one result, '{clash}': rename one."
        )
    output_dir = os.fspath(output_dir)
    return [
        StylizeItem(path, os.path.join(output_dir, name), _is_video(path))
        for (path, _), name in zip(found, names, strict=True)
    ]


def _result_name(relative: str, keep_type: bool = False) -> str:
    stem, extension = os.path.splitext(relative)
    if keep_type:
        stem += "_" + extension[1:].lower()
    return stem + (extension.lower() if _is_video(relative) else ".png")
