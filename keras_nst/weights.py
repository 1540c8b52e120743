"""The VGG19 ImageNet weights: where they live and whether they are intact.

Keras downloads `vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5` on
first use and caches it in `$KERAS_HOME/models` (default `~/.keras/models`);
`keras_nst.weights_fetch` puts the hash-checked file there where Keras'
own download cannot. Its md5 and sha256 are verified again on first use
(`verify_weights`), remembered in `<file>.verified`.

Nothing here imports Keras, so `keras-nst weights status` is instant.
"""

import contextlib
import functools
import hashlib
import json
import os
import pathlib
import time

from keras_nst.atomic import atomic_write
from keras_nst.errors import WeightsError

__all__ = [
    "WEIGHTS_FILE_NAME",
    "WEIGHTS_MD5",
    "WEIGHTS_SHA256",
    "WeightsError",
    "file_digests",
    "keras_home",
    "locate",
    "resolve_weights",
    "status",
    "stream_digests",
    "verify_weights",
    "weights_path",
]

WEIGHTS_FILE_NAME = "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"
"""The file name Keras looks for (`keras/src/applications/vgg19.py`)."""
WEIGHTS_MD5 = "253f8cb515780f3b799900260a226db6"
"""The md5 Keras checks, and so does `weights_fetch.fetch`."""
WEIGHTS_SHA256 = (
    "bde7da0dfd621cbf86e11ce04e4946a9a42634c2cfd21318bba090d860699e35"
)
"""The file's sha256, checked by `weights_fetch.fetch` and before use."""
WEIGHTS_SIZE = 80_134_624
"""The file's size in bytes."""
VERIFIED_SUFFIX = ".verified"
"""Appended to the weights file's path: the record of its last check."""

_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_FETCH_HINT = "run `keras-nst weights fetch` to download them"
_REFETCH_HINT = "run `keras-nst weights fetch --force` to download them again"
# A file modified this recently may be modified again within the same
# timestamp tick (coarse clocks; 2 s on FAT), so its check is not
# remembered: git treats "racily clean" index entries the same way.
_SETTLED_NS = 2_000_000_000


def keras_home() -> str:
    """The folder Keras caches downloads in, found the way Keras finds it.

    `$KERAS_HOME` if set; otherwise `~/.keras`, or `/tmp/.keras` when the
    home folder is not writable (`keras/src/backend/config.py`).
    """
    if "KERAS_HOME" in os.environ:
        return os.environ["KERAS_HOME"]
    base = os.path.expanduser("~")
    if not os.access(base, os.W_OK):
        base = "/tmp"  # noqa: S108 - the same fallback as Keras
    return os.path.join(base, ".keras")


def weights_path() -> str:
    """Where Keras looks for the VGG19 notop weights file."""
    return os.path.join(keras_home(), "models", WEIGHTS_FILE_NAME)


def stream_digests(stream, sink=None) -> tuple[str, str]:
    """The md5 and sha256 of what `stream` reads; each block also to `sink`."""
    digests = [hashlib.new(n, usedforsecurity=False) for n in ("md5", "sha256")]
    for block in iter(lambda: stream.read(1 << 20), b""):
        for digest in digests:
            digest.update(block)
        if sink is not None:
            sink(block)
    return tuple(digest.hexdigest() for digest in digests)


def file_digests(path: str) -> tuple[str, str]:
    """The md5 and sha256 of the file at `path`."""
    with open(path, "rb") as file:
        return stream_digests(file)


def _check_digests(path: str) -> None:
    md5, sha256 = file_digests(path)
    if md5 != WEIGHTS_MD5 or sha256 != WEIGHTS_SHA256:
        raise WeightsError(
            f"VGG19 weights at '{path}' are corrupt (sha256 {sha256}, "
            f"expected {WEIGHTS_SHA256}); {_REFETCH_HINT}"
        )


