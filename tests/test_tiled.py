import keras
import numpy as np
import pytest
from keras import ops

from keras_nst.backend import value_and_gradients
from keras_nst.features import build_extractor
from keras_nst.inputs import model_inputs
from keras_nst.model import StyleTransferModel
from keras_nst.optimizers import get_optimizer
from keras_nst.presets import resolve_config
from keras_nst.style_targets import blended_targets
from keras_nst.style_transfer import optimize
from keras_nst.tile_features import assembled_features

SHALLOW = {
    "content_layers": ["conv2_1"],
    "style_layers": ["conv1_1", "conv2_1"],
}


def _models(rng, shape, tile_size, styles=1, **overrides):
    """An untiled and a tiled model of the same images and VGG19."""
    config = resolve_config("gatys", weights=None, size=max(shape), **overrides)
    content = rng.uniform(0, 255, (*shape, 3)).astype("float32")
    style = [
        rng.uniform(0, 255, (shape[0] + 7 * i, shape[1], 3)).astype("float32")
        for i in range(styles)
    ]
    start = rng.uniform(0, 255, (*shape, 3)).astype("float32")
    extractor = build_extractor(config)
    models = []
    for tile in (0, tile_size):
        tiled = resolve_config(config, tile_size=tile)
        inputs = model_inputs(tiled, content, style, start)
        models.append(StyleTransferModel(inputs, tiled, extractor))
    assert models[0].tiled is None and models[1].tiled is not None
    return models


def _numpy(losses):
    return {k: float(ops.convert_to_numpy(v)) for k, v in losses.items()}


def _untiled_gradient(model):
    image = model.image.value
    _, _, (gradient,) = value_and_gradients(
        lambda x: (model.compute_losses(x)["total"], None), [image]
    )
    return _numpy(model.compute_losses(image)), ops.convert_to_numpy(gradient)


def _assert_same_step(whole, tiled, rtol):
    expected, gradient = _untiled_gradient(whole)
    losses, tiled_gradient = tiled.tiled.losses_and_gradient(tiled.image.value)
    losses = _numpy(losses)
    for key, value in expected.items():
        assert losses[key] == pytest.approx(value, rel=rtol, abs=1e-12), key
    tiled_gradient = ops.convert_to_numpy(tiled_gradient)
    scale = np.abs(gradient).max()
    assert scale > 0
    assert np.abs(tiled_gradient - gradient).max() <= rtol * scale


def test_tiled_step_is_the_untiled_step_at_256px(rng):
    # The issue's case: Gatys et al.'s layers, 128 px tiles; the 80 px
    # halo leaves regions smaller than the image. No TV, so the gradient
    # compared is VGG19's; the whole image is compared, not interiors.
    whole, tiled = _models(rng, (256, 216), 128, tv_weight=0.0)
    assert len(tiled.tiled.tiles(tiled.image.value)[1]) == 4
    assert (
        max(t.region_shape[0] for t in tiled.tiled.tiles(tiled.image.value)[1])
        < 256
    )
    _assert_same_step(whole, tiled, 1e-4)


def test_tiled_step_is_exact_with_other_losses_and_styles(rng):
    # Shallow layers: a 4 px halo, so 24 px tiles cut a 40 px image in 4
    # (each region shape is compiled once on JAX). Every other loss form,
    # two styles blended and luminance-only transfer, with the TV.
    whole, tiled = _models(
        rng, (40, 36), 24, styles=2, padding="zero", pooling="avg",
        content_loss_form="sum", style_normalization="none",
        tv_form="absolute", tv_reduction="sum", preserve_color="luminance",
        **SHALLOW,
    )  # fmt: skip
    assert len(tiled.tiled.tiles(tiled.image.value)[1]) == 4
    _assert_same_step(whole, tiled, 1e-4)


def test_a_border_tile_that_owns_no_deep_feature(rng):
    # 49 px in 24 px tiles: the last row of tiles is 1 px, past conv2_1's
    # last pooling window, so it owns none of its positions (its moments
    # would be 0 / 0) but its conv1_1 ones.
    whole, tiled = _models(rng, (49, 36), 24, **SHALLOW)
    cores = {t.core[:2] for t in tiled.tiled.tiles(tiled.image.value)[1]}
    assert (48, 49) in cores
    _assert_same_step(whole, tiled, 1e-4)


