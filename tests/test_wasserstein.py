import functools

import keras
import numpy as np
import pytest
import scipy.linalg
from keras import ops

from keras_nst import wasserstein as w2
from tests import reference

METHODS = ("eigh", "newton_schulz")


def _np(x):
    return np.asarray(ops.convert_to_numpy(x), dtype=np.float64)


def _compiled(fn):
    """`fn`, compiled on JAX: op by op, JAX compiles every primitive alone."""
    if keras.backend.backend() == "jax":
        import jax

        return jax.jit(fn)
    return fn


@functools.cache
def _jax_value_and_grad(method):
    import jax

    # One compiled function per method, the target an argument: tests of
    # the same shapes share its compilation.
    return jax.jit(
        jax.value_and_grad(
            lambda x, target: w2.layer_wasserstein_loss(x, target, method)
        )
    )


def _value_and_grad(features, target, method):
    """The loss and its gradient with respect to the features, as NumPy."""
    backend = keras.backend.backend()
    x = ops.convert_to_tensor(np.asarray(features, "float32"))
    if backend == "jax":
        value, grad = _jax_value_and_grad(method)(x, target)
        return float(_np(value)), _np(grad)
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            tape.watch(x)
            value = w2.layer_wasserstein_loss(x, target, method)
        return float(_np(value)), _np(tape.gradient(value, x))
    import torch

    x = x.detach().requires_grad_(True)
    value = w2.layer_wasserstein_loss(x, target, method)
    (grad,) = torch.autograd.grad(value, x)
    return float(value.detach()), _np(grad)


# Float64 references, from the formula rather than from the module's code.