# Keyed by what the record holds, so a changed file (or expected hash)
# misses; a failure raises, so it is never cached.
@functools.lru_cache(maxsize=16)
def _verify_settled(path: str, size: int, mtime_ns: int, sha256: str) -> None:
    record = {"size": size, "mtime_ns": mtime_ns, "sha256": sha256}
    record_file = pathlib.Path(path + VERIFIED_SUFFIX)
    try:
        if json.loads(record_file.read_text(encoding="utf-8")) == record:
            return
    except (OSError, ValueError):
        pass  # absent or garbled: check the file again
    _check_digests(path)
    # A read-only cache cannot keep the record: then the next run checks.
    with contextlib.suppress(OSError):
        atomic_write(
            record_file,
            lambda partial: pathlib.Path(partial).write_text(
                json.dumps(record), encoding="utf-8"
            ),
        )


def verify_weights(path: str | os.PathLike | None = None) -> str:
    """Raises `WeightsError` unless the ImageNet weights file is intact.

    Checks the size, md5 and sha256; a pass is remembered by size and
    mtime (in this process and in `<file>.verified`), so the 80 MB are
    read again only after the file changes.

    Args:
        path: the file; by default the one in Keras' cache.

    Returns:
        The file's path.

    Raises:
        WeightsError: the file is missing, the wrong size or corrupt; the
            message says how to fetch it.
    """
    path = weights_path() if path is None else os.fspath(path)
    try:
        info = os.stat(path)
    except OSError:
        raise WeightsError(
            f"VGG19 ImageNet weights not found at '{path}'; {_FETCH_HINT}"
        ) from None
    if info.st_size != WEIGHTS_SIZE:
        raise WeightsError(
            f"VGG19 weights at '{path}' are incomplete or corrupt "
            f"({info.st_size} bytes, expected {WEIGHTS_SIZE}); "
            f"{_REFETCH_HINT}"
        )
    if info.st_mtime_ns < time.time_ns() - _SETTLED_NS:
        _verify_settled(path, info.st_size, info.st_mtime_ns, WEIGHTS_SHA256)
    else:
        _check_digests(path)
    return path


def locate(verify: bool = False) -> str | None:
    """The path of the cached weights file, or `None` if it is not there.

    Args:
        verify: also check the hashes as `verify_weights` does (reads all
            80 MB unless already checked); otherwise only the size.
    """
    path = weights_path()
    if not os.path.isfile(path) or os.path.getsize(path) != WEIGHTS_SIZE:
        return None
    try:
        return verify_weights(path) if verify else path
    except WeightsError:
        return None


def check_weights_file(path: str) -> None:
    """Raises `WeightsError` unless `path` is a readable HDF5 file."""
    if not os.path.isfile(path):
        raise WeightsError(f"Weights file not found: '{path}'")
    with open(path, "rb") as file:
        signature = file.read(len(_HDF5_SIGNATURE))
    if signature != _HDF5_SIGNATURE:
        raise WeightsError(f"Not an HDF5 (.h5) weights file: '{path}'")


def resolve_weights(weights: str | os.PathLike | None) -> str | None:
    """Turns a `weights` setting into what `keras.applications.VGG19` takes.

    Args:
        weights: `"imagenet"` (the cached official file, hash-checked by
            `verify_weights`), the path of a VGG19 notop `.h5` file (any
            weights, so only its format is checked, unless it is the
            cached file itself), or `None` (random initialisation).

    Returns:
        A local file path, or `None`.

    Raises:
        WeightsError: the file is missing, corrupt or not an HDF5 file;
            for `"imagenet"` the message says how to fetch it.
    """
    if weights is None:
        return None
    weights = os.fspath(weights)
    if weights == "imagenet":
        return verify_weights()
    check_weights_file(weights)
    # The cached file under another name is still the ImageNet file.
    cached = weights_path()
    if os.path.isfile(cached) and os.path.samefile(weights, cached):
        verify_weights()
    return weights


def status() -> dict:
    """Where the weights file is and whether it is intact.

    The hashes are computed afresh: the check by hand trusts no record.
    """
    path = weights_path()
    present = os.path.isfile(path)
    md5, sha256 = file_digests(path) if present else (None, None)
    return {
        "path": path,
        "present": present,
        "size": os.path.getsize(path) if present else None,
        "md5_ok": md5 == WEIGHTS_MD5,
        "sha256_ok": sha256 == WEIGHTS_SHA256,
        "keras_home": keras_home(),
    }
