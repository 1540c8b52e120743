import keras
import numpy as np
import pytest

from keras_nst.fast.config import resolve_train_config
from keras_nst.fast.trainer import FastStyleTrainer
from tests.fast.helpers import TINY
from tests.fast.helpers import weights_of


def _numpy(tensors):
    return {
        name: keras.ops.convert_to_numpy(value).astype(np.float64)
        for name, value in tensors.items()
    }


def _gram(features):
    """(batch, N, N) Grams divided by the positions, in float64."""
    batch, height, width, channels = features.shape
    flat = features.reshape(batch, height * width, channels)
    return np.einsum("bpi,bpj->bij", flat, flat) / (height * width)


def _reference_losses(config, photo, output, style, pixels):
    """Johnson et al.'s losses, written from the formulas, in NumPy.

    `photo`, `output` and `style` are the extractor's features of the
    input photos, the network's output and the style image; `pixels` is
    the output itself.
    """
    content = sum(
        np.mean((output[name] - photo[name]) ** 2)
        for name in config.content_layers
    ) / len(config.content_layers)
    style_loss = 0.0
    for name in config.style_layers:
        target = _gram(style[name])[0]
        relative = [
            np.sum((gram - target) ** 2) / np.sum(target**2)
            for gram in _gram(output[name])
        ]
        style_loss += np.mean(relative) / len(config.style_layers)
    pixels = pixels.astype(np.float64)
    tv = (
        np.sum(np.diff(pixels, axis=1) ** 2)
        + np.sum(np.diff(pixels, axis=2) ** 2)
    ) / len(pixels)
    terms = {
        "content": config.content_weight * content,
        "style": config.style_weight * style_loss,
        "tv": config.tv_weight * tv,
    }
    return {
        "total": sum(terms.values()),
        "content": content,
        "style": style_loss,
        "tv": tv,
    }, terms


def test_losses_match_a_numpy_reference(rng):
    config = resolve_train_config(
        **dict(
            TINY,
            content_layers=("conv1_2", "conv2_2"),
            style_layers=("conv1_1", "conv2_1", "conv2_2"),
            content_weight=2.0,
            style_weight=3e3,
            tv_weight=1e-3,
        )
    )
    style_image = rng.uniform(0, 255, (24, 28, 3)).astype("float32")
    trainer = FastStyleTrainer(style_image, config)
    photos = rng.uniform(0, 255, (3, 16, 20, 3)).astype("float32")
    stylised = keras.ops.convert_to_numpy(trainer(photos))
    got = _numpy(trainer.compute_losses(photos, stylised))

    extractor = trainer.extractor
    expected, terms = _reference_losses(
        config,
        _numpy(extractor(photos)),
        _numpy(extractor(stylised)),
        _numpy(extractor(style_image[None])),
        stylised,
    )
    assert set(got) == set(expected)
    for name, value in expected.items():
        np.testing.assert_allclose(got[name], value, rtol=1e-5, err_msg=name)
    # Every term counts in the total, so a dropped one would show.
    for term in terms.values():
        assert term > 1e-3 * expected["total"]


def test_training_steps_lower_the_loss(rng):
    style = rng.uniform(0, 255, (32, 32, 3)).astype("float32")
    config = resolve_train_config(**TINY)
    trainer = FastStyleTrainer(style, config)
    trainer.compile(optimizer=keras.optimizers.Adam(3e-3))
    batch = rng.uniform(0, 255, (2, 32, 32, 3)).astype("float32")

    def loss():
        out = trainer(batch)
        value = trainer.compute_losses(batch, out)["total"]
        return float(keras.ops.convert_to_numpy(value))

    before = loss()
    for _ in range(25):
        logs = trainer.train_on_batch(batch, return_dict=True)
    assert set(logs) >= {"loss", "content", "style", "tv"}
    assert loss() < 0.5 * before


def test_the_network_is_seeded_by_the_config(rng):
    style = rng.uniform(0, 255, (32, 32, 3)).astype("float32")
    config = resolve_train_config(**TINY, seed=5)
    first = weights_of(FastStyleTrainer(style, config).transform)
    keras.random.uniform((3,))  # moves Keras' global random state on
    second = weights_of(FastStyleTrainer(style, config).transform)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)
    other = FastStyleTrainer(style, resolve_train_config(**TINY, seed=6))
    assert any(
        not np.array_equal(a, b)
        for a, b in zip(first, weights_of(other.transform), strict=True)
    )


# Slow, not wrong, on a CPU without bf16 units or on JAX's CPU backend.
@pytest.mark.filterwarnings("ignore:precision='bf16' will be slower")
def test_precision_reaches_the_extractor(rng):
    style = rng.uniform(0, 255, (32, 32, 3)).astype("float32")
    config = resolve_train_config(**TINY, precision="bf16")
    trainer = FastStyleTrainer(style, config)
    assert trainer.extractor.precision == "bf16"
    convolutions = [
        layer
        for layer in trainer.extractor.network.layers
        if isinstance(layer, keras.layers.Conv2D)
    ]
    assert convolutions
    assert {layer.compute_dtype for layer in convolutions} == {"bfloat16"}
    batch = rng.uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    losses = trainer.compute_losses(batch, trainer(batch))
    for value in losses.values():
        value = keras.ops.convert_to_numpy(value)
        assert value.dtype == np.float32 and np.isfinite(value)
    fp32 = FastStyleTrainer(style, resolve_train_config(**TINY))
    assert fp32.extractor.precision == "fp32"