def _psd_sqrt(matrix):
    values, vectors = np.linalg.eigh(matrix)
    return (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T


def _moments(features):
    flat = np.asarray(features, np.float64).reshape(-1, features.shape[-1])
    return flat.mean(0), np.cov(flat.T, bias=True).reshape(len(flat[0]), -1)


def _w2(features, mean2, cov2):
    """Sum over the batch of the W2^2 formula, SciPy's sqrtm for the roots."""
    total = 0.0
    root2 = np.real(scipy.linalg.sqrtm(cov2))
    for item in features:
        mean1, cov1 = _moments(item)
        cross = np.real(scipy.linalg.sqrtm(root2 @ cov1 @ root2))
        total += np.sum((mean1 - mean2) ** 2) + np.trace(
            cov1 + cov2 - 2 * cross
        )
    return total


def _w2_nuclear(features, mean2, cov2):
    """The same through tr((S2^1/2 S1 S2^1/2)^1/2) = |Fc S2^1/2|_* / sqrt(M).

    Singular values near 0 are accurate to round-off, square roots of
    eigenvalues only to its square root: this one can be differentiated
    by finite differences when S1 is rank-deficient.
    """
    total = 0.0
    root2 = _psd_sqrt(cov2)
    for item in np.asarray(features, np.float64):
        flat = item.reshape(-1, item.shape[-1])
        centred = flat - flat.mean(0)
        cross = np.linalg.svd(centred @ root2, compute_uv=False).sum()
        total += (
            np.sum((flat.mean(0) - mean2) ** 2)
            + np.sum(centred**2) / len(flat)
            + np.trace(cov2)
            - 2 * cross / np.sqrt(len(flat))
        )
    return total


def _finite_difference_grad(fn, x, step=1e-6):
    x = np.asarray(x, np.float64)
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += step
        down[i] -= step
        grad[i] = (fn(up) - fn(down)) / (2 * step)
    return grad


def _analytic_grad(features, mean2, cov2):
    """Gradient of the W2^2 sum: 2 (mu1 - mu2) / M + 2 Fc / M minus the
    nuclear norm's `2 P U V^T S2^1/2 / sqrt(M)` (P removes the mean)."""
    root2 = _psd_sqrt(cov2)
    return np.stack(
        [
            reference.wasserstein_gradient(item, mean2, root2)
            for item in np.asarray(features, np.float64)
        ]
    )


def _relu_features(rng, shape, dead=0):
    """Correlated, non-negative features like a ReLU layer's."""
    c = shape[-1]
    mix = rng.normal(size=(c, c)) / np.sqrt(c)
    flat = rng.normal(size=(int(np.prod(shape[:-1])), c)) @ mix
    features = np.maximum(flat + 0.3, 0).reshape(shape).astype("float32")
    features[..., :dead] = 0
    return features


def _target_of(samples):
    mean, cov = _moments(samples)
    return mean, cov, w2.wasserstein_target(mean[None], cov[None])


def test_feature_moments_match_numpy_even_far_from_zero(rng):
    # A mean 300x the spread: E[ff^T] - mu mu^T would keep ~3 digits.
    features = (300 + rng.normal(size=(2, 3, 5, 4))).astype("float32")
    mean, cov = w2.feature_moments(features)
    assert ops.shape(mean) == (2, 4) and ops.shape(cov) == (2, 4, 4)
    for b in range(2):
        expected_mean, expected_cov = _moments(features[b])
        np.testing.assert_allclose(_np(mean)[b], expected_mean, rtol=1e-6)
        np.testing.assert_allclose(_np(cov)[b], expected_cov, atol=1e-4)


def test_blend_moments_are_the_pooled_samples_moments(rng):
    samples = [
        rng.normal(i, 1 + i, size=(n, 5)) for i, n in enumerate((6, 10, 16))
    ]
    moments = [
        (m[None].astype("float32"), c[None].astype("float32"))
        for m, c in map(_moments, samples)
    ]
    weights = [len(s) / 32 for s in samples]
    mean, cov = w2.blend_moments(moments, weights)
    expected_mean, expected_cov = _moments(np.concatenate(samples))
    np.testing.assert_allclose(_np(mean)[0], expected_mean, atol=1e-5)
    np.testing.assert_allclose(_np(cov)[0], expected_cov, atol=1e-4)


def test_blend_moments_rejects_bad_weights(rng):
    moments = [w2.feature_moments(rng.normal(size=(1, 2, 2, 3)))] * 2
    with pytest.raises(ValueError, match="summing to 1"):
        w2.blend_moments(moments, [0.5, 0.6])
    with pytest.raises(ValueError, match="1 pairs"):
        w2.blend_moments(moments[:1], [0.5, 0.5])


@pytest.mark.parametrize("method", METHODS)
def test_sqrtm_psd_matches_scipy(rng, method):
    factors = rng.normal(size=(2, 6, 8))
    matrices = factors @ factors.transpose(0, 2, 1) / 8
    sqrtm = _compiled(lambda x: w2.sqrtm_psd(x, method=method))
    got = _np(sqrtm(matrices.astype("float32")))
    for b in range(2):
        expected = np.real(scipy.linalg.sqrtm(matrices[b]))
        np.testing.assert_allclose(got[b], expected, atol=2e-5)


def test_sqrtm_psd_eigh_of_rank_deficient_squares_back(rng):
    factor = rng.normal(size=(6, 2))
    matrix = (factor @ factor.T).astype("float32")
    root = _np(w2.sqrtm_psd(matrix))
    assert np.isfinite(root).all()
    np.testing.assert_allclose(root @ root, matrix, atol=1e-4)
    np.testing.assert_allclose(root, _psd_sqrt(matrix), atol=1e-3)


def test_wasserstein_target_holds_the_root(rng):
    factor = rng.normal(size=(5, 3))
    cov = factor @ factor.T  # rank 3: round-off makes eigenvalues < 0
    target = w2.wasserstein_target(np.ones((1, 5)), cov[None])
    assert ops.shape(target.cov_sqrt) == (1, 5, 5)
    assert str(ops.convert_to_numpy(target.cov_sqrt).dtype) == "float32"
    root = _np(target.cov_sqrt)[0]
    assert np.isfinite(root).all()
    np.testing.assert_allclose(root @ root, cov, atol=1e-5)
    np.testing.assert_allclose(root, root.T, atol=1e-6)
    with pytest.raises(ValueError, match="reshape"):
        w2.wasserstein_target(np.ones((2, 5)), cov[None])


# M > C, M > C with a dead channel (exact zero eigenvalue), M < C.
FULL_RANK, RANK_DEFICIENT = (2, 4, 5, 4), (2, 2, 3, 8)
CASES = {
    "full-rank": (FULL_RANK, 0),
    "dead-channel": (FULL_RANK, 1),
    "positions<channels": (RANK_DEFICIENT, 0),
}


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("case", CASES)
def test_loss_and_gradient_match_float64_reference(rng, method, case):
    shape, dead = CASES[case]
    features = _relu_features(rng, shape, dead)
    mean2, cov2, target = _target_of(_relu_features(rng, (20, shape[-1])))
    value, grad = _value_and_grad(features, target, method)
    expected = _w2_nuclear(features, mean2, cov2)
    energy = mean2 @ mean2 + np.trace(cov2)
    assert abs(value - expected) < 1e-5 * energy * shape[0]
    if case == "full-rank":  # sqrtm is accurate at full rank only
        np.testing.assert_allclose(
            expected, _w2(features, mean2, cov2), rtol=1e-8
        )
    expected_grad = _finite_difference_grad(
        lambda x: _w2_nuclear(x, mean2, cov2), features
    )
    np.testing.assert_allclose(
        expected_grad, _analytic_grad(features, mean2, cov2), atol=1e-7
    )
    assert np.isfinite(grad).all()
    error = np.linalg.norm(grad - expected_grad) / np.linalg.norm(expected_grad)
    assert error < 1e-4


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("shape", [FULL_RANK, RANK_DEFICIENT], ids=str)
def test_loss_is_zero_for_identical_distributions(rng, method, shape):
    features = _relu_features(rng, shape)
    features[1] = features[0]
    # Of RANK_DEFICIENT's 6 samples, the target is rank-deficient too.
    mean, cov, target = _target_of(features[0])
    value, grad = _value_and_grad(features, target, method)
    assert 0.0 <= value < 1e-5 * (mean @ mean + np.trace(cov))
    assert np.isfinite(grad).all()


@pytest.mark.parametrize("method", METHODS)
def test_gradient_of_deep_layer_with_few_positions_is_right(rng, method):
    # conv5_1 of a 128 px image: 64 positions, 512 channels, so 448 zero
    # eigenvalues of S1. Plain sqrt(eigh) gives NaN gradients on JAX.
    features = 50 * _relu_features(rng, (1, 8, 8, 512))
    mean2, cov2, target = _target_of(50 * _relu_features(rng, (600, 512)))
    value, grad = _value_and_grad(features, target, method)
    expected = _analytic_grad(features, mean2, cov2)
    assert np.isfinite(grad).all()
    error = np.linalg.norm(grad - expected) / np.linalg.norm(expected)
    assert error < 1e-3
    energy = mean2 @ mean2 + np.trace(cov2)
    assert abs(value - _w2_nuclear(features, mean2, cov2)) < 1e-5 * energy


@pytest.mark.parametrize("method", METHODS)
def test_zero_features_cost_the_target_energy_with_finite_gradient(rng, method):
    _, _, target = _target_of(_relu_features(rng, (30, FULL_RANK[-1])))
    value, grad = _value_and_grad(np.zeros(FULL_RANK), target, method)
    assert np.isfinite(grad).all()
    scale = w2.target_wasserstein_scale(target)
    np.testing.assert_allclose(value * scale, FULL_RANK[0], rtol=1e-5)


def test_target_wasserstein_scale(rng):
    mean, cov, target = _target_of(rng.normal(2, 3, size=(40, 5)))
    expected = 1.0 / (mean @ mean + np.trace(cov))
    np.testing.assert_allclose(
        w2.target_wasserstein_scale(target), expected, rtol=1e-6
    )
    empty = w2.wasserstein_target(np.zeros((1, 3)), np.zeros((1, 3, 3)))
    assert w2.target_wasserstein_scale(empty) == 1.0


def test_unknown_method_is_rejected(rng):
    _, _, target = _target_of(rng.normal(size=(10, 3)))
    with pytest.raises(ValueError, match="Received: method='svd'"):
        w2.layer_wasserstein_loss(np.ones((1, 2, 2, 3)), target, "svd")
    with pytest.raises(ValueError, match="Received: method='svd'"):
        w2.sqrtm_psd(np.eye(3), method="svd")
