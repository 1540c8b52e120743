import keras
import numpy as np
import pytest

from keras_nst.weights import locate


def pytest_addoption(parser):
    parser.addoption(
        "--require-weights",
        action="store_true",
        help="Fail, instead of skipping, real_weights tests when the VGG19 "
        "weights are missing (CI sets this).",
    )


def pytest_collection_modifyitems(config, items):
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


@pytest.fixture(autouse=True)
def _seed():
    keras.utils.set_random_seed(0)


@pytest.fixture
def rng():
    return np.random.default_rng(0)
