import inspect
import os
import subprocess
import sys
import zipfile

import keras
import numpy as np
import pytest

from keras_nst.fast.config import TrainConfig
from keras_nst.fast.network import TransformNet
from keras_nst.fast.network import load_transform
from keras_nst.fast.network import reflect_pad
from keras_nst.fast.padding import MIN_SIDE
from keras_nst.fast.padding import pad_for_network
from keras_nst.fast.padding import padded_side
from tests.fast.helpers import weights_of

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
SHIPPED = os.path.join(ROOT, "examples", "models", "starry_night.keras")
RUNNER = os.path.join(ROOT, "tests", "distribution", "run.py")


@pytest.mark.parametrize(
    "shape", [(1, 37, 53, 3), (2, 9, 13, 3), (1, 64, 64, 3)]
)
def test_transform_keeps_any_size_and_pixel_range(shape, rng):
    net = TransformNet(filters=4, residual_blocks=1)
    images = rng.uniform(0, 255, shape).astype("float32")
    out = keras.ops.convert_to_numpy(net(images))
    assert out.shape == shape
    assert out.min() >= 0.0 and out.max() <= 255.0


def test_network_defaults_are_the_training_defaults():
    parameters = inspect.signature(TransformNet).parameters
    for name in ("filters", "residual_blocks"):
        assert parameters[name].default == getattr(TrainConfig(), name)


def test_reflect_pad_matches_numpy(rng):
    images = rng.uniform(0, 1, (2, 5, 7, 3)).astype("float32")
    got = keras.ops.convert_to_numpy(reflect_pad(images, 2, 1, 3, 0))
    expected = np.pad(images, ((0, 0), (2, 1), (3, 0), (0, 0)), "reflect")
    np.testing.assert_array_equal(got, expected)


def test_a_seed_fixes_the_initial_weights_without_the_global_seed():
    keras.utils.set_random_seed(1)
    first = weights_of(TransformNet(4, 2, seed=3))
    keras.utils.set_random_seed(2)
    keras.random.uniform((5,))
    second = weights_of(TransformNet(4, 2, seed=3))
    other = weights_of(TransformNet(4, 2, seed=4))
    assert len(first) == len(second) > 0
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for a, b in zip(first, other))


def test_each_convolution_gets_its_own_seed():
    net = TransformNet(4, 2, seed=0)
    kernels = {
        layer.name: keras.ops.convert_to_numpy(layer.kernel)
        for block in net.blocks
        for layer in block
        if isinstance(layer, keras.layers.Conv2D)
    }
    # Four convolutions of the same shape in the residual blocks.
    assert len(kernels) == 4
    assert len({k.shape for k in kernels.values()}) == 1
    values = list(kernels.values())
    for i in range(len(values)):
        for j in range(i):
            assert not np.allclose(values[i], values[j])


def test_unseeded_networks_differ():
    a = weights_of(TransformNet(4, 1))
    b = weights_of(TransformNet(4, 1))
    assert any(not np.array_equal(x, y) for x, y in zip(a, b))


def test_saved_network_loads_with_its_settings(tmp_path, rng):
    net = TransformNet(filters=4, residual_blocks=2, seed=7)
    path = tmp_path / "net.keras"
    net.save(path)
    loaded = load_transform(path)
    assert (loaded.filters, loaded.residual_blocks, loaded.seed) == (4, 2, 7)
    image = rng.uniform(0, 255, (1, 13, 18, 3)).astype("float32")
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(loaded(image)),
        keras.ops.convert_to_numpy(net(image)),
        rtol=1e-5,
        atol=1e-4,
    )


def test_the_shipped_model_still_loads(rng):
    # Saved before the network moved to keras_nst.fast.network: the file
    # names the class "keras_nst>TransformNet".
    assert keras.saving.get_registered_name(TransformNet) == (
        "keras_nst>TransformNet"
    )
    net = load_transform(SHIPPED)
    assert (net.filters, net.residual_blocks) == (32, 5)
    image = rng.uniform(0, 255, (1, 20, 28, 3)).astype("float32")
    out = keras.ops.convert_to_numpy(net(image))
    assert out.shape == image.shape
    # A trained network, not a fresh one: its output is not ~127.5 grey.
    assert out.std() > 10


