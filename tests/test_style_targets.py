"""The style term with either loss, inside the model: targets and values."""

import keras
import numpy as np
import pytest
import scipy.linalg
from keras import ops

from keras_nst.config import Config
from keras_nst.image_io import resize_style_image
from keras_nst.style_transfer import build_model
from keras_nst.wasserstein import WassersteinTarget

# At 32 px conv2_1 has fewer positions than channels, so the reference's
# covariances are singular; SciPy warns, and its square root is still right.
pytestmark = pytest.mark.filterwarnings("ignore::scipy.linalg.LinAlgWarning")

SMALL = {
    "weights": None,
    "size": 32,
    "style_layers": ("conv1_1", "conv2_1"),
    "content_layers": ("conv2_1",),
}


def _np(x):
    return np.asarray(ops.convert_to_numpy(x), np.float64)


def _moments(features):
    flat = _np(features).reshape(-1, features.shape[-1])
    return flat.mean(0), np.cov(flat.T, bias=True)


def _w2(features, mean2, cov2):
    # The formula, with SciPy's matrix square roots, in float64.
    mean1, cov1 = _moments(features)
    root2 = np.real(scipy.linalg.sqrtm(cov2))
    cross = np.real(scipy.linalg.sqrtm(root2 @ cov1 @ root2))
    return np.sum((mean1 - mean2) ** 2) + np.trace(cov1 + cov2 - 2 * cross)


@pytest.fixture
def images(rng):
    content = rng.uniform(0, 255, (24, 32, 3)).astype("float32")
    styles = [
        rng.uniform(0, 255, (40, 20, 3)).astype("float32"),
        rng.uniform(0, 128, (30, 30, 3)).astype("float32"),
    ]
    return content, styles


@pytest.mark.parametrize("normalization", ["none", "target"])
def test_w2_style_term_matches_the_scipy_reference(images, normalization):
    content, styles = images
    model = build_model(
        content, styles[0], style_loss="w2",
        style_normalization=normalization, **SMALL,
    )  # fmt: skip
    image = model.get_image()
    generated = model.extractor(image[None])
    target_features = model.extractor(model_style(styles[0]))
    expected = 0.0
    for name in model.style_loss_weights:
        mean2, cov2 = _moments(target_features[name])
        weight = 0.5  # two layers, equal weights
        if normalization == "target":
            weight /= np.sum(mean2**2) + np.trace(cov2)
        expected += weight * _w2(generated[name][0], mean2, cov2)
    got = model.evaluate_losses()["style"]
    np.testing.assert_allclose(got, expected, rtol=5e-3)
    assert isinstance(model.style_targets["block1_conv1"], WassersteinTarget)


def model_style(style):
    # The style image as build_model feeds it: at the output size, 32 px,
    # with the default style_detail.
    return resize_style_image(style, 32, Config().style_detail)[None]


def test_w2_blends_the_styles_feature_distributions(images):
    content, styles = images
    keras.utils.set_random_seed(0)
    model = build_model(
        content, styles, style_loss="w2", style_blend_weights=(3.0, 1.0),
        **SMALL,
    )  # fmt: skip
    name = "block2_conv1"
    samples = [
        _np(model.extractor(model_style(s))[name]).reshape(-1, 128)
        for s in styles
    ]
    # The mixture 3:1 of the two distributions: its moments.
    mean = 0.75 * samples[0].mean(0) + 0.25 * samples[1].mean(0)
    second = sum(
        w * (np.cov(x.T, bias=True) + np.outer(x.mean(0), x.mean(0)))
        for w, x in zip((0.75, 0.25), samples, strict=True)
    )
    target = model.style_targets[name]
    np.testing.assert_allclose(_np(target.mean)[0], mean, rtol=1e-4)
    np.testing.assert_allclose(
        _np(target.cov)[0], second - np.outer(mean, mean), rtol=2e-3,
        atol=1e-3 * np.abs(second).max(),
    )  # fmt: skip


@pytest.mark.parametrize("color", ["none", "luminance"])
def test_w2_optimisation_lowers_the_style_loss(images, color):
    content, styles = images
    model = build_model(
        content, styles[0], style_loss="w2", preserve_color=color,
        content_weight=0.0, tv_weight=0.0, learning_rate=5.0,
        average_decay=0.0, **SMALL,
    )  # fmt: skip
    before = model.evaluate_losses()["style"]
    model.optimize(6, verbose=0)
    after = model.evaluate_losses()["style"]
    assert np.isfinite(after) and after < 0.9 * before
    assert model.get_image().shape == (24, 32, 3)