@pytest.mark.filterwarnings("ignore:precision=.bf16. will be slower")
def test_tiled_step_with_the_wasserstein_loss_in_bf16(rng):
    # The tiled loss takes the C x C root of the covariance, the untiled
    # one the features' own, and bf16 rounds each region's convolutions
    # in its own order: both only change the round-off.
    whole, tiled = _models(
        rng, (40, 36), 24, style_loss="w2", precision="bf16", **SHALLOW
    )
    _assert_same_step(whole, tiled, 2e-2)


@pytest.mark.parametrize("optimizer", ["adam", "lbfgs"])
def test_tiled_fit_follows_the_untiled_fit(rng, optimizer):
    models = _models(rng, (40, 36), 24, **SHALLOW, average_decay=0.9)
    start = models[0].get_image()
    for model in models:
        model.compile(optimizer=get_optimizer(optimizer, 5.0))
        model.optimize(3, verbose=0)
    whole, tiled = (m.get_image() for m in models)
    # Within round-off of the path: L-BFGS's unit steps (up to 84 levels
    # here) amplify the convolutions' float32 round-off, which differs
    # between a region and the whole image with oneDNN on AVX-512.
    moved = np.abs(whole - start).max()
    assert moved > 5.0
    assert np.abs(whole - tiled).max() < 1e-3 * moved
    assert tiled.shape == (40, 36, 3)
    expected = models[0].evaluate_losses()
    losses = models[1].evaluate_losses()
    assert losses["total"] == pytest.approx(expected["total"], rel=1e-5)
    layers = models[1].style_layer_losses()
    assert layers == pytest.approx(models[0].style_layer_losses(), rel=1e-4)


@pytest.mark.parametrize("style_loss", ["gram", "w2"])
def test_style_targets_from_tiles(rng, style_loss):
    config = resolve_config("gatys", weights=None, **SHALLOW)
    extractor = build_extractor(config)
    styles = [
        rng.uniform(0, 255, (1, s, 44, 3)).astype("float32") for s in (40, 36)
    ]
    layers = ["block1_conv1", "block2_conv1"]
    whole, tiled = (
        blended_targets(extractor, styles, [0.3, 0.7], layers, style_loss, t)
        for t in (0, 24)
    )
    for name in layers:
        parts = zip(*(
            t[name] if style_loss == "w2" else [t[name]] for t in (whole, tiled)
        ))  # fmt: skip
        for a, b in parts:
            a, b = ops.convert_to_numpy(a), ops.convert_to_numpy(b)
            np.testing.assert_allclose(
                b, a, rtol=0, atol=1e-5 * np.abs(a).max()
            )


def test_assembled_features_are_the_whole_image_features(rng):
    config = resolve_config("gatys", weights=None, **SHALLOW)
    extractor = build_extractor(config)
    image = rng.uniform(0, 255, (1, 37, 45, 3)).astype("float32")
    whole = extractor(image)
    maps = assembled_features(extractor, image, ["block2_conv1"], 8)
    expected = ops.convert_to_numpy(whole["block2_conv1"])
    assert maps["block2_conv1"].shape == expected.shape
    np.testing.assert_allclose(
        maps["block2_conv1"], expected, rtol=0,
        atol=1e-5 * np.abs(expected).max(),
    )  # fmt: skip


def test_coarse_to_fine_tiles_only_the_scales_larger_than_a_tile(rng):
    content = rng.uniform(0, 255, (40, 36, 3)).astype("float32")
    style = rng.uniform(0, 255, (30, 30, 3)).astype("float32")
    settings = dict(
        weights=None, size=40, scales=2, iterations=3, refine_iterations=3,
        **SHALLOW,
    )  # fmt: skip
    extractor = build_extractor(resolve_config("gatys", **settings))
    tiled_sizes = []

    class Sizes(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            tiled_sizes.append(
                (self.model.tiled is not None, self.model.image.shape[1])
            )

    whole = optimize(
        content, style, "gatys", extractor=extractor, verbose=0, **settings
    )
    tiled = optimize(
        content, style, "gatys", extractor=extractor, verbose=0,
        callbacks=[Sizes()], tile_size=32, **settings,
    )  # fmt: skip
    assert tiled_sizes == [(False, 28), (True, 40)]
    expected = whole.evaluate_losses()["total"]
    assert tiled.evaluate_losses()["total"] == pytest.approx(expected, rel=1e-4)
