import numpy as np
import pytest
from keras import ops

from keras_nst import losses
from tests import reference


def _np(x):
    return np.asarray(ops.convert_to_numpy(x), dtype=np.float64)


@pytest.fixture
def features(rng):
    # ReLU features are non-negative; odd sizes catch reshape mistakes.
    return rng.uniform(0, 3, (1, 5, 7, 6)).astype("float32")


@pytest.fixture
def other(rng):
    return rng.uniform(0, 3, (1, 5, 7, 6)).astype("float32")


def test_gram_matrix_is_unnormalised_gram_over_positions(features):
    expected = reference.unnormalised_gram(features[0]) / (5 * 7)
    got = _np(losses.gram_matrix(features))
    assert got.shape == (1, 6, 6)
    np.testing.assert_allclose(got[0], expected, rtol=1e-5)


def test_gram_matrix_of_batch_is_per_image(rng):
    batch = rng.uniform(0, 1, (2, 3, 4, 5)).astype("float32")
    got = _np(losses.gram_matrix(batch))
    for b in range(2):
        expected = reference.unnormalised_gram(batch[b]) / 12
        np.testing.assert_allclose(got[b], expected, rtol=1e-5)


@pytest.mark.parametrize("form", ["sum", "mean"])
def test_content_loss_matches_reference(features, other, form):
    expected = reference.content_loss(features, other, form)
    got = float(_np(losses.content_loss(features, other, form)))
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_content_loss_rejects_unknown_form(features):
    with pytest.raises(ValueError, match="Received: form='median'"):
        losses.content_loss(features, features, "median")


def test_layer_style_loss_matches_gatys_eq4(features, other):
    expected = reference.layer_style_loss(features[0], other[0])
    got = losses.layer_style_loss(
        losses.gram_matrix(features), losses.gram_matrix(other)
    )
    np.testing.assert_allclose(float(_np(got)), expected, rtol=1e-4)


def test_style_loss_is_weighted_sum_over_layers(rng):
    names = ("a", "b")
    gen = {n: rng.uniform(0, 2, (1, 4, 4, 3 + i)) for i, n in enumerate(names)}
    sty = {n: rng.uniform(0, 2, (1, 4, 4, 3 + i)) for i, n in enumerate(names)}
    weights = {"a": 0.25, "b": 2.0}
    expected = sum(
        weights[n] * reference.layer_style_loss(gen[n][0], sty[n][0])
        for n in names
    )
    targets = {n: losses.gram_matrix(sty[n].astype("float32")) for n in names}
    got = losses.style_loss(
        {n: g.astype("float32") for n, g in gen.items()}, targets, weights
    )
    np.testing.assert_allclose(float(_np(got)), expected, rtol=1e-4)


def test_style_loss_ignores_layers_without_weight(rng):
    gen = {"a": rng.uniform(0, 2, (1, 4, 4, 3)).astype("float32")}
    sty = {"a": losses.gram_matrix(gen["a"]), "b": None}
    assert float(_np(losses.style_loss(gen, sty, {"a": 1.0}))) == 0.0


def test_style_loss_compares_grams_of_different_sizes(rng):
    # The same texture at two sizes has (nearly) the same normalised Gram.
    tile = rng.uniform(0, 2, (1, 4, 4, 3)).astype("float32")
    big = np.tile(tile, (1, 2, 2, 1))
    loss = losses.layer_style_loss(
        losses.gram_matrix(tile), losses.gram_matrix(big)
    )
    assert float(_np(loss)) < 1e-10


@pytest.mark.parametrize("form", ["squared", "absolute"])
def test_total_variation_matches_reference(rng, form):
    image = rng.uniform(0, 255, (1, 6, 5, 3)).astype("float32")
    expected = reference.total_variation(image[0], form)
    got = float(_np(losses.total_variation_loss(image, form, "sum")))
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    mean = float(_np(losses.total_variation_loss(image, form, "mean")))
    np.testing.assert_allclose(mean, expected / 30, rtol=1e-5)


def test_mean_total_variation_does_not_grow_with_the_size(rng):
    # The same texture tiled to 4x the area: the sum grows ~4x, the mean
    # stays (up to the pairs across the tiles' seams).
    tile = rng.uniform(0, 255, (1, 16, 16, 3)).astype("float32")
    big = np.tile(tile, (1, 2, 2, 1))
    small_sum, big_sum, small_mean, big_mean = (
        float(_np(losses.total_variation_loss(x, "squared", r)))
        for r, x in (("sum", tile), ("sum", big), ("mean", tile), ("mean", big))
    )
    assert 3.8 < big_sum / small_sum < 4.3
    assert 0.95 < big_mean / small_mean < 1.08


def test_total_variation_refuses_an_unknown_reduction():
    with pytest.raises(ValueError, match="reduction"):
        losses.total_variation_loss(
            np.zeros((1, 4, 4, 3), "float32"), reduction="avg"
        )


def test_total_variation_of_flat_image_is_zero():
    image = np.full((1, 4, 4, 3), 7.0, "float32")
    assert float(_np(losses.total_variation_loss(image))) == 0.0


def test_absolute_total_variation_matches_tensorflow(rng):
    tf = pytest.importorskip("tensorflow")
    image = rng.uniform(0, 255, (1, 6, 5, 3)).astype("float32")
    expected = float(tf.image.total_variation(tf.constant(image))[0])
    got = float(_np(losses.total_variation_loss(image, "absolute", "sum")))
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_weighted_total():
    got = losses.weighted_total(
        {"content": 2.0, "style": 3.0, "tv": 5.0},
        {"content": 10.0, "style": 100.0, "tv": 1000.0},
    )
    assert got == pytest.approx(2 * 10 + 3 * 100 + 5 * 1000)
