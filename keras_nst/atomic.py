"""Writing a file so that it appears complete or not at all."""

import os
import tempfile
from collections.abc import Callable

__all__ = ["TEMPORARY_PREFIX", "atomic_write"]

TEMPORARY_PREFIX = ".keras-nst-"
"""The name every partial file starts with, hidden on Unix."""


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(
    path: str | os.PathLike, write: Callable[[str], object]
) -> None:
    """Calls `write(partial_path)`, then renames the result to `path`.

    The partial file lives in `path`'s folder (so the rename is atomic)
    under a hidden name that keeps `path`'s extension (Keras and NumPy want
    theirs). It is removed if `write` or the rename fails for any reason,
    `KeyboardInterrupt` included; an existing `path` is untouched until
    the rename.

    Args:
        path: the file to write.
        write: writes a whole file at the path it is given.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    handle, partial = tempfile.mkstemp(
        prefix=TEMPORARY_PREFIX,
        suffix=os.path.splitext(path)[1],
        dir=folder,
    )
    os.close(handle)
    try:
        write(partial)
        # mkstemp makes the file private; give it the usual permissions.
        os.chmod(partial, 0o666 & ~_umask())
        os.replace(partial, path)
    except BaseException:
        if os.path.exists(partial):
            os.unlink(partial)
        raise