def test_load_transform_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="Model file not found"):
        load_transform(tmp_path / "missing.keras")
    other = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    other.save(tmp_path / "other.keras")
    with pytest.raises(ValueError, match="not a TransformNet"):
        load_transform(tmp_path / "other.keras")


@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="runs every backend in its own process; once per suite is enough",
)
def test_saved_model_gives_the_same_output_on_every_backend(tmp_path, rng):
    net = TransformNet(filters=8, residual_blocks=2)
    path = tmp_path / "net.keras"
    net.save(path)
    image = rng.uniform(0, 255, (1, 21, 34, 3)).astype("float32")
    np.save(tmp_path / "image.npy", image)
    expected = keras.ops.convert_to_numpy(net(image))
    for backend in ("jax", "torch"):
        env = dict(os.environ, KERAS_BACKEND=backend)
        run = subprocess.run(
            [sys.executable, RUNNER, "stylize", str(path), str(tmp_path)],
            env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert run.returncode == 0, run.stderr[-2000:]
        got = np.load(tmp_path / f"out_{backend}.npy")
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize(
    "shape",
    [(1, 1, 1, 3), (1, 5, 3, 3), (2, 2, 7, 3), (1, 1, 9, 3), (1, 4, 4, 3)],
)
def test_transform_takes_images_down_to_one_pixel(shape, rng):
    net = TransformNet(filters=4, residual_blocks=1)
    images = rng.uniform(0, 255, shape).astype("float32")
    out = keras.ops.convert_to_numpy(net(images))
    assert out.shape == shape
    assert np.isfinite(out).all()
    assert out.min() >= 0.0 and out.max() <= 255.0


@pytest.mark.parametrize("height", range(1, 10))
def test_padding_mirrors_up_to_what_the_layers_take(height, rng):
    width = 10 - height
    images = rng.uniform(0, 255, (2, height, width, 3)).astype("float32")
    got = keras.ops.convert_to_numpy(pad_for_network(images))
    side_h, side_w = padded_side(height), padded_side(width)
    assert got.shape == (2, side_h, side_w, 3)
    assert side_h % 4 == 0 and side_h >= MIN_SIDE
    # NumPy mirrors again where the pad is longer than the side, and
    # repeats a side of one pixel.
    expected = np.pad(
        images, ((0, 0), (0, side_h - height), (0, side_w - width), (0, 0)),
        "reflect",
    )  # fmt: skip
    np.testing.assert_array_equal(got, expected)


def _truncated(path, model):
    path.write_bytes(model.read_bytes()[: model.stat().st_size // 2])


def _random_bytes(path, model):
    path.write_bytes(np.random.default_rng(0).bytes(4000))


def _empty(path, model):
    path.write_bytes(b"")


def _other_zip(path, model):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("notes.txt", "not a model")


def _broken_weights(path, model):
    with zipfile.ZipFile(model) as source, zipfile.ZipFile(path, "w") as out:
        for name in source.namelist():
            data = source.read(name)
            if name.endswith(".h5"):
                data = data[:64] + b"\0" * (len(data) - 64)
            out.writestr(name, data)


def _folder(path, model):
    path.mkdir()


@pytest.mark.parametrize(
    "make",
    [_truncated, _random_bytes, _empty, _other_zip, _broken_weights, _folder],
)
def test_an_unreadable_model_file_is_a_one_line_error(make, tmp_path):
    model = tmp_path / "good.keras"
    TransformNet(filters=4, residual_blocks=1).save(model)
    path = tmp_path / "m.keras"
    make(path, model)
    with pytest.raises((ValueError, OSError)) as caught:
        load_transform(path)
    message = str(caught.value)
    assert message.startswith(
        f"Cannot read '{path}' as a keras-nst transform network: "
    )
    assert "\n" not in message
    assert "not found" not in message.lower()
