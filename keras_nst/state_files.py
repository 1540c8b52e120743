"""The names of the files a run writes beside its output.

Its state to resume from, and its snapshots. Nothing here imports Keras.
"""

import os
import re
import string

__all__ = [
    "STATE_SUFFIX",
    "is_snapshot_name",
    "snapshot_pattern",
    "state_path",
]

STATE_SUFFIX = ".state.npz"
"""What `state_path` adds to an output's name."""


def state_path(output: str | os.PathLike) -> str:
    """The state file of a run that writes `output`: `out.png.state.npz`."""
    return os.fspath(output) + STATE_SUFFIX


def snapshot_pattern(path: str | os.PathLike) -> str:
    """The format pattern of the snapshots a run saves beside `path`.

    `path` itself when it has an `{iteration}` field, else
    `_{iteration:04d}` before the extension, the braces of the plain name
    kept as text: `out.png` gives `out_{iteration:04d}.png`.
    """
    path = os.fspath(path)
    if "{iteration" in path:
        return path
    root, extension = os.path.splitext(path)
    root = root.replace("{", "{{").replace("}", "}}")
    return root + "_{iteration:04d}" + extension


def is_snapshot_name(pattern: str, path: str | os.PathLike) -> bool:
    """Whether a run saving snapshots by `pattern` could write to `path`."""
    parts = []
    for text, field, _, _ in string.Formatter().parse(os.path.abspath(pattern)):
        parts.append(re.escape(text))
        if field is not None:
            parts.append(r"[ +-]?\d+")
    candidate = os.path.normcase(os.path.abspath(os.fspath(path)))
    expression = os.path.normcase("".join(parts))
    return re.fullmatch(expression, candidate) is not None
