import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from keras_nst.fast import TransformNet
from keras_nst.fast.convolution import conv2d
from keras_nst.fast.convolution import rowwise_conv
from keras_nst.fast.convolution import upsampled_conv
from keras_nst.fast.inference import Stylizer
from keras_nst.fast.network import ReflectionPadding2D


@pytest.mark.parametrize("size, channels, filters", [(9, 3, 5), (3, 6, 2)])
def test_a_conv_split_into_rows_is_the_conv(rng, size, channels, filters):
    images = rng.normal(size=(2, 13, 11, channels)).astype("float32")
    kernel = rng.normal(size=(size, size, channels, filters)).astype("float32")
    expected = keras.ops.convert_to_numpy(
        keras.ops.conv(images, kernel, strides=1, padding="valid")
    )
    split = keras.ops.convert_to_numpy(rowwise_conv(images, kernel))
    np.testing.assert_allclose(split, expected, rtol=1e-4, atol=1e-4)


def test_conv2d_gives_the_layer_s_output(rng):
    layer = keras.layers.Conv2D(3, 9, activation="relu")
    images = rng.normal(size=(1, 20, 17, 4)).astype("float32")
    expected = keras.ops.convert_to_numpy(layer(images))
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(conv2d(layer, images)), expected, atol=1e-4
    )


@pytest.mark.parametrize("shape", [(2, 6, 9, 7), (1, 1, 1, 4), (1, 2, 5, 16)])
def test_an_upsampled_conv_is_upsample_mirror_and_conv(rng, shape):
    layer = keras.layers.Conv2D(5, 3, activation="relu")
    layer.build((None, None, None, shape[-1]))
    images = rng.normal(size=shape).astype("float32")
    upsampled = keras.layers.UpSampling2D(2)(images)
    expected = layer(ReflectionPadding2D(1)(upsampled))
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(upsampled_conv(layer, images)),
        keras.ops.convert_to_numpy(expected),
        atol=1e-4,
    )


def test_the_stylizer_gives_the_network_s_output(rng):
    network = TransformNet(filters=4, residual_blocks=1, seed=0)
    for shape in [(2, 21, 17, 3), (1, 8, 9, 3)]:  # a second shape: recompiled
        images = rng.uniform(0, 255, shape).astype("float32")
        expected = keras.ops.convert_to_numpy(network(images))
        out = Stylizer(network)(images)
        assert out.shape == shape and out.dtype == np.float32
        np.testing.assert_allclose(out, expected, atol=1e-3)


RUNNER = os.path.join(
    os.path.dirname(os.path.dirname(__file__)), "distribution", "run.py"
)


@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="runs every backend in its own process; once per suite is enough",
)
@pytest.mark.parametrize("backend", ["jax", "tensorflow"])
def test_data_parallel_inference_on_two_virtual_devices(backend, rng, tmp_path):
    network = TransformNet(filters=4, residual_blocks=1, seed=0)
    network.save(tmp_path / "net.keras")
    # Three images on two devices: the batch is padded, the spare dropped.
    images = rng.uniform(0, 255, (3, 19, 14, 3)).astype("float32")
    np.save(tmp_path / "images.npy", images)
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")
    if backend == "jax":
        env["XLA_FLAGS"] = "--xla_force_host_platform_device_count=2"
    run = subprocess.run(
        [sys.executable, RUNNER, "infer", str(tmp_path / "net.keras"),
         str(tmp_path)],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    assert json.loads(run.stdout.strip().splitlines()[-1]) == {"replicas": 2}
    expected = keras.ops.convert_to_numpy(network(images))
    got = np.load(tmp_path / "parallel.npy")
    np.testing.assert_allclose(got, expected, atol=1e-3)


@pytest.mark.skipif(
    keras.backend.backend() != "torch", reason="the PyTorch backend's answer"
)
def test_data_parallel_inference_is_refused_on_pytorch():
    network = TransformNet(filters=4, residual_blocks=1, seed=0)
    with pytest.raises(ValueError, match="PyTorch backend runs on one device"):
        Stylizer(network, distribute=True)
