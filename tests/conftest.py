import os

# Before Keras: importing the package turns on the backend's speed
# switches, as for its users, so the tests run the same kernels.
import keras_nst  # noqa: F401

# isort: split
import keras
import numpy as np
import pytest
from PIL import Image

from keras_nst import model as model_module
from keras_nst.weights import locate


def pytest_addoption(parser):
    parser.addoption(
        "--require-weights",
        action="store_true",
        help="Fail, instead of skipping, real_weights tests when the VGG19 "
        "weights are missing (CI sets this).",
    )
    parser.addoption(
        "--require-browser",
        action="store_true",
        help="Fail, instead of skipping, browser tests when Chromium, its "
        "driver or selenium is missing (or set KERAS_NST_REQUIRE_BROWSER=1, "
        "as CI does).",
    )


def pytest_collection_modifyitems(config, items):
    _skip_without_browser(config, items)
    needs_weights = [item for item in items if "real_weights" in item.keywords]
    if not needs_weights or locate() is not None:
        return
    if config.getoption("--require-weights"):
        raise pytest.UsageError(
            "--require-weights: the VGG19 ImageNet weights are missing; run "
            "`keras-nst weights fetch` first."
        )
    skip = pytest.mark.skip(
        reason="VGG19 ImageNet weights not found; run `keras-nst weights "
        "fetch` to run these tests"
    )
    for item in needs_weights:
        item.add_marker(skip)


def missing_browser() -> str | None:
    """What the browser tests lack (Chromium, its driver, selenium), or None."""
    import importlib.util
    import shutil

    if importlib.util.find_spec("selenium") is None:
        return "selenium is not installed (pip install -e '.[dev]')"
    for program in ("chromium", "chromedriver"):
        if shutil.which(program) is None:
            return (
                f"{program} is not on PATH (Debian: apt-get install chromium "
                "chromium-driver)"
            )
    return None


def _skip_without_browser(config, items):
    needs_browser = [item for item in items if "browser" in item.keywords]
    missing = missing_browser() if needs_browser else None
    if missing is None:
        return
    required = config.getoption("--require-browser") or (
        os.environ.get("KERAS_NST_REQUIRE_BROWSER") == "1"
    )
    if required:
        raise pytest.UsageError(f"--require-browser: {missing}.")
    skip = pytest.mark.skip(reason=f"browser tests need a browser: {missing}")
    for item in needs_browser:
        item.add_marker(skip)


@pytest.fixture(scope="session")
def _empty_keras_home(tmp_path_factory):
    return str(tmp_path_factory.mktemp("keras-home-without-weights"))


@pytest.fixture(autouse=True)
def _no_weights_for_unit_tests(request, monkeypatch, _empty_keras_home):
    """Unit tests see a Keras home without the VGG19 file.

    So a unit test that needs the ImageNet weights fails here as it would
    on a machine without them, instead of quietly using the fetched file.
    """
    if "real_weights" not in request.keywords:
        monkeypatch.setenv("KERAS_HOME", _empty_keras_home)


@pytest.fixture(autouse=True)
def _step_compiled_alike_on_every_cpu(monkeypatch):
    """The step compiles the same way on every test machine.

    On a CPU without AVX-512, TensorFlow's step is XLA-compiled
    (`step_jit_compile`); compiling each test's small model would make the
    suite 2-3 times slower on such machines. `tests/test_backend_step.py`
    runs the XLA step explicitly, on every machine.
    """
    monkeypatch.setattr(model_module, "step_jit_compile", lambda: "auto")


@pytest.fixture(autouse=True)
def _seed():
    keras.utils.set_random_seed(0)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture
def photos(tmp_path, rng):
    """Two content photos (one nested, one JPEG) and a style image."""
    folder = tmp_path / "photos"
    (folder / "nested").mkdir(parents=True)
    for name, shape in (("a.png", (40, 60)), ("nested/b.jpg", (50, 35))):
        pixels = rng.integers(0, 256, (*shape, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / name)
    (folder / "notes.txt").write_text("not an image")
    style = tmp_path / "style.png"
    Image.fromarray(rng.integers(0, 256, (30, 30, 3), np.uint8)).save(style)
    return folder, style


@pytest.fixture
def default_sigint():
    """Ctrl-C's default handler, for tests that send the process SIGINT.

    A test run started in the background (`&`, nohup) inherits an ignored
    SIGINT, which keras-nst respects; these tests need the default.
    """
    import signal

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)
